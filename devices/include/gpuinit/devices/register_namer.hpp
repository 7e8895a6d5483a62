// Register names for human output: turns an access location into the name the register
// map gives it ("PLL_CTRL", "PLL_CTRL+2" for a byte inside it, "CRTC[0x11]",
// "pll[0x10]", "VGA_SEQ_INDEX"), or a neutral location for unknown ones ("mmio0:0x1234",
// "port:0x61").
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/regmap.hpp"

namespace gpuinit {

class RegisterNamer {
 public:
  RegisterNamer() = default;  // no map: neutral locations and, for VGA spaces, VGA names
  explicit RegisterNamer(const RegisterMap& map);

  [[nodiscard]] std::string name(Space space, std::string_view space_name, std::uint8_t bar,
                                 std::uint64_t offset) const;
  [[nodiscard]] std::string name(const Access& a) const { return name(a.space, a.space_name, a.bar, a.offset); }
  // A location without a map name: "mmio0:0x1234", "vga_io:0x3c3", "pll[0x10]".
  [[nodiscard]] static std::string neutral(Space space, std::string_view space_name, std::uint8_t bar,
                                           std::uint64_t offset);

 private:
  using Key = std::tuple<int, std::string, int, std::uint64_t>;
  std::map<Key, std::pair<std::string, unsigned>> regs_;   // start byte -> name, bytes
  std::map<Key, std::string> exact_;                       // index/data locations
  bool vga_ = true;
};

}  // namespace gpuinit

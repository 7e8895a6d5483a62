// Register names for human output, from a register map: location -> name.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/space.hpp"

namespace gpuinit::replay {

class RegisterNamer {
 public:
  RegisterNamer() = default;
  explicit RegisterNamer(const RegisterMap& map);
  // The register at exactly this location (width not considered), or "" when the map has
  // none. `bar` is ignored for spaces without one.
  [[nodiscard]] std::string_view name(Space s, std::string_view space_name, unsigned bar,
                                      std::uint64_t offset) const;
  [[nodiscard]] bool empty() const noexcept { return names_.empty(); }

 private:
  using Key = std::tuple<unsigned, std::string, unsigned, std::uint64_t>;
  std::map<Key, std::string, std::less<>> names_;
};

}  // namespace gpuinit::replay

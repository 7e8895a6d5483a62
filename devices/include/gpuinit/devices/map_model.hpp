// The register-map model: a DeviceModel built at run time from a RegisterMap.
//
// What it implements:
//  - registers with reset values and access policies per bit (rw, ro, wo, w1c, w1s; a
//    field's policy overrides its register's); wo bits read as 0;
//  - accesses narrower or wider than a register, or spanning several, are split into
//    byte lanes (a 16-bit `out 0x3C4, ax` is an index write then a data write);
//  - the map's index/data pairs; the same registers are reachable directly as
//    Space::named with offset = index, so a folded sequence replays on the same model;
//  - with map.vga: the standard VGA register file (sequencer 0x3C4/5, CRTC 0x3D4/5 and
//    0x3B4/5 chosen by misc output bit 0, graphics 0x3CE/F, attribute 0x3C0/0x3C1 with
//    its flip-flop reset by reading 0x3DA/0x3BA, DAC 0x3C7/0x3C8/0x3C9 with 3-byte
//    auto-increment, misc output 0x3C2/0x3CC, CR11 bit 7 write protection of CR0-CR7)
//    and direct access through vga_seq/vga_crtc/vga_gfx/vga_attr and vga_dac (offset =
//    palette byte = entry * 3 + component); vga_mem is plain memory;
//  - behaviours on virtual time (delayed_set, constant, readback; see regmap.hpp), a
//    constant optionally conditional on another register, and i2c_gpio: a bit-banged I2C
//    bus in a register's bits with an EEPROM responder reading a data block (DDC EDID);
//  - data blocks: read-only bytes at a location (an EDID in a BAR), writes ignored;
//  - unknown registers: read as last written or as zero, counted, one warning per
//    location (collected, never printed).
// The access path does no string work and no allocation for registers of the map.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/devices/register_namer.hpp"
#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/result.hpp"

namespace gpuinit {

enum class UnknownPolicy : std::uint8_t { last_written, zero };

struct MapModelOptions {
  UnknownPolicy unknown = UnknownPolicy::last_written;
};

struct MapStats {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t unknown_reads = 0;
  std::uint64_t unknown_writes = 0;
  std::uint64_t ro_writes = 0;            // writes that changed nothing: every bit read-only
  std::uint64_t unknown_dropped = 0;      // unknown locations past kMaxUnknownWarnings
};

// One unknown location, reported once however often it was accessed.
struct UnknownRegister {
  Space space = Space::mmio;
  std::string space_name;
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint8_t width = 8;     // of its first access
  bool first_is_read = true;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::string message;        // "unknown register mmio0:0x1234 (first access: 32-bit read)"
};

// A register's final value, for state comparison (reduced vs raw replay).
struct RegisterValue {
  std::string name;
  std::uint64_t value = 0;
  bool operator==(const RegisterValue&) const = default;
};

inline constexpr std::size_t kMaxUnknownWarnings = 4096;

class MapModel final : public DeviceModel {
 public:
  // Checks the map's rules (check_regmap_rules) first: on problems returns nullptr and
  // fills `problems`.
  [[nodiscard]] static std::unique_ptr<MapModel> create(const RegisterMap& map, MapModelOptions opt,
                                                        std::vector<Problem>& problems);
  ~MapModel() override;
  MapModel(const MapModel&) = delete;
  MapModel& operator=(const MapModel&) = delete;

  [[nodiscard]] std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  [[nodiscard]] std::string name() const override;

  [[nodiscard]] const MapStats& stats() const noexcept;
  [[nodiscard]] const std::vector<UnknownRegister>& unknown_registers() const noexcept;
  // Every register touched (read or written), named, with its stored value at `now_ns`
  // (timed behaviours applied): map registers, VGA indexed registers, DAC palette bytes,
  // unknown locations. Index selections, the attribute flip-flop and vga_mem are not
  // registers and are left out. Sorted by location.
  [[nodiscard]] std::vector<RegisterValue> final_state(std::uint64_t now_ns) const;
  [[nodiscard]] const RegisterMap& map() const noexcept;
  [[nodiscard]] const RegisterNamer& namer() const noexcept;

 private:
  struct Impl;
  explicit MapModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpuinit

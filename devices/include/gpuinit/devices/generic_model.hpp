// The generic model: a device that remembers what was written. Reads return the bytes last
// written at that (space, bar, offset) — stored per byte, so a 32-bit read after four byte
// writes composes them — or the configured reset fill for bytes never written.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpuinit/devices/device_model.hpp"

namespace gpuinit {

struct GenericOptions {
  std::uint8_t fill = 0x00;  // value of every byte never written
};

struct GenericStats {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  // Reads that returned at least one never-written byte (answered with the fill).
  std::uint64_t unknown_reads = 0;
  // Distinct locations (space, bar, offset) whose first access was such a read.
  std::uint64_t unknown_locations = 0;
};

class GenericModel final : public DeviceModel {
 public:
  explicit GenericModel(GenericOptions opt = {});

  [[nodiscard]] std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  [[nodiscard]] std::string name() const override { return "generic"; }

  // Gives a location a reset value without counting it as written by the code under test.
  void preset(const Access& a, std::uint64_t value);

  [[nodiscard]] const GenericStats& stats() const noexcept { return stats_; }

 private:
  struct Block {                // 8 bytes of one space, aligned on 8
    std::uint64_t data = 0;
    std::uint8_t valid = 0;     // bit i: byte i was written or preset
    bool reported = false;      // counted once in unknown_locations
  };
  [[nodiscard]] std::uint64_t block_key(const Access& a, std::uint64_t block) ;
  std::uint16_t name_id(std::string_view n);

  GenericOptions opt_;
  GenericStats stats_;
  std::unordered_map<std::uint64_t, Block> blocks_;
  std::vector<std::string> names_;  // interned Space::named names
};

}  // namespace gpuinit

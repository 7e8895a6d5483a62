// The device-model interface: what answers the reads of an emulated option ROM (the
// extractor) and of a replayed sequence (the model target).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "gpuinit/format/space.hpp"

namespace gpuinit {

// One access as the device sees it, already decoded by the caller: BAR-relative for
// mmio/io, absolute port for vga_io/port, offset from 0xA0000 for vga_mem, register
// offset for config, index for indexed spaces. width is 8, 16, 32 or 64.
struct Access {
  Space space = Space::mmio;
  std::uint8_t bar = 0;
  std::uint8_t width = 8;
  std::uint64_t offset = 0;
  std::string_view space_name = {};  // Space::named only
};

// Contract for every model:
//  - `now_ns` is virtual time and never decreases between calls of one instance;
//  - read() returns a value of `width` bits (upper bits zero); it may change state
//    (read-sensitive registers);
//  - a model never throws on an access it does not know: it answers by its unknown-register
//    policy and counts it;
//  - one instance per run; instances share nothing.
class DeviceModel {
 public:
  virtual ~DeviceModel() = default;
  [[nodiscard]] virtual std::uint64_t read(const Access& a, std::uint64_t now_ns) = 0;
  virtual void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) = 0;
  // A short name for reports ("generic", "map:gpuinit-ref", "capture:file.jsonl").
  [[nodiscard]] virtual std::string name() const = 0;
  // Asked by the trace recorder right after each read(): true when the value that read
  // returned was chosen to end a spin loop (see SpinBreaker), so the recorder marks the
  // event `loop_exit: true`. Reading the flag clears it. Models without a spin-breaking
  // policy never set it.
  [[nodiscard]] virtual bool take_loop_exit() { return false; }
  // Comparison hints (the extractor's CPU reports the operands of each CMP it executes
  // while wants_compare_hints() is true; asked after every access). A model with a
  // spin-breaking policy uses them to find the value a polling loop compares a register
  // with. `a` and `b` are `bytes`-wide unsigned values.
  [[nodiscard]] virtual bool wants_compare_hints() const { return false; }
  virtual void compare_hint(std::uint64_t a, std::uint64_t b, unsigned bytes) { (void)a, (void)b, (void)bytes; }
};

}  // namespace gpuinit

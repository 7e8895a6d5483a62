// Register map v1: one description of a card's registers that drives the C++ device model,
// the generated RTL and the register names in human output.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gpuinit/format/device.hpp"
#include "gpuinit/format/space.hpp"

namespace gpuinit {

inline constexpr const char* kRegmapVersion = "1";

// X(enumerator, JSON name)
#define GPUINIT_ACCESS_POLICIES(X) \
  X(rw, "rw")                      \
  X(ro, "ro")                      \
  X(wo, "wo")                      \
  X(w1c, "w1c")                    \
  X(w1s, "w1s")

enum class AccessPolicy : std::uint8_t {
#define GPUINIT_X(e, n) e,
  GPUINIT_ACCESS_POLICIES(GPUINIT_X)
#undef GPUINIT_X
};
[[nodiscard]] const char* access_policy_name(AccessPolicy a) noexcept;
[[nodiscard]] std::optional<AccessPolicy> parse_access_policy(std::string_view s) noexcept;

struct RegField {
  std::string name;
  std::uint8_t lsb = 0;
  std::uint8_t msb = 0;  // inclusive
  std::optional<AccessPolicy> access;  // overrides the register's
  std::string description;
  [[nodiscard]] std::uint64_t mask() const noexcept {
    const unsigned n = unsigned(msb) - lsb + 1;
    return (n >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1)) << lsb;
  }
  bool operator==(const RegField&) const = default;
};

struct Register {
  std::string name;
  Space space = Space::mmio;
  std::string space_name;  // Space::named only
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint8_t width = 32;
  std::uint64_t reset = 0;
  AccessPolicy access = AccessPolicy::rw;
  std::vector<RegField> fields;
  // A write does something beyond storing (starts an engine, pushes a FIFO): the reducer
  // never drops a write to it. Unknown registers are treated as having side effects.
  bool write_side_effect = false;
  // A read changes state (clears a status, pops a FIFO): the reducer keeps every read.
  bool read_sensitive = false;
  std::string description;
  bool operator==(const Register&) const = default;
};

// A location given by space/bar/offset/width (index and data ports of an indexed space).
struct RegLocation {
  Space space = Space::io;
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint8_t width = 8;
  bool operator==(const RegLocation&) const = default;
};

// A card's own index/data pair: writing `index` selects a register of space `name`,
// `data` then reads or writes it.
struct IndexedSpace {
  std::string name;
  RegLocation index;
  RegLocation data;
  std::uint32_t size = 256;  // number of indices
  bool operator==(const IndexedSpace&) const = default;
};

// X(enumerator, JSON name)
#define GPUINIT_BEHAVIOURS(X)   \
  X(delayed_set, "delayed_set") \
  X(constant, "constant")       \
  X(readback, "readback")       \
  X(i2c_gpio, "i2c_gpio")

enum class BehaviourKind : std::uint8_t {
#define GPUINIT_X(e, n) e,
  GPUINIT_BEHAVIOURS(GPUINIT_X)
#undef GPUINIT_X
};

// delayed_set: when (trigger register & trigger_mask) == trigger_value after a write,
//   (register & mask) becomes `value` delay_ns later; it reverts to its reset bits when the
//   trigger condition stops holding.
// constant: the register (under mask) always reads `value` (an id, a strap). With a
//   `trigger`, only while (trigger register & trigger_mask) == trigger_value (Bochs DISPI
//   GETCAPS: XRES reads its maximum while ENABLE bit 1 is set).
// readback: a write whose (value & when_mask) == when_value makes the register read
//   `value` under mask; any other write makes it read `else_value`.
// i2c_gpio: bits of the register are the two lines of an I2C bus (a DDC channel) with one
//   responder at `i2c.address` (7-bit) that reads the data block `i2c.block` from a byte
//   pointer set by the first byte written after its address (a monitor's EDID EEPROM). After
//   every write whose (value & when_mask) == when_value, each line is driven to its out bit
//   when its output-enable bit is set and released (1) otherwise, the bus is clocked with
//   SCL then SDA, and the bits in `mask` are replaced: scl_in and sda_in read the lines'
//   levels (the responder may hold SDA low).
struct I2cLines {
  std::uint8_t scl_out = 0, sda_out = 0;  // bit numbers in the register
  std::uint8_t scl_oe = 0, sda_oe = 0;    // output enables: 1 drives the out bit
  std::uint8_t scl_in = 0, sda_in = 0;    // line levels as read back
  std::uint8_t address = 0x50;
  std::string block;  // a DataBlock of the map
  bool operator==(const I2cLines&) const = default;
};

struct Behaviour {
  BehaviourKind kind = BehaviourKind::constant;
  std::string reg;  // register the behaviour acts on
  std::uint64_t mask = ~std::uint64_t{0};
  std::uint64_t value = 0;
  std::string trigger;  // delayed_set: register whose write arms it
  std::uint64_t trigger_mask = 0;
  std::uint64_t trigger_value = 0;
  std::uint64_t delay_ns = 0;
  std::uint64_t when_mask = 0;  // readback
  std::uint64_t when_value = 0;
  std::uint64_t else_value = 0;
  I2cLines i2c;  // i2c_gpio
  std::string description;
  bool operator==(const Behaviour&) const = default;
};

// Read-only bytes of the card (an EDID, a ROM table). With a location they answer reads of
// `size` bytes from `offset` (bytes past `data` read 0; writes change nothing); without one
// they are only reachable through a behaviour (the EEPROM of an i2c_gpio bus).
struct DataBlock {
  std::string name;
  bool mapped = false;
  Space space = Space::mmio;  // direct spaces only
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;  // >= data.size()
  std::vector<std::uint8_t> data;
  std::string description;
  bool operator==(const DataBlock&) const = default;
};

struct RegisterMap {
  std::string name;  // "gpuinit-ref", "qemu-stdvga", ...
  std::string description;
  DeviceInfo device;
  bool vga = false;  // standard VGA register file (seq/crtc/gfx/attr/dac) behind vga_io
  std::vector<Register> registers;
  std::vector<IndexedSpace> indexed_spaces;
  std::vector<Behaviour> behaviours;
  std::vector<DataBlock> blocks;
  bool operator==(const RegisterMap&) const = default;

  [[nodiscard]] const Register* find(std::string_view reg_name) const noexcept {
    for (const auto& r : registers)
      if (r.name == reg_name) return &r;
    return nullptr;
  }
  [[nodiscard]] const DataBlock* find_block(std::string_view block_name) const noexcept {
    for (const auto& b : blocks)
      if (b.name == block_name) return &b;
    return nullptr;
  }
};

}  // namespace gpuinit

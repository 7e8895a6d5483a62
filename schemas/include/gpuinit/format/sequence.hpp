// Init sequence v1.1: the reduced, replayable form of a card's init (1.1 adds FILL; a
// sequence without FILL is written as 1.0, so 1.0 readers keep reading it).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gpuinit/format/device.hpp"
#include "gpuinit/format/space.hpp"

namespace gpuinit {

inline constexpr const char* kSequenceSchemaVersion = "1.1";  // the newest this reads and writes
inline constexpr unsigned kSequenceSchemaMinor = 1;
// FILL: at most this many stores in one op.
inline constexpr std::uint64_t kMaxFillCount = std::uint64_t{1} << 24;

// X(enumerator, JSON name)
#define GPUINIT_OPS(X) \
  X(write, "WRITE")    \
  X(rmw, "RMW")        \
  X(read, "READ")      \
  X(poll, "POLL")      \
  X(delay, "DELAY")    \
  X(fill, "FILL")      \
  X(end, "END")

enum class OpKind : std::uint8_t {
#define GPUINIT_X(e, n) e,
  GPUINIT_OPS(GPUINIT_X)
#undef GPUINIT_X
};
[[nodiscard]] const char* op_name(OpKind k) noexcept;
[[nodiscard]] std::optional<OpKind> parse_op(std::string_view name) noexcept;

enum class OnTimeout : std::uint8_t { fail, continue_ };

// Provenance: where an op came from. `seq` holds inclusive ranges of raw trace event
// numbers (a single event is {n, n}); JSON writes a single as n and a range as [a, b].
struct Src {
  std::optional<std::uint32_t> rom_offset;  // offset in the ROM file
  std::optional<std::uint32_t> cs_ip;       // segment << 16 | ip
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seq;
  [[nodiscard]] bool empty() const noexcept { return !rom_offset && !cs_ip && seq.empty(); }
  bool operator==(const Src&) const = default;
};

struct Op {
  OpKind kind = OpKind::end;
  // Location (WRITE, RMW, READ, POLL).
  Space space = Space::mmio;
  std::string space_name;  // only for Space::named
  std::uint8_t bar = 0;    // only for bar-relative spaces
  std::uint8_t width = 0;  // 8, 16, 32, 64
  std::uint64_t offset = 0;
  // WRITE/FILL/RMW: value stored; POLL: value awaited under mask.
  std::uint64_t value = 0;
  // FILL: `count` stores of `value` at offset, offset + width/8, ... (since 1.1).
  std::uint64_t count = 0;
  std::uint64_t mask = 0;  // RMW, POLL
  // READ: optional check.
  bool has_expect = false;
  std::uint64_t expect_mask = 0;
  std::uint64_t expect_value = 0;
  // POLL
  std::uint64_t interval_us = 0;
  std::uint64_t timeout_us = 0;
  OnTimeout on_timeout = OnTimeout::fail;
  // DELAY
  std::uint64_t us = 0;
  Src src;
  std::string comment;  // free text for humans, optional
  bool operator==(const Op&) const = default;
};

struct Metadata {
  std::string source_rom_sha1 = "unknown";
  std::string source_rom_sha256;
  std::string generated;  // RFC 3339
  std::string pipeline_version;
  std::string method;  // e.g. "x86-emulation", "reference", "handwritten"
  std::map<std::string, std::uint64_t> counters;  // instructions, raw_events, ...
  bool operator==(const Metadata&) const = default;
};

struct InitSequence {
  Metadata metadata;
  DeviceInfo device;
  std::vector<Op> ops;  // ends with END
  bool operator==(const InitSequence&) const = default;
};

}  // namespace gpuinit

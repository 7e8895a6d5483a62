// Trace v1: the one record of accesses, written by the extractor, every replay target and
// converters of external captures, so that any two can be diffed.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gpuinit/format/device.hpp"
#include "gpuinit/format/space.hpp"

namespace gpuinit {

inline constexpr const char* kTraceVersion = "1";

enum class Dir : std::uint8_t { read, write };

// An event is an access (the default) or a service call the emulated code made that
// affects timing or meaning (INT 15h/86h wait, an unknown BIOS service).
enum class EventKind : std::uint8_t { access, service };

struct TraceEvent {
  std::uint64_t seq = 0;
  std::uint64_t t_ns = 0;  // virtual time
  EventKind kind = EventKind::access;
  Space space = Space::mmio;
  std::string space_name;  // Space::named only
  std::uint8_t bar = 0;    // bar-relative spaces only
  std::uint8_t width = 8;
  std::uint64_t offset = 0;
  Dir dir = Dir::read;
  std::uint64_t value = 0;
  // Provenance; each optional.
  std::optional<std::uint32_t> cs_ip;   // emulator: segment << 16 | ip
  std::optional<std::uint64_t> icount;  // emulator: instructions retired before it
  std::optional<std::uint64_t> op;      // replay: index of the op that made it
  std::optional<std::uint32_t> rom_offset;
  // Service events: name ("int15_86", "int1a_b1xx", ...) and how long it waited.
  std::string service;
  std::uint64_t wait_ns = 0;
  // Emulator extras: value ended a spin loop chosen by the model (a POLL target).
  bool loop_exit = false;
  bool operator==(const TraceEvent&) const = default;
};

struct TraceHeader {
  std::string source;  // "extract:<rom>", "replay:model", "qemu:<log>", ...
  std::optional<DeviceInfo> device;
  std::string rom_sha256;
  std::string tool_version;
  bool operator==(const TraceHeader&) const = default;
};

struct Trace {
  TraceHeader header;
  std::vector<TraceEvent> events;
  bool operator==(const Trace&) const = default;
};

// "c000:1a2b" <-> segment << 16 | ip
[[nodiscard]] std::string format_cs_ip(std::uint32_t cs_ip);
[[nodiscard]] std::optional<std::uint32_t> parse_cs_ip(std::string_view s) noexcept;

}  // namespace gpuinit

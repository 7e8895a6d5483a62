// Checks the schemas cannot express, run on documents that passed the schema check. Each
// problem is located like a schema problem: a JSON pointer into the document ("line N" and
// a pointer for traces). Loaders run them; they are public for tools that build documents
// in memory (the reducer, converters) and want to check before writing.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/result.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit {

// Device: BAR sizes are powers of two, indices unique, a 64-bit BAR has its upper half free,
// an I/O BAR is not prefetchable. `where` is the device object's pointer ("/device").
[[nodiscard]] std::vector<Problem> check_device_semantics(const DeviceInfo& d, const std::string& where);

// Sequence: values, masks and expectations fit the width; POLL/RMW values lie inside their
// mask; offsets are aligned (mmio, config, vga_mem) and inside their space or listed BAR;
// the last op is END and no op follows an END.
[[nodiscard]] std::vector<Problem> check_sequence_semantics(const InitSequence& s);

// Trace: seq strictly increases, t_ns never decreases, values fit their width.
// `line_of_event[i]` is the line event i was read from; when empty, event i is taken to be
// on line i + 2 (the header is line 1).
[[nodiscard]] std::vector<Problem> check_trace_semantics(const Trace& t,
                                                         std::span<const std::size_t> line_of_event = {});

// Register map: unique names; registers of one space/BAR do not overlap and fit their BAR;
// fields lie inside the register and do not overlap; reset values fit; behaviours name
// registers that exist and values that fit; indexed spaces have valid index/data
// locations that no register occupies.
[[nodiscard]] std::vector<Problem> check_regmap_semantics(const RegisterMap& m);

}  // namespace gpuinit

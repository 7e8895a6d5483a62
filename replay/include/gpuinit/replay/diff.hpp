// Diff of two traces, two sequences, or a trace against a sequence's observable writes.
//
// Both sides become streams of items (trace events, or ops without END) with an identity:
// the access (direction, space, bar, offset, width) or op kind and location. The streams
// are aligned on identity with Myers' linear-space diff (insertions and deletions found;
// memory O(N+M); time O((N+M)·D), D = edit distance), after stripping the common prefix and
// suffix. Past `max_work` steps the rest is aligned position by position and the result
// says the alignment is not minimal. Matched pairs are then compared for values and timing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpuinit/format/result.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"
#include "gpuinit/replay/namer.hpp"

namespace gpuinit::replay {

// Work budget of the alignment (diagonal visits plus snake steps), ~1 s on this class of
// machine: far more than near-identical traces of millions of events need.
inline constexpr std::uint64_t kDefaultDiffWork = 400'000'000;
inline constexpr std::size_t kDefaultMaxListed = 1000;

struct DiffOptions {
  bool ignore_reads = false;   // read values (and READ expectations) are not compared
  bool ignore_timing = false;  // t_ns, icount, cs_ip, op, rom_offset, service waits, DELAY ops,
                               // POLL interval/timeout are not compared
  bool writes_only = false;    // compare observable writes only (always so for trace vs sequence)
  std::vector<std::string> ignore_spaces;   // space names ("port", "vga_io", a named space)
  std::vector<std::uint64_t> ignore_ports;  // offsets in the port and vga_io spaces
  const RegisterNamer* namer = nullptr;
  std::size_t context = 3;                  // matched items shown before the first divergence
  std::size_t max_listed = kDefaultMaxListed;  // differences kept in `differences`
  std::uint64_t max_work = kDefaultDiffWork;
};

// A borrowed side of a diff: exactly one of the two is set.
struct DocView {
  const Trace* trace = nullptr;
  const InitSequence* sequence = nullptr;
};
[[nodiscard]] inline DocView view(const Trace& t) { return {&t, nullptr}; }
[[nodiscard]] inline DocView view(const InitSequence& s) { return {nullptr, &s}; }

// A loaded side: a trace (JSON Lines whose first line has "trace_version") or a sequence.
struct Document {
  std::optional<Trace> trace;
  std::optional<InitSequence> sequence;
  [[nodiscard]] DocView view() const { return trace ? DocView{&*trace, nullptr} : DocView{nullptr, &*sequence}; }
};
// Problems carry no file name: the caller prefixes it.
[[nodiscard]] Loaded<Document> load_document(const std::filesystem::path& p);

enum class DiffMode { traces, sequences, writes };
enum class DiffKind { only_a, only_b, value, timing };

struct Difference {
  DiffKind kind = DiffKind::value;
  std::optional<std::uint64_t> index_a, index_b;  // event index (trace) or op index (sequence)
  std::string a, b;          // both items described; for only_a/only_b, b/a names the neighbour
  std::string register_name;
  std::string detail;        // "value 0x1 != 0x2", "t_ns 100 != 250", "only in A"
};

struct StateDifference {
  std::string location;
  std::string register_name;
  std::optional<std::uint64_t> a, b;  // absent: that side never touched it
};

struct DiffResult {
  DiffMode mode = DiffMode::traces;
  std::size_t items_a = 0, items_b = 0, matched = 0;
  std::size_t only_a = 0, only_b = 0, value_diffs = 0, timing_diffs = 0;
  std::optional<Difference> first;
  std::vector<std::string> context;  // items matched just before `first`
  std::vector<Difference> differences;
  bool differences_truncated = false;
  std::vector<StateDifference> state;  // final-state differences per location
  bool exact_alignment = true;         // false: the work budget ran out
  [[nodiscard]] bool equal() const noexcept { return !first && state.empty(); }
};

[[nodiscard]] DiffResult diff(DocView a, DocView b, const DiffOptions& opt = {});

[[nodiscard]] std::string diff_text(const DiffResult& r, std::string_view label_a, std::string_view label_b);
[[nodiscard]] std::string diff_json(const DiffResult& r, std::string_view label_a, std::string_view label_b);

// The alignment alone, for tests and tools: pairs (ia, ib), -1 on the absent side, in order.
struct AlignPair {
  std::int64_t a = -1, b = -1;
  bool operator==(const AlignPair&) const = default;
};
[[nodiscard]] std::vector<AlignPair> align(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b,
                                           std::uint64_t max_work, bool* exact = nullptr);

}  // namespace gpuinit::replay

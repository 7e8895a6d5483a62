// The replay engine: executes an init sequence on a Target, owning op order, RMW, polling,
// delays, READ expectations, the failure policy and the trace of every access it makes.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gpuinit/format/result.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"
#include "gpuinit/replay/namer.hpp"
#include "gpuinit/replay/target.hpp"

namespace gpuinit::replay {

// One POLL may read its register at most this often: a hostile sequence (timeout of hours,
// interval of 0) must not spin for ever. Longer polls stretch their interval to
// timeout / kMaxPollReads.
inline constexpr std::uint64_t kMaxPollReads = std::uint64_t{1} << 16;
// Default cap on the accesses of one run (the trace of a run is kept in memory).
inline constexpr std::uint64_t kDefaultMaxAccesses = std::uint64_t{50'000'000};

struct ReplayOptions {
  bool keep_going = false;  // continue after a failed poll or expectation
  const RegisterNamer* namer = nullptr;  // register names in the report (may be null)
  std::uint64_t max_accesses = kDefaultMaxAccesses;
  // Called with every access as it is made (or, on a target that does not write, as it
  // would be made), before the next one: a streaming trace that survives a crash, or the
  // lines of a dry run. May be empty.
  std::function<void(const TraceEvent&)> on_event;
  // Checked between ops: once it reads true the run stops before the next op, with a
  // failure saying so (Ctrl-C on real hardware). May be null.
  const std::atomic<bool>* stop_requested = nullptr;
};

struct PollRecord {
  std::size_t op = 0;
  std::uint64_t waited_ns = 0;  // target time from the first read to the verdict
  std::uint64_t reads = 0;
  bool satisfied = false;
  bool checked = true;  // false on a target that cannot answer (schema, dry run)
  std::uint64_t last_value = 0;
};

struct Failure {
  std::size_t op = 0;
  std::string message;  // one sentence naming the op, the access and the values
};

// The last value the sequence wrote or read at a location (the engine reads nothing extra
// to learn it, so a read-sensitive register is never disturbed).
struct RegisterState {
  Space space = Space::mmio;
  std::string space_name;  // Space::named only
  std::uint8_t bar = 0;
  std::uint8_t width = 0;
  std::uint64_t offset = 0;
  std::uint64_t value = 0;
  std::string name;  // from the namer; empty when unknown
  std::size_t last_op = 0;
};

struct RunReport {
  std::string target;
  bool refused = false;              // the sequence asks for something the target lacks
  std::vector<Problem> problems;     // why it was refused ("/init_sequence/3": ...)
  std::size_t ops_total = 0;
  std::size_t ops_executed = 0;
  std::uint64_t accesses = 0;        // reads + writes issued (or, on a dry run, planned)
  std::uint64_t writes_suppressed = 0;  // writes a non-writable target did not perform
  std::uint64_t start_ns = 0, end_ns = 0;  // target clock
  std::size_t expectations_met = 0, expectations_failed = 0, expectations_unchecked = 0;
  std::size_t polls_satisfied = 0, polls_timed_out = 0, polls_unchecked = 0;
  std::vector<PollRecord> polls;
  std::vector<Failure> failures;
  std::vector<RegisterState> final_state;  // in order of first touch
  bool reached_end = false;  // executed the END op (or ran off the last op)
  [[nodiscard]] bool ok() const noexcept { return !refused && failures.empty(); }
};

// Every op the target cannot execute (space, width, a malformed op), each named by its
// JSON pointer "/init_sequence/<index>". Empty when the target can run the whole sequence.
[[nodiscard]] std::vector<Problem> check_sequence(const InitSequence& seq, const Capabilities& caps);

// A sequence checked against one target's capabilities and compiled for fast execution:
// per-op dispatch precomputed, locations resolved to dense slots. Running it allocates
// nothing per op unless a trace is recorded.
class Program {
 public:
  // Null with `problems` filled when check_sequence finds any.
  [[nodiscard]] static std::unique_ptr<Program> compile(const InitSequence& seq, const Capabilities& caps,
                                                        std::vector<Problem>& problems);
  // `seq` must outlive the program and stay unchanged. `trace` (may be null) receives the
  // header and every access.
  [[nodiscard]] RunReport run(Target& target, const ReplayOptions& opt, Trace* trace) const;
  [[nodiscard]] std::size_t size() const noexcept { return steps_.size(); }

  // One op, compiled: everything the loop needs in 40 bytes, so running never touches the
  // (large) Op objects except to word a failure.
  struct Step {
    std::uint64_t offset = 0;
    std::uint64_t value = 0;  // WRITE/RMW: value stored (under mask); POLL: awaited; READ: expected; DELAY: ns
    std::uint64_t mask = 0;   // RMW/POLL mask; READ expect mask
    std::uint32_t slot = 0;   // final-state slot of the location
    std::uint32_t aux = 0;    // POLL: index into polls_; FILL: the number of stores
    std::uint16_t name = 0;   // Space::named: index into names_
    OpKind kind = OpKind::end;
    Space space = Space::mmio;
    std::uint8_t bar = 0;
    std::uint8_t width = 0;
    bool expect = false;      // READ carries an expectation
  };
  struct PollParams {
    std::uint64_t timeout_ns = 0;
    std::uint64_t interval_ns = 1;
    OnTimeout on_timeout = OnTimeout::fail;
  };

 private:
  Program() = default;
  const InitSequence* seq_ = nullptr;
  Capabilities caps_;
  std::vector<Step> steps_;
  std::vector<PollParams> polls_;
  std::vector<std::string_view> names_;     // named spaces, pointing into the sequence's ops
  std::vector<std::size_t> slot_first_op_;  // a representative op of each slot
};

// check + compile + run. A refused sequence returns a report with refused = true and no
// access made. Target errors (exceptions) become a failure of the op that met them.
[[nodiscard]] RunReport run_sequence(const InitSequence& seq, Target& target, const ReplayOptions& opt = {},
                               Trace* trace = nullptr);

// Renderers of a report: JSON (one object, stable key order) and text for humans.
[[nodiscard]] std::string report_json(const RunReport& r);
[[nodiscard]] std::string report_text(const RunReport& r);

// "mmio bar0+0x10", "vga_crtc[0x11]", "port 0x61", "ref_pll[0x3]"
[[nodiscard]] std::string describe_location(Space s, std::string_view space_name, unsigned bar,
                                            std::uint64_t offset);

}  // namespace gpuinit::replay

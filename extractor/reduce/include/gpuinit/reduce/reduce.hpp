// The reducer: a raw trace (or an init sequence) in, a compact init sequence out.
//
// Seven named passes work on a vector of intermediate ops (ROp). Passes 1-4 are also
// streaming stages (push one op, get zero or more out) so that a trace of any length is
// reduced in memory linear in what survives them; passes 5-7 run on that survivor
// vector, repeated until none of them changes anything. docs/reduce.md states each rule,
// its guarantees and the invariant the tests check.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit::reduce {

// ---- limits and documented constants ------------------------------------------------

// POLL timeout: kPollTimeoutFactor times the wait observed in the trace, at least
// kPollTimeoutFloorUs (a wait seen as instant in virtual time still gets room on hardware).
inline constexpr std::uint64_t kPollTimeoutFactor = 10;
inline constexpr std::uint64_t kPollTimeoutFloorUs = 1000;
// A run of identical reads becomes a POLL when at least this many reads saw the old value
// before the change (one is enough when the changing read carries loop_exit).
inline constexpr std::uint64_t kMinPollSpins = 2;
// Debug-port text kept per annotation (a hostile trace may print megabytes).
inline constexpr std::size_t kMaxAnnotationBytes = 256;
// Separate src ranges kept per op; further ranges are merged into the last one (the
// provenance then over-approximates, never loses an event).
inline constexpr std::size_t kMaxSrcRanges = 64;
// Distinct named-space names (from a register map or a sequence).
inline constexpr std::size_t kMaxSpaceNames = 4096;

// ---- intermediate op ----------------------------------------------------------------

enum class RKind : std::uint8_t {
  read,     // an access read (value = what was read, unless no_value)
  write,    // an access write
  rmw,      // mask, value
  poll,     // mask, value, interval_us, timeout_us
  delay,    // us
  timer,    // a PIT/port 0x61 access or a BIOS wait service, before pass 4 absorbs it
  removed,  // dropped by a pass; compacted away
};

enum ROpFlag : std::uint16_t {
  kLoopExit = 1u << 0,    // the value ended a spin loop (the extractor's model chose it)
  kNoValue = 1u << 1,     // a READ from a sequence: its value is unknown
  kHasExpect = 1u << 2,   // a READ with a check: always kept
  kFfReset = 1u << 3,     // a read of 0x3DA/0x3BA: resets the attribute flip-flop
  kAttrRaw = 1u << 4,     // a raw 0x3C0 write left unfolded (needs its flip-flop reset)
  kOnTimeoutContinue = 1u << 5,
  kService = 1u << 6,   // a service event (comment holds its name until pass 1)
  kKeep = 1u << 7,      // a read the device's state depends on (a DAC read in raw mode)
};

struct SeqRange {
  std::uint64_t first = 0, last = 0;
  bool operator==(const SeqRange&) const = default;
};

struct ROp {
  RKind kind = RKind::read;
  Space space = Space::mmio;
  std::uint8_t bar = 0;
  std::uint8_t width = 8;
  std::uint16_t name_id = 0;  // Space::named: index into Context::names
  std::uint16_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;
  std::uint64_t t_ns = 0;      // virtual time of the first event (traces only)
  std::uint64_t t_end_ns = 0;  // virtual time of the last event, plus a service's wait
  std::uint64_t interval_us = 0, timeout_us = 0, us = 0;
  std::uint64_t expect_mask = 0, expect_value = 0;
  std::uint64_t count = 1;  // raw accesses this op stands for (reads in a POLL run)
  std::uint32_t cs_ip = 0, rom_offset = 0;
  bool has_cs_ip = false, has_rom_offset = false;
  bool has_seq = false;
  SeqRange seq;                 // first range, inline
  std::vector<SeqRange> more;   // further ranges (rare)
  std::string comment;

  [[nodiscard]] bool is(std::uint16_t f) const noexcept { return (flags & f) != 0; }
  // Appends the provenance of `o` (seq ranges, first cs_ip) to this op.
  void absorb_src(const ROp& o);
  // Sorts the seq ranges and merges those that touch (after absorbing out of order).
  void normalize_src();
  [[nodiscard]] bool same_location(const ROp& o) const noexcept {
    return space == o.space && offset == o.offset && bar == o.bar && width == o.width &&
           name_id == o.name_id;
  }
};

// ---- statistics ---------------------------------------------------------------------

// Output: at least this many WRITEs of one value to consecutive locations of a memory
// space (mmio, vga_mem), each width/8 bytes after the last, with no comment, become a FILL.
inline constexpr std::size_t kMinFillRun = 8;
// A sequence fed back in: its FILLs expand to WRITEs, at most this many in all.
inline constexpr std::uint64_t kMaxFillExpansion = std::uint64_t{1} << 22;
// The length of the FILL run starting at ops[i] (1 when none starts there).
[[nodiscard]] std::size_t fill_run(const std::vector<ROp>& ops, std::size_t i);

struct Stats {
  std::uint64_t events_in = 0;   // raw events (or sequence ops) fed in
  std::uint64_t ops_out = 0;     // ops written, END excluded
  // 1 normalise
  std::uint64_t debug_annotations = 0;  // debug-port accesses turned into comments
  std::uint64_t renamed_accesses = 0;   // port accesses moved to vga_io
  std::uint64_t split_accesses = 0;     // unaligned memory accesses made byte accesses
  std::uint64_t other_services = 0;     // service events that are not waits (dropped)
  // 2 fold
  std::uint64_t folded_accesses = 0;     // data accesses now on an indexed space
  std::uint64_t index_selects = 0;       // index writes absorbed into a folded op
  std::uint64_t unfolded_accesses = 0;   // index/data accesses left raw (index unknown)
  // 3 poll
  std::uint64_t polls_added = 0;
  std::uint64_t poll_reads = 0;          // raw reads absorbed into POLLs
  // 4 delay
  std::uint64_t delays_added = 0;
  std::uint64_t timer_accesses = 0;      // PIT/0x61 accesses absorbed
  std::uint64_t wait_services = 0;       // INT 15h/86h waits absorbed
  // 5 dead writes
  std::uint64_t dead_writes = 0;
  // 6 rmw
  std::uint64_t rmw_merged = 0;
  // 7 reads
  std::uint64_t reads_dropped = 0;
  std::uint64_t cleanup_rounds = 0;      // rounds of passes 5-7 until nothing changed
  // output: runs of stores merged into FILL ops
  std::uint64_t fills_added = 0;
  std::uint64_t fill_writes = 0;         // WRITE ops they replace
  bool operator==(const Stats&) const = default;
};

// Lines in the style of the seed demo ("Reduced 47 ops to 23 ops", ...), one per line.
[[nodiscard]] std::string format_stats(const Stats& s);
// The same numbers as metadata counters ("reduce.dead_writes", ...).
void add_counters(const Stats& s, std::map<std::string, std::uint64_t>& counters);

// ---- context: what the passes know about the card ------------------------------------

struct RegInfo {
  bool known = false;
  // The map's write_side_effect, or a write that does not replace the value (w1c, w1s).
  bool write_side_effect = true;
  bool read_sensitive = false;
  std::uint8_t width = 0;
};

class Context {
 public:
  // `map` may be null: then nothing is known (every write kept, no card pairs folded).
  explicit Context(const RegisterMap* map = nullptr);

  [[nodiscard]] const RegisterMap* map() const noexcept { return map_; }
  // Name table for Space::named; id 0 is "" (unused). Returns 0 when the table is full.
  std::uint16_t name_id(std::string_view name);
  [[nodiscard]] const std::string& name(std::uint16_t id) const { return names_.at(id); }
  [[nodiscard]] RegInfo reg(const ROp& op) const noexcept;
  struct Pair {
    RegLocation index, data;
    std::uint16_t name_id = 0;
  };
  [[nodiscard]] const std::vector<Pair>& pairs() const noexcept { return pairs_; }

 private:
  static std::uint64_t key(Space s, std::uint16_t name, std::uint8_t bar, std::uint64_t off) noexcept {
    return (std::uint64_t(s) << 56) ^ (std::uint64_t(name) << 40) ^ (std::uint64_t(bar) << 32) ^ off;
  }
  const RegisterMap* map_ = nullptr;
  std::vector<std::string> names_{""};
  std::unordered_map<std::string, std::uint16_t> name_ids_;
  std::unordered_map<std::uint64_t, RegInfo> regs_;
  // Consecutive lookups are mostly of one register (a poll loop): remember the last.
  mutable std::uint64_t last_key_ = ~std::uint64_t{0};
  mutable RegInfo last_info_;
  std::vector<Pair> pairs_;
};

// ---- conversion ---------------------------------------------------------------------

[[nodiscard]] ROp rop_from_event(const TraceEvent& e, Context& ctx);
// A sequence's ops as a trace-like op list (END dropped), for reducing a sequence again.
[[nodiscard]] std::vector<ROp> rops_from_sequence(const InitSequence& s, Context& ctx);
[[nodiscard]] Op op_from_rop(const ROp& r, const Context& ctx);

// ---- the passes ---------------------------------------------------------------------
// Streaming form of passes 1-4: push() takes one op, appends what it can decide to `out`;
// finish() flushes what it still holds.

class Normaliser {  // pass 1
 public:
  void push(ROp&& op, std::vector<ROp>& out, Stats& st);
  void finish(std::vector<ROp>& out, Stats& st);
  // Debug text printed after the last op of a trace with no ops at all (goes on END).
  [[nodiscard]] const std::string& trailing_note() const noexcept { return trailing_note_; }
  // True when push() would pass `op` on unchanged (the streaming fast path).
  [[nodiscard]] bool passes(const ROp& op) const noexcept {
    return !op.is(kService) && op.space != Space::port && pending_note_.empty();
  }

 private:
  std::string pending_note_, trailing_note_;
};

class Folder {  // pass 2
 public:
  explicit Folder(const Context& ctx) : ctx_(&ctx) { card_.resize(ctx.pairs().size()); }
  void push(ROp&& op, std::vector<ROp>& out, Stats& st);
  void finish(std::vector<ROp>& out, Stats& st);
  [[nodiscard]] bool passes(const ROp& op) const noexcept {
    return op.space != Space::vga_io && card_.empty() && carry_.empty();
  }

 private:
  // An index register the folder tracks.
  struct Latch {
    std::int64_t index = -1;  // -1: unknown
    bool sel_used = true;     // the selecting write's src already went into a fold
    bool stale = false;       // the device's latch was set by an absorbed write
    ROp sel;                  // that write
  };
  void vga_byte(ROp&& op, std::vector<ROp>& out, Stats& st);
  void emit(std::vector<ROp>& out, ROp&& op);  // with the notes of absorbed ops before it
  bool pair(Latch& l, Space space, std::uint16_t name, bool is_index, ROp& op, std::vector<ROp>& out, Stats& st);
  void flush_attr(std::vector<ROp>& out, Stats& st);
  void dac_to_raw(std::vector<ROp>& out, Stats& st);
  [[nodiscard]] int decoded(std::uint64_t port) const noexcept;  // 1 yes, 0 no, -1 unknown
  const Context* ctx_;
  Latch seq_, crtc_, gfx_;
  std::vector<Latch> card_;
  std::int64_t misc_ = -1;  // misc output register as last written (-1: unknown)
  // Attribute controller flip-flop; a held index write waits for its data write.
  enum class Attr : std::uint8_t { index, data_pending, data_raw, unknown } attr_ = Attr::index;
  std::int64_t attr_idx_ = -1;
  ROp attr_sel_;
  // DAC write side: palette byte the next complete triple goes to (-1: raw mode), the
  // absorbed 0x3C8 write, and the components of an incomplete triple.
  std::int64_t dac_w_ = -1;
  ROp dac_sel_;
  std::vector<ROp> dac_cache_;
  std::string carry_;  // comments of absorbed ops that made nothing
};

class PollFinder {  // pass 3
 public:
  explicit PollFinder(const Context& ctx) : ctx_(&ctx) {}
  void push(ROp&& op, std::vector<ROp>& out, Stats& st);
  void finish(std::vector<ROp>& out, Stats& st);

 private:
  void flush_run(std::vector<ROp>& out);
  const Context* ctx_;
  bool have_run_ = false;
  ROp run_;  // reads of one register, all with one value: run_.count of them
  // Waits (timer accesses, BIOS wait services) after the run's last read: a poll that
  // waits between reads ("read, INT 15h/86h, read, ...") is still one poll. They are
  // absorbed when the same register is read again, else emitted after the run.
  std::vector<ROp> waits_;
  // Waits between reads already in the run: dropped into the POLL's src when the run
  // becomes a poll, emitted after the read when it does not.
  std::vector<ROp> run_waits_;
};
// Waits held between two reads of a poll candidate; past it the run ends.
inline constexpr std::size_t kMaxWaitsBetweenPollReads = 64;
// Waits held inside one run of reads (bounds the memory a hostile trace can make us hold).
inline constexpr std::size_t kMaxWaitsInPollRun = 65536;

class DelayFinder {  // pass 4
 public:
  void push(ROp&& op, std::vector<ROp>& out, Stats& st);
  void finish(std::vector<ROp>& out, Stats& st);

 private:
  void flush(std::vector<ROp>& out, Stats& st);
  bool have_ = false;
  bool timed_ = false;
  std::uint64_t t_first_ = 0, t_last_ = 0, explicit_us_ = 0;
  ROp acc_;
  std::string carry_;  // comments of timer accesses that made no DELAY
};

// Vector forms: each pass as a function over a vector of ops.
void normalise(std::vector<ROp>& ops, Stats& st);
void fold_index_data(std::vector<ROp>& ops, const Context& ctx, Stats& st);
void recognise_polls(std::vector<ROp>& ops, const Context& ctx, Stats& st);
void recognise_delays(std::vector<ROp>& ops, Stats& st);
// Passes 5-7 return whether they changed anything.
bool remove_dead_writes(std::vector<ROp>& ops, const Context& ctx, Stats& st);
bool merge_rmw(std::vector<ROp>& ops, const Context& ctx, Stats& st);
bool remove_unconsumed_reads(std::vector<ROp>& ops, const Context& ctx, Stats& st);
// Passes 6, 5, 7 and adjacent-DELAY merging, repeated until nothing changes.
void cleanup(std::vector<ROp>& ops, const Context& ctx, Stats& st);

// ---- drivers ------------------------------------------------------------------------

struct Options {
  const RegisterMap* map = nullptr;
  // RFC 3339 time for _metadata. Empty: the epoch, 1970-01-01T00:00:00Z, so output made
  // without a clock (tests, reproducible builds) still validates and never churns.
  std::string generated;
  std::string method = "x86-emulation";
};

struct Result {
  InitSequence sequence;
  Stats stats;
};

// Streaming: push events in trace order, then finish() once.
class Reducer {
 public:
  explicit Reducer(const Options& opt);
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;
  void push(const TraceEvent& e);
  void push_rop(ROp&& op);
  [[nodiscard]] Result finish(const TraceHeader* header);
  [[nodiscard]] std::vector<ROp> finish_rops();  // the final ops, before conversion
  [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
  [[nodiscard]] Context& context() noexcept { return ctx_; }

 private:
  Options opt_;
  Context ctx_;
  Stats stats_;
  Normaliser n_;
  Folder f_;
  PollFinder p_;
  DelayFinder d_;
  void deliver(ROp&& op);     // through pass 4 into out_
  void append_out(ROp&& op);  // drops the previous op early when pass 7 surely would
  std::vector<ROp> a_, b_, c_, e_;  // stage buffers
  std::vector<ROp> out_;
};

[[nodiscard]] Result reduce_trace(const Trace& t, const Options& opt);
// Reducing a sequence: its ops as a trace-like list through the same passes; metadata
// and device are carried over.
[[nodiscard]] Result reduce_sequence(const InitSequence& s, const Options& opt);

// One human line per op ("WRITE vga_seq[0x01] = 0x21 /8"), then the raw trace lines its
// src names (at most kExplainLinesPerOp each).
inline constexpr std::size_t kExplainLinesPerOp = 16;
[[nodiscard]] std::string describe_op(const Op& op);
[[nodiscard]] std::string explain(const InitSequence& s, const Trace& raw);

}  // namespace gpuinit::reduce

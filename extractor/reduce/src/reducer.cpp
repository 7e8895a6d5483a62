// Drivers: the streaming reducer over trace events, and reduction of a whole trace or
// sequence.
#include "gpuinit/version.hpp"
#include "gpuinit/reduce/reduce.hpp"

namespace gpuinit::reduce {

Reducer::Reducer(const Options& opt) : opt_(opt), ctx_(opt.map), f_(ctx_), p_(ctx_) {}

void Reducer::push(const TraceEvent& e) {
  ++stats_.events_in;
  ROp op = rop_from_event(e, ctx_);
  // A trace records what the code did, aligned or not; a sequence keeps memory accesses
  // aligned to their width. An unaligned one becomes its bytes, in address order (what a
  // byte-enable bus carries).
  const bool memory = op.space == Space::mmio || op.space == Space::config || op.space == Space::vga_mem;
  if (memory && (op.kind == RKind::read || op.kind == RKind::write) && op.width > 8 && op.offset % (op.width / 8u) != 0) {
    ++stats_.split_accesses;
    const unsigned n = op.width / 8u;
    for (unsigned i = 0; i < n; ++i) {
      ROp b = op;
      b.width = 8;
      b.offset = op.offset + i;
      b.value = (op.value >> (8 * i)) & 0xFF;
      push_rop(std::move(b));
    }
    return;
  }
  push_rop(std::move(op));
}

void Reducer::push_rop(ROp&& op) {
  // Passes 1-4 as a chain of stages; the buffers keep their capacity between events.
  if (n_.passes(op) && f_.passes(op)) {  // most events: straight to pass 3
    c_.clear();
    p_.push(std::move(op), c_, stats_);
    for (auto& z : c_) deliver(std::move(z));
    return;
  }
  a_.clear();
  n_.push(std::move(op), a_, stats_);
  for (auto& x : a_) {
    b_.clear();
    f_.push(std::move(x), b_, stats_);
    for (auto& y : b_) {
      c_.clear();
      p_.push(std::move(y), c_, stats_);
      for (auto& z : c_) deliver(std::move(z));
    }
  }
}

void Reducer::deliver(ROp&& op) {
  e_.clear();
  d_.push(std::move(op), e_, stats_);
  for (auto& x : e_) append_out(std::move(x));
}

void Reducer::append_out(ROp&& op) {
  // Pass 7 drops every plain read that pass 6 cannot merge, and pass 6 merges only a read
  // directly followed by a write of its register: decide it here so that a trace full of
  // reads never piles them up.
  if (!out_.empty()) {
    ROp& last = out_.back();
    const bool plain = last.kind == RKind::read &&
                       !last.is(std::uint16_t(kNoValue | kHasExpect | kKeep | kFfReset)) &&
                       !ctx_.reg(last).read_sensitive;
    if (plain && !(op.kind == RKind::write && op.same_location(last))) {
      if (!last.comment.empty()) {
        std::string c = std::move(last.comment);
        if (!op.comment.empty()) c += "; " + op.comment;
        if (c.size() > 4 * kMaxAnnotationBytes) c.resize(4 * kMaxAnnotationBytes);
        op.comment = std::move(c);
      }
      stats_.reads_dropped += last.count;
      out_.pop_back();
    }
  }
  out_.push_back(std::move(op));
}

std::vector<ROp> Reducer::finish_rops() {
  auto through = [this](std::vector<ROp>& v, int from) {
    // Sends v through the stages after `from` (0: normaliser, 1: folder, 2: poll finder).
    std::vector<ROp> b, c;
    for (auto& x : v) {
      if (from < 1) {
        b.clear();
        f_.push(std::move(x), b, stats_);
      } else {
        b.clear();
        b.push_back(std::move(x));
      }
      for (auto& y : b) {
        c.clear();
        if (from < 2) p_.push(std::move(y), c, stats_);
        else c.push_back(std::move(y));
        for (auto& z : c) deliver(std::move(z));
      }
    }
  };
  std::vector<ROp> v;
  n_.finish(v, stats_);
  through(v, 0);
  v.clear();
  f_.finish(v, stats_);
  through(v, 1);
  v.clear();
  p_.finish(v, stats_);
  through(v, 2);
  e_.clear();
  d_.finish(e_, stats_);
  for (auto& x : e_) append_out(std::move(x));
  cleanup(out_, ctx_, stats_);
  stats_.ops_out = out_.size();
  return std::move(out_);
}

Result Reducer::finish(const TraceHeader* header) {
  Result r;
  auto ops = finish_rops();
  r.stats = stats_;
  auto& seq = r.sequence;
  seq.ops.reserve(ops.size() + 1);
  // Runs of stores of one value to consecutive memory locations (a frame-buffer clear)
  // become one FILL each.
  for (std::size_t i = 0; i < ops.size();) {
    const std::size_t n = fill_run(ops, i);
    if (n < kMinFillRun) {
      seq.ops.push_back(op_from_rop(ops[i], ctx_));
      ++i;
      continue;
    }
    ROp f = ops[i];
    for (std::size_t k = i + 1; k < i + n; ++k) f.absorb_src(ops[k]);
    f.normalize_src();
    Op op = op_from_rop(f, ctx_);
    op.kind = OpKind::fill;
    op.count = n;
    seq.ops.push_back(std::move(op));
    stats_.fills_added += 1;
    stats_.fill_writes += n;
    i += n;
  }
  stats_.ops_out = seq.ops.size();
  r.stats = stats_;
  Op end;
  end.kind = OpKind::end;
  end.comment = n_.trailing_note();
  seq.ops.push_back(std::move(end));
  seq.metadata.pipeline_version = kToolVersion;
  seq.metadata.method = opt_.method;
  seq.metadata.generated = opt_.generated.empty() ? std::string("1970-01-01T00:00:00Z") : opt_.generated;
  if (header) {
    if (!header->rom_sha256.empty()) seq.metadata.source_rom_sha256 = header->rom_sha256;
    if (header->device) seq.device = *header->device;
  }
  seq.metadata.counters["raw_events"] = stats_.events_in;
  add_counters(stats_, seq.metadata.counters);
  return r;
}

Result reduce_trace(const Trace& t, const Options& opt) {
  Reducer red(opt);
  for (const auto& e : t.events) red.push(e);
  return red.finish(&t.header);
}

Result reduce_sequence(const InitSequence& s, const Options& opt) {
  Reducer red(opt);
  auto ops = rops_from_sequence(s, red.context());
  for (auto& o : ops) red.push_rop(std::move(o));
  Result r = red.finish(nullptr);
  r.stats.events_in = ops.size();
  // The sequence keeps what it says about where it came from; END keeps its note.
  r.sequence.metadata = s.metadata;
  r.sequence.device = s.device;
  if (!s.ops.empty() && s.ops.back().kind == OpKind::end) r.sequence.ops.back().comment = s.ops.back().comment;
  return r;
}

}  // namespace gpuinit::reduce

// The engine's hot loop runs over precompiled steps: no strings, no allocation and no map
// lookups per op. Everything that needs text (failures, names) happens off the fast path.
#include "gpuinit/replay/engine.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "gpuinit/version.hpp"

namespace gpuinit::replay {

namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t sat_mul_1000(std::uint64_t us) {
  constexpr std::uint64_t kMax = ~std::uint64_t{0} / 1000;
  return us > kMax ? ~std::uint64_t{0} : us * 1000;
}

bool has_location(OpKind k) {
  return k == OpKind::write || k == OpKind::fill || k == OpKind::rmw || k == OpKind::read || k == OpKind::poll;
}

std::string where(std::size_t i) { return "/init_sequence/" + std::to_string(i); }

std::string op_location(const Op& op) { return describe_location(op.space, op.space_name, op.bar, op.offset); }

// Location -> dense slot, open addressing with linear probing: compile() looks up every op,
// and a node-based map made that lookup the cost of a whole replay.
class SlotTable {
 public:
  SlotTable() : t_(1024), mask_(1023) {}
  // Returns the slot of (k1, k2) and whether it was new.
  std::pair<std::uint32_t, bool> find_or_add(std::uint64_t k1, std::uint64_t k2) {
    if ((used_ + 1) * 2 > t_.size()) grow();
    std::size_t i = hash(k1, k2) & mask_;
    for (;; i = (i + 1) & mask_) {
      E& e = t_[i];
      if (e.k1 == kEmpty) {
        e = {k1, k2, std::uint32_t(used_++)};
        return {e.slot, true};
      }
      if (e.k1 == k1 && e.k2 == k2) return {e.slot, false};
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  struct E {
    std::uint64_t k1 = kEmpty, k2 = 0;
    std::uint32_t slot = 0;
  };
  static std::size_t hash(std::uint64_t k1, std::uint64_t k2) {
    std::uint64_t h = (k2 ^ (k1 * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
    return std::size_t(h ^ (h >> 31));
  }
  void grow() {
    std::vector<E> old(t_.size() * 2);
    old.swap(t_);
    mask_ = t_.size() - 1;
    for (const E& e : old) {
      if (e.k1 == kEmpty) continue;
      std::size_t i = hash(e.k1, e.k2) & mask_;
      while (t_[i].k1 != kEmpty) i = (i + 1) & mask_;
      t_[i] = e;
    }
  }
  std::vector<E> t_;
  std::size_t mask_;
  std::size_t used_ = 0;
};

}  // namespace

std::string describe_location(Space s, std::string_view space_name, unsigned bar, std::uint64_t offset) {
  if (s == Space::named) return std::string(space_name) + "[" + hex(offset) + "]";
  if (space_has_bar(s)) return std::string(gpuinit::space_name(s)) + " bar" + std::to_string(bar) + "+" + hex(offset);
  if (space_is_indexed(s)) return std::string(gpuinit::space_name(s)) + "[" + hex(offset) + "]";
  return std::string(gpuinit::space_name(s)) + " " + hex(offset);
}

std::vector<Problem> check_sequence(const InitSequence& seq, const Capabilities& caps) {
  std::vector<Problem> out;
  std::uint32_t space_bits = 0;  // built-in spaces the target has, one bit each
  for (Space sp : caps.spaces) space_bits |= std::uint32_t{1} << unsigned(sp);
  std::uint64_t bar_size[6] = {};  // 0: unknown, not checked
  for (const Bar& b : seq.device.bars)
    if (b.index < 6) bar_size[b.index] = b.size;
  bool seen_end = false;
  for (std::size_t i = 0; i < seq.ops.size(); ++i) {
    const Op& op = seq.ops[i];
    if (seen_end) {
      out.push_back({where(i), std::string(op_name(op.kind)) + " after END is never executed"});
      break;
    }
    if (op.kind == OpKind::end) {
      seen_end = true;
      continue;
    }
    if (!has_location(op.kind)) continue;
    // Text only when there is a problem: this loop runs over every op of every replay.
    const auto what = [&] { return std::string(op_name(op.kind)) + " " + op_location(op); };
    if (!valid_width(op.width)) {
      out.push_back({where(i), what() + ": width " + std::to_string(op.width) + " is not 8, 16, 32 or 64"});
      continue;
    }
    if (op.space == Space::named ? !caps.supports(op.space, op.space_name)
                                 : !(space_bits & (std::uint32_t{1} << unsigned(op.space))))
      out.push_back({where(i), what() + ": target has no space '" +
                                   (op.space == Space::named ? op.space_name : std::string(space_name(op.space))) +
                                   "'"});
    if (!caps.supports_width(op.width))
      out.push_back({where(i), what() + ": target cannot make " + std::to_string(op.width) + "-bit accesses"});
    if (space_has_bar(op.space) && op.bar > 5)
      out.push_back({where(i), what() + ": BAR index " + std::to_string(op.bar) + " is not 0..5"});
    const std::uint64_t wm = width_mask(op.width);
    if ((op.kind == OpKind::write || op.kind == OpKind::fill || op.kind == OpKind::rmw || op.kind == OpKind::poll) &&
        (op.value & ~wm))
      out.push_back({where(i), what() + ": value " + hex(op.value) + " does not fit " + std::to_string(op.width) + " bits"});
    if ((op.kind == OpKind::rmw || op.kind == OpKind::poll) && (op.mask & ~wm))
      out.push_back({where(i), what() + ": mask " + hex(op.mask) + " does not fit " + std::to_string(op.width) + " bits"});
    if (op.kind == OpKind::read && op.has_expect && ((op.expect_mask | op.expect_value) & ~wm))
      out.push_back({where(i), what() + ": expect does not fit " + std::to_string(op.width) + " bits"});
    // FILL: `count` stores, the last (count - 1) * width/8 bytes further on.
    std::uint64_t span = op.width / 8u;
    if (op.kind == OpKind::fill) {
      if (op.count == 0 || op.count > kMaxFillCount) {
        out.push_back({where(i), what() + ": count " + std::to_string(op.count) + " is not 1.." + std::to_string(kMaxFillCount)});
        continue;
      }
      span = op.count * (op.width / 8u);
      if (op.offset > ~std::uint64_t{0} - span) {
        out.push_back({where(i), what() + ": " + std::to_string(op.count) + " stores wrap around"});
        continue;
      }
    }
    if (space_has_bar(op.space) && op.bar < 6)
      if (const std::uint64_t size = bar_size[op.bar]; size && (op.offset >= size || span > size - op.offset))
        out.push_back({where(i), what() + ": offset is outside BAR" + std::to_string(op.bar) + " (size " + hex(size) + ")"});
  }
  return out;
}

std::unique_ptr<Program> Program::compile(const InitSequence& seq, const Capabilities& caps,
                                          std::vector<Problem>& problems) {
  problems = check_sequence(seq, caps);
  if (!problems.empty()) return nullptr;
  std::unique_ptr<Program> p(new Program());
  p->seq_ = &seq;
  p->caps_ = caps;
  p->steps_.resize(seq.ops.size());
  SlotTable slots;
  // Consecutive ops often touch the same register: a one-entry cache before the table.
  std::uint64_t last_k1 = ~std::uint64_t{0}, last_k2 = 0;
  std::uint32_t last_slot = 0;
  for (std::size_t i = 0; i < seq.ops.size(); ++i) {
    const Op& op = seq.ops[i];
    Step& s = p->steps_[i];
    s.kind = op.kind;
    if (op.kind == OpKind::delay) s.value = sat_mul_1000(op.us);
    if (!has_location(op.kind)) continue;
    s.space = op.space;
    s.bar = space_has_bar(op.space) ? op.bar : 0;
    s.width = op.width;
    s.offset = op.offset;
    if (op.space == Space::named) {
      const std::string_view name = op.space_name;
      auto it = std::find(p->names_.begin(), p->names_.end(), name);
      if (it == p->names_.end()) {
        if (p->names_.size() > 0xFFFF) {
          problems.push_back({where(i), "more than 65536 distinct named spaces"});
          return nullptr;
        }
        it = p->names_.insert(p->names_.end(), name);
      }
      s.name = std::uint16_t(it - p->names_.begin());
    }
    switch (op.kind) {
      case OpKind::write: s.value = op.value; break;
      case OpKind::fill:
        s.value = op.value;
        s.aux = std::uint32_t(op.count);  // at most kMaxFillCount (checked above)
        break;
      case OpKind::rmw:
        s.mask = op.mask;
        s.value = op.value & op.mask;
        break;
      case OpKind::read:
        s.expect = op.has_expect;
        s.mask = op.expect_mask;
        s.value = op.expect_value;
        break;
      case OpKind::poll: {
        s.mask = op.mask;
        s.value = op.value;
        PollParams pp;
        pp.timeout_ns = sat_mul_1000(op.timeout_us);
        // Bounded polling: at most kMaxPollReads intervals fit in the timeout.
        pp.interval_ns = std::max({sat_mul_1000(op.interval_us),
                                   pp.timeout_ns / kMaxPollReads + (pp.timeout_ns % kMaxPollReads != 0),
                                   std::uint64_t{1}});
        pp.on_timeout = op.on_timeout;
        s.aux = std::uint32_t(p->polls_.size());
        p->polls_.push_back(pp);
        break;
      }
      default: break;
    }
    const std::uint64_t k1 = std::uint64_t(op.space) | std::uint64_t(s.bar) << 8 | std::uint64_t(op.width) << 16 |
                             std::uint64_t(s.name) << 24;
    if (k1 != last_k1 || op.offset != last_k2) {
      const auto [slot, fresh] = slots.find_or_add(k1, op.offset);
      if (fresh) p->slot_first_op_.push_back(i);
      last_k1 = k1;
      last_k2 = op.offset;
      last_slot = slot;
    }
    s.slot = last_slot;
  }
  return p;
}

namespace {

// Per-run mutable state, kept apart from the immutable Program. A local of run(): the
// compiler keeps its counters in registers across the target's virtual calls.
struct Runner {
  const InitSequence& seq;
  Target& target;
  const ReplayOptions& opt;
  Trace* trace;
  bool checks;  // the target answers reads meaningfully
  bool writable;
  struct Slot {
    std::uint64_t value = 0;
    std::size_t last_op_plus1 = 0;  // 0: never touched
  };
  std::vector<Slot> slots;
  std::uint64_t accesses = 0;
  std::uint64_t writes_suppressed = 0;

  std::uint64_t events = 0;
  TraceEvent scratch{};  // the event when no trace is kept (streaming only)

  [[gnu::noinline]] void record(const Access& a, Dir dir, std::uint64_t v, std::size_t op) {
    TraceEvent& e = trace ? trace->events.emplace_back() : scratch;
    e.seq = events++;
    e.t_ns = target.now_ns();
    e.space = a.space;
    if (a.space == Space::named) e.space_name = a.space_name;
    e.bar = a.bar;
    e.width = a.width;
    e.offset = a.offset;
    e.dir = dir;
    e.value = v;
    e.op = op;
    if (opt.on_event) opt.on_event(e);
  }
  [[nodiscard]] bool recording() const noexcept { return trace || opt.on_event; }
  // False when the access budget is spent.
  bool budget(std::uint64_t n = 1) {
    accesses += n;
    return accesses <= opt.max_accesses;
  }
  std::uint64_t read(const Access& a, std::size_t i) {
    const std::uint64_t v = target.read(a);
    if (recording()) record(a, Dir::read, v, i);
    return v;
  }
  void write(const Access& a, std::uint64_t v, std::size_t i) {
    if (writable) target.write(a, v);
    else ++writes_suppressed;
    if (recording()) record(a, Dir::write, v, i);
  }
  void note(std::uint32_t slot, std::uint64_t v, std::size_t i) { slots[slot] = {v, i + 1}; }
};

std::string reg_suffix(const ReplayOptions& opt, const Op& op) {
  const std::string n = map_name(opt.namer, op.space, op.space_name, op.bar, op.offset);
  return n.empty() ? std::string() : " (" + n + ")";
}

[[gnu::cold]] Failure budget_failure(std::size_t i, std::uint64_t max) {
  return {i, "op " + std::to_string(i) + ": access budget of " + std::to_string(max) + " exhausted; run stopped"};
}

[[gnu::cold]] Failure expect_failure(std::size_t i, const Op& op, std::uint64_t v, const ReplayOptions& opt) {
  return {i, "op " + std::to_string(i) + ": READ " + op_location(op) + reg_suffix(opt, op) + " read " + hex(v) +
                 ", expected " + hex(op.expect_value) + " under mask " + hex(op.expect_mask)};
}

[[gnu::cold]] Failure poll_failure(std::size_t i, const Op& op, const PollRecord& pr, const ReplayOptions& opt) {
  return {i, "op " + std::to_string(i) + ": POLL " + op_location(op) + reg_suffix(opt, op) + " timed out after " +
                 std::to_string(pr.waited_ns) + " ns (" + std::to_string(pr.reads) + " reads): last value " +
                 hex(pr.last_value) + ", awaited " + hex(op.value) + " under mask " + hex(op.mask)};
}

}  // namespace

RunReport Program::run(Target& target, const ReplayOptions& opt, Trace* trace) const {
  RunReport rep;
  rep.target = target.name();
  rep.ops_total = steps_.size();
  const InitSequence& seq = *seq_;
  const std::size_t nslots = slot_first_op_.size();
  Runner r{seq, target, opt, trace, caps_.writable && !caps_.touches_nothing, caps_.writable,
           std::vector<Runner::Slot>(nslots)};
  if (trace) {
    trace->header = TraceHeader{};
    trace->header.source = "replay:" + rep.target;
    trace->header.device = seq.device;
    trace->header.rom_sha256 = seq.metadata.source_rom_sha256;
    trace->header.tool_version = kToolVersion;
    trace->events.clear();
    trace->events.reserve(steps_.size() + steps_.size() / 4);
  }
  rep.start_ns = target.now_ns();
  const std::size_t n = steps_.size();
  const Step* const steps = steps_.data();
  const bool fast_writes = !r.recording() && r.writable;
  std::size_t i = 0;
  bool stop = false;
  try {
    for (; i < n && !stop; ++i) {
      if (opt.stop_requested && opt.stop_requested->load(std::memory_order_relaxed)) [[unlikely]] {
        rep.failures.push_back({i, "op " + std::to_string(i) + ": stopped on request (interrupt) before this op"});
        stop = true;
        break;
      }
      const Step& s = steps[i];
      Access a;
      a.space = s.space;
      a.bar = s.bar;
      a.width = s.width;
      a.offset = s.offset;
      if (s.space == Space::named) a.space_name = names_[s.name];
      switch (s.kind) {
        case OpKind::write:
          if (!r.budget()) { stop = true; rep.failures.push_back(budget_failure(i, opt.max_accesses)); break; }
          // The common case: one virtual call and one store.
          if (fast_writes) target.write(a, s.value);
          else r.write(a, s.value, i);
          r.note(s.slot, s.value, i);
          break;
        case OpKind::fill: {
          if (!r.budget(s.aux)) { stop = true; rep.failures.push_back(budget_failure(i, opt.max_accesses)); break; }
          // The stores in order; the final state lists the first location (the FILL's).
          const std::uint64_t step = s.width / 8u;
          for (std::uint32_t k = 0; k < s.aux; ++k, a.offset += step) {
            if (fast_writes) target.write(a, s.value);
            else r.write(a, s.value, i);
          }
          r.note(s.slot, s.value, i);
          break;
        }
        case OpKind::rmw: {
          if (!r.budget(2)) { stop = true; rep.failures.push_back(budget_failure(i, opt.max_accesses)); break; }
          const std::uint64_t v = (r.read(a, i) & ~s.mask) | s.value;
          r.write(a, v, i);
          r.note(s.slot, v, i);
          break;
        }
        case OpKind::read: {
          if (!r.budget()) { stop = true; rep.failures.push_back(budget_failure(i, opt.max_accesses)); break; }
          const std::uint64_t v = r.read(a, i);
          if (r.checks) r.note(s.slot, v, i);
          if (!s.expect) break;
          if (!r.checks) {
            ++rep.expectations_unchecked;
          } else if ((v & s.mask) == s.value) {
            ++rep.expectations_met;
          } else {
            ++rep.expectations_failed;
            rep.failures.push_back(expect_failure(i, seq.ops[i], v, opt));
            if (!opt.keep_going) stop = true;
          }
          break;
        }
        case OpKind::poll: {
          const PollParams& pp = polls_[s.aux];
          PollRecord pr;
          pr.op = i;
          const std::uint64_t t0 = target.now_ns();
          if (!r.checks) {
            // A target that cannot answer: the poll's one read is planned, not awaited.
            if (!r.budget()) { stop = true; rep.failures.push_back(budget_failure(i, opt.max_accesses)); break; }
            pr.last_value = r.read(a, i);
            pr.reads = 1;
            pr.checked = false;
            ++rep.polls_unchecked;
            rep.polls.push_back(pr);
            break;
          }
          bool spent = false;
          for (;;) {
            if (!r.budget()) { spent = true; break; }
            const std::uint64_t v = r.read(a, i);
            ++pr.reads;
            pr.last_value = v;
            if ((v & s.mask) == s.value) {
              pr.satisfied = true;
              break;
            }
            const std::uint64_t elapsed = target.now_ns() - t0;
            // The read cap also guards a real-time target whose clock does not move.
            if (elapsed >= pp.timeout_ns || pr.reads > kMaxPollReads) break;
            target.advance(std::min(pp.interval_ns, pp.timeout_ns - elapsed));
          }
          if (spent) {
            stop = true;
            rep.failures.push_back(budget_failure(i, opt.max_accesses));
            break;
          }
          r.note(s.slot, pr.last_value, i);
          pr.waited_ns = target.now_ns() - t0;
          rep.polls.push_back(pr);
          if (pr.satisfied) {
            ++rep.polls_satisfied;
            break;
          }
          ++rep.polls_timed_out;
          if (pp.on_timeout == OnTimeout::continue_) break;
          rep.failures.push_back(poll_failure(i, seq.ops[i], pr, opt));
          if (!opt.keep_going) stop = true;
          break;
        }
        case OpKind::delay:
          target.advance(s.value);
          break;
        case OpKind::end:
          rep.reached_end = true;
          stop = true;
          break;
      }
    }
  } catch (const std::exception& e) {
    // The op that threw is i (the loop did not advance past it).
    rep.failures.push_back({i, "op " + std::to_string(i) + ": target error: " + e.what()});
    stop = true;
    ++i;
  }
  if (!stop) rep.reached_end = true;  // ran off the last op without END
  rep.ops_executed = i;
  rep.accesses = std::min(r.accesses, opt.max_accesses);
  rep.writes_suppressed = r.writes_suppressed;
  rep.end_ns = target.now_ns();
  for (std::size_t slot = 0; slot < nslots; ++slot) {
    if (!r.slots[slot].last_op_plus1) continue;
    const Op& op = seq.ops[slot_first_op_[slot]];
    RegisterState st;
    st.space = op.space;
    st.space_name = op.space == Space::named ? op.space_name : std::string();
    st.bar = space_has_bar(op.space) ? op.bar : 0;
    st.width = op.width;
    st.offset = op.offset;
    st.value = r.slots[slot].value;
    st.last_op = r.slots[slot].last_op_plus1 - 1;
    st.name = map_name(opt.namer, op.space, op.space_name, op.bar, op.offset);
    rep.final_state.push_back(std::move(st));
  }
  return rep;
}

RunReport run_sequence(const InitSequence& seq, Target& target, const ReplayOptions& opt, Trace* trace) {
  std::vector<Problem> problems;
  const Capabilities caps = target.capabilities();
  auto prog = Program::compile(seq, caps, problems);
  if (!prog) {
    RunReport rep;
    rep.target = target.name();
    rep.refused = true;
    rep.ops_total = seq.ops.size();
    rep.problems = std::move(problems);
    if (trace) {
      trace->header = TraceHeader{};
      trace->header.source = "replay:" + rep.target;
      trace->header.device = seq.device;
      trace->events.clear();
    }
    return rep;
  }
  return prog->run(target, opt, trace);
}

}  // namespace gpuinit::replay

// The engine's hot loop runs over precompiled steps: no strings, no allocation and no map
// lookups per op. Everything that needs text (failures, names) happens off the fast path.
#include "gpuinit/replay/engine.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <unordered_map>

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
  return k == OpKind::write || k == OpKind::rmw || k == OpKind::read || k == OpKind::poll;
}

std::string where(std::size_t i) { return "/init_sequence/" + std::to_string(i); }

std::string op_location(const Op& op) { return describe_location(op.space, op.space_name, op.bar, op.offset); }

// Location identity for the final-state table.
struct LocKey {
  std::uint32_t packed;  // space | bar << 8 | width << 16
  std::uint64_t offset;
  std::string_view name;
  bool operator==(const LocKey&) const = default;
};
struct LocHash {
  std::size_t operator()(const LocKey& k) const noexcept {
    std::uint64_t h = k.offset * 0x9E3779B97F4A7C15ull ^ (std::uint64_t{k.packed} << 1);
    if (!k.name.empty()) h ^= std::hash<std::string_view>{}(k.name) * 0xC2B2AE3D27D4EB4Full;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
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
    const std::string what = std::string(op_name(op.kind)) + " " + op_location(op);
    if (!valid_width(op.width)) {
      out.push_back({where(i), what + ": width " + std::to_string(op.width) + " is not 8, 16, 32 or 64"});
      continue;
    }
    if (!caps.supports(op.space, op.space_name))
      out.push_back({where(i), what + ": target has no space '" +
                                   (op.space == Space::named ? op.space_name : std::string(space_name(op.space))) +
                                   "'"});
    if (!caps.supports_width(op.width))
      out.push_back({where(i), what + ": target cannot make " + std::to_string(op.width) + "-bit accesses"});
    if (space_has_bar(op.space) && op.bar > 5)
      out.push_back({where(i), what + ": BAR index " + std::to_string(op.bar) + " is not 0..5"});
    const std::uint64_t wm = width_mask(op.width);
    if ((op.kind == OpKind::write || op.kind == OpKind::rmw || op.kind == OpKind::poll) && (op.value & ~wm))
      out.push_back({where(i), what + ": value " + hex(op.value) + " does not fit " + std::to_string(op.width) + " bits"});
    if ((op.kind == OpKind::rmw || op.kind == OpKind::poll) && (op.mask & ~wm))
      out.push_back({where(i), what + ": mask " + hex(op.mask) + " does not fit " + std::to_string(op.width) + " bits"});
    if (op.kind == OpKind::read && op.has_expect && ((op.expect_mask | op.expect_value) & ~wm))
      out.push_back({where(i), what + ": expect does not fit " + std::to_string(op.width) + " bits"});
    if (space_has_bar(op.space))
      if (const Bar* b = seq.device.bar(op.bar); b && b->size && (op.offset >= b->size || op.width / 8 > b->size - op.offset))
        out.push_back({where(i), what + ": offset is outside BAR" + std::to_string(op.bar) + " (size " + hex(b->size) + ")"});
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
  std::unordered_map<LocKey, std::uint32_t, LocHash> slots;
  // Consecutive ops mostly touch the same few registers: a one-entry cache before the map.
  LocKey last_key{~0u, 0, {}};
  std::uint32_t last_slot = 0;
  for (std::size_t i = 0; i < seq.ops.size(); ++i) {
    const Op& op = seq.ops[i];
    Step& s = p->steps_[i];
    s.kind = op.kind;
    if (!has_location(op.kind)) continue;
    s.access.space = op.space;
    s.access.bar = space_has_bar(op.space) ? op.bar : 0;
    s.access.width = op.width;
    s.access.offset = op.offset;
    if (op.space == Space::named) s.access.space_name = op.space_name;
    s.value = op.value;
    s.mask = op.mask;
    if (op.kind == OpKind::rmw) s.value &= op.mask;
    const LocKey key{std::uint32_t(op.space) | std::uint32_t(s.access.bar) << 8 | std::uint32_t(op.width) << 16,
                     op.offset, s.access.space_name};
    if (!(key == last_key)) {
      auto [it, fresh] = slots.try_emplace(key, std::uint32_t(slots.size()));
      if (fresh) p->slot_first_op_.push_back(i);
      last_key = key;
      last_slot = it->second;
    }
    s.slot = last_slot;
  }
  return p;
}

namespace {

// Per-run mutable state, kept apart from the immutable Program.
struct Runner {
  const InitSequence& seq;
  Target& target;
  const ReplayOptions& opt;
  Trace* trace;
  RunReport& rep;
  bool checks;      // the target answers reads meaningfully
  bool writable;
  std::vector<std::uint64_t> value;
  std::vector<std::size_t> last_op;
  std::vector<std::uint8_t> known;

  void record(const Access& a, Dir dir, std::uint64_t v, std::size_t op) {
    TraceEvent e;
    e.seq = trace->events.size();
    e.t_ns = target.now_ns();
    e.space = a.space;
    if (a.space == Space::named) e.space_name = a.space_name;
    e.bar = a.bar;
    e.width = a.width;
    e.offset = a.offset;
    e.dir = dir;
    e.value = v;
    e.op = op;
    trace->events.push_back(std::move(e));
  }
  // Returns false when the access budget is spent.
  bool budget(std::size_t i) {
    if (++rep.accesses <= opt.max_accesses) return true;
    rep.failures.push_back({i, "op " + std::to_string(i) + ": access budget of " + std::to_string(opt.max_accesses) +
                                   " exhausted; run stopped"});
    return false;
  }
  std::uint64_t read(const Access& a, std::size_t i) {
    const std::uint64_t v = target.read(a);
    if (trace) record(a, Dir::read, v, i);
    return v;
  }
  void write(const Access& a, std::uint64_t v, std::size_t i) {
    if (writable) target.write(a, v);
    else ++rep.writes_suppressed;
    if (trace) record(a, Dir::write, v, i);
  }
  void note(std::uint32_t slot, std::uint64_t v, std::size_t i) {
    value[slot] = v;
    last_op[slot] = i;
    known[slot] = 1;
  }
};

}  // namespace

RunReport Program::run(Target& target, const ReplayOptions& opt, Trace* trace) const {
  RunReport rep;
  rep.target = target.name();
  rep.ops_total = steps_.size();
  const InitSequence& seq = *seq_;
  const std::size_t nslots = slot_first_op_.size();
  Runner r{seq,   target, opt, trace, rep, caps_.writable && !caps_.touches_nothing, caps_.writable,
           std::vector<std::uint64_t>(nslots), std::vector<std::size_t>(nslots), std::vector<std::uint8_t>(nslots)};
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
  std::size_t i = 0;
  bool stop = false;
  const bool tracing = trace != nullptr;
  try {
    for (; i < n && !stop; ++i) {
      const Step& s = steps_[i];
      switch (s.kind) {
        case OpKind::write:
          if (!r.budget(i)) { stop = true; break; }
          // The common case inlined: one virtual call, two stores.
          if (!tracing && r.writable) target.write(s.access, s.value);
          else r.write(s.access, s.value, i);
          r.note(s.slot, s.value, i);
          break;
        case OpKind::rmw: {
          if (!r.budget(i) || !r.budget(i)) { stop = true; break; }
          const std::uint64_t old = r.read(s.access, i);
          const std::uint64_t v = (old & ~s.mask) | s.value;
          r.write(s.access, v, i);
          r.note(s.slot, v, i);
          break;
        }
        case OpKind::read: {
          if (!r.budget(i)) { stop = true; break; }
          const std::uint64_t v = r.read(s.access, i);
          if (r.checks) r.note(s.slot, v, i);
          const Op& op = seq.ops[i];
          if (!op.has_expect) break;
          if (!r.checks) {
            ++rep.expectations_unchecked;
          } else if ((v & op.expect_mask) == op.expect_value) {
            ++rep.expectations_met;
          } else {
            ++rep.expectations_failed;
            std::string name;
            if (opt.namer) name = std::string(opt.namer->name(op.space, op.space_name, op.bar, op.offset));
            rep.failures.push_back({i, "op " + std::to_string(i) + ": READ " + op_location(op) +
                                           (name.empty() ? "" : " (" + name + ")") + " read " + hex(v) +
                                           ", expected " + hex(op.expect_value) + " under mask " +
                                           hex(op.expect_mask)});
            if (!opt.keep_going) stop = true;
          }
          break;
        }
        case OpKind::poll: {
          const Op& op = seq.ops[i];
          PollRecord pr;
          pr.op = i;
          const std::uint64_t t0 = target.now_ns();
          if (!r.checks) {
            // A target that cannot answer: the poll's one read is planned, not awaited.
            if (!r.budget(i)) { stop = true; break; }
            pr.last_value = r.read(s.access, i);
            pr.reads = 1;
            pr.checked = false;
            ++rep.polls_unchecked;
            rep.polls.push_back(pr);
            break;
          }
          const std::uint64_t timeout = sat_mul_1000(op.timeout_us);
          const std::uint64_t interval =
              std::max({sat_mul_1000(op.interval_us), timeout / kMaxPollReads, std::uint64_t{1}});
          bool spent = false;
          for (;;) {
            if (!r.budget(i)) { spent = true; break; }
            const std::uint64_t v = r.read(s.access, i);
            ++pr.reads;
            pr.last_value = v;
            if ((v & s.mask) == s.value) {
              pr.satisfied = true;
              break;
            }
            const std::uint64_t now = target.now_ns();
            const std::uint64_t elapsed = now - t0;
            // The read cap also guards a real-time target whose clock does not move.
            if (elapsed >= timeout || pr.reads > kMaxPollReads) break;
            target.advance(std::min(interval, timeout - elapsed));
          }
          if (spent) { stop = true; break; }
          r.note(s.slot, pr.last_value, i);
          pr.waited_ns = target.now_ns() - t0;
          rep.polls.push_back(pr);
          if (pr.satisfied) {
            ++rep.polls_satisfied;
            break;
          }
          ++rep.polls_timed_out;
          if (op.on_timeout == OnTimeout::continue_) break;
          std::string name;
          if (opt.namer) name = std::string(opt.namer->name(op.space, op.space_name, op.bar, op.offset));
          rep.failures.push_back({i, "op " + std::to_string(i) + ": POLL " + op_location(op) +
                                         (name.empty() ? "" : " (" + name + ")") + " timed out after " +
                                         std::to_string(pr.waited_ns) + " ns (" + std::to_string(pr.reads) +
                                         " reads): last value " + hex(pr.last_value) + ", awaited " + hex(s.value) +
                                         " under mask " + hex(s.mask)});
          if (!opt.keep_going) stop = true;
          break;
        }
        case OpKind::delay:
          target.advance(sat_mul_1000(seq.ops[i].us));
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
  rep.end_ns = target.now_ns();
  for (std::size_t slot = 0; slot < nslots; ++slot) {
    if (!r.known[slot]) continue;
    const Op& op = seq.ops[slot_first_op_[slot]];
    RegisterState st;
    st.space = op.space;
    st.space_name = op.space == Space::named ? op.space_name : std::string();
    st.bar = space_has_bar(op.space) ? op.bar : 0;
    st.width = op.width;
    st.offset = op.offset;
    st.value = r.value[slot];
    st.last_op = r.last_op[slot];
    if (opt.namer) st.name = std::string(opt.namer->name(op.space, op.space_name, op.bar, op.offset));
    rep.final_state.push_back(std::move(st));
  }
  return rep;
}

RunReport replay(const InitSequence& seq, Target& target, const ReplayOptions& opt, Trace* trace) {
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

// Intermediate ops: conversion from trace events and sequence ops, back to sequence ops,
// the register knowledge the passes consult, and the human printers.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include "gpuinit/format/json_io.hpp"
#include "gpuinit/reduce/reduce.hpp"

namespace gpuinit::reduce {

void ROp::normalize_src() {
  if (!has_seq || more.empty()) return;
  std::vector<SeqRange> all;
  all.reserve(more.size() + 1);
  all.push_back(seq);
  all.insert(all.end(), more.begin(), more.end());
  std::sort(all.begin(), all.end(), [](const SeqRange& a, const SeqRange& b) { return a.first < b.first; });
  std::vector<SeqRange> merged;
  for (const auto& r : all) {
    if (!merged.empty() && r.first <= merged.back().last + 1) merged.back().last = std::max(merged.back().last, r.last);
    else merged.push_back(r);
  }
  seq = merged.front();
  more.assign(merged.begin() + 1, merged.end());
}

void ROp::absorb_src(const ROp& o) {
  if (!has_cs_ip && o.has_cs_ip) {
    has_cs_ip = true;
    cs_ip = o.cs_ip;
  }
  if (!has_rom_offset && o.has_rom_offset) {
    has_rom_offset = true;
    rom_offset = o.rom_offset;
  }
  auto add = [this](SeqRange r) {
    if (!has_seq) {
      has_seq = true;
      seq = r;
      return;
    }
    SeqRange& last = more.empty() ? seq : more.back();
    // Touching or overlapping the last range: extend it (the common case, a run).
    if (r.first <= last.last + 1 && r.last + 1 >= last.first) {
      last.first = std::min(last.first, r.first);
      last.last = std::max(last.last, r.last);
      return;
    }
    if (more.size() < kMaxSrcRanges) {
      more.push_back(r);
      return;
    }
    last.first = std::min(last.first, r.first);
    last.last = std::max(last.last, r.last);
  };
  if (o.has_seq) {
    add(o.seq);
    for (const auto& r : o.more) add(r);
  }
}

// ---- stats --------------------------------------------------------------------------

namespace {
std::string plural(std::uint64_t n, const char* one, const char* many = nullptr) {
  if (n == 1) return "1 " + std::string(one);
  return std::to_string(n) + " " + (many ? std::string(many) : std::string(one) + "s");
}
}  // namespace

std::string format_stats(const Stats& s) {
  std::string o;
  o += "Reduced " + plural(s.events_in, "op") + " to " + plural(s.ops_out, "op") + "\n";
  o += "Removed " + plural(s.dead_writes, "duplicate write") + "\n";
  o += "Detected " + plural(s.delays_added, "delay point") + "\n";
  o += "Added " + plural(s.polls_added, "POLL operation") + "\n";
  o += "Folded " + plural(s.folded_accesses, "index/data access", "index/data accesses") + "\n";
  o += "Merged " + plural(s.rmw_merged, "read-modify-write") + "\n";
  if (s.fills_added)
    o += "Merged " + plural(s.fill_writes, "write") + " into " + plural(s.fills_added, "FILL operation") + "\n";
  o += "Dropped " + plural(s.reads_dropped, "unconsumed read") + "\n";
  o += "Kept " + plural(s.debug_annotations, "debug-port annotation") + "\n";
  return o;
}

void add_counters(const Stats& s, std::map<std::string, std::uint64_t>& c) {
  c["reduce.events_in"] = s.events_in;
  c["reduce.ops_out"] = s.ops_out;
  c["reduce.debug_annotations"] = s.debug_annotations;
  c["reduce.renamed_accesses"] = s.renamed_accesses;
  c["reduce.other_services"] = s.other_services;
  c["reduce.folded_accesses"] = s.folded_accesses;
  c["reduce.index_selects"] = s.index_selects;
  c["reduce.unfolded_accesses"] = s.unfolded_accesses;
  c["reduce.polls_added"] = s.polls_added;
  c["reduce.poll_reads"] = s.poll_reads;
  c["reduce.delays_added"] = s.delays_added;
  c["reduce.timer_accesses"] = s.timer_accesses;
  c["reduce.wait_services"] = s.wait_services;
  c["reduce.dead_writes"] = s.dead_writes;
  c["reduce.rmw_merged"] = s.rmw_merged;
  if (s.split_accesses) c["reduce.split_accesses"] = s.split_accesses;
  if (s.fills_added) {
    c["reduce.fills_added"] = s.fills_added;
    c["reduce.fill_writes"] = s.fill_writes;
  }
  c["reduce.reads_dropped"] = s.reads_dropped;
  c["reduce.cleanup_rounds"] = s.cleanup_rounds;
}

// ---- context ------------------------------------------------------------------------

Context::Context(const RegisterMap* map) : map_(map) {
  if (!map_) return;
  for (const auto& s : map_->indexed_spaces) {
    const std::uint16_t id = name_id(s.name);
    if (id == 0) continue;
    pairs_.push_back({s.index, s.data, id});
  }
  for (const auto& r : map_->registers) {
    std::uint16_t id = 0;
    if (r.space == Space::named) {
      id = name_id(r.space_name);
      if (id == 0) continue;
    }
    RegInfo info;
    info.known = true;
    // A write that sets or clears bits (w1s, w1c) does not replace the value before it.
    bool replaces = r.access != AccessPolicy::w1c && r.access != AccessPolicy::w1s;
    for (const auto& f : r.fields)
      if (f.access && (*f.access == AccessPolicy::w1c || *f.access == AccessPolicy::w1s)) replaces = false;
    info.write_side_effect = r.write_side_effect || !replaces;
    info.width = r.width;
    info.read_sensitive = r.read_sensitive;
    regs_[key(r.space, id, space_has_bar(r.space) ? r.bar : 0, r.offset)] = info;
  }
}

std::uint16_t Context::name_id(std::string_view name) {
  auto it = name_ids_.find(std::string(name));
  if (it != name_ids_.end()) return it->second;
  if (names_.size() >= kMaxSpaceNames) return 0;
  const auto id = std::uint16_t(names_.size());
  names_.emplace_back(name);
  name_ids_.emplace(std::string(name), id);
  return id;
}

RegInfo Context::reg(const ROp& op) const noexcept {
  if (regs_.empty()) return {};
  const std::uint64_t k = key(op.space, op.name_id, space_has_bar(op.space) ? op.bar : 0, op.offset);
  if (k != last_key_) {
    auto it = regs_.find(k);
    last_key_ = k;
    last_info_ = it == regs_.end() ? RegInfo{} : it->second;
  }
  // An access of another width is a different register as far as the passes know.
  if (last_info_.known && last_info_.width != op.width) return {};
  return last_info_;
}

// ---- conversion ---------------------------------------------------------------------

ROp rop_from_event(const TraceEvent& e, Context& ctx) {
  ROp r;
  r.t_ns = e.t_ns;
  r.t_end_ns = e.t_ns;
  if (e.kind == EventKind::service) {
    r.kind = RKind::timer;
    r.flags = kService;
    r.comment = e.service.substr(0, kMaxAnnotationBytes);
    r.t_end_ns = e.t_ns + std::min<std::uint64_t>(e.wait_ns, ~std::uint64_t{0} - e.t_ns);
  } else {
    r.kind = e.dir == Dir::read ? RKind::read : RKind::write;
    r.space = e.space;
    r.bar = space_has_bar(e.space) ? e.bar : 0;
    r.width = valid_width(e.width) ? e.width : 8;
    r.offset = e.offset;
    r.value = e.value & width_mask(r.width);
    if (e.space == Space::named) r.name_id = ctx.name_id(e.space_name);
    if (e.loop_exit) r.flags |= kLoopExit;
  }
  r.has_seq = true;
  r.seq = {e.seq, e.seq};
  if (e.cs_ip) {
    r.has_cs_ip = true;
    r.cs_ip = *e.cs_ip;
  }
  if (e.rom_offset) {
    r.has_rom_offset = true;
    r.rom_offset = *e.rom_offset;
  }
  return r;
}

std::size_t fill_run(const std::vector<ROp>& ops, std::size_t i) {
  const ROp& a = ops[i];
  if (a.kind != RKind::write || (a.space != Space::mmio && a.space != Space::vga_mem) || !a.comment.empty() ||
      !valid_width(a.width))
    return 1;
  const std::uint64_t step = a.width / 8u;
  std::size_t n = 1;
  while (i + n < ops.size() && n < kMaxFillCount) {
    const ROp& b = ops[i + n];
    if (b.kind != RKind::write || b.space != a.space || b.bar != a.bar || b.width != a.width || b.value != a.value ||
        !b.comment.empty() || b.offset != a.offset + n * step)
      break;
    ++n;
  }
  return n;
}

std::vector<ROp> rops_from_sequence(const InitSequence& s, Context& ctx) {
  std::vector<ROp> out;
  out.reserve(s.ops.size());
  std::uint64_t expanded = 0;
  for (const Op& op : s.ops) {
    if (op.kind == OpKind::end) break;
    if (op.kind == OpKind::fill && op.count > kMaxFillExpansion - expanded)
      throw std::invalid_argument("the FILL ops expand to more than " + std::to_string(kMaxFillExpansion) +
                                  " WRITEs: too large to reduce again");
    ROp r;
    r.space = op.space;
    r.bar = space_has_bar(op.space) ? op.bar : 0;
    r.width = valid_width(op.width) ? op.width : 8;
    r.offset = op.offset;
    if (op.space == Space::named) r.name_id = ctx.name_id(op.space_name);
    r.value = op.value & width_mask(r.width);
    r.mask = op.mask & width_mask(r.width);
    switch (op.kind) {
      case OpKind::write:
      case OpKind::fill: r.kind = RKind::write; break;
      case OpKind::rmw: r.kind = RKind::rmw; break;
      case OpKind::read:
        r.kind = RKind::read;
        r.flags |= kNoValue;
        if (op.has_expect) {
          r.flags |= kHasExpect;
          r.expect_mask = op.expect_mask;
          r.expect_value = op.expect_value;
        }
        break;
      case OpKind::poll:
        r.kind = RKind::poll;
        r.interval_us = op.interval_us;
        r.timeout_us = op.timeout_us;
        if (op.on_timeout == OnTimeout::continue_) r.flags |= kOnTimeoutContinue;
        break;
      case OpKind::delay:
        r.kind = RKind::delay;
        r.us = op.us;
        break;
      case OpKind::end: break;
    }
    for (std::size_t i = 0; i < op.src.seq.size(); ++i) {
      const SeqRange sr{op.src.seq[i].first, op.src.seq[i].second};
      if (i == 0) {
        r.has_seq = true;
        r.seq = sr;
      } else if (r.more.size() < kMaxSrcRanges) {
        r.more.push_back(sr);
      }
    }
    if (op.src.cs_ip) {
      r.has_cs_ip = true;
      r.cs_ip = *op.src.cs_ip;
    }
    if (op.src.rom_offset) {
      r.has_rom_offset = true;
      r.rom_offset = *op.src.rom_offset;
    }
    r.comment = op.comment;
    if (op.kind == OpKind::fill) {  // the WRITEs it stands for (the output merges them again)
      expanded += op.count;
      const std::uint64_t step = r.width / 8u;
      for (std::uint64_t k = 0; k + 1 < op.count; ++k) {
        out.push_back(r);
        r.offset += step;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

Op op_from_rop(const ROp& r, const Context& ctx) {
  Op op;
  switch (r.kind) {
    case RKind::read: op.kind = OpKind::read; break;
    case RKind::write: op.kind = OpKind::write; break;
    case RKind::rmw: op.kind = OpKind::rmw; break;
    case RKind::poll: op.kind = OpKind::poll; break;
    case RKind::delay:
    case RKind::timer: op.kind = OpKind::delay; break;
    case RKind::removed: op.kind = OpKind::end; break;
  }
  if (op.kind == OpKind::delay) {
    op.us = r.us;
  } else if (op.kind != OpKind::end) {
    op.space = r.space;
    if (r.space == Space::named) op.space_name = ctx.name(r.name_id);
    op.bar = space_has_bar(r.space) ? r.bar : 0;
    op.width = r.width;
    op.offset = r.offset;
    if (op.kind == OpKind::write || op.kind == OpKind::rmw || op.kind == OpKind::poll) op.value = r.value;
    if (op.kind == OpKind::rmw || op.kind == OpKind::poll) op.mask = r.mask;
    if (op.kind == OpKind::poll) {
      op.interval_us = r.interval_us;
      op.timeout_us = r.timeout_us;
      op.on_timeout = r.is(kOnTimeoutContinue) ? OnTimeout::continue_ : OnTimeout::fail;
    }
    if (op.kind == OpKind::read && r.is(kHasExpect)) {
      op.has_expect = true;
      op.expect_mask = r.expect_mask;
      op.expect_value = r.expect_value;
    }
  }
  if (r.has_cs_ip) op.src.cs_ip = r.cs_ip;
  if (r.has_rom_offset) op.src.rom_offset = r.rom_offset;
  if (r.has_seq) {
    op.src.seq.emplace_back(r.seq.first, r.seq.last);
    for (const auto& m : r.more) op.src.seq.emplace_back(m.first, m.last);
  }
  op.comment = r.comment;
  return op;
}

// ---- printers -----------------------------------------------------------------------

namespace {
std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

std::string location(const Op& op) {
  switch (op.space) {
    case Space::mmio:
    case Space::io:
      return std::string(space_name(op.space)) + std::to_string(op.bar) + "+" + hex(op.offset);
    case Space::config:
    case Space::vga_io:
    case Space::port:
      return std::string(space_name(op.space)) + " " + hex(op.offset);
    case Space::vga_mem: return "vga_mem+" + hex(op.offset);
    case Space::named: return op.space_name + "[" + hex(op.offset) + "]";
    default: return std::string(space_name(op.space)) + "[" + hex(op.offset) + "]";
  }
}
}  // namespace

std::string describe_op(const Op& op) {
  const std::string w = " /" + std::to_string(op.width);
  switch (op.kind) {
    case OpKind::write: return "WRITE " + location(op) + w + " = " + hex(op.value);
    case OpKind::fill:
      return "FILL  " + location(op) + w + " x " + std::to_string(op.count) + " = " + hex(op.value);
    case OpKind::rmw: return "RMW   " + location(op) + w + " mask " + hex(op.mask) + " = " + hex(op.value);
    case OpKind::read: {
      std::string s = "READ  " + location(op) + w;
      if (op.has_expect) s += " expect & " + hex(op.expect_mask) + " == " + hex(op.expect_value);
      return s;
    }
    case OpKind::poll:
      return "POLL  " + location(op) + w + " until & " + hex(op.mask) + " == " + hex(op.value) + " every " +
             std::to_string(op.interval_us) + " us, timeout " + std::to_string(op.timeout_us) + " us";
    case OpKind::delay: return "DELAY " + std::to_string(op.us) + " us";
    case OpKind::end: return "END";
  }
  return "?";
}

std::string explain(const InitSequence& s, const Trace& raw) {
  // Events are usually numbered 0..n-1 in order; fall back to a map when not.
  bool dense = true;
  for (std::size_t i = 0; i < raw.events.size() && dense; ++i) dense = raw.events[i].seq == i;
  std::unordered_map<std::uint64_t, std::size_t> by_seq;
  if (!dense)
    for (std::size_t i = 0; i < raw.events.size(); ++i) by_seq.emplace(raw.events[i].seq, i);
  auto find = [&](std::uint64_t seq) -> const TraceEvent* {
    if (dense) return seq < raw.events.size() ? &raw.events[seq] : nullptr;
    auto it = by_seq.find(seq);
    return it == by_seq.end() ? nullptr : &raw.events[it->second];
  };

  std::string out;
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    const Op& op = s.ops[i];
    out += "#" + std::to_string(i) + "  " + describe_op(op);
    if (op.src.cs_ip) out += "  @" + format_cs_ip(*op.src.cs_ip);
    if (!op.comment.empty()) out += "  ; " + op.comment;
    out += "\n";
    std::uint64_t shown = 0, total = 0;
    for (auto [a, b] : op.src.seq) {
      total += b - a + 1;
      for (std::uint64_t q = a; q <= b && shown < kExplainLinesPerOp; ++q) {
        const TraceEvent* e = find(q);
        out += "      ";
        out += e ? write_trace_event(*e) : "(event " + std::to_string(q) + " not in the trace)\n";
        ++shown;
        if (q == b) break;  // b may be the largest uint64
      }
    }
    if (total > shown) out += "      ... " + std::to_string(total - shown) + " more raw events\n";
  }
  return out;
}

}  // namespace gpuinit::reduce

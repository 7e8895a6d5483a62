// The seven passes. Rules and guarantees: docs/reduce.md.
#include <algorithm>
#include <unordered_set>

#include "gpuinit/reduce/reduce.hpp"

namespace gpuinit::reduce {
namespace {

// Comments merged from several ops stay bounded.
constexpr std::size_t kMaxCommentBytes = 4 * kMaxAnnotationBytes;

void append_comment(std::string& dst, const std::string& src) {
  if (src.empty() || dst.size() >= kMaxCommentBytes) return;
  if (!dst.empty()) dst += "; ";
  dst.append(src, 0, kMaxCommentBytes - std::min(dst.size(), kMaxCommentBytes));
}

std::uint64_t ceil_us(std::uint64_t ns) { return ns / 1000 + (ns % 1000 != 0); }

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) { return a > ~b ? ~std::uint64_t{0} : a + b; }
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  return (a != 0 && b > ~std::uint64_t{0} / a) ? ~std::uint64_t{0} : a * b;
}

// Drops ops marked removed; their comments move to the next op that stays (or, at the
// end, to the last one).
void compact(std::vector<ROp>& ops) {
  std::size_t w = 0;
  std::string carry;
  for (std::size_t r = 0; r < ops.size(); ++r) {
    if (ops[r].kind == RKind::removed) {
      append_comment(carry, ops[r].comment);
      continue;
    }
    if (!carry.empty()) {
      std::string c = std::move(carry);
      carry.clear();
      append_comment(c, ops[r].comment);
      ops[r].comment = std::move(c);
    }
    if (w != r) ops[w] = std::move(ops[r]);
    ++w;
  }
  ops.resize(w);
  if (!carry.empty() && !ops.empty()) append_comment(ops.back().comment, carry);
}

// op's src becomes sel's followed by its own (sel came first in the trace).
void prepend_src(ROp& op, const ROp& sel) {
  ROp s;
  s.has_seq = sel.has_seq;
  s.seq = sel.seq;
  s.more = sel.more;
  s.has_cs_ip = sel.has_cs_ip;
  s.cs_ip = sel.cs_ip;
  s.has_rom_offset = sel.has_rom_offset;
  s.rom_offset = sel.rom_offset;
  s.absorb_src(op);
  op.has_seq = s.has_seq;
  op.seq = s.seq;
  op.more = std::move(s.more);
  op.has_cs_ip = s.has_cs_ip;
  op.cs_ip = s.cs_ip;
  op.has_rom_offset = s.has_rom_offset;
  op.rom_offset = s.rom_offset;
  append_comment(op.comment, sel.comment);
}

bool is_ff_reset_port(std::uint64_t port) { return port == 0x3DA || port == 0x3BA; }

template <class Stage>
void run_stage(Stage& stage, std::vector<ROp>& ops, Stats& st) {
  std::vector<ROp> out;
  out.reserve(ops.size());
  for (auto& op : ops) stage.push(std::move(op), out, st);
  stage.finish(out, st);
  ops = std::move(out);
}

}  // namespace

// ---- pass 1: normalisation ----------------------------------------------------------

void Normaliser::push(ROp&& op, std::vector<ROp>& out, Stats& st) {
  if (op.is(kService)) {
    if (op.comment != "int15_86") {
      ++st.other_services;
      append_comment(pending_note_, "service " + op.comment);
      return;
    }
    op.comment.clear();
  } else if (op.space == Space::port && op.kind != RKind::timer) {
    const std::uint64_t p = op.offset;
    if (p >= 0x3B0 && p <= 0x3DF) {
      op.space = Space::vga_io;
      ++st.renamed_accesses;
    } else if (p == 0x402 || p == 0xE9 || p == 0x80) {
      // Debug console (QEMU isa-debugcon, Bochs) and POST codes: annotations only.
      ++st.debug_annotations;
      if (op.kind == RKind::write && pending_note_.size() < kMaxAnnotationBytes) {
        if (p == 0x80) {
          static const char* hexd = "0123456789abcdef";
          pending_note_ += pending_note_.empty() ? "post " : " post ";
          pending_note_ += hexd[(op.value >> 4) & 0xF];
          pending_note_ += hexd[op.value & 0xF];
        } else {
          const char c = char(op.value & 0xFF);
          if (c >= 0x20 && c < 0x7F) pending_note_ += c;
          else if (!pending_note_.empty() && pending_note_.back() != ' ') pending_note_ += ' ';
        }
      }
      return;
    } else if ((p >= 0x40 && p <= 0x43) || p == 0x61) {
      op.kind = RKind::timer;  // pass 4 turns the loop it belongs to into a DELAY
    }
  }
  if (!pending_note_.empty()) {
    std::string c = "debug: " + pending_note_;
    pending_note_.clear();
    append_comment(c, op.comment);
    op.comment = std::move(c);
  }
  out.push_back(std::move(op));
}

void Normaliser::finish(std::vector<ROp>&, Stats&) {
  trailing_note_ = pending_note_.empty() ? std::string() : "debug: " + pending_note_;
  pending_note_.clear();
}

void normalise(std::vector<ROp>& ops, Stats& st) {
  Normaliser n;
  run_stage(n, ops, st);
  if (!n.trailing_note().empty() && !ops.empty()) append_comment(ops.back().comment, n.trailing_note());
}

// ---- pass 2: index/data folding -----------------------------------------------------

void Folder::fold(ROp& op, Space space, std::uint16_t name, std::int64_t index, const ROp* sel, Stats& st) {
  op.space = space;
  op.name_id = name;
  op.bar = 0;
  op.offset = std::uint64_t(index);
  if (sel) {
    prepend_src(op, *sel);
    ++st.index_selects;
  }
  ++st.folded_accesses;
}

void Folder::push(ROp&& op, std::vector<ROp>& out, Stats& st) {
  const bool access = op.kind == RKind::read || op.kind == RKind::write;
  if (access && op.space == Space::vga_io) {
    const std::uint64_t p = op.offset;
    const bool wr = op.kind == RKind::write;
    // Sequencer, CRTC (colour and mono decode share one latch), graphics controller.
    auto pair = [&](std::int64_t& idx, ROp& sel, bool& used, Space space, bool is_index) -> bool {
      if (is_index) {
        if (!wr) return false;
        if (op.width == 8) {
          idx = std::int64_t(op.value & 0xFF);
          sel = std::move(op);
          used = false;
          return true;
        }
        if (op.width == 16) {  // OUT DX, AX: index in AL, data in AH
          idx = std::int64_t(op.value & 0xFF);
          const std::uint64_t data = (op.value >> 8) & 0xFF;
          op.width = 8;
          op.value = data;
          fold(op, space, 0, idx, nullptr, st);
          ++st.index_selects;
          used = true;
          out.push_back(std::move(op));
          return true;
        }
        return false;
      }
      if (op.width != 8) return false;
      if (idx < 0) {
        ++st.unfolded_accesses;
        return false;
      }
      fold(op, space, 0, idx, used ? nullptr : &sel, st);
      used = true;
      out.push_back(std::move(op));
      return true;
    };
    auto flush_attr = [&] {
      if (attr_ == Attr::data_pending) {
        attr_sel_.flags |= kAttrRaw;
        ++st.unfolded_accesses;
        out.push_back(std::move(attr_sel_));
        attr_ = Attr::data_raw;
      }
    };
    switch (p) {
      case 0x3C4: if (pair(seq_idx_, seq_sel_, seq_sel_used_, Space::vga_seq, true)) return; break;
      case 0x3C5: if (pair(seq_idx_, seq_sel_, seq_sel_used_, Space::vga_seq, false)) return; break;
      case 0x3B4:
      case 0x3D4: if (pair(crtc_idx_, crtc_sel_, crtc_sel_used_, Space::vga_crtc, true)) return; break;
      case 0x3B5:
      case 0x3D5: if (pair(crtc_idx_, crtc_sel_, crtc_sel_used_, Space::vga_crtc, false)) return; break;
      case 0x3CE: if (pair(gfx_idx_, gfx_sel_, gfx_sel_used_, Space::vga_gfx, true)) return; break;
      case 0x3CF: if (pair(gfx_idx_, gfx_sel_, gfx_sel_used_, Space::vga_gfx, false)) return; break;
      case 0x3C0:
        if (wr && op.width == 8) {
          if (attr_ == Attr::index) {  // index write: held until the next attribute access
            attr_idx_ = std::int64_t(op.value & 0x1F);
            attr_sel_ = std::move(op);
            attr_ = Attr::data_pending;
            return;
          }
          if (attr_ == Attr::data_pending) {
            fold(op, Space::vga_attr, 0, attr_idx_, &attr_sel_, st);
            attr_ = Attr::index;
            out.push_back(std::move(op));
            return;
          }
          op.flags |= kAttrRaw;  // data write after a raw index write
          attr_ = Attr::index;
          ++st.unfolded_accesses;
          out.push_back(std::move(op));
          return;
        }
        if (wr && op.width == 16 && attr_ == Attr::index) {
          attr_idx_ = std::int64_t(op.value & 0x1F);
          op.width = 8;
          op.value = (op.value >> 8) & 0xFF;
          fold(op, Space::vga_attr, 0, attr_idx_, nullptr, st);
          ++st.index_selects;
          out.push_back(std::move(op));
          return;
        }
        flush_attr();
        if (wr) {
          op.flags |= kAttrRaw;
          attr_ = Attr::data_raw;
          ++st.unfolded_accesses;
        }
        break;
      case 0x3C1: flush_attr(); break;
      case 0x3BA:
      case 0x3DA:
        if (!wr) {
          flush_attr();
          attr_ = Attr::index;
          op.flags |= kFfReset;
        }
        break;
      case 0x3C7:
      case 0x3C8:
        if (wr && op.width == 8) {
          (p == 0x3C8 ? dac_w_ : dac_r_) = std::int64_t(op.value & 0xFF) * 3;
          ++st.index_selects;
          append_comment(pending_dac_comment_, op.comment);
          return;
        }
        break;
      case 0x3C9:
        if (op.width == 8) {
          std::int64_t& ptr = wr ? dac_w_ : dac_r_;
          if (ptr < 0) {
            ++st.unfolded_accesses;
            break;
          }
          fold(op, Space::vga_dac, 0, ptr, nullptr, st);
          if (!pending_dac_comment_.empty()) {
            append_comment(op.comment, pending_dac_comment_);
            pending_dac_comment_.clear();
          }
          ptr = (ptr + 1) % 768;
          out.push_back(std::move(op));
          return;
        }
        break;
      default: break;
    }
    out.push_back(std::move(op));
    return;
  }
  if (access && !ctx_->pairs().empty()) {
    const auto& pairs = ctx_->pairs();
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& pr = pairs[i];
      auto at = [&](const RegLocation& l) {
        return op.space == l.space && op.offset == l.offset && op.width == l.width &&
               (!space_has_bar(l.space) || op.bar == l.bar);
      };
      if (op.kind == RKind::write && at(pr.index)) {
        card_index_[i] = std::int64_t(op.value);
        card_sel_[i] = std::move(op);
        card_sel_used_[i] = false;
        return;
      }
      if (at(pr.data)) {
        if (card_index_[i] < 0) {
          ++st.unfolded_accesses;
          break;
        }
        fold(op, Space::named, pr.name_id, card_index_[i], card_sel_used_[i] ? nullptr : &card_sel_[i], st);
        card_sel_used_[i] = true;
        out.push_back(std::move(op));
        return;
      }
    }
  }
  out.push_back(std::move(op));
}

void Folder::finish(std::vector<ROp>& out, Stats& st) {
  if (attr_ == Attr::data_pending) {
    attr_sel_.flags |= kAttrRaw;
    ++st.unfolded_accesses;
    out.push_back(std::move(attr_sel_));
    attr_ = Attr::data_raw;
  }
  // Index writes never followed by a data access select nothing anyone reads: their
  // comments move to the end.
  std::string notes;
  for (auto* s : {&seq_sel_, &crtc_sel_, &gfx_sel_}) append_comment(notes, s->comment);
  append_comment(notes, pending_dac_comment_);
  if (!notes.empty() && !out.empty()) append_comment(out.back().comment, notes);
}

void fold_index_data(std::vector<ROp>& ops, const Context& ctx, Stats& st) {
  Folder f(ctx);
  run_stage(f, ops, st);
}

// ---- pass 3: poll recognition -------------------------------------------------------

void PollFinder::flush_run(std::vector<ROp>& out) {
  if (!have_run_) return;
  // Identical reads with nothing between collapse into one read standing for all.
  out.push_back(std::move(run_));
  have_run_ = false;
}

void PollFinder::push(ROp&& op, std::vector<ROp>& out, Stats& st) {
  const bool candidate = op.kind == RKind::read && !op.is(kNoValue) && !op.is(kHasExpect) &&
                         !ctx_->reg(op).read_sensitive;
  if (!candidate) {
    flush_run(out);
    out.push_back(std::move(op));
    return;
  }
  if (have_run_ && run_.same_location(op)) {
    if (op.value == run_.value) {
      run_.count = sat_add(run_.count, op.count);
      run_.t_end_ns = std::max(run_.t_end_ns, op.t_end_ns);
      run_.absorb_src(op);
      append_comment(run_.comment, op.comment);
      return;
    }
    const std::uint64_t spins = run_.count;
    if (spins >= kMinPollSpins || (op.is(kLoopExit) && spins >= 1)) {
      ROp poll = std::move(run_);
      have_run_ = false;
      poll.kind = RKind::poll;
      poll.mask = (poll.value ^ op.value) & width_mask(poll.width);
      poll.value = op.value & poll.mask;
      const std::uint64_t observed_ns = op.t_ns > poll.t_ns ? op.t_ns - poll.t_ns : 0;
      const std::uint64_t reads = sat_add(spins, 1);
      poll.interval_us = std::max<std::uint64_t>(1, ceil_us(observed_ns / (reads - 1)));
      poll.timeout_us = std::max(kPollTimeoutFloorUs, sat_mul(kPollTimeoutFactor, ceil_us(observed_ns)));
      poll.t_end_ns = op.t_end_ns;
      poll.count = reads;
      poll.flags &= std::uint16_t(~(kLoopExit | kFfReset));
      poll.absorb_src(op);
      append_comment(poll.comment, op.comment);
      ++st.polls_added;
      st.poll_reads = sat_add(st.poll_reads, reads);
      out.push_back(std::move(poll));
      return;
    }
  }
  flush_run(out);
  run_ = std::move(op);
  have_run_ = true;
}

void PollFinder::finish(std::vector<ROp>& out, Stats&) { flush_run(out); }

void recognise_polls(std::vector<ROp>& ops, const Context& ctx, Stats& st) {
  PollFinder p(ctx);
  run_stage(p, ops, st);
}

// ---- pass 4: delay recognition ------------------------------------------------------

void DelayFinder::flush(std::vector<ROp>& out, Stats& st) {
  if (!have_) return;
  have_ = false;
  std::uint64_t us = explicit_us_;
  if (timed_) us = sat_add(us, ceil_us(t_last_ - t_first_));
  if (us == 0) {  // timer set-up with no time passing: nothing to wait for
    append_comment(carry_, acc_.comment);
    return;
  }
  acc_.kind = RKind::delay;
  acc_.us = us;
  acc_.space = Space::mmio;
  acc_.offset = acc_.value = acc_.mask = 0;
  acc_.flags = 0;
  ++st.delays_added;
  out.push_back(std::move(acc_));
}

void DelayFinder::push(ROp&& op, std::vector<ROp>& out, Stats& st) {
  if (op.kind == RKind::timer || op.kind == RKind::delay) {
    if (!have_) {
      have_ = true;
      timed_ = false;
      explicit_us_ = 0;
      acc_ = ROp{};
      acc_.comment = std::move(carry_);
      carry_.clear();
    }
    acc_.absorb_src(op);
    append_comment(acc_.comment, op.comment);
    if (op.kind == RKind::delay) {
      explicit_us_ = sat_add(explicit_us_, op.us);
    } else {
      if (!timed_) {
        t_first_ = op.t_ns;
        t_last_ = op.t_end_ns;
        timed_ = true;
      } else {
        t_first_ = std::min(t_first_, op.t_ns);
        t_last_ = std::max(t_last_, op.t_end_ns);
      }
      if (op.is(kService)) ++st.wait_services;
      else ++st.timer_accesses;
    }
    return;
  }
  flush(out, st);
  if (!carry_.empty()) {
    std::string c = std::move(carry_);
    carry_.clear();
    append_comment(c, op.comment);
    op.comment = std::move(c);
  }
  out.push_back(std::move(op));
}

void DelayFinder::finish(std::vector<ROp>& out, Stats& st) {
  flush(out, st);
  if (!carry_.empty() && !out.empty()) append_comment(out.back().comment, carry_);
  carry_.clear();
}

void recognise_delays(std::vector<ROp>& ops, Stats& st) {
  DelayFinder d;
  run_stage(d, ops, st);
}

// ---- passes 5-7 ---------------------------------------------------------------------

namespace {

struct LocHash {
  std::size_t operator()(const ROp* o) const noexcept {
    std::uint64_t h = o->offset * 0x9E3779B97F4A7C15ull;
    h ^= (std::uint64_t(o->space) << 8 | o->bar) + (std::uint64_t(o->name_id) << 16) + o->width;
    return std::size_t(h ^ (h >> 29));
  }
};
struct LocEq {
  bool operator()(const ROp* a, const ROp* b) const noexcept { return a->same_location(*b); }
};

// For each kFfReset read: is the next attribute-controller event a raw 0x3C0 write (so the
// read must stay to put the flip-flop where that write expects it)?
std::vector<bool> ff_reset_needed(const std::vector<ROp>& ops) {
  std::vector<bool> need(ops.size(), false);
  bool next_is_raw_write = false;
  for (std::size_t i = ops.size(); i-- > 0;) {
    const ROp& o = ops[i];
    if (o.space != Space::vga_io) continue;
    if (o.kind == RKind::write && o.is(kAttrRaw)) next_is_raw_write = true;
    else if ((o.kind == RKind::read || o.kind == RKind::poll) && is_ff_reset_port(o.offset)) {
      need[i] = next_is_raw_write;
      next_is_raw_write = false;
    }
  }
  return need;
}

bool read_survives(const ROp& o, const Context& ctx, bool ff_needed) {
  return o.is(kNoValue) || o.is(kHasExpect) || ctx.reg(o).read_sensitive || (o.is(kFfReset) && ff_needed);
}

// A register whose writes the map says nothing but the stored value depends on.
bool quiet_register(const ROp& o, const Context& ctx) {
  const RegInfo r = ctx.reg(o);
  return r.known && !r.write_side_effect;
}

}  // namespace

bool remove_dead_writes(std::vector<ROp>& ops, const Context& ctx, Stats& st) {
  if (!ctx.map()) return false;  // nothing known: every write is kept
  const auto need = ff_reset_needed(ops);
  // Scanning backwards: registers that a later write overwrites before anything observes
  // them, with no barrier in between.
  std::unordered_set<const ROp*, LocHash, LocEq> overwritten;
  bool changed = false;
  auto observe = [&](const ROp& o) {
    if (overwritten.empty()) return;
    if (quiet_register(o, ctx)) {
      overwritten.erase(&o);
      return;
    }
    // Not a register of the map: it may overlap one; forget that whole space.
    for (auto it = overwritten.begin(); it != overwritten.end();)
      it = ((*it)->space == o.space && (*it)->bar == o.bar && (*it)->name_id == o.name_id) ? overwritten.erase(it)
                                                                                          : std::next(it);
  };
  for (std::size_t i = ops.size(); i-- > 0;) {
    ROp& o = ops[i];
    switch (o.kind) {
      case RKind::write:
        if (!quiet_register(o, ctx)) {
          overwritten.clear();  // a side effect (or an unknown one) may observe anything
        } else if (overwritten.count(&o)) {
          o.kind = RKind::removed;
          ++st.dead_writes;
          changed = true;
        } else {
          overwritten.insert(&o);
        }
        break;
      case RKind::rmw:
        if (!quiet_register(o, ctx)) overwritten.clear();
        else observe(o);
        break;
      case RKind::read:
        if (read_survives(o, ctx, need[i])) observe(o);
        break;
      case RKind::poll:
      case RKind::delay:
      case RKind::timer:
        overwritten.clear();  // time passes: a held value may matter to the hardware
        break;
      case RKind::removed: break;
    }
  }
  if (changed) compact(ops);
  return changed;
}

bool merge_rmw(std::vector<ROp>& ops, const Context&, Stats& st) {
  bool changed = false;
  for (std::size_t i = 0; i + 1 < ops.size(); ++i) {
    ROp& r = ops[i];
    ROp& w = ops[i + 1];
    if (r.kind != RKind::read || w.kind != RKind::write || r.is(kNoValue) || r.is(kHasExpect)) continue;
    // Legacy ports read one register and write another at the same address.
    if (r.space == Space::vga_io || r.space == Space::port) continue;
    if (!r.same_location(w)) continue;
    const std::uint64_t mask = (r.value ^ w.value) & width_mask(w.width);
    if (mask == 0) continue;  // a plain write back: stays a WRITE
    w.kind = RKind::rmw;
    w.mask = mask;
    w.value &= mask;
    ROp src = std::move(r);
    r = ROp{};
    r.kind = RKind::removed;
    prepend_src(w, src);
    ++st.rmw_merged;
    changed = true;
    ++i;
  }
  if (changed) compact(ops);
  return changed;
}

bool remove_unconsumed_reads(std::vector<ROp>& ops, const Context& ctx, Stats& st) {
  const auto need = ff_reset_needed(ops);
  bool changed = false;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ROp& o = ops[i];
    if (o.kind != RKind::read || read_survives(o, ctx, need[i])) continue;
    o.kind = RKind::removed;
    st.reads_dropped = sat_add(st.reads_dropped, o.count);
    changed = true;
  }
  if (changed) compact(ops);
  return changed;
}

namespace {
bool merge_adjacent_delays(std::vector<ROp>& ops, Stats& st) {
  bool changed = false;
  for (std::size_t i = 1; i < ops.size(); ++i) {
    if (ops[i].kind != RKind::delay) continue;
    std::size_t j = i;
    while (j-- > 0 && ops[j].kind == RKind::removed) {
    }
    if (j >= ops.size() || ops[j].kind != RKind::delay) continue;
    ops[j].us = sat_add(ops[j].us, ops[i].us);
    ops[j].absorb_src(ops[i]);
    append_comment(ops[j].comment, ops[i].comment);
    ops[i].comment.clear();
    ops[i].kind = RKind::removed;
    if (st.delays_added) --st.delays_added;
    changed = true;
  }
  if (changed) compact(ops);
  return changed;
}
}  // namespace

void cleanup(std::vector<ROp>& ops, const Context& ctx, Stats& st) {
  // Each round that changes something removes at least one op, so this ends.
  for (;;) {
    ++st.cleanup_rounds;
    bool changed = merge_rmw(ops, ctx, st);
    changed |= remove_dead_writes(ops, ctx, st);
    changed |= remove_unconsumed_reads(ops, ctx, st);
    changed |= merge_adjacent_delays(ops, st);
    if (!changed) break;
  }
}

}  // namespace gpuinit::reduce

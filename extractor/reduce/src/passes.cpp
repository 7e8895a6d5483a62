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
    if (op.comment != "int15_86" && op.comment != "timer_poll") {  // the waits
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
    } else if (is_timer_port(p)) {
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

namespace {
void fold_into(ROp& op, Space space, std::uint16_t name, std::int64_t index, const ROp* sel, Stats& st) {
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

ROp raw_write(const ROp& src_of, Space space, std::uint8_t bar, std::uint64_t offset, std::uint8_t width,
              std::uint64_t value) {
  ROp w;
  w.kind = RKind::write;
  w.space = space;
  w.bar = bar;
  w.offset = offset;
  w.width = width;
  w.value = value & width_mask(width);
  w.t_ns = src_of.t_ns;
  w.t_end_ns = src_of.t_end_ns;
  w.absorb_src(src_of);
  return w;
}
}  // namespace

void Folder::emit(std::vector<ROp>& out, ROp&& op) {
  if (!carry_.empty()) {
    std::string c = std::move(carry_);
    carry_.clear();
    append_comment(c, op.comment);
    op.comment = std::move(c);
  }
  out.push_back(std::move(op));
}

int Folder::decoded(std::uint64_t port) const noexcept {
  // Misc output bit 0 selects colour (0x3Dx) or mono (0x3Bx) decode.
  const bool mono = port >= 0x3B0 && port <= 0x3BF, colour = port >= 0x3D0 && port <= 0x3DF;
  if (!mono && !colour) return 1;
  if (misc_ < 0) return -1;
  return ((misc_ & 1) != 0) == colour ? 1 : 0;
}

bool Folder::pair(Latch& l, Space space, std::uint16_t name, bool is_index, ROp& op, std::vector<ROp>& out,
                  Stats& st) {
  if (is_index) {
    if (op.kind != RKind::write) return false;
    l.index = std::int64_t(op.value);
    append_comment(carry_, op.comment);  // an absorbed op's note goes to the next op out
    op.comment.clear();
    l.sel = std::move(op);
    l.sel_used = false;
    l.stale = true;
    return true;
  }
  if (l.index < 0) {
    ++st.unfolded_accesses;
    return false;
  }
  fold_into(op, space, name, l.index, l.sel_used ? nullptr : &l.sel, st);
  l.sel_used = true;
  emit(out, std::move(op));
  return true;
}

void Folder::flush_attr(std::vector<ROp>& out, Stats& st) {
  if (attr_ != Attr::data_pending) return;
  attr_sel_.flags |= kAttrRaw;
  ++st.unfolded_accesses;
  emit(out, std::move(attr_sel_));
  attr_ = Attr::data_raw;
}

void Folder::dac_to_raw(std::vector<ROp>& out, Stats& st) {
  if (dac_w_ < 0) return;
  // The device's write pointer must be where the raw trace had it: select the entry again
  // and replay the components of the incomplete triple.
  emit(out, raw_write(dac_sel_, Space::vga_io, 0, 0x3C8, 8, std::uint64_t(dac_w_ / 3)));
  for (auto& c : dac_cache_) {
    ++st.unfolded_accesses;
    emit(out, std::move(c));
  }
  dac_cache_.clear();
  dac_w_ = -1;
}

void Folder::vga_byte(ROp&& op, std::vector<ROp>& out, Stats& st) {
  const std::uint64_t p = op.offset;
  const bool wr = op.kind == RKind::write;
  const bool rd = op.kind == RKind::read || op.kind == RKind::poll;
  switch (p) {
    case 0x3C4:
    case 0x3C5:
      if (pair(seq_, Space::vga_seq, 0, p == 0x3C4, op, out, st)) return;
      break;
    case 0x3B4:
    case 0x3D4:
    case 0x3B5:
    case 0x3D5: {
      const int d = decoded(p);
      if (d == 1 && pair(crtc_, Space::vga_crtc, 0, (p & 0xF) == 4, op, out, st)) return;
      if (d == -1 && wr && (p & 0xF) == 4) crtc_.index = -1;  // the device may have taken it
      break;
    }
    case 0x3CE:
    case 0x3CF:
      if (pair(gfx_, Space::vga_gfx, 0, p == 0x3CE, op, out, st)) return;
      break;
    case 0x3C0:
      if (wr) {
        switch (attr_) {
          case Attr::index:  // an index write: held until the next attribute access
            attr_idx_ = std::int64_t(op.value & 0x1F);
            append_comment(carry_, op.comment);
            op.comment.clear();
            attr_sel_ = std::move(op);
            attr_ = Attr::data_pending;
            return;
          case Attr::data_pending:
            fold_into(op, Space::vga_attr, 0, attr_idx_, &attr_sel_, st);
            attr_ = Attr::index;
            emit(out, std::move(op));
            return;
          case Attr::data_raw:
            attr_ = Attr::index;
            [[fallthrough]];
          case Attr::unknown:
            op.flags |= kAttrRaw;
            ++st.unfolded_accesses;
            break;
        }
      } else if (attr_ == Attr::data_pending) {
        flush_attr(out, st);
        op.flags |= kKeep;  // it split an index write from its data: a second pass must see it too
      }
      break;
    case 0x3C1:
      if (attr_ == Attr::data_pending) {
        flush_attr(out, st);
        op.flags |= kKeep;
      }
      break;
    case 0x3BA:
    case 0x3DA:
      if (rd) {
        const int d = decoded(p);
        if (d != 0) {
          if (attr_ == Attr::data_pending) {
            flush_attr(out, st);
            op.flags |= kKeep;
          }
          attr_ = d == 1 ? Attr::index : Attr::unknown;
          op.flags |= kFfReset;
          // Before misc output is known nobody can tell whether this read reset the
          // flip-flop: keep it, so the device sees what it saw in the trace.
          if (d == -1) op.flags |= kKeep;
        }
      }
      break;
    case 0x3C2:
      if (wr) misc_ = std::int64_t(op.value & 0xFF);
      break;
    case 0x3C8:
      if (wr) {  // write pointer: entry * 3, component 0; an incomplete triple is lost
        for (auto& c : dac_cache_) append_comment(carry_, c.comment);
        dac_cache_.clear();
        dac_w_ = std::int64_t(op.value & 0xFF) * 3;
        append_comment(carry_, op.comment);
        op.comment.clear();
        dac_sel_ = std::move(op);
        ++st.index_selects;
        return;
      }
      break;
    case 0x3C9:
      if (wr && dac_w_ >= 0) {
        append_comment(carry_, op.comment);
        op.comment.clear();
        dac_cache_.push_back(std::move(op));
        if (dac_cache_.size() == 3) {  // the device stores a palette entry when complete
          for (std::size_t i = 0; i < 3; ++i) {
            ROp& c = dac_cache_[i];
            fold_into(c, Space::vga_dac, 0, dac_w_ + std::int64_t(i), nullptr, st);
            if (i == 0) prepend_src(c, dac_sel_);
            emit(out, std::move(c));
          }
          dac_cache_.clear();
          dac_w_ = (dac_w_ + 3) % 768;
        }
        return;
      }
      if (rd) {
        // Reads move the pointer the writes share: keep them, and the writes, raw.
        dac_to_raw(out, st);
        op.flags |= kKeep;
      }
      break;
    case 0x3C7:
      if (wr) dac_to_raw(out, st);
      break;
    default: break;
  }
  emit(out, std::move(op));
}

void Folder::push(ROp&& op, std::vector<ROp>& out, Stats& st) {
  const bool access = op.kind == RKind::read || op.kind == RKind::write || op.kind == RKind::poll;
  if (access && op.space == Space::vga_io) {
    if (op.kind == RKind::poll) {
      // Only a poll of input status 1 matters here: it resets the flip-flop.
      if (op.width == 8 && (op.offset == 0x3DA || op.offset == 0x3BA)) {
        vga_byte(std::move(op), out, st);
        return;
      }
      emit(out, std::move(op));
      return;
    }
    if (op.width == 8) {
      vga_byte(std::move(op), out, st);
      return;
    }
    // Wider accesses reach VGA ports byte by byte, lowest first (OUT DX, AX to 0x3C4
    // writes the index, then the data): split them and fold each byte.
    const unsigned n = op.width / 8u;
    for (unsigned i = 0; i < n; ++i) {
      ROp b;
      b.kind = op.kind;
      b.space = Space::vga_io;
      b.width = 8;
      b.offset = op.offset + i;
      b.value = (op.value >> (8 * i)) & 0xFF;
      b.t_ns = op.t_ns;
      b.t_end_ns = op.t_end_ns;
      b.flags = op.flags & std::uint16_t(kNoValue | kHasExpect);
      b.absorb_src(op);
      if (i == 0) b.comment = std::move(op.comment);
      vga_byte(std::move(b), out, st);
    }
    return;
  }
  if (access && !ctx_->pairs().empty()) {
    const auto& pairs = ctx_->pairs();
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& pr = pairs[i];
      auto same_bus = [&](const RegLocation& l) {
        return op.space == l.space && (!space_has_bar(l.space) || op.bar == l.bar);
      };
      auto at = [&](const RegLocation& l) { return same_bus(l) && op.offset == l.offset && op.width == l.width; };
      auto overlaps = [&](const RegLocation& l) {
        return same_bus(l) && op.offset < l.offset + l.width / 8u && l.offset < op.offset + op.width / 8u;
      };
      if (op.kind == RKind::write && at(pr.index)) {
        pair(card_[i], Space::named, pr.name_id, true, op, out, st);
        return;
      }
      if (op.kind != RKind::poll && at(pr.data)) {
        if (pair(card_[i], Space::named, pr.name_id, false, op, out, st)) return;
        break;
      }
      if (overlaps(pr.index) || overlaps(pr.data)) {
        // An access of another shape: the device's latch must be right before it.
        Latch& l = card_[i];
        if (l.stale && l.index >= 0) {
          emit(out, raw_write(l.sel, pr.index.space, pr.index.bar, pr.index.offset, pr.index.width,
                                  std::uint64_t(l.index)));
          l.sel_used = true;
        }
        l.stale = false;
        if (op.kind == RKind::write && overlaps(pr.index)) l.index = -1;
        ++st.unfolded_accesses;
        break;
      }
    }
  }
  emit(out, std::move(op));
}

void Folder::finish(std::vector<ROp>& out, Stats& st) {
  flush_attr(out, st);
  // Index writes never followed by a data access select nothing anyone reads; an
  // incomplete DAC triple is never stored.
  dac_cache_.clear();
  if (!carry_.empty() && !out.empty()) append_comment(out.back().comment, carry_);
  carry_.clear();
}

void fold_index_data(std::vector<ROp>& ops, const Context& ctx, Stats& st) {
  Folder f(ctx);
  run_stage(f, ops, st);
}

// ---- pass 3: poll recognition -------------------------------------------------------

void PollFinder::flush_run(std::vector<ROp>& out) {
  if (have_run_) {
    // Identical reads with nothing between collapse into one read standing for all.
    out.push_back(std::move(run_));
    have_run_ = false;
  }
  for (auto& w : run_waits_) out.push_back(std::move(w));
  run_waits_.clear();
  for (auto& w : waits_) out.push_back(std::move(w));
  waits_.clear();
}

void PollFinder::push(ROp&& op, std::vector<ROp>& out, Stats& st) {
  if (have_run_ && (op.kind == RKind::timer || op.kind == RKind::delay) &&
      waits_.size() < kMaxWaitsBetweenPollReads) {
    waits_.push_back(std::move(op));  // maybe the pause between two reads of a poll
    return;
  }
  const bool candidate = op.kind == RKind::read && !op.is(kNoValue) && !op.is(kHasExpect) && !op.is(kKeep) &&
                         !ctx_->reg(op).read_sensitive;
  if (have_run_ && candidate && run_.same_location(op) && !waits_.empty()) {
    if (run_waits_.size() + waits_.size() <= kMaxWaitsInPollRun) {
      // The waits sit between two reads of one register: part of the run for now.
      for (auto& w : waits_) run_waits_.push_back(std::move(w));
      waits_.clear();
    } else {
      flush_run(out);  // bounded memory: a very long run ends here and starts again
    }
  }
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
      poll.flags &= std::uint16_t(~kLoopExit);
      // Waits between its reads are the poll's interval: their time is in the spacing.
      for (auto& w : run_waits_) {
        poll.absorb_src(w);
        if (w.is(kService)) ++st.wait_services;
        else if (w.kind == RKind::timer) ++st.timer_accesses;
      }
      run_waits_.clear();
      poll.absorb_src(op);
      poll.normalize_src();
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
    else if ((o.kind == RKind::read || o.kind == RKind::poll) && o.is(kFfReset)) {
      need[i] = next_is_raw_write;
      next_is_raw_write = false;
    }
  }
  return need;
}

bool read_survives(const ROp& o, const Context& ctx, bool ff_needed) {
  return o.is(kNoValue) || o.is(kHasExpect) || o.is(kKeep) || ctx.reg(o).read_sensitive ||
         (o.is(kFfReset) && ff_needed);
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
    // Legacy ports read one register and write another at the same address; config
    // space is read, written and restored to size BARs, which a mask does not express.
    if (r.space == Space::vga_io || r.space == Space::port || r.space == Space::config) continue;
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

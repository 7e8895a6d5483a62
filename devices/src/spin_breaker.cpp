#include "gpuinit/devices/spin_breaker.hpp"

#include <algorithm>
#include <utility>

#include "gpuinit/format/space.hpp"

namespace gpuinit {

SpinBreaker::SpinBreaker(std::unique_ptr<DeviceModel> inner, SpinOptions opt) : inner_(std::move(inner)), opt_(opt) {
  if (opt_.threshold < 2) opt_.threshold = 2;
}

SpinBreaker::Key SpinBreaker::key_of(const Access& a, bool read) const {
  Key k{std::uint8_t(a.space), a.space == Space::named ? std::string(a.space_name) : std::string(), a.bar,
        a.offset, a.width, 0, 0};
  if (read && count_ > 0) {
    const Seen& prev = back(1);
    const auto& [ps, pname, pbar, poff, pwidth, pc, pcv] = prev.key;
    if (ps == std::get<0>(k) && pbar == a.bar && pname == std::get<1>(k)) {
      if (prev.write && poff != a.offset) {
        std::get<5>(k) = poff + 1;
        std::get<6>(k) = prev.value;
      } else if (!prev.write && poff == a.offset && pwidth == a.width) {  // the data port read again
        std::get<5>(k) = pc;
        std::get<6>(k) = pcv;
      }
    }
  }
  return k;
}

// Candidate k for a read that gave `seen`, changing only the bits of `free`.
std::uint64_t SpinBreaker::candidate(std::uint64_t seen, std::uint64_t free, std::uint32_t k) noexcept {
  if (k == 0) return (~seen & free) | (seen & ~free);
  if (k == 1) return seen & ~free;
  // Bit flips, lowest free bit first; past the last free bit, the complement again.
  std::uint32_t i = k - 2;
  for (unsigned b = 0; b < 64; ++b)
    if ((free >> b) & 1u) {
      if (i == 0) return seen ^ (std::uint64_t{1} << b);
      --i;
    }
  return (~seen & free) | (seen & ~free);
}

// The read stream left the loop (a write, or a read that breaks the cycle): the last
// candidate, if any, ended it.
void SpinBreaker::loop_left() {
  if (phase_ == Phase::breaking && answered_) {
    ++stats_.ended;
    if (learned_.size() < kMaxSpinLearned || learned_.count(last_cand_key_))
      learned_[last_cand_key_] = Learned{cand_, false, last_guided_, last_value_};
  }
  phase_ = Phase::watching;
  streak_ = 0;
  period_ = 0;
}

// The watching side: does this access repeat the one p before it (p = the current period)?
void SpinBreaker::observe(const Key& k, bool write, std::uint64_t v) {
  auto same = [&](const Seen& s) { return s.write == write && s.value == v && s.key == k; };
  // The current cycle goes on (a cycle may repeat an access inside itself: `out 0x3C4, 0x17;
  // in 0x3C5` twice in one turn of the loop).
  if (period_ != 0 && count_ >= period_ && same(back(period_))) {
    ++streak_;
    return;
  }
  unsigned p = 0;
  for (unsigned q = 1; q <= kMaxSpinPeriod && q <= count_ && p == 0; ++q) {
    if (same(back(q))) p = q;
  }
  period_ = p;
  streak_ = p ? 1 : 0;
}

void SpinBreaker::push(Key k, bool write, std::uint64_t v) {
  ring_[head_] = Seen{std::move(k), write, v};
  head_ = (head_ + 1) % kMaxSpinPeriod;
  if (count_ < kMaxSpinPeriod) ++count_;
}

// Bytes of a read that the cycle itself just wrote (an index register read back together
// with its data port, `out 0x3D6, al; in ax, 0x3D6`) keep their value: the loop tests the
// other bytes, and changing the echo would change the index it writes next time round.
std::uint64_t SpinBreaker::answer_mask(const Key& k) const noexcept {
  const auto& [space, name, bar, off, width, ctx, ctx_value] = k;
  const unsigned n = valid_width(width) ? width / 8u : 1u;
  std::uint64_t frozen = 0;
  for (unsigned q = 1; q <= count_ && q <= kMaxSpinPeriod; ++q) {
    const Seen& s = back(q);
    if (!s.write) continue;
    const auto& [ws, wname, wbar, woff, wwidth, wctx, wctx_value] = s.key;
    if (ws != space || wbar != bar || wname != name) continue;
    const unsigned wn = valid_width(wwidth) ? wwidth / 8u : 1u;
    for (unsigned i = 0; i < n; ++i)
      if (off + i >= woff && off + i < woff + wn) frozen |= std::uint64_t{0xFF} << (8 * i);
  }
  const std::uint64_t all = width_mask(valid_width(width) ? width : 8);
  return (frozen & all) == all ? all : all & ~frozen;
}

// The answer for a read of the target: the next guided candidate if one is queued, else
// standard candidate cand_. Opens the compare-hint window on the value given.
std::uint64_t SpinBreaker::give_candidate(const Key& k, std::uint64_t v) {
  answered_ = true;
  last_cand_key_ = k;
  ++stats_.candidates;
  loop_exit_ = true;
  hint_free_ = answer_mask(k);
  last_guided_ = guided_next_ < guided_.size();
  last_value_ = last_guided_ ? guided_[guided_next_++] : candidate(v, hint_free_, cand_);
  hints_open_ = true;
  hint_seen_ = last_value_;
  return last_value_;
}

// targets_[target_] becomes the read answered, from candidate 0, or from what ended the
// last spin at that location (learning): its candidate, and first its value if it was a
// guided one.
void SpinBreaker::start_target(unsigned width) {
  tries_ = 0;
  answered_ = false;
  guided_.clear();
  guided_next_ = 0;
  cand_ = 0;
  if (auto it = learned_.find(targets_[target_]); it != learned_.end()) {
    if (it->second.cand <= width + 1) cand_ = it->second.cand;
    if (it->second.guided) guided_.push_back(it->second.value);
  }
}

// The next read of the cycle becomes the target (or, after the last, the round ends).
void SpinBreaker::next_target(unsigned width) {
  if (++target_ < targets_.size()) return start_target(width);
  // None ended it: watch again, counting afresh.
  ++stats_.given_up;
  phase_ = Phase::watching;
  streak_ = 0;
  run_ = std::min<std::uint32_t>(run_, 1);
  tries_ = 0;
  answered_ = false;
}

// A compare made after the target's read: `field` may be a field of the value it returned
// (that value shifted right by s, `bytes` wide); the loop may want it to be `want`.
void SpinBreaker::guide(std::uint64_t field, std::uint64_t want, unsigned bytes) {
  const std::uint64_t m = width_mask(8 * bytes);
  field &= m;
  want &= m;
  if (field == want) return;
  for (int aligned = 1; aligned >= 0; --aligned) {
    for (unsigned s = 0; s < 64; ++s) {
      if ((s % 8 == 0) != (aligned == 1) || (field == 0 && s % 8 != 0)) continue;
      const std::uint64_t fm = (m << s) & hint_free_;
      if (fm == 0 || ((hint_seen_ >> s) & m) != field) continue;
      const std::uint64_t c = (hint_seen_ & ~fm) | ((want << s) & fm);
      if (c == hint_seen_ || std::find(guided_.begin(), guided_.end(), c) != guided_.end()) continue;
      if (guided_.size() >= kMaxGuided) return;
      guided_.push_back(c);
      ++stats_.guided;
    }
  }
}

void SpinBreaker::compare_hint(std::uint64_t a, std::uint64_t b, unsigned bytes) {
  if (!hints_open_ || bytes == 0 || bytes > 8) return;
  guide(a, b, bytes);
  guide(b, a, bytes);
}

std::uint64_t SpinBreaker::read(const Access& a, std::uint64_t now_ns) {
  loop_exit_ = false;
  hints_open_ = false;
  const std::uint64_t v = inner_->read(a, now_ns);
  const unsigned width = valid_width(a.width) ? a.width : 8;
  Key k = key_of(a, true);
  std::uint64_t answer = v;

  // A read that repeats the access before it (same location, same inner value) is folded
  // into it: the ring keeps one entry for the run, so a cycle stays a cycle when an inner
  // "read until" loop takes a different number of reads each time round; a run of
  // `threshold` such reads is a spin of period 1.
  const bool repeat = count_ > 0 && !back(1).write && back(1).key == k && back(1).value == v;
  run_ = repeat ? run_ + (run_ < opt_.threshold) : 0;

  if (phase_ == Phase::breaking) {
    // Still in the cycle (the read one period ago was this location, or a repeat, unless
    // the repeats have become a spin of their own)?
    const bool inner_spin = repeat && period_ != 1 && run_ + 1 >= opt_.threshold;
    if (inner_spin) {  // not ended by the last candidate: nothing learned
      answered_ = false;
      loop_left();
    } else if (repeat || (count_ >= period_ && !back(period_).write && back(period_).key == k)) {
      if (k == targets_[target_]) {
        bool give = true;
        // The last answer did not end the loop: a guided candidate if one is queued,
        // else the next standard one; after width + 2 of those, the next read of the cycle.
        if (answered_ && guided_next_ >= guided_.size()) {
          if (++tries_ >= width + 2) {
            next_target(width);
            give = false;  // the new target is answered when it is read
          } else {
            cand_ = (cand_ + 1) % (width + 2);
          }
        }
        if (give) answer = give_candidate(k, v);
      }
    } else {
      loop_left();
    }
  }

  if (phase_ == Phase::watching) {
    if (repeat) {
      if (run_ + 1 >= opt_.threshold) period_ = 1, streak_ = run_;
    } else {
      observe(k, false, v);
    }
    if (period_ != 0 && streak_ >= period_ && streak_ + period_ >= opt_.threshold) {
      ++stats_.spins;
      phase_ = Phase::breaking;
      // The reads of the cycle, newest first (the one nearest the loop's branch is the
      // likeliest test); a location that needed an answer before goes first.
      targets_.clear();
      targets_.push_back(k);
      for (unsigned q = 1; q < period_ && q <= count_; ++q) {
        const Seen& s = back(q);
        if (!s.write && std::find(targets_.begin(), targets_.end(), s.key) == targets_.end()) targets_.push_back(s.key);
      }
      std::stable_partition(targets_.begin(), targets_.end(), [&](const Key& t) { return learned_.count(t) != 0; });
      target_ = 0;
      start_target(width);
      if (targets_[0] == k) answer = give_candidate(k, v);
    }
  }

  // A location that needed an answer before is volatile (a status or counter register):
  // unless a candidate answers it, its reads alternate between the inner value and the
  // answer that worked, so loops that wait for two reads to differ, or for a second
  // condition after the first, end too (also inside a cycle being broken: a delay routine
  // called from the loop must still return).
  if (!loop_exit_) {
    if (auto it = learned_.find(k); it != learned_.end()) {
      if (it->second.odd) {
        answer = it->second.guided ? it->second.value : candidate(v, answer_mask(k), it->second.cand);
        loop_exit_ = answer != v;
      }
      it->second.odd = !it->second.odd;
    }
  }

  if (!repeat) push(std::move(k), false, v);
  return answer;
}

void SpinBreaker::write(const Access& a, std::uint64_t value, std::uint64_t now_ns) {
  loop_exit_ = false;
  hints_open_ = false;
  run_ = 0;
  Key k = key_of(a, false);
  const std::uint64_t v = value & width_mask(valid_width(a.width) ? a.width : 8);
  if (phase_ == Phase::breaking) {
    // A write that repeats the one a period ago (the index of an indexed poll) keeps the
    // cycle; any other write leaves it.
    if (!(count_ >= period_ && back(period_).write && back(period_).value == v && back(period_).key == k)) loop_left();
  }
  if (phase_ == Phase::watching) observe(k, true, v);
  push(std::move(k), true, v);
  inner_->write(a, value, now_ns);
}

bool SpinBreaker::take_loop_exit() {
  const bool r = loop_exit_;
  loop_exit_ = false;
  return r;
}

}  // namespace gpuinit

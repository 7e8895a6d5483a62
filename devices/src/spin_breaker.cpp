#include "gpuinit/devices/spin_breaker.hpp"

#include <algorithm>
#include <utility>

#include "gpuinit/format/space.hpp"

namespace gpuinit {

SpinBreaker::SpinBreaker(std::unique_ptr<DeviceModel> inner, SpinOptions opt) : inner_(std::move(inner)), opt_(opt) {
  if (opt_.threshold < 2) opt_.threshold = 2;
}

SpinBreaker::Key SpinBreaker::key_of(const Access& a) {
  return Key{std::uint8_t(a.space), a.space == Space::named ? std::string(a.space_name) : std::string(), a.bar,
             a.offset, a.width};
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
    if (learned_.size() < kMaxSpinLearned || learned_.count(last_cand_key_)) learned_[last_cand_key_] = Learned{cand_, false};
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
  const auto& [space, name, bar, off, width] = k;
  const unsigned n = valid_width(width) ? width / 8u : 1u;
  std::uint64_t frozen = 0;
  for (unsigned q = 1; q <= count_ && q <= kMaxSpinPeriod; ++q) {
    const Seen& s = back(q);
    if (!s.write) continue;
    const auto& [ws, wname, wbar, woff, wwidth] = s.key;
    if (ws != space || wbar != bar || wname != name) continue;
    const unsigned wn = valid_width(wwidth) ? wwidth / 8u : 1u;
    for (unsigned i = 0; i < n; ++i)
      if (off + i >= woff && off + i < woff + wn) frozen |= std::uint64_t{0xFF} << (8 * i);
  }
  const std::uint64_t all = width_mask(valid_width(width) ? width : 8);
  return (frozen & all) == all ? all : all & ~frozen;
}

std::uint32_t SpinBreaker::start_candidate(const Key& k, unsigned width) const {
  auto it = learned_.find(k);
  return it != learned_.end() && it->second.cand <= width + 1 ? it->second.cand : 0;
}

std::uint64_t SpinBreaker::give_candidate(const Key& k, std::uint64_t v) {
  answered_ = true;
  last_cand_key_ = k;
  ++stats_.candidates;
  loop_exit_ = true;
  return candidate(v, answer_mask(k), cand_);
}

std::uint64_t SpinBreaker::read(const Access& a, std::uint64_t now_ns) {
  loop_exit_ = false;
  const std::uint64_t v = inner_->read(a, now_ns);
  const unsigned width = valid_width(a.width) ? a.width : 8;
  Key k = key_of(a);
  std::uint64_t answer = v;

  if (phase_ == Phase::breaking) {
    // Still in the cycle (the read one period ago was this location)?
    if (count_ >= period_ && !back(period_).write && back(period_).key == k) {
      if (k == targets_[target_]) {
        if (answered_) {  // the last candidate did not end the loop: the next one
          if (++tries_ >= width + 2) {  // every candidate failed here: the next read of the cycle
            tries_ = 0;
            answered_ = false;
            if (++target_ >= targets_.size()) {  // none ended it: watch again
              ++stats_.given_up;
              phase_ = Phase::watching;
              streak_ = 0;
            } else {
              cand_ = start_candidate(targets_[target_], width);
            }
          } else {
            cand_ = (cand_ + 1) % (width + 2);
          }
        }
        if (phase_ == Phase::breaking) answer = give_candidate(k, v);
      }
    } else {
      loop_left();
    }
  }

  if (phase_ == Phase::watching) {
    observe(k, false, v);
    if (period_ != 0 && streak_ + period_ >= opt_.threshold) {
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
      tries_ = 0;
      answered_ = false;
      cand_ = start_candidate(targets_[0], width);
      if (targets_[0] == k) answer = give_candidate(k, v);
    }
  }

  // A location that needed an answer before is volatile (a status or counter register):
  // outside a spin its reads alternate between the inner value and the answer that worked,
  // so loops that wait for two reads to differ, or for a second condition after the first,
  // end too.
  if (phase_ == Phase::watching && !loop_exit_) {
    if (auto it = learned_.find(k); it != learned_.end()) {
      if (it->second.odd) {
        answer = candidate(v, answer_mask(k), it->second.cand);
        loop_exit_ = answer != v;
      }
      it->second.odd = !it->second.odd;
    }
  }

  push(std::move(k), false, v);
  return answer;
}

void SpinBreaker::write(const Access& a, std::uint64_t value, std::uint64_t now_ns) {
  loop_exit_ = false;
  Key k = key_of(a);
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

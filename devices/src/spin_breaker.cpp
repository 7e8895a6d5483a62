#include "gpuinit/devices/spin_breaker.hpp"

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

std::uint64_t SpinBreaker::candidate(std::uint64_t seen, unsigned width, std::uint32_t k) noexcept {
  const std::uint64_t mask = width_mask(width);
  if (k == 0) return ~seen & mask;
  return (seen ^ (std::uint64_t{1} << (k - 1))) & mask;
}

// The read stream left the loop (a write, or a read that breaks the cycle): the last
// candidate, if any, ended it.
void SpinBreaker::loop_left() {
  if (phase_ == Phase::breaking) {
    ++stats_.ended;
    if (learned_.size() < kMaxSpinLearned || learned_.count(last_cand_key_)) learned_[last_cand_key_] = cand_;
  }
  phase_ = Phase::watching;
  streak_ = 0;
  period_ = 0;
}

std::uint64_t SpinBreaker::read(const Access& a, std::uint64_t now_ns) {
  loop_exit_ = false;
  const std::uint64_t v = inner_->read(a, now_ns);
  const unsigned width = valid_width(a.width) ? a.width : 8;
  Key k = key_of(a);
  std::uint64_t answer = v;

  if (phase_ == Phase::breaking) {
    // Still in the cycle (same location as one period ago): the last candidate failed.
    if (count_ >= period_ && ring_[(head_ + kMaxSpinPeriod - period_) % kMaxSpinPeriod].key == k) {
      if (tries_ >= period_ * (width + 1)) {  // every candidate was tried: watch again
        ++stats_.given_up;
        phase_ = Phase::watching;
        streak_ = 0;
      } else {
        ++tries_;
        cand_ = (cand_ + 1) % (width + 1);
        answer = candidate(v, width, cand_);
        last_cand_key_ = k;
        ++stats_.candidates;
        loop_exit_ = true;
      }
    } else {
      loop_left();
    }
  }

  if (phase_ == Phase::watching) {
    // The shortest period p (1..kMaxSpinPeriod) at which this read repeats an earlier one
    // (same location, same value).
    unsigned p = 0;
    for (unsigned q = 1; q <= kMaxSpinPeriod && q <= count_ && p == 0; ++q) {
      const Seen& s = ring_[(head_ + kMaxSpinPeriod - q) % kMaxSpinPeriod];
      if (s.key == k && s.value == v) p = q;
    }
    if (p != 0 && p == period_) {
      ++streak_;
    } else {
      period_ = p;
      streak_ = p ? 1 : 0;
    }
    if (period_ != 0 && streak_ + period_ >= opt_.threshold) {
      ++stats_.spins;
      phase_ = Phase::breaking;
      tries_ = 1;
      auto it = learned_.find(k);
      cand_ = it != learned_.end() && it->second <= width ? it->second : 0;
      answer = candidate(v, width, cand_);
      last_cand_key_ = k;
      ++stats_.candidates;
      loop_exit_ = true;
    }
  }

  ring_[head_] = Seen{std::move(k), v};
  head_ = (head_ + 1) % kMaxSpinPeriod;
  if (count_ < kMaxSpinPeriod) ++count_;
  return answer;
}

void SpinBreaker::write(const Access& a, std::uint64_t value, std::uint64_t now_ns) {
  loop_exit_ = false;
  loop_left();
  count_ = 0;  // a write separates what came before from what follows
  inner_->write(a, value, now_ns);
}

bool SpinBreaker::take_loop_exit() {
  const bool r = loop_exit_;
  loop_exit_ = false;
  return r;
}

}  // namespace gpuinit

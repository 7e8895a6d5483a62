#include "gpuinit/devices/spin_breaker.hpp"

#include <utility>

#include "gpuinit/format/space.hpp"

namespace gpuinit {

SpinBreaker::SpinBreaker(std::unique_ptr<DeviceModel> inner, SpinOptions opt) : inner_(std::move(inner)), opt_(opt) {
  if (opt_.threshold < 2) opt_.threshold = 2;
}

bool SpinBreaker::same(const Key& k, const Access& a) noexcept {
  return std::get<0>(k) == std::uint8_t(a.space) && std::get<2>(k) == a.bar && std::get<3>(k) == a.offset &&
         std::get<4>(k) == a.width && (a.space != Space::named || std::get<1>(k) == a.space_name);
}

std::uint64_t SpinBreaker::candidate(std::uint64_t seen, unsigned width, std::uint32_t k) noexcept {
  const std::uint64_t mask = width_mask(width);
  if (k == 0) return ~seen & mask;
  return (seen ^ (std::uint64_t{1} << (k - 1))) & mask;
}

// Anything but another read of the spinning location: the last candidate (if any) ended
// the loop.
void SpinBreaker::other_access() {
  if (have_key_ && phase_ == Phase::breaking) {
    ++stats_.ended;
    if (learned_.size() < kMaxSpinLearned || learned_.count(key_)) learned_[key_] = cand_;
  }
  have_key_ = false;
  phase_ = Phase::watching;
  repeats_ = 0;
}

std::uint64_t SpinBreaker::read(const Access& a, std::uint64_t now_ns) {
  loop_exit_ = false;
  const std::uint64_t v = inner_->read(a, now_ns);
  const unsigned width = valid_width(a.width) ? a.width : 8;
  if (!have_key_ || !same(key_, a)) {
    other_access();
    have_key_ = true;
    key_ = Key{std::uint8_t(a.space), a.space == Space::named ? std::string(a.space_name) : std::string(), a.bar,
               a.offset, a.width};
    seen_ = v;
    repeats_ = 1;
    return v;
  }
  switch (phase_) {
    case Phase::watching:
      if (v != seen_) {  // the value moved by itself: no spin yet
        seen_ = v;
        repeats_ = 1;
        return v;
      }
      if (++repeats_ < opt_.threshold) return v;
      ++stats_.spins;
      phase_ = Phase::breaking;
      tries_ = 1;
      if (auto it = learned_.find(key_); it != learned_.end() && it->second <= width) cand_ = it->second;
      else cand_ = 0;
      break;
    case Phase::breaking:
      if (tries_ > width) {  // every candidate was tried: watch again from this read
        ++stats_.given_up;
        phase_ = Phase::watching;
        seen_ = v;
        repeats_ = 1;
        return v;
      }
      ++tries_;
      cand_ = (cand_ + 1) % (width + 1);
      break;
  }
  ++stats_.candidates;
  loop_exit_ = true;
  return candidate(seen_, width, cand_);
}

void SpinBreaker::write(const Access& a, std::uint64_t value, std::uint64_t now_ns) {
  loop_exit_ = false;
  other_access();
  inner_->write(a, value, now_ns);
}

bool SpinBreaker::take_loop_exit() {
  const bool r = loop_exit_;
  loop_exit_ = false;
  return r;
}

}  // namespace gpuinit

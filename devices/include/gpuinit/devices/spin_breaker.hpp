// The spin-breaking policy, as a decorator over any DeviceModel.
//
// A ROM that waits on a status bit reads one location over and over. On a model that
// never changes that bit (the generic model answers what was written) the loop would run
// until the instruction budget. The SpinBreaker watches the read stream and, once a
// location has been read `threshold` times in a row with the same value and no other
// access (read of another location, or any write) in between, answers values chosen to
// end the loop:
//   candidate 0: the complement of the value seen (within the access width);
//   candidate k (1..width): the value seen with bit k-1 flipped (set if it was clear,
//   cleared if it was set), bit 0 first.
// Each further read of the same location, with still nothing else in between, means the
// previous candidate did not end the loop: it is answered with the next candidate. The
// first access to anything else confirms the last candidate: the policy remembers it for
// that location (learning: the next spin there starts with the candidate that worked).
// After all width+1 candidates failed the policy gives up on that spin: the read gets the
// inner model's value and counting starts again, so a location read in one long stream
// (a wait routine called in a loop, with no other access between the calls) gets a new
// round of candidates every `threshold` reads instead of running unanswered.
//
// Every answer that is a candidate sets the loop-exit flag (take_loop_exit()), so the
// trace marks it `loop_exit: true`. When the first candidate works (the common case) one
// event carries the flag; when it does not, the last flagged read before another access is
// the one that ended the loop. The inner model always sees every read and write (its
// read side effects happen as usual). Deterministic: the answers depend only on the
// access stream.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "gpuinit/devices/device_model.hpp"

namespace gpuinit {

// Consecutive identical reads that make a spin: above the burst reads real init code does
// on purpose (FIFO drains, 16 reads of a DAC), far below any real wait.
inline constexpr std::uint32_t kDefaultSpinThreshold = 64;
// Locations whose successful candidate is remembered (then new ones start at candidate 0).
inline constexpr std::size_t kMaxSpinLearned = 4096;

struct SpinOptions {
  std::uint32_t threshold = kDefaultSpinThreshold;  // at least 2
};

struct SpinStats {
  std::uint64_t spins = 0;       // spins detected
  std::uint64_t ended = 0;       // spins a candidate ended (confirmed by another access)
  std::uint64_t candidates = 0;  // candidate answers given
  std::uint64_t given_up = 0;    // spins no candidate ended
};

class SpinBreaker final : public DeviceModel {
 public:
  explicit SpinBreaker(std::unique_ptr<DeviceModel> inner, SpinOptions opt = {});

  [[nodiscard]] std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  [[nodiscard]] std::string name() const override { return inner_->name() + "+spin"; }
  [[nodiscard]] bool take_loop_exit() override;

  [[nodiscard]] DeviceModel& inner() noexcept { return *inner_; }
  [[nodiscard]] const SpinStats& stats() const noexcept { return stats_; }

 private:
  using Key = std::tuple<std::uint8_t, std::string, std::uint8_t, std::uint64_t, std::uint8_t>;
  enum class Phase : std::uint8_t { watching, breaking };
  static bool same(const Key& k, const Access& a) noexcept;
  static std::uint64_t candidate(std::uint64_t seen, unsigned width, std::uint32_t k) noexcept;
  void other_access();

  std::unique_ptr<DeviceModel> inner_;
  SpinOptions opt_;
  SpinStats stats_;
  bool have_key_ = false;
  Key key_;
  Phase phase_ = Phase::watching;
  std::uint64_t seen_ = 0;
  std::uint32_t repeats_ = 0;
  std::uint32_t cand_ = 0;   // current candidate index
  std::uint32_t tries_ = 0;  // candidates given in this spin
  bool loop_exit_ = false;
  std::map<Key, std::uint32_t> learned_;
};

}  // namespace gpuinit

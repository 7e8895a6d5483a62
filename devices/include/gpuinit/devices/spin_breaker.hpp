// The spin-breaking policy, as a decorator over any DeviceModel.
//
// A ROM that waits on a status bit reads one location over and over (or a short cycle of
// accesses: `in 0x3C2; in 0x3BA; test; jz`, or an indexed read `out 0x3D6, 0xD2; in 0x3D7`).
// On a model that never changes that bit (the generic model answers what was written) the
// loop would run until the instruction budget. The SpinBreaker watches the access stream: a
// spin is a run of accesses that repeats with a period p of 1..kMaxSpinPeriod accesses (each
// access has the location, direction and value of the access p before it) for `threshold`
// accesses in all and at least two whole periods, with at least one read in the cycle. Writes may be part of the cycle only
// when they repeat exactly (an index register set to the same index each time round); any
// other write ends the cycle. One read of the cycle at a time (the target: newest first,
// a location learned before first of all) is answered, each time it comes round, with a
// candidate value computed from the value the inner model gave it; the other reads keep
// their values:
//   candidate 0: its complement (within the access width);
//   candidate 1: zero (a down-counter or a busy field waited on to clear);
//   candidate k (2..width+1): it with bit k-2 flipped (set if clear, cleared if set), bit 0 first.
// A location is an access's space, BAR, offset and width; a read made right after a write to
// another offset of the same space and BAR (an index register: `out 0x3C4, 7; in 0x3C5`, ATI's
// MM_INDEX/MM_DATA) is also told apart by that write's offset and value, so each indexed
// register is a location of its own (a candidate learned for one is not given to another).
// Bytes of the read that a write of the cycle covers (an index register read back with its
// data port) keep the inner value; candidates change only the other bytes (and the bit
// flips go over those bits only).
// Guided candidates come before the next of these: between a target's read and the next
// access, the CPU reports the operands of every CMP it executes (compare_hint). When one
// operand equals a field of the value the read returned (the value shifted right by s,
// within the compare's width; byte-aligned fields first, a zero operand only at byte
// boundaries), the value with that field set to the other operand is queued for that
// target, at most kMaxGuided per target and round. This is how a loop that waits for a
// field to reach a particular value ends (ATOM's `COMPARE reg[31:24], 0x30; JUMP_NE`,
// run by the ROM's bytecode interpreter: no flipped bit gives 0x30).
// After width + 2 candidates the next read of the cycle becomes the target. The first
// access that breaks the cycle (a different write, a read elsewhere) confirms the last candidate: the policy remembers
// it for that location (learning: the next spin answered first at that location starts with
// it). After every read of the cycle was a target the policy gives up on that round and counts again,
// so a wait routine called in a loop gets a fresh round every `threshold` reads.
//
// A location where a candidate ended a spin is volatile from then on: outside a spin, its
// reads alternate between the inner value and that candidate (the second read gets it), so a
// loop that waits for two reads to differ (a counter) or for a second status condition
// right after the first ends without a new spin.
// Every candidate answer sets the loop-exit flag (take_loop_exit()), so the trace marks it
// `loop_exit: true`. When the first candidate works (the common case) one event carries the
// flag; otherwise the last flagged read before the loop was left is the one that ended it.
// The inner model sees every read and write (its read side effects happen as usual).
// Deterministic: the answers depend only on the access stream.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "gpuinit/devices/device_model.hpp"

namespace gpuinit {

// Consecutive identical reads that make a spin: above the burst reads real init code does
// on purpose (FIFO drains, 16 reads of a DAC), far below any real wait.
inline constexpr std::uint32_t kDefaultSpinThreshold = 64;
// Locations whose successful candidate is remembered (then new ones start at candidate 0).
inline constexpr std::size_t kMaxSpinLearned = 4096;
// Longest cycle of reads recognised as one spin (status loops read at most a few registers).
// (with the index writes of indexed registers and a delay between: up to 16 accesses).
inline constexpr unsigned kMaxSpinPeriod = 16;
// Guided candidates (from compare hints) queued per target and round.
inline constexpr std::size_t kMaxGuided = 16;

struct SpinOptions {
  std::uint32_t threshold = kDefaultSpinThreshold;  // at least 2
};

struct SpinStats {
  std::uint64_t spins = 0;       // spins detected
  std::uint64_t ended = 0;       // spins a candidate ended (confirmed by another access)
  std::uint64_t candidates = 0;  // candidate answers given
  std::uint64_t given_up = 0;    // spins no candidate ended
  std::uint64_t guided = 0;      // guided candidates queued from compare hints
};

class SpinBreaker final : public DeviceModel {
 public:
  explicit SpinBreaker(std::unique_ptr<DeviceModel> inner, SpinOptions opt = {});

  [[nodiscard]] std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  [[nodiscard]] std::string name() const override { return inner_->name() + "+spin"; }
  [[nodiscard]] bool take_loop_exit() override;
  [[nodiscard]] bool wants_compare_hints() const override { return hints_open_; }
  void compare_hint(std::uint64_t a, std::uint64_t b, unsigned bytes) override;

  [[nodiscard]] DeviceModel& inner() noexcept { return *inner_; }
  [[nodiscard]] const SpinStats& stats() const noexcept { return stats_; }

 private:
  // space, name, bar, offset, width, and for a read its index context: 1 + the offset of a
  // write to another offset of the same space and BAR made just before it (0: none), and
  // that write's value.
  using Key = std::tuple<std::uint8_t, std::string, std::uint8_t, std::uint64_t, std::uint8_t, std::uint64_t,
                         std::uint64_t>;
  enum class Phase : std::uint8_t { watching, breaking };
  struct Seen {
    Key key;
    bool write = false;
    std::uint64_t value = 0;
  };
  [[nodiscard]] Key key_of(const Access& a, bool read) const;
  static std::uint64_t candidate(std::uint64_t seen, std::uint64_t free, std::uint32_t k) noexcept;
  void loop_left();
  [[nodiscard]] const Seen& back(unsigned p) const noexcept { return ring_[(head_ + kMaxSpinPeriod - p) % kMaxSpinPeriod]; }
  void observe(const Key& k, bool write, std::uint64_t v);
  [[nodiscard]] std::uint64_t answer_mask(const Key& k) const noexcept;
  std::uint64_t give_candidate(const Key& k, std::uint64_t v);
  void start_target(unsigned width);
  void next_target(unsigned width);
  void guide(std::uint64_t field, std::uint64_t want, unsigned bytes);
  void push(Key k, bool write, std::uint64_t v);

  std::unique_ptr<DeviceModel> inner_;
  SpinOptions opt_;
  SpinStats stats_;
  Seen ring_[kMaxSpinPeriod];  // the last accesses, oldest first from head_
  unsigned head_ = 0, count_ = 0;
  Phase phase_ = Phase::watching;
  unsigned period_ = 0;      // period of the current streak (0: none)
  std::uint32_t streak_ = 0; // accesses that repeated the access period_ before them
  std::uint32_t run_ = 0;    // reads folded into the last ring entry (capped at threshold)
  std::uint32_t cand_ = 0;   // current candidate index
  std::uint32_t tries_ = 0;  // candidates given to the current target in this round
  std::vector<Key> targets_;  // the reads of the cycle, in the order they are tried
  std::size_t target_ = 0;   // the read being answered
  bool answered_ = false;    // the current target got a candidate
  Key last_cand_key_;
  bool loop_exit_ = false;
  // Guided candidates for the current target: values to answer, in order; guided_next_
  // is the next to give; last_guided_ says the last answer was one (last_value_).
  std::vector<std::uint64_t> guided_;
  std::size_t guided_next_ = 0;
  bool last_guided_ = false;
  std::uint64_t last_value_ = 0;
  // The compare-hint window: open from a target's read to the next access.
  bool hints_open_ = false;
  std::uint64_t hint_seen_ = 0;  // the value that read returned
  std::uint64_t hint_free_ = 0;  // the bits a candidate may change (answer_mask)
  struct Learned {
    std::uint32_t cand = 0;  // the candidate that ended the last spin here
    bool odd = false;        // the next read outside a spin gets that candidate
    bool guided = false;     // it was a guided value: `value`, not candidate `cand`
    std::uint64_t value = 0;
  };
  std::map<Key, Learned> learned_;
};

}  // namespace gpuinit

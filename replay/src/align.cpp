// Myers' O((N+M)D) difference algorithm in its linear-space form: search forward from the
// start and backward from the end at once until the paths overlap, split there, repeat on
// both halves. Ranges are kept on an explicit stack (no recursion depth to exhaust) and
// every range first loses its common prefix and suffix, which makes near-identical inputs
// cost O(N). The work counter bounds time on hostile or very different inputs.
#include <algorithm>
#include <optional>
#include <utility>

#include "gpuinit/replay/diff.hpp"

namespace gpuinit::replay {

namespace {

class Aligner {
 public:
  Aligner(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b, std::uint64_t max_work)
      : a_(a), b_(b), max_work_(max_work) {}

  std::vector<AlignPair> run(bool& exact) {
    out_.reserve(std::max(a_.size(), b_.size()) + 16);
    struct Task {
      bool matches;  // emit a run of matches instead of aligning
      std::size_t a0, a1, b0, b1;
    };
    std::vector<Task> stack{{false, 0, a_.size(), 0, b_.size()}};
    while (!stack.empty()) {
      Task t = stack.back();
      stack.pop_back();
      if (t.matches) {
        for (std::size_t i = 0; i < t.a1 - t.a0; ++i) emit(t.a0 + i, t.b0 + i);
        continue;
      }
      // Common prefix and suffix.
      while (t.a0 < t.a1 && t.b0 < t.b1 && a_[t.a0] == b_[t.b0]) emit(t.a0++, t.b0++);
      std::size_t s = 0;
      while (t.a1 - s > t.a0 && t.b1 - s > t.b0 && a_[t.a1 - s - 1] == b_[t.b1 - s - 1]) ++s;
      if (s) stack.push_back({true, t.a1 - s, t.a1, t.b1 - s, t.b1});
      t.a1 -= s;
      t.b1 -= s;
      if (t.a0 == t.a1) {
        for (std::size_t j = t.b0; j < t.b1; ++j) out_.push_back({-1, std::int64_t(j)});
        continue;
      }
      if (t.b0 == t.b1) {
        for (std::size_t i = t.a0; i < t.a1; ++i) out_.push_back({std::int64_t(i), -1});
        continue;
      }
      std::optional<std::pair<std::size_t, std::size_t>> split;
      if (work_ <= max_work_) split = bisect(t.a0, t.a1, t.b0, t.b1);
      if (!split || (split->first == t.a0 && split->second == t.b0) || (split->first == t.a1 && split->second == t.b1)) {
        exact = false;
        positional(t.a0, t.a1, t.b0, t.b1);
        continue;
      }
      stack.push_back({false, split->first, t.a1, split->second, t.b1});
      stack.push_back({false, t.a0, split->first, t.b0, split->second});
    }
    return std::move(out_);
  }

 private:
  void emit(std::size_t i, std::size_t j) { out_.push_back({std::int64_t(i), std::int64_t(j)}); }

  // Over budget: pair items by position; equal keys match, others are a deletion plus an
  // insertion. Linear and never wrong, only not minimal.
  void positional(std::size_t a0, std::size_t a1, std::size_t b0, std::size_t b1) {
    const std::size_t n = std::min(a1 - a0, b1 - b0);
    for (std::size_t i = 0; i < n; ++i) {
      if (a_[a0 + i] == b_[b0 + i]) {
        emit(a0 + i, b0 + i);
      } else {
        out_.push_back({std::int64_t(a0 + i), -1});
        out_.push_back({-1, std::int64_t(b0 + i)});
      }
    }
    for (std::size_t i = a0 + n; i < a1; ++i) out_.push_back({std::int64_t(i), -1});
    for (std::size_t j = b0 + n; j < b1; ++j) out_.push_back({-1, std::int64_t(j)});
  }

  // Finds a point on an optimal path through a[a0,a1) x b[b0,b1), both non-empty and with
  // distinct first and last items. nullopt when the work budget runs out.
  std::optional<std::pair<std::size_t, std::size_t>> bisect(std::size_t a0, std::size_t a1, std::size_t b0,
                                                            std::size_t b1) {
    using I = std::ptrdiff_t;
    const std::uint64_t* a = a_.data() + a0;
    const std::uint64_t* b = b_.data() + b0;
    const I n = I(a1 - a0), m = I(b1 - b0);
    const I max_d = (n + m + 1) / 2;
    const I off = max_d + 1;
    const std::size_t len = std::size_t(2 * max_d + 3);
    if (v1_.size() < len) {
      v1_.resize(len);
      v2_.resize(len);
    }
    work_ += len;  // clearing the arrays is work too
    std::fill_n(v1_.begin(), len, I(-1));
    std::fill_n(v2_.begin(), len, I(-1));
    v1_[std::size_t(off + 1)] = 0;
    v2_[std::size_t(off + 1)] = 0;
    const I delta = n - m;
    const bool front = (delta & 1) != 0;  // odd: the forward pass detects the overlap
    I k1lo = 0, k1hi = 0, k2lo = 0, k2hi = 0;  // diagonals trimmed off the edges
    for (I d = 0; d <= max_d; ++d) {
      work_ += std::uint64_t(2 * d + 2);
      if (work_ > max_work_) return std::nullopt;
      for (I k1 = -d + k1lo; k1 <= d - k1hi; k1 += 2) {
        const std::size_t ix = std::size_t(off + k1);
        I x1 = (k1 == -d || (k1 != d && v1_[ix - 1] < v1_[ix + 1])) ? v1_[ix + 1] : v1_[ix - 1] + 1;
        I y1 = x1 - k1;
        const I x_start = x1;
        while (x1 < n && y1 < m && a[x1] == b[y1]) ++x1, ++y1;
        work_ += std::uint64_t(x1 - x_start);
        v1_[ix] = x1;
        if (x1 > n) {
          k1hi += 2;  // ran off the right edge
        } else if (y1 > m) {
          k1lo += 2;  // ran off the bottom edge
        } else if (front) {
          const I k2 = delta - k1;
          const I ix2 = off + k2;
          if (ix2 >= 0 && std::size_t(ix2) < len && v2_[std::size_t(ix2)] != -1) {
            const I x2 = n - v2_[std::size_t(ix2)];
            if (x1 >= x2) return std::pair{a0 + std::size_t(x1), b0 + std::size_t(y1)};
          }
        }
      }
      for (I k2 = -d + k2lo; k2 <= d - k2hi; k2 += 2) {
        const std::size_t ix = std::size_t(off + k2);
        I x2 = (k2 == -d || (k2 != d && v2_[ix - 1] < v2_[ix + 1])) ? v2_[ix + 1] : v2_[ix - 1] + 1;
        I y2 = x2 - k2;
        const I x_start = x2;
        while (x2 < n && y2 < m && a[n - x2 - 1] == b[m - y2 - 1]) ++x2, ++y2;
        work_ += std::uint64_t(x2 - x_start);
        v2_[ix] = x2;
        if (x2 > n) {
          k2hi += 2;
        } else if (y2 > m) {
          k2lo += 2;
        } else if (!front) {
          const I k1 = delta - k2;
          const I ix1 = off + k1;
          if (ix1 >= 0 && std::size_t(ix1) < len && v1_[std::size_t(ix1)] != -1) {
            const I x1 = v1_[std::size_t(ix1)];
            const I y1 = x1 - k1;
            if (x1 >= n - x2) return std::pair{a0 + std::size_t(x1), b0 + std::size_t(y1)};
          }
        }
      }
    }
    return std::nullopt;
  }

  const std::vector<std::uint64_t>& a_;
  const std::vector<std::uint64_t>& b_;
  std::uint64_t max_work_;
  std::uint64_t work_ = 0;
  std::vector<std::ptrdiff_t> v1_, v2_;
  std::vector<AlignPair> out_;
};

}  // namespace

std::vector<AlignPair> align(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b,
                             std::uint64_t max_work, bool* exact) {
  bool ex = true;
  Aligner al(a, b, max_work);
  auto out = al.run(ex);
  if (exact) *exact = ex;
  return out;
}

}  // namespace gpuinit::replay

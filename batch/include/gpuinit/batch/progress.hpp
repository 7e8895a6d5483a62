// Progress display for long batches: renders text, never prints (the caller writes it).
// On a terminal: one line redrawn in place ("\r[#####.....] 120/237  14.2/s  ETA 0:08");
// otherwise one plain line per finished item ("[120/237] path: completed").
#pragma once
#include <cstddef>
#include <string>

namespace gpuinit::batch {

class ProgressBar {
 public:
  explicit ProgressBar(bool terminal, unsigned width = 30) : terminal_(terminal), width_(width) {}

  // The text to write after item `done` of `total` finished at `elapsed_s`; `label` names it.
  [[nodiscard]] std::string update(std::size_t done, std::size_t total, double elapsed_s, const std::string& label);
  // The text that ends the display (a newline on a terminal once something was drawn).
  [[nodiscard]] std::string finish() const;

  // "0:08", "1:02:03"; "--:--" for an unknown (negative or non-finite) time.
  [[nodiscard]] static std::string format_eta(double seconds);

 private:
  bool terminal_;
  unsigned width_;
  bool drawn_ = false;
};

}  // namespace gpuinit::batch

// A progress display on stderr: a redrawn bar with count, rate and ETA on a terminal,
// occasional plain lines otherwise (logs, CI).
#pragma once
#include <chrono>
#include <string>

namespace gpuinit::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool quiet = false);
  ~ProgressBar();
  void update(unsigned done, unsigned total, const std::string& item = {});
  void finish();

 private:
  std::string label_;
  bool quiet_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  unsigned last_plain_decile_ = 0;
};

}  // namespace gpuinit::cli

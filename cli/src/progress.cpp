#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace gpuinit::cli {

ProgressBar::ProgressBar(std::string label, bool quiet)
    : label_(std::move(label)), quiet_(quiet), tty_(::isatty(2) == 1), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(unsigned done, unsigned total, const std::string& item) {
  if (quiet_ || finished_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? done / secs : 0.0;
  const double eta = rate > 0 ? (total - done) / rate : 0.0;
  if (tty_) {
    if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 28;
    const int filled = int(double(done) / total * kWidth);
    std::string bar(std::size_t(filled), '#');
    bar.resize(kWidth, '.');
    std::string shown = item.size() > 30 ? item.substr(0, 27) + "..." : item;
    std::fprintf(stderr, "\r%s [%s] %u/%u %.1f/s ETA %.0fs %-30s", label_.c_str(), bar.c_str(), done, total, rate,
                 eta, shown.c_str());
    std::fflush(stderr);
  } else {
    const unsigned decile = total ? done * 10 / total : 10;
    if (decile > last_plain_decile_ || done == total) {
      last_plain_decile_ = decile;
      std::fprintf(stderr, "%s: %u/%u (%.1f/s)\n", label_.c_str(), done, total, rate);
    }
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_ && !quiet_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace gpuinit::cli

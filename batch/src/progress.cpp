#include "gpuinit/batch/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gpuinit::batch {

std::string ProgressBar::format_eta(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const auto t = static_cast<unsigned long long>(s + 0.5);
  char b[48];
  if (t >= 3600) std::snprintf(b, sizeof b, "%llu:%02llu:%02llu", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(b, sizeof b, "%llu:%02llu", t / 60, t % 60);
  return b;
}

std::string ProgressBar::update(std::size_t done, std::size_t total, double elapsed_s, const std::string& label) {
  const double rate = elapsed_s > 0 ? double(done) / elapsed_s : 0;
  const double eta = rate > 0 && total >= done ? double(total - done) / rate : -1;
  char nums[96];
  std::snprintf(nums, sizeof nums, "%zu/%zu", done, total);
  if (!terminal_) return "[" + std::string(nums) + "] " + label + "\n";
  const unsigned fill = total ? unsigned(double(width_) * double(std::min(done, total)) / double(total)) : width_;
  std::string bar = "\r[" + std::string(fill, '#') + std::string(width_ - fill, '.') + "] " + nums;
  char tail[96];
  std::snprintf(tail, sizeof tail, "  %.1f/s  ETA %s  ", rate, format_eta(eta).c_str());
  bar += tail;
  // The label fills what is left of an 80-column line (79 visible characters after the
  // carriage return), cut from the left.
  const std::size_t room = bar.size() < 80 ? 80 - bar.size() : 0;
  std::string l = label.size() > room ? label.substr(label.size() - room) : label;
  bar += l + std::string(room - l.size(), ' ');
  drawn_ = true;
  return bar;
}

std::string ProgressBar::finish() const { return terminal_ && drawn_ ? "\n" : ""; }

}  // namespace gpuinit::batch

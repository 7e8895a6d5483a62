// sim-fast: the Verilated block driven directly from C++, one clock edge per bus cycle.
#include <stdexcept>

#include "sim_target.hpp"

namespace gpuinit::sim {
namespace detail {

replay::Capabilities SimTargetBase::capabilities() const {
  replay::Capabilities c;
  c.spaces = {Space::mmio, Space::io, Space::config, Space::vga_io, Space::vga_mem, Space::port};
  if (decoder_.map().vga) {
    for (Space s : {Space::vga_seq, Space::vga_crtc, Space::vga_gfx, Space::vga_attr, Space::vga_dac})
      c.spaces.push_back(s);
  }
  if (!decoder_.map().indexed_spaces.empty()) c.spaces.push_back(Space::named);
  for (const auto& is : decoder_.map().indexed_spaces) c.named_spaces.push_back(is.name);
  c.widths = 8 | 16 | 32 | 64;
  c.virtual_time = true;
  c.writable = true;
  return c;
}

namespace {

constexpr std::uint64_t kMaxPs = ~std::uint64_t{0} / 2;  // far beyond any sequence's time budget

class DirectTarget final : public SimTargetBase {
 public:
  DirectTarget(const BlockInfo& b, const SimOptions& opt) : SimTargetBase(b, opt), period_ps_(block_->period_ps()) {}

  [[nodiscard]] std::uint64_t read(const Access& a) override { return access(a, false, 0); }
  void write(const Access& a, std::uint64_t value) override { (void)access(a, true, value); }
  [[nodiscard]] std::uint64_t now_ns() const override { return now_ps_ / 1000; }
  void advance(std::uint64_t ns) override {
    const std::uint64_t before = now_ps_;
    now_ps_ = ns > (kMaxPs - now_ps_) / 1000 ? kMaxPs : now_ps_ + ns * 1000;
    // due_ = floor(now_ps_ / period), rem_ = the rest: kept up to date without a
    // division for the usual step of at most one period.
    rem_ += now_ps_ - before;
    if (rem_ >= period_ps_) {
      if (rem_ < 2 * period_ps_) {
        ++due_;
        rem_ -= period_ps_;
      } else {
        due_ = now_ps_ / period_ps_;
        rem_ = now_ps_ % period_ps_;
      }
    }
  }
  [[nodiscard]] std::string name() const override { return "sim-fast:" + std::string(info_.map_name); }

 private:
  std::uint64_t access(const Access& a, bool write, std::uint64_t value) {
    ++stats_.accesses;
    return decoder_.execute(a, write, value, [this](const BusStep& s) { return run(s); });
  }

  // Deliver the clock periods elapsed up to now, then one bus cycle (one call into the
  // block). Accesses annotate no time (see docs/sim.md): the target's clock is the replay's.
  std::uint64_t run(const BusStep& s) {
    if (s.seq) [[unlikely]] {  // the second cycle of an access split at a bus word
      if (due_ > block_->ticks()) block_->idle(due_ - block_->ticks());
      ++stats_.bus_cycles;
      return block_->cycle_seq(s.word, s.wdata, s.be, s.wr, s.rd);
    }
    ++stats_.bus_cycles;
    return block_->step(due_, s.word, s.wdata, s.be, s.wr, s.rd);
  }

  std::uint64_t period_ps_;
  std::uint64_t now_ps_ = 0;
  std::uint64_t due_ = 0;  // clock periods elapsed at now_ps_
  std::uint64_t rem_ = 0;  // now_ps_ - due_ * period_ps_
};

}  // namespace

std::unique_ptr<replay::Target> make_direct(const BlockInfo& b, const SimOptions& opt) {
  return std::make_unique<DirectTarget>(b, opt);
}

}  // namespace detail
}  // namespace gpuinit::sim

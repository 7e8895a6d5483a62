// Shared part of both simulation targets: decoding, time keeping, capabilities.
#pragma once
#include <memory>

#include "gpuinit/sim/decoder.hpp"
#include "gpuinit/sim/sim.hpp"

namespace gpuinit::sim::detail {

class SimTargetBase : public replay::Target {
 public:
  SimTargetBase(const BlockInfo& b, const SimOptions& opt)
      : info_(b), decoder_(block_map(b)), block_(b.make(opt.wave, opt.waveform_path)) {}
  [[nodiscard]] replay::Capabilities capabilities() const override;
  [[nodiscard]] SimStats sim_stats() const noexcept {
    SimStats s = stats_;
    s.ticks = block_->ticks();
    return s;
  }

 protected:
  const BlockInfo& info_;
  Decoder decoder_;
  std::unique_ptr<Block> block_;
  SimStats stats_;  // ticks: read from the block when asked
};

}  // namespace gpuinit::sim::detail

namespace gpuinit::sim::detail {
[[nodiscard]] std::unique_ptr<replay::Target> make_direct(const BlockInfo& b, const SimOptions& opt);
[[nodiscard]] std::unique_ptr<replay::Target> make_tlm(const BlockInfo& b, const SimOptions& opt);
[[nodiscard]] bool tlm_available() noexcept;
}  // namespace gpuinit::sim::detail

// Shared part of both simulation targets: decoding, time keeping, capabilities.
#pragma once
#include <memory>

#include "gpuinit/sim/decoder.hpp"
#include "gpuinit/sim/sim.hpp"

namespace gpuinit::sim::detail {

class SimTargetBase : public replay::Target {
 public:
  explicit SimTargetBase(const BlockInfo& b) : info_(b), decoder_(block_map(b)) {}
  [[nodiscard]] replay::Capabilities capabilities() const override;
  [[nodiscard]] const SimStats& sim_stats() const noexcept { return stats_; }

 protected:
  const BlockInfo& info_;
  Decoder decoder_;
  SimStats stats_;
};

}  // namespace gpuinit::sim::detail

namespace gpuinit::sim::detail {
[[nodiscard]] std::unique_ptr<replay::Target> make_direct(const BlockInfo& b, const SimOptions& opt);
[[nodiscard]] std::unique_ptr<replay::Target> make_tlm(const BlockInfo& b, const SimOptions& opt);
[[nodiscard]] bool tlm_available() noexcept;
}  // namespace gpuinit::sim::detail

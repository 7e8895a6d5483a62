#include <stdexcept>

#include "gpuinit/format/json_io.hpp"
#include "sim_target.hpp"

namespace gpuinit::sim {

RegisterMap block_map(const BlockInfo& b) {
  auto loaded = load_regmap(b.map_json);
  if (!loaded.ok())
    throw std::runtime_error("embedded register map '" + std::string(b.map_name) + "' does not load: " +
                             (loaded.problems.empty() ? std::string("?") : loaded.problems.front().str()));
  return std::move(*loaded.value);
}

const BlockInfo* find_block_for_device(std::uint16_t vendor, std::uint16_t device) {
  for (const auto& b : blocks()) {
    if (b.fixture) continue;
    auto loaded = load_regmap(b.map_json);
    if (loaded.ok() && loaded.value->device.vendor == vendor && loaded.value->device.device == device) return &b;
  }
  return nullptr;
}

std::unique_ptr<replay::Target> make_target(const BlockInfo& b, const SimOptions& opt) {
  return opt.systemc ? detail::make_tlm(b, opt) : detail::make_direct(b, opt);
}

bool systemc_available() noexcept { return detail::tlm_available(); }

SimStats stats(const replay::Target& t) noexcept {
  if (const auto* s = dynamic_cast<const detail::SimTargetBase*>(&t)) return s->sim_stats();
  return {};
}

}  // namespace gpuinit::sim

#include "gpuinit/sim/register.hpp"

#include <stdexcept>

namespace gpuinit::sim {

const BlockInfo& block_for(const replay::TargetOptions& opt) {
  std::string name;
  if (opt.map) {
    name = opt.map->name;
  } else if (!opt.map_path.empty()) {
    name = replay::load_regmap_file(opt.map_path).name;
  } else if (opt.device) {
    if (const auto* b = find_block_for_device(opt.device->vendor, opt.device->device)) return *b;
    char buf[96];
    std::snprintf(buf, sizeof buf, "no register block for device %04x:%04x (give --map)", unsigned(opt.device->vendor),
                  unsigned(opt.device->device));
    throw std::runtime_error(buf);
  } else {
    throw std::runtime_error("the sim target needs a register map (--map) or a sequence with a device");
  }
  if (const auto* b = find_block(name)) return *b;
  std::string known;
  for (const auto& b : blocks())
    if (!b.fixture) known += (known.empty() ? "" : ", ") + std::string(b.map_name);
  throw std::runtime_error("no register block generated for map '" + name + "' (maps with RTL: " + known + ")");
}

namespace {
SimOptions options_from(const replay::TargetOptions& opt, bool systemc) {
  SimOptions o;
  o.systemc = systemc;
  if (auto it = opt.settings.find("vcd"); it != opt.settings.end()) {
    o.wave = Waveform::vcd;
    o.waveform_path = it->second;
  }
  if (auto it = opt.settings.find("fst"); it != opt.settings.end()) {
    if (o.wave != Waveform::none) throw std::runtime_error("give --vcd or --fst, not both");
    o.wave = Waveform::fst;
    o.waveform_path = it->second;
  }
  return o;
}
}  // namespace

void register_sim_targets(replay::TargetRegistry& r) {
  r.add("sim", "generated RTL register block, Verilated, behind a SystemC TLM-2.0 socket",
        [](const replay::TargetOptions& opt) { return make_target(block_for(opt), options_from(opt, true)); });
  r.add("sim-fast", "generated RTL register block, Verilated, driven directly from C++",
        [](const replay::TargetOptions& opt) { return make_target(block_for(opt), options_from(opt, false)); });
}

replay::RunReport replay_in_sim(const InitSequence& seq, const BlockInfo& block, const SimOptions& opt, Trace* trace) {
  auto t = make_target(block, opt);
  replay::ReplayOptions ro;
  ro.keep_going = true;  // validation reports every poll and expectation
  return replay::run_sequence(seq, *t, ro, trace);
}

}  // namespace gpuinit::sim

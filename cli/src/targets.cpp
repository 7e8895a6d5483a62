#include "targets.hpp"

#ifdef GPUINIT_HAVE_SIM
#include "gpuinit/sim/register.hpp"
#endif

namespace gpuinit::cli {

void add_target_options(CLI::App* app, TargetChoice& c) {
  app->add_option("--map", c.map, "Register map: the model's device, the sim block, register names in reports");
  auto* simg = app->add_option_group("sim", "Simulation (--target sim or sim-fast)");
  simg->add_option("--vcd", c.vcd, "Write a VCD waveform of the simulated block");
  simg->add_option("--fst", c.fst, "Write an FST waveform of the simulated block");
  auto* hwg = app->add_option_group("hw", "Real hardware (--target hw); a dry run unless --commit");
  hwg->add_option("-s,--slot", c.hw.slot, "The card: [[DOMAIN:]BUS:]DEV.FN, as lspci -s");
  hwg->add_option("-d,--device-id", c.hw.id, "The card: VENDOR:DEVICE in hex, as lspci -d");
  hwg->add_flag("--commit", c.hw.commit, "Really write to the card (default: print what would be done)");
  hwg->add_option("--sysfs-root", c.hw.sysfs_root, "Root of the sysfs tree (tests use a fake one)")
      ->capture_default_str();
  hwg->add_flag("--force-id", c.hw.force_id, "Run even though the card's ids differ from the sequence's");
  hwg->add_flag("--enable-decode", c.hw.enable_decode, "Set memory/I/O decode in the command register first");
  hwg->add_flag("--allow-ports", c.hw.allow_ports, "Permit absolute I/O ports outside the VGA window");
}

replay::TargetRegistry make_registry(const InitSequence& seq, const TargetChoice& c) {
  replay::TargetRegistry r = replay::builtin_targets();
#ifdef GPUINIT_HAVE_SIM
  sim::register_sim_targets(r);
#endif
  hw::register_hw_target(r, seq, c.hw);
  return r;
}

replay::TargetOptions target_options(const TargetChoice& c, const InitSequence& seq, const RegisterMap* map) {
  replay::TargetOptions t;
  t.name = c.name;
  t.map_path = c.map;
  t.map = map;
  t.device = seq.device;
  if (!c.vcd.empty()) t.settings["vcd"] = c.vcd;
  if (!c.fst.empty()) t.settings["fst"] = c.fst;
  return t;
}

std::string target_names() {
#ifdef GPUINIT_HAVE_SIM
  return "schema (checks only), model (C++ device model), sim (Verilated RTL through SystemC TLM), "
         "sim-fast (Verilated RTL, direct) or hw (a real PCI card)";
#else
  return "schema (checks only), model (C++ device model) or hw (a real PCI card); sim is not built in";
#endif
}

}  // namespace gpuinit::cli

// gpu-init replay SEQ --target schema|model [--map MAP] [--trace out.jsonl] [--keep-going] [--json]
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/replay/engine.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::cli {

namespace {

struct ReplayConfig {
  std::string sequence;
  std::string target = "model";
  std::string map;
  std::string trace;
  bool keep_going = false;
  bool json = false;
};

int run_replay(const ReplayConfig& c) {
  std::string text;
  try {
    text = read_file_text(c.sequence);
  } catch (const std::exception& e) {
    std::cerr << "gpu-init replay: " << e.what() << "\n";
    return kError;
  }
  auto loaded = load_sequence(text);
  for (const auto& w : loaded.warnings) std::cerr << c.sequence << ": warning: " << w << "\n";
  if (!loaded.ok()) {
    std::cerr << "gpu-init replay: " << c.sequence << ": not a valid init sequence\n";
    for (const auto& p : loaded.problems) std::cerr << "  " << c.sequence << ": " << p.str() << "\n";
    return kError;
  }
  const InitSequence& seq = *loaded.value;

  std::optional<RegisterMap> map;
  if (!c.map.empty()) {
    try {
      map = replay::load_regmap_file(c.map);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init replay: " << e.what() << "\n";
      return kError;
    }
  }
  if (map && (map->device.vendor != seq.device.vendor || map->device.device != seq.device.device)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "map is for %04x:%04x, the sequence for %04x:%04x", unsigned(map->device.vendor),
                  unsigned(map->device.device), unsigned(seq.device.vendor), unsigned(seq.device.device));
    std::cerr << c.map << ": warning: " << buf << "\n";
  }
  const replay::TargetRegistry registry = replay::builtin_targets();
  replay::TargetOptions topt;
  topt.name = c.target;
  topt.map_path = c.map;
  topt.map = map ? &*map : nullptr;
  topt.device = seq.device;
  std::unique_ptr<replay::Target> target;
  try {
    target = replay::make_target(topt, registry);
  } catch (const std::exception& e) {
    std::cerr << "gpu-init replay: " << e.what() << "\n";
    return kError;
  }

  std::optional<replay::RegisterNamer> namer;
  if (map) namer.emplace(*map);
  replay::ReplayOptions ropt;
  ropt.keep_going = c.keep_going;
  ropt.namer = namer ? &*namer : nullptr;
  Trace trace;
  const replay::RunReport rep = replay::run_sequence(seq, *target, ropt, c.trace.empty() ? nullptr : &trace);
  if (!c.trace.empty() && !rep.refused) write_file_atomic(c.trace, write_trace(trace));

  std::cout << (c.json ? replay::report_json(rep) : replay::report_text(rep));
  if (rep.refused) {
    std::cerr << "replay: refused: " << c.sequence << " needs what target '" << rep.target << "' lacks ("
              << rep.problems.size() << " problems, first: " << rep.problems.front().str() << ")\n";
    return kFindings;
  }
  if (!rep.ok()) {
    std::cerr << "replay: FAILED on " << rep.target << ": " << rep.failures.front().message;
    if (rep.failures.size() > 1) std::cerr << " (and " << rep.failures.size() - 1 << " more)";
    std::cerr << "\n";
    return kFindings;
  }
  std::cerr << "replay: ok: " << rep.ops_executed << " ops, " << rep.accesses << " accesses on " << rep.target;
  if (!c.trace.empty()) std::cerr << ", trace " << c.trace;
  std::cerr << "\n";
  return kOk;
}

}  // namespace

Subcommand add_replay(CLI::App& root) {
  auto cfg = std::make_shared<ReplayConfig>();
  auto* app = root.add_subcommand("replay", "Replay an init sequence on a target and record its trace");
  app->add_option("sequence", cfg->sequence, "Init sequence (JSON)")->required();
  app->add_option("--target,-t", cfg->target, "Target: schema (checks only) or model (C++ device model)")
      ->capture_default_str();
  app->add_option("--map", cfg->map, "Register map: the model target's device and register names in the report");
  app->add_option("--trace", cfg->trace, "Write the trace of every access made (JSON Lines, trace v1)");
  app->add_flag("--keep-going", cfg->keep_going, "Continue after a failed POLL or READ expectation");
  app->add_flag("--json", cfg->json, "Report as JSON on stdout");
  return {app, [cfg] { return run_replay(*cfg); }};
}

}  // namespace gpuinit::cli

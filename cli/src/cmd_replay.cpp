// gpu-init replay SEQ --target schema|model|hw [--map MAP] [--trace out.jsonl] [--keep-going] [--json]
//   hw: -s SLOT / -d ID [--commit] [--sysfs-root DIR] [--force-id] [--enable-decode] [--allow-ports]
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/hw/hw_target.hpp"
#include "gpuinit/version.hpp"
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
  hw::HwOptions hw;
};

// The hw target's trace is written as it happens, one flushed line per access, so a crash
// or a hung card loses nothing already done (not atomically: that is the point).
struct StreamingTrace {
  std::FILE* f = nullptr;
  explicit StreamingTrace(const std::string& path, const TraceHeader& h) {
    if (path.empty()) return;
    f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error(path + ": cannot create the trace file");
    const std::string line = write_trace_header(h);
    std::fputs(line.c_str(), f);
    std::fflush(f);
  }
  ~StreamingTrace() {
    if (f) std::fclose(f);
  }
  void add(const TraceEvent& e) {
    if (!f) return;
    const std::string line = write_trace_event(e);
    std::fputs(line.c_str(), f);
    std::fflush(f);
  }
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
  replay::TargetRegistry registry = replay::builtin_targets();
  const bool on_hw = c.target == "hw";
  if (on_hw) {
    hw::HwOptions h = c.hw;
    hw::register_hw_target(registry, seq, h);
  }
  replay::TargetOptions topt;
  topt.name = c.target;
  topt.map_path = c.map;
  topt.map = map ? &*map : nullptr;
  topt.device = seq.device;
  std::unique_ptr<replay::Target> target;
  try {
    target = replay::make_target(topt, registry);
  } catch (const hw::HwRefusal& e) {
    std::cerr << "gpu-init replay: " << e.what() << "\n";
    for (const auto& p : e.problems) std::cerr << "  " << c.sequence << ": " << p.str() << "\n";
    return kFindings;
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
  replay::RunReport rep;
  if (on_hw) {
    // Stream the trace; print each access of a dry run; stop between ops on Ctrl-C.
    TraceHeader header;
    header.source = "replay:" + target->name();
    header.device = seq.device;
    header.tool_version = kToolVersion;
    StreamingTrace stream(c.trace, header);
    const bool dry = !target->capabilities().writable;
    ropt.on_event = [&](const TraceEvent& e) {
      stream.add(e);
      if (dry) {
        Access a;
        a.space = e.space;
        a.space_name = e.space_name;
        a.bar = e.bar;
        a.offset = e.offset;
        std::string reg = namer ? namer->name(a) : std::string();
        std::cout << "would " << (e.dir == Dir::write ? "write " : "read  ")
                  << replay::describe_location(e.space, e.space_name, e.bar, e.offset)
                  << (reg.empty() || reg == RegisterNamer::neutral(e.space, e.space_name, e.bar, e.offset)
                          ? std::string()
                          : " (" + reg + ")")
                  << " [" << unsigned(e.width) << "]";
        if (e.dir == Dir::write) {
          char buf[32];
          std::snprintf(buf, sizeof buf, " <- 0x%llx", static_cast<unsigned long long>(e.value));
          std::cout << buf;
        }
        std::cout << "\n";
      }
    };
    hw::install_interrupt_handler();
    ropt.stop_requested = hw::interrupt_flag();
    rep = replay::run_sequence(seq, *target, ropt, nullptr);
    if (dry) std::cerr << "replay: dry run: nothing was written (add --commit to write to the card)\n";
  } else {
    rep = replay::run_sequence(seq, *target, ropt, c.trace.empty() ? nullptr : &trace);
    if (!c.trace.empty() && !rep.refused) write_file_atomic(c.trace, write_trace(trace));
  }

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
  app->add_option("--target,-t", cfg->target,
                  "Target: schema (checks only), model (C++ device model) or hw (a real PCI card)")
      ->capture_default_str();
  auto* hwg = app->add_option_group("hw", "Real hardware (--target hw); a dry run unless --commit");
  hwg->add_option("-s,--slot", cfg->hw.slot, "The card: [[DOMAIN:]BUS:]DEV.FN, as lspci -s");
  hwg->add_option("-d,--device-id", cfg->hw.id, "The card: VENDOR:DEVICE in hex, as lspci -d");
  hwg->add_flag("--commit", cfg->hw.commit, "Really write to the card (default: print what would be done)");
  hwg->add_option("--sysfs-root", cfg->hw.sysfs_root, "Root of the sysfs tree (tests use a fake one)")
      ->capture_default_str();
  hwg->add_flag("--force-id", cfg->hw.force_id, "Run even though the card's ids differ from the sequence's");
  hwg->add_flag("--enable-decode", cfg->hw.enable_decode, "Set memory/I/O decode in the command register first");
  hwg->add_flag("--allow-ports", cfg->hw.allow_ports, "Permit absolute I/O ports outside the VGA window");
  app->add_option("--map", cfg->map, "Register map: the model target's device and register names in the report");
  app->add_option("--trace", cfg->trace, "Write the trace of every access made (JSON Lines, trace v1)");
  app->add_flag("--keep-going", cfg->keep_going, "Continue after a failed POLL or READ expectation");
  app->add_flag("--json", cfg->json, "Report as JSON on stdout");
  return {app, [cfg] { return run_replay(*cfg); }};
}

}  // namespace gpuinit::cli

// gpu-init pipeline [ROM] [--map MAP] [--target model|sim] [-o DIR] [--setup FILE]
//                   [--replay-map MAP] [--reproducible] [--json] [-q]
// extract -> reduce -> validate -> replay -> diff; the stages live in gpuinit_pipeline.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>

#ifdef GPUINIT_HAVE_SIM
#include "gpuinit/sim/register.hpp"
#endif
#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/harvest/rom_check.hpp"
#include "gpuinit/harvest/sources.hpp"
#include "gpuinit/pipeline/pipeline.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::cli {

namespace {

namespace fs = std::filesystem;
namespace pl = gpuinit::pipeline;

struct PipelineConfig {
  std::string rom;
  std::string map;
  std::string replay_map;
  std::string setup;
  std::string target = "model";
  std::string out_dir;
  int image = -1;
  std::uint64_t max_instructions = x86::kDefaultMaxInstructions;
  double timeout_s = x86::kDefaultTimeoutS;
  bool keep_going = false;
  bool reproducible = false;
  bool json = false;
  bool quiet = false;
  // Harvest first (--source): the ROMs found are then run one by one.
  std::string source;
  std::string gpu, vendor;
  std::string base_url = "https://www.techpowerup.com";
  std::string roms_dir = "roms";
  unsigned limit = 1;
  unsigned delay_ms = 1000;
};

// The replay targets this program has. A target library adds itself here with one line,
// e.g. `sim::register_sim_targets(r);` once the sim library is linked into gpu-init.
replay::TargetRegistry compose_targets() {
  replay::TargetRegistry r = replay::builtin_targets();
#ifdef GPUINIT_HAVE_SIM
  sim::register_sim_targets(r);
#endif
  return r;
}

std::optional<RegisterMap> load_map(const std::string& path, const char* what) {
  try {
    return replay::load_regmap_file(path);
  } catch (const std::exception& e) {
    std::cerr << "gpu-init pipeline: " << what << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

int run_pipeline_cmd(const PipelineConfig& c) {
  const replay::TargetRegistry targets = compose_targets();
  if (!targets.has(c.target)) {
    std::string known;
    for (const auto& n : targets.names()) known += (known.empty() ? "" : ", ") + n;
    std::cerr << "gpu-init pipeline: --target " << c.target << ": "
              << (c.target == "sim" ? "the simulation target is not built into this gpu-init"
                                    : "no such target")
              << " (available: " << known << ")\n";
    return kError;
  }

  // The ROM and map: given, or the built-in reference card.
  fs::path rom = c.rom;
  std::string map_path = c.map;
  if (rom.empty()) {
    pl::DataSearch where;
    if (const char* env = std::getenv(pl::kDataDirEnv)) where.env_data_dir = env;
    std::error_code ec;
    where.exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<std::string> looked;
    const auto found = pl::find_default_inputs(where, looked);
    if (!found) {
      std::cerr << "gpu-init pipeline: no ROM given and the built-in reference card was not found; looked in:\n";
      for (const auto& l : looked) std::cerr << "  " << l << "\n";
      std::cerr << "  (set " << pl::kDataDirEnv << " to a folder holding " << pl::kDefaultRomName << " and maps/"
                << pl::kDefaultMapName << ", or pass a ROM)\n";
      return kError;
    }
    rom = found->rom;
    if (map_path.empty()) map_path = found->map.string();
    if (!c.quiet) std::cerr << "gpu-init pipeline: built-in reference card (" << found->origin << "): " << rom.string() << "\n";
  }

  std::optional<RegisterMap> map, replay_map;
  if (!map_path.empty() && !(map = load_map(map_path, "--map"))) return kError;
  if (!c.replay_map.empty() && !(replay_map = load_map(c.replay_map, "--replay-map"))) return kError;
  std::optional<pl::MachineSetup> setup;
  if (!c.setup.empty()) {
    std::string text;
    try {
      text = read_file_text(c.setup);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init pipeline: --setup: " << e.what() << "\n";
      return kError;
    }
    auto s = pl::load_setup(text);
    if (!s.ok()) {
      for (const auto& p : s.problems) std::cerr << "gpu-init pipeline: " << c.setup << ": " << p.str() << "\n";
      return kError;
    }
    setup = std::move(s.value);
  }

  pl::PipelineInput in;
  in.extract.rom = rom;
  in.extract.image = c.image;
  in.extract.setup = setup ? &*setup : nullptr;
  in.extract.max_instructions = c.max_instructions;
  in.extract.timeout_s = c.timeout_s;
  in.map = map ? &*map : nullptr;
  in.replay_map = replay_map ? &*replay_map : nullptr;
  in.target = c.target;
  in.registry = &targets;
  in.keep_going = c.keep_going;
  try {
    const char* sde = std::getenv("SOURCE_DATE_EPOCH");
    in.stamp = c.reproducible ? pl::reproducible_stamp(sde ? sde : "") : pl::now_stamp();
  } catch (const std::exception& e) {
    std::cerr << "gpu-init pipeline: " << e.what() << "\n";
    return kError;
  }
  in.out_dir = c.out_dir.empty() ? pl::default_out_dir(rom) : fs::path(c.out_dir);

  // Progress: one line per stage on stderr, finished when the stage is.
  pl::StageObserver obs;
  if (!c.quiet) {
    obs.started = [](pl::Stage s) {
      std::cerr << "[" << (static_cast<int>(s) + 1) << "/" << pl::kStageCount << "] " << std::left << std::setw(9)
                << pl::stage_name(s) << std::flush;
    };
    obs.finished = [](const pl::StageReport& r) {
      const char* mark = r.status == pl::Status::ok ? "ok  " : (r.status == pl::Status::findings ? "FAIL" : "ERR ");
      std::cerr << mark << " " << std::fixed << std::setprecision(3) << r.wall_s << " s  " << r.summary << "\n";
      constexpr std::size_t kShown = 8;  // the report holds them all
      for (std::size_t i = 0; i < r.details.size() && i < kShown; ++i)
        std::cerr << "      " << (r.status == pl::Status::ok ? "warning: " : "") << r.details[i] << "\n";
      if (r.details.size() > kShown) std::cerr << "      ... " << r.details.size() - kShown << " more in report.json\n";
    };
  }
  const pl::PipelineResult res = pl::run_pipeline(in, obs);

  if (c.json) std::cout << pl::report_json(res, in);
  else std::cout << pl::summary_lines(res);
  if (!res.write_error.empty()) std::cerr << "gpu-init pipeline: " << res.write_error << "\n";
  if (!c.quiet && !res.written.empty()) {
    std::cerr << "gpu-init pipeline: wrote";
    for (const auto& p : res.written) std::cerr << " " << p.string();
    std::cerr << "\n";
  }
  if (const auto f = res.first_failure())
    std::cerr << "gpu-init pipeline: stage " << pl::stage_name(*f) << " "
              << (res.stage(*f).status == pl::Status::error ? "could not run" : "failed") << ": "
              << res.stage(*f).summary << "\n";
  return res.exit_code();
}

// --source: harvest into the ROM store, then the pipeline on each ROM this harvest added.
int harvest_then_pipeline(const PipelineConfig& c) {
  namespace hv = gpuinit::harvest;
  hv::RomStore store(c.roms_dir, hv::check_rom);
  hv::HarvestReport rep;
  if (c.source == "techpowerup") {
    if (c.delay_ms < 1000 && c.base_url.find("techpowerup.com") != std::string::npos) {
      std::cerr << "gpu-init pipeline: --delay-ms below 1000 is only for other servers than the public site\n";
      return kError;
    }
    hv::HttpOptions o;
    o.delay = std::chrono::milliseconds(c.delay_ms);
    hv::HttpClient http(o);
    hv::TpuQuery q;
    q.base_url = c.base_url;
    q.gpu = c.gpu;
    q.vendor = c.vendor;
    q.limit = c.limit;
    rep = hv::harvest_techpowerup(http, store, q);
  } else {
    std::cerr << "gpu-init pipeline: --source " << c.source << ": only techpowerup is harvested here "
              << "(use gpu-init harvest for folders and sysfs, then run the pipeline on a file)\n";
    return kError;
  }
  for (const auto& f : rep.failures) std::cerr << "  " << f << "\n";
  std::cerr << "🔍 Harvested " << rep.added << " new ROM(s) into " << c.roms_dir << " (" << rep.skipped
            << " already harvested, " << rep.rejected << " rejected, " << rep.failed << " failed)\n";
  if (rep.added_files.empty()) {
    std::cerr << "❌ No new ROM to run the pipeline on\n";
    return kFindings;
  }
  int worst = kOk;
  for (const auto& file : rep.added_files) {
    PipelineConfig one = c;
    one.source.clear();
    one.rom = (fs::path(c.roms_dir) / file).string();
    if (!c.out_dir.empty() && rep.added_files.size() > 1) one.out_dir = (fs::path(c.out_dir) / file.substr(0, 16)).string();
    worst = std::max(worst, run_pipeline_cmd(one));
  }
  return worst;
}

}  // namespace

Subcommand add_pipeline(CLI::App& root) {
  auto cfg = std::make_shared<PipelineConfig>();
  auto* app = root.add_subcommand(
      "pipeline", "Extract, reduce, validate, replay and diff in one go (no ROM: the built-in reference card)");
  app->add_option("rom", cfg->rom, "Option ROM file (default: the reference card's ROM and map)");
  app->add_option("--map", cfg->map, "Register map of the card: answers reads, names registers, guides reduction");
  app->add_option("--target,-t", cfg->target, "Replay target: model, or sim when built in")->capture_default_str();
  app->add_option("-o,--output-dir", cfg->out_dir, "Folder for the outputs (default: out/<rom stem>)");
  app->add_option("--setup", cfg->setup,
                  "Machine set-up facts (JSON, as scripts/qemu-oracle writes <card>.rom.json): ROM patches, "
                  "devfn, BAR addresses, entry registers");
  app->add_option("--replay-map", cfg->replay_map, "Replay on the model of another map (default: --map)");
  app->add_option("--image", cfg->image, "Index of the image in the ROM's chain (default: the first x86 image)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--max-instructions", cfg->max_instructions, "Instruction budget of the extraction")
      ->capture_default_str();
  app->add_option("--timeout", cfg->timeout_s, "Wall-clock limit of the extraction in seconds (0: none)")
      ->capture_default_str();
  app->add_flag("--keep-going", cfg->keep_going, "Replay on after a failed POLL or READ expectation");
  app->add_flag("--reproducible", cfg->reproducible,
                "Fixed time stamp (SOURCE_DATE_EPOCH, else 1970) and no tool version in the outputs");
  app->add_flag("--json", cfg->json, "Print the report (as report.json) on stdout instead of the summary");
  app->add_flag("-q,--quiet", cfg->quiet, "No progress lines on stderr");
  auto* hg = app->add_option_group("harvest", "Harvest first, then run the pipeline on each ROM found");
  hg->add_option("--source", cfg->source, "techpowerup: the public VGA BIOS collection");
  hg->add_option("--gpu", cfg->gpu, "Model filter, e.g. \"Radeon 9200\"");
  hg->add_option("--vendor", cfg->vendor, "Manufacturer filter, e.g. AMD");
  hg->add_option("--base-url", cfg->base_url, "Site root (a mirror or a test server)")->capture_default_str();
  hg->add_option("--limit", cfg->limit, "ROMs to harvest")->capture_default_str();
  hg->add_option("--delay-ms", cfg->delay_ms, "Milliseconds between requests")->capture_default_str();
  hg->add_option("--roms-dir", cfg->roms_dir, "The ROM store")->capture_default_str();
  app->footer("Outputs: raw.trace.jsonl, sequence.json, replay.trace.jsonl, report.json.\n"
              "Exit codes: 0 every stage passed, 1 a stage found a problem, 2 usage or internal error.");
  return {app, [cfg] { return cfg->source.empty() ? run_pipeline_cmd(*cfg) : harvest_then_pipeline(*cfg); }};
}

}  // namespace gpuinit::cli

// gpu-init extract: run a ROM's x86 init in the virtual PC and write the trace (or, with
// --format reduced, the init sequence reduced from it). The work is gpuinit_pipeline's.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/pipeline/pipeline.hpp"
#include "gpuinit/x86/pc.hpp"

namespace gpuinit::cli {
namespace {

struct ExtractOptions {
  std::string rom;
  std::string output;
  int image = -1;  // -1: the first x86 image
  std::string model = "generic";
  std::uint64_t max_instructions = x86::kDefaultMaxInstructions;
  double timeout_s = x86::kDefaultTimeoutS;
  bool quiet = false;
  std::string format = "raw";
  std::string setup;
  bool reproducible = false;
};

int run_extract(const ExtractOptions& o) {
  const char* me = "gpu-init extract: ";
  std::optional<pipeline::MachineSetup> setup;
  if (!o.setup.empty()) {
    std::string text;
    try {
      text = read_file_text(o.setup);
    } catch (const std::exception& e) {
      std::cerr << me << e.what() << "\n";
      return kError;
    }
    auto s = pipeline::load_setup(text);
    if (!s.ok()) {
      for (const auto& p : s.problems) std::cerr << me << o.setup << ": " << p.str() << "\n";
      return kError;
    }
    setup = std::move(s.value);
  }
  pipeline::Stamp stamp;
  try {
    const char* sde = std::getenv("SOURCE_DATE_EPOCH");
    stamp = o.reproducible ? pipeline::reproducible_stamp(sde ? sde : "") : pipeline::now_stamp();
  } catch (const std::exception& e) {
    std::cerr << me << e.what() << "\n";
    return kError;
  }

  pipeline::ExtractInput in;
  in.rom = o.rom;
  in.image = o.image;
  in.model = o.model;
  in.setup = setup ? &*setup : nullptr;
  in.max_instructions = o.max_instructions;
  in.timeout_s = o.timeout_s;
  in.tool_version = stamp.tool_version;
  auto res = pipeline::extract(in);
  for (const auto& w : res.warnings)
    if (w.rfind("image ", 0) == 0) std::cerr << me << "warning: " << w << "\n";
  if (res.report.status == pipeline::Status::error) {
    std::cerr << me << res.report.summary << "\n";
    return kError;
  }
  if (res.model_name.empty()) {  // nothing ran: no image to run
    std::cerr << me << res.report.summary << "\n";
    return kFindings;
  }

  std::string text;
  std::optional<pipeline::ReduceResult> reduced;
  if (o.format == "reduced") {
    if (res.report.status != pipeline::Status::ok) {
      std::cerr << me << res.report.summary << "\n" << me << "not reducing the trace of an init that did not return\n";
      return kFindings;
    }
    reduced = pipeline::reduce_raw(res.trace, res.map ? &*res.map : nullptr, stamp, res.rom_sha1);
    if (reduced->report.status != pipeline::Status::ok) {
      std::cerr << me << reduced->report.summary << "\n";
      return kError;
    }
    const auto check = pipeline::validate_sequence(reduced->text);
    if (check.report.status != pipeline::Status::ok) {
      std::cerr << me << "internal error: the reduced sequence does not validate: " << check.report.summary << "\n";
      return kError;
    }
    text = reduced->text;
  } else {
    text = write_trace(res.trace);
  }
  try {
    if (o.output.empty() || o.output == "-") std::cout << text;
    else write_file_atomic(o.output, text);
  } catch (const std::exception& e) {
    std::cerr << me << e.what() << "\n";
    return kError;
  }
  if (!o.quiet) {
    std::cerr << me << o.rom << " image " << res.image << ": " << x86::pc_stop_name(res.stop) << ": "
              << res.stop_message << "; " << res.trace.events.size() << " events, " << res.t_ns << " ns virtual, model "
              << res.model_name << "\n";
    for (const auto& w : res.warnings)
      if (w.rfind("image ", 0) != 0) std::cerr << me << w << "\n";
    if (reduced) std::cerr << reduce::format_stats(reduced->stats);
  }
  return res.report.status == pipeline::Status::ok ? kOk : kFindings;
}

}  // namespace

Subcommand add_extract(CLI::App& root) {
  auto opt = std::make_shared<ExtractOptions>();
  auto* app = root.add_subcommand("extract", "Run a ROM's init in the x86 emulator and record every access");
  app->add_option("rom", opt->rom, "Option ROM file")->required();
  app->add_option("-o,--output", opt->output, "File to write: the trace (JSON Lines), or the sequence with --format reduced (default stdout)");
  app->add_option("--image", opt->image, "Index of the image in the ROM's chain (default: the first x86 image)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--model", opt->model, "What answers reads: generic (answers what was written), generic+spin (that, with VRAM behind the BARs and spin loops ended as batch does), capture:FILE or map:FILE")
      ->capture_default_str();
  app->add_option("--max-instructions", opt->max_instructions, "Instruction budget")->capture_default_str();
  app->add_option("--timeout", opt->timeout_s, "Wall-clock limit in seconds (0: none)")->capture_default_str();
  app->add_option("--format", opt->format,
                  "raw: the trace; reduced: reduce it too and write the init sequence (with map:FILE, "
                  "the map guides the reduction)")
      ->check(CLI::IsMember({"raw", "reduced"}))
      ->capture_default_str();
  app->add_option("--setup", opt->setup,
                  "Machine set-up facts (JSON, as scripts/qemu-oracle writes <card>.rom.json): ROM patches, "
                  "devfn, BAR addresses, entry registers");
  app->add_flag("--reproducible", opt->reproducible,
                "Fixed time stamp (SOURCE_DATE_EPOCH, else 1970) and no tool version in the output");
  app->add_flag("-q,--quiet", opt->quiet, "No summary on stderr");
  return {app, [opt] { return run_extract(*opt); }};
}

}  // namespace gpuinit::cli

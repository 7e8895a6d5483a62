// gpu-init extract: run a ROM's x86 init in the virtual PC and write the trace.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "gpuinit/devices/capture_model.hpp"
#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
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
};

int run_extract(const ExtractOptions& o) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file_bytes(o.rom);
  } catch (const std::exception& e) {
    std::cerr << "gpu-init extract: " << e.what() << "\n";
    return kError;
  }
  const auto images = x86::walk_images(bytes);
  if (images.empty()) {
    std::cerr << "gpu-init extract: " << o.rom << ": offset 0x0: no 0x55AA option ROM image\n";
    return kFindings;
  }
  std::size_t pick = images.size();
  if (o.image >= 0) {
    if (std::size_t(o.image) >= images.size()) {
      std::cerr << "gpu-init extract: " << o.rom << ": --image " << o.image << " but the chain has "
                << images.size() << " image(s)\n";
      return kError;
    }
    pick = std::size_t(o.image);
  } else {
    for (std::size_t i = 0; i < images.size() && pick == images.size(); ++i)
      if (!images[i].code_type || *images[i].code_type == 0) pick = i;
    if (pick == images.size()) {
      std::cerr << "gpu-init extract: " << o.rom << ": no x86 image in the chain\n";
      return kFindings;
    }
  }
  const auto& img = images[pick];
  if (img.code_type && *img.code_type != 0)
    std::cerr << "gpu-init extract: warning: image " << pick << " has code type " << unsigned(*img.code_type)
              << ", not x86; running it anyway\n";
  const std::span<const std::uint8_t> code(bytes.data() + img.offset, img.length);

  x86::PcConfig cfg;
  cfg.max_instructions = o.max_instructions;
  cfg.timeout_s = o.timeout_s;
  std::unique_ptr<DeviceModel> model;
  CaptureModel* capture = nullptr;
  try {
    if (o.model == "generic") {
      model = std::make_unique<GenericModel>();
    } else if (o.model.rfind("capture:", 0) == 0) {
      const std::string file = o.model.substr(8);
      auto t = load_trace(read_file_text(file));
      if (!t.ok()) {
        std::cerr << "gpu-init extract: " << file << ": " << (t.problems.empty() ? "invalid" : t.problems[0].str()) << "\n";
        return kError;
      }
      if (t.value->header.device) cfg.device = *t.value->header.device;
      auto c = std::make_unique<CaptureModel>(*t.value, file);
      capture = c.get();
      model = std::move(c);
    } else if (o.model.rfind("map:", 0) == 0) {
      const std::string file = o.model.substr(4);
      auto m = load_regmap(read_file_text(file));
      if (!m.ok()) {
        std::cerr << "gpu-init extract: " << file << ": " << (m.problems.empty() ? "invalid" : m.problems[0].str()) << "\n";
        return kError;
      }
      cfg.device = m.value->device;
      std::vector<Problem> problems;
      model = MapModel::create(*m.value, MapModelOptions{}, problems);
      if (!model) {
        std::cerr << "gpu-init extract: " << file << ": " << (problems.empty() ? "unusable map" : problems[0].str()) << "\n";
        return kError;
      }
    } else {
      std::cerr << "gpu-init extract: --model must be generic, capture:FILE or map:FILE\n";
      return kError;
    }
  } catch (const std::exception& e) {
    std::cerr << "gpu-init extract: " << e.what() << "\n";
    return kError;
  }

  auto res = x86::run_option_rom(code, cfg, *model);
  res.trace.header.source = "extract:" + std::filesystem::path(o.rom).filename().string();
  const std::string text = write_trace(res.trace);
  try {
    if (o.output.empty() || o.output == "-") std::cout << text;
    else write_file_atomic(o.output, text);
  } catch (const std::exception& e) {
    std::cerr << "gpu-init extract: " << e.what() << "\n";
    return kError;
  }
  if (!o.quiet) {
    std::cerr << "gpu-init extract: " << o.rom << " image " << pick << ": " << x86::pc_stop_name(res.stop) << ": "
              << res.message << "; " << res.trace.events.size() << " events, " << res.t_ns << " ns virtual, model "
              << model->name() << "\n";
    if (res.truncated) std::cerr << "gpu-init extract: trace truncated at " << x86::kMaxTraceEvents << " events\n";
    if (capture) {
      const auto s = capture->stats();
      if (s.past_end || s.unknown)
        std::cerr << "gpu-init extract: capture: " << s.past_end << " reads past the capture, " << s.unknown
                  << " reads of locations it never read\n";
    }
  }
  return res.ok() ? kOk : kFindings;
}

}  // namespace

Subcommand add_extract(CLI::App& root) {
  auto opt = std::make_shared<ExtractOptions>();
  auto* app = root.add_subcommand("extract", "Run a ROM's init in the x86 emulator and record every access");
  app->add_option("rom", opt->rom, "Option ROM file")->required();
  app->add_option("-o,--output", opt->output, "Trace file to write (JSON Lines; default stdout)");
  app->add_option("--image", opt->image, "Index of the image in the ROM's chain (default: the first x86 image)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--model", opt->model, "What answers reads: generic, capture:FILE or map:FILE")
      ->capture_default_str();
  app->add_option("--max-instructions", opt->max_instructions, "Instruction budget")->capture_default_str();
  app->add_option("--timeout", opt->timeout_s, "Wall-clock limit in seconds (0: none)")->capture_default_str();
  app->add_flag("-q,--quiet", opt->quiet, "No summary on stderr");
  return {app, [opt] { return run_extract(*opt); }};
}

}  // namespace gpuinit::cli

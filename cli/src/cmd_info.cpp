// gpu-init info ROM... [--json]: describe option ROM files. Exit 1 when a file cannot be read
// or holds no ROM image at all.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/rom/rom.hpp"
#include "gpuinit/rom/rom_json.hpp"

namespace gpuinit::cli {
namespace {

struct InfoConfig {
  std::vector<std::string> files;
  bool json = false;
};

int run_info(const InfoConfig& cfg) {
  int rc = kOk;
  for (const auto& file : cfg.files) {
    std::vector<std::uint8_t> bytes;
    try {
      bytes = read_file_bytes(file);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init info: " << e.what() << "\n";
      rc = kFindings;
      continue;
    }
    const auto info = rom::parse_rom(bytes);
    if (cfg.json)
      std::cout << rom::to_json(info, file).dump() << "\n";
    else
      std::cout << rom::to_text(info, file) << (cfg.files.size() > 1 ? "\n" : "");
    if (!rom::is_rom(info)) {
      std::cerr << "gpu-init info: " << file << ": not an option ROM"
                << (info.diagnostics.empty() ? "" : " (" + info.diagnostics.front().message + ")") << "\n";
      rc = kFindings;
    }
  }
  return rc;
}

}  // namespace

Subcommand add_info(CLI::App& root) {
  auto cfg = std::make_shared<InfoConfig>();
  auto* app = root.add_subcommand("info", "Describe option ROM files: image chain, vendor tables, diagnoses");
  app->add_option("ROM", cfg->files, "option ROM files")->required();
  app->add_flag("--json", cfg->json, "one JSON object per file (JSON Lines for several files)");
  app->footer("Exit codes: 0 ok, 1 a file cannot be read or is not an option ROM, 2 usage.");
  return {app, [cfg] { return run_info(*cfg); }};
}

}  // namespace gpuinit::cli

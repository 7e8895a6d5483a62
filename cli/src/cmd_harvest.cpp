// gpu-init harvest: collect ROMs into a content-addressed store.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gpuinit/harvest/rom_check.hpp"
#include "gpuinit/harvest/sources.hpp"
#include "progress.hpp"

namespace gpuinit::cli {

namespace {
struct HarvestConfig {
  std::string source = "techpowerup";
  std::string output_dir = "roms";
  unsigned limit = 0;
  std::string gpu, vendor;
  std::string base_url = "https://www.techpowerup.com";
  unsigned delay_ms = 1000;
  unsigned retries = 3;
  std::string path;
  bool unzip = false;
  std::string sysfs_root = "/sys";
  bool json = false, quiet = false;
};

int run_harvest(const HarvestConfig& c) {
  using namespace gpuinit::harvest;
  RomStore store(c.output_dir, check_rom);
  ProgressBar bar("harvest " + c.source, c.quiet);
  auto progress = [&](unsigned done, unsigned total, const std::string& item) { bar.update(done, total, item); };
  HarvestReport rep;
  if (c.source == "techpowerup") {
    if (c.delay_ms < 1000 && c.base_url.find("techpowerup.com") != std::string::npos)
      throw std::runtime_error("--delay-ms below 1000 is only for other servers than the public site");
    HttpOptions o;
    o.delay = std::chrono::milliseconds(c.delay_ms);
    o.max_retries = c.retries;
    o.log = [&](const std::string& l) {
      if (!c.quiet) std::cerr << "\n" << l << "\n";
    };
    HttpClient http(o);
    TpuQuery q;
    q.base_url = c.base_url;
    q.gpu = c.gpu;
    q.vendor = c.vendor;
    q.limit = c.limit;
    rep = harvest_techpowerup(http, store, q, progress);
  } else if (c.source == "dir") {
    if (c.path.empty()) throw std::runtime_error("--source dir needs --path DIR");
    rep = harvest_dir(store, c.path, c.unzip, progress);
  } else {
    rep = harvest_sysfs(store, c.sysfs_root, progress);
  }
  bar.finish();

  if (c.json) {
    nlohmann::ordered_json j;
    j["source"] = c.source;
    j["store"] = c.output_dir;
    j["added"] = rep.added;
    j["duplicates"] = rep.duplicates;
    j["skipped"] = rep.skipped;
    j["rejected"] = rep.rejected;
    j["failed"] = rep.failed;
    j["reasons"] = rep.reasons;
    j["failures"] = rep.failures;
    j["added_files"] = rep.added_files;
    std::cout << j.dump() << "\n";
  }
  if (!c.quiet) {
    for (const auto& f : rep.failures) std::cerr << "  " << f << "\n";
    std::cerr << "Stored " << rep.added << " new ROM(s) in " << c.output_dir << " (" << rep.duplicates
              << " already present, " << rep.skipped << " skipped as already harvested), rejected " << rep.rejected
              << ", failed " << rep.failed;
    if (!rep.reasons.empty()) {
      std::cerr << ":";
      for (const auto& [why, n] : rep.reasons) std::cerr << " " << why << "=" << n;
    }
    std::cerr << "\n";
  }
  return rep.failed || rep.rejected ? kFindings : kOk;
}
}  // namespace

Subcommand add_harvest(CLI::App& root) {
  auto cfg = std::make_shared<HarvestConfig>();
  auto* app = root.add_subcommand("harvest",
                                  "Collect ROMs from the TechPowerUp VGA BIOS collection, a folder, or this host's "
                                  "cards into a content-addressed store (<sha256>.rom + manifest.json)");
  app->add_option("--source", cfg->source, "techpowerup, dir or sysfs")
      ->check(CLI::IsMember({"techpowerup", "dir", "sysfs"}))
      ->capture_default_str();
  app->add_option("--output-dir", cfg->output_dir, "The ROM store folder")->capture_default_str();
  app->add_option("--limit", cfg->limit, "Stop after N ROMs (0: no limit)");
  app->add_option("--gpu", cfg->gpu, "techpowerup: model filter, e.g. \"Radeon 9200\"");
  app->add_option("--vendor", cfg->vendor, "techpowerup: manufacturer filter, e.g. AMD");
  app->add_option("--base-url", cfg->base_url, "techpowerup: site root (point it at a mirror or test server)")
      ->capture_default_str();
  app->add_option("--delay-ms", cfg->delay_ms, "techpowerup: milliseconds between requests")->capture_default_str();
  app->add_option("--retries", cfg->retries, "techpowerup: retries of a transient failure")->capture_default_str();
  app->add_option("--path", cfg->path, "dir: the folder to scan (recursively)");
  app->add_flag("--unzip", cfg->unzip, "dir: also take ROMs from inside .zip archives");
  app->add_option("--sysfs-root", cfg->sysfs_root, "sysfs: root of the sysfs tree")->capture_default_str();
  app->add_flag("--json", cfg->json, "Print a JSON report on stdout");
  app->add_flag("-q,--quiet", cfg->quiet, "No progress or summary on stderr");
  return {app, [cfg] { return run_harvest(*cfg); }};
}

}  // namespace gpuinit::cli

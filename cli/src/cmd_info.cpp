// gpu-init info FILE... [--json] [--map MAP]: describe option ROM files, or print a trace
// (trace v1) one event per line with register names. Exit 1 when a file cannot be read,
// holds no ROM image at all, or is an invalid trace.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/replay/engine.hpp"
#include "gpuinit/replay/namer.hpp"
#include "gpuinit/replay/targets.hpp"
#include "gpuinit/rom/rom.hpp"
#include "gpuinit/rom/rom_json.hpp"

namespace gpuinit::cli {
namespace {

struct InfoConfig {
  std::vector<std::string> files;
  bool json = false;
  std::string map;
};

// A trace file starts with a JSON object line carrying "trace_version"; a ROM never does.
bool looks_like_trace(const std::vector<std::uint8_t>& bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) ++i;
  if (i >= bytes.size() || bytes[i] != '{') return false;
  constexpr std::size_t kHeaderScan = 4096;  // the header line is short; do not scan a whole file
  const std::string head(bytes.begin() + std::ptrdiff_t(i),
                         bytes.begin() + std::ptrdiff_t(std::min(bytes.size(), i + kHeaderScan)));
  const auto nl = head.find('\n');
  return head.substr(0, nl).find("\"trace_version\"") != std::string::npos;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// One line per event: seq, virtual time, direction, location, width, value, register name.
int print_trace(const std::string& file, const std::vector<std::uint8_t>& bytes, const RegisterNamer& namer,
                bool json) {
  auto t = load_trace(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  for (const auto& w : t.warnings) std::cerr << file << ": warning: " << w << "\n";
  if (!t.ok()) {
    std::cerr << "gpu-init info: " << file << ": not a valid trace\n";
    for (const auto& p : t.problems) std::cerr << "  " << file << ": " << p.str() << "\n";
    return kFindings;
  }
  const Trace& tr = *t.value;
  if (!json) {
    std::cout << "# " << file << ": trace v1, source " << (tr.header.source.empty() ? "-" : tr.header.source);
    if (tr.header.device) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%04x:%04x", unsigned(tr.header.device->vendor), unsigned(tr.header.device->device));
      std::cout << ", device " << buf;
    }
    std::cout << ", " << tr.events.size() << " events\n";
  }
  for (const auto& e : tr.events) {
    std::string name;
    if (e.kind == EventKind::access) {
      const auto bar = static_cast<std::uint8_t>(space_has_bar(e.space) ? e.bar : 0u);
      name = namer.name(e.space, e.space_name, bar, e.offset);
      if (name == RegisterNamer::neutral(e.space, e.space_name, bar, e.offset)) name.clear();
    }
    if (json) {
      nlohmann::json j;
      to_json(j, e);
      if (!name.empty()) j["register"] = name;
      std::cout << j.dump() << "\n";
      continue;
    }
    char lead[64];
    std::snprintf(lead, sizeof lead, "%8llu %12llu ns  ", static_cast<unsigned long long>(e.seq),
                  static_cast<unsigned long long>(e.t_ns));
    std::string line = lead;
    if (e.kind == EventKind::service) {
      line += "service " + e.service;
      if (e.wait_ns) line += " (waits " + std::to_string(e.wait_ns) + " ns)";
    } else {
      line += e.dir == Dir::write ? "W " : "R ";
      std::string loc = replay::describe_location(e.space, e.space_name, e.bar, e.offset);
      loc += " w" + std::to_string(e.width);
      if (loc.size() < 26) loc.resize(26, ' ');
      line += loc + (e.dir == Dir::write ? " <- " : " -> ");
      std::string val = hex(e.value);
      if (val.size() < 18) val.resize(18, ' ');
      line += val;
      if (!name.empty()) line += " " + name;
    }
    if (e.cs_ip) line += "  @" + format_cs_ip(*e.cs_ip);
    if (e.op) line += "  op " + std::to_string(*e.op);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  return kOk;
}

int run_info(const InfoConfig& cfg) {
  int rc = kOk;
  std::optional<RegisterMap> map;
  if (!cfg.map.empty()) {
    try {
      map = replay::load_regmap_file(cfg.map);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init info: --map: " << e.what() << "\n";
      return kError;
    }
  }
  const RegisterNamer namer = map ? RegisterNamer(*map) : RegisterNamer();
  for (const auto& file : cfg.files) {
    std::vector<std::uint8_t> bytes;
    try {
      bytes = read_file_bytes(file);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init info: " << e.what() << "\n";
      rc = kFindings;
      continue;
    }
    if (looks_like_trace(bytes)) {
      if (print_trace(file, bytes, namer, cfg.json) != kOk) rc = kFindings;
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
  auto* app = root.add_subcommand(
      "info", "Describe option ROM files (image chain, vendor tables, diagnoses) or print traces with register names");
  app->add_option("ROM", cfg->files, "option ROM files, or traces (JSON Lines, trace v1)")->required();
  app->add_flag("--json", cfg->json,
                "one JSON object per ROM (JSON Lines for several files); for a trace, one per event with "
                "\"register\" added");
  app->add_option("--map", cfg->map, "register map: names of the registers a trace touches");
  app->footer("Exit codes: 0 ok, 1 a file cannot be read, is not an option ROM or not a valid trace, 2 usage.");
  return {app, [cfg] { return run_info(*cfg); }};
}

}  // namespace gpuinit::cli

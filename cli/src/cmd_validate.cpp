// gpu-init validate FILE... [--mode schema] [--json]
// Each file is recognised by its content (init sequence, trace, register map), loaded with
// the format library's loader (schema, then semantic checks) and judged. Human verdicts go
// to stdout (valid) and stderr (problems, warnings); with --json the machine report is the
// only thing on stdout.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"

namespace gpuinit::cli {
namespace {

struct ValidateConfig {
  std::vector<std::string> files;
  std::string mode = "schema";
  bool json = false;
};

struct FileVerdict {
  std::string file;
  DocumentKind kind = DocumentKind::unknown;
  bool readable = true;
  std::vector<Problem> problems;
  std::vector<std::string> warnings;
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  [[nodiscard]] bool valid() const { return readable && problems.empty(); }
};

FileVerdict validate_file(const std::string& file) {
  FileVerdict v;
  v.file = file;
  std::string text;
  try {
    text = read_file_text(file);
  } catch (const std::exception& e) {
    v.readable = false;
    v.problems.push_back({"", e.what()});
    return v;
  }
  v.kind = detect_kind(text);
  auto take = [&](auto&& loaded) {
    v.problems = std::move(loaded.problems);
    v.warnings = std::move(loaded.warnings);
    return loaded.value;
  };
  switch (v.kind) {
    case DocumentKind::sequence:
      if (const auto s = take(load_sequence(text))) v.summary["ops"] = s->ops.size();
      break;
    case DocumentKind::trace:
      if (const auto t = take(load_trace(text))) v.summary["events"] = t->events.size();
      break;
    case DocumentKind::regmap:
      if (const auto m = take(load_regmap(text))) {
        v.summary["registers"] = m->registers.size();
        v.summary["behaviours"] = m->behaviours.size();
      }
      break;
    case DocumentKind::unknown:
      v.problems.push_back({"", "not an init sequence, trace or register map (no init_sequence, "
                                "trace_version or regmap_version found)"});
      break;
  }
  return v;
}

nlohmann::ordered_json report(const std::vector<FileVerdict>& verdicts, bool all_valid) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& v : verdicts) {
    nlohmann::ordered_json f;
    f["file"] = v.file;
    f["kind"] = document_kind_name(v.kind);
    f["valid"] = v.valid();
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const auto& p : v.problems) problems.push_back({{"where", p.where}, {"message", p.message}});
    f["problems"] = std::move(problems);
    f["warnings"] = v.warnings;
    f["summary"] = v.summary;
    files.push_back(std::move(f));
  }
  nlohmann::ordered_json r;
  r["mode"] = "schema";
  r["valid"] = all_valid;
  r["files"] = std::move(files);
  return r;
}

int run_validate(const ValidateConfig& cfg) {
  if (cfg.mode != "schema") {
    std::cerr << "gpu-init validate: --mode " << cfg.mode
              << " is not built yet in this version (only --mode schema is)\n";
    return kError;
  }
  std::vector<FileVerdict> verdicts;
  bool all_valid = true, unreadable = false;
  // With --json, stdout carries only the report; the human lines all go to stderr.
  std::ostream& ok_out = cfg.json ? std::cerr : std::cout;
  for (const auto& file : cfg.files) {
    FileVerdict v = validate_file(file);
    for (const auto& w : v.warnings) std::cerr << "⚠️ " << file << ": " << w << "\n";
    if (v.valid()) {
      ok_out << "✅ " << file << ": valid\n";
    } else {
      for (const auto& p : v.problems) std::cerr << "❌ " << file << ": " << p.str() << "\n";
    }
    all_valid = all_valid && v.valid();
    unreadable = unreadable || !v.readable;
    verdicts.push_back(std::move(v));
  }
  if (cfg.json) std::cout << report(verdicts, all_valid).dump(2) << "\n";
  std::cout.flush();
  if (unreadable) return kError;
  return all_valid ? kOk : kFindings;
}

}  // namespace

Subcommand add_validate(CLI::App& root) {
  auto cfg = std::make_shared<ValidateConfig>();
  auto* app = root.add_subcommand(
      "validate",
      "Validate init sequences, traces and register maps (each recognised by its content).\n"
      "Exit codes: 0 all valid, 1 a file is invalid, 2 usage error or unreadable file.");
  app->add_option("files", cfg->files, "Files to validate: init sequence (.json), trace (.jsonl), register map (.json)")
      ->required();
  app->add_option("--mode", cfg->mode, "What to validate against: schema (model, sim and hardware come later)")
      ->check(CLI::IsMember({"schema", "model", "sim", "hardware"}));
  app->add_flag("--json", cfg->json, "Print a machine-readable report on stdout");
  return {app, [cfg] { return run_validate(*cfg); }};
}

}  // namespace gpuinit::cli

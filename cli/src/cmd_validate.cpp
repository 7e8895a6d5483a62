// gpu-init validate FILE... [--mode schema|model|sim|hardware] [--map MAP] [--json]
// Beyond the schema, the other modes replay each init sequence on a target (model: the C++
// device model; sim: the Verilated RTL through SystemC; hardware: a real card, a dry run
// unless --commit) and judge its POLLs and READ expectations.
// Each file is recognised by its content (init sequence, trace, register map), loaded with
// the format library's loader (schema, then semantic checks) and judged. Human verdicts go
// to stdout (valid) and stderr (problems, warnings); with --json the machine report is the
// only thing on stdout.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/replay/engine.hpp"
#include "targets.hpp"

namespace gpuinit::cli {
namespace {

struct ValidateConfig {
  std::vector<std::string> files;
  std::string mode = "schema";
  bool json = false;
  TargetChoice target;
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

// Replays a valid sequence on the mode's target; problems are its failures.
void run_on_target(const ValidateConfig& cfg, const InitSequence& seq, FileVerdict& v);

FileVerdict validate_file(const std::string& file, const ValidateConfig& cfg) {
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
      if (const auto s = take(load_sequence(text))) {
        v.summary["ops"] = s->ops.size();
        if (cfg.mode != "schema") run_on_target(cfg, *s, v);
      }
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

void run_on_target(const ValidateConfig& cfg, const InitSequence& seq, FileVerdict& v) {
  TargetChoice choice = cfg.target;
  choice.name = cfg.mode == "model" ? "model" : cfg.mode == "sim" ? "sim" : "hw";
  std::optional<RegisterMap> map;
  if (!choice.map.empty()) map = replay::load_regmap_file(choice.map);  // throws naming the file
  const replay::TargetRegistry registry = make_registry(seq, choice);
  std::unique_ptr<replay::Target> target;
  try {
    target = registry.make(target_options(choice, seq, map ? &*map : nullptr));
  } catch (const hw::HwRefusal& e) {
    v.problems.push_back({"", e.what()});
    for (const auto& p : e.problems) v.problems.push_back(p);
    return;
  }
  std::optional<replay::RegisterNamer> namer;
  if (map) namer.emplace(*map);
  replay::ReplayOptions ropt;
  ropt.keep_going = true;  // report every failed poll and expectation, not just the first
  ropt.namer = namer ? &*namer : nullptr;
  const replay::RunReport rep = replay::run_sequence(seq, *target, ropt);
  for (const auto& p : rep.problems) v.problems.push_back(p);
  for (const auto& f : rep.failures) v.problems.push_back({"/init_sequence/" + std::to_string(f.op), f.message});
  nlohmann::ordered_json r;
  r["target"] = rep.target;
  r["ops_executed"] = rep.ops_executed;
  r["polls_satisfied"] = rep.polls_satisfied;
  r["polls_timed_out"] = rep.polls_timed_out;
  r["polls_unchecked"] = rep.polls_unchecked;
  r["expectations_met"] = rep.expectations_met;
  r["expectations_failed"] = rep.expectations_failed;
  r["expectations_unchecked"] = rep.expectations_unchecked;
  v.summary["replay"] = std::move(r);
}

nlohmann::ordered_json report(const std::vector<FileVerdict>& verdicts, bool all_valid, const std::string& mode) {
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
  r["mode"] = mode;
  r["valid"] = all_valid;
  r["files"] = std::move(files);
  return r;
}

int run_validate(const ValidateConfig& cfg) {
#ifndef GPUINIT_HAVE_SIM
  if (cfg.mode == "sim") {
    std::cerr << "gpu-init validate: --mode sim: this build has no simulation target (Verilator/SystemC missing)\n";
    return kError;
  }
#endif
  std::vector<FileVerdict> verdicts;
  bool all_valid = true, unreadable = false;
  // With --json, stdout carries only the report; the human lines all go to stderr.
  std::ostream& ok_out = cfg.json ? std::cerr : std::cout;
  for (const auto& file : cfg.files) {
    FileVerdict v;
    try {
      v = validate_file(file, cfg);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init validate: " << e.what() << "\n";
      return kError;
    }
    for (const auto& w : v.warnings) std::cerr << "⚠️ " << file << ": " << w << "\n";
    if (v.valid()) {
      ok_out << "✅ " << file << ": valid";
      if (v.summary.contains("replay")) {
        const auto& r = v.summary["replay"];
        ok_out << " on " << r["target"].get<std::string>() << " (" << r["polls_satisfied"] << " polls satisfied, "
               << r["expectations_met"] << " expectations met";
        if (r["polls_unchecked"].get<std::size_t>() || r["expectations_unchecked"].get<std::size_t>())
          ok_out << ", " << r["polls_unchecked"].get<std::size_t>() + r["expectations_unchecked"].get<std::size_t>()
                 << " unchecked";
        ok_out << ")";
      }
      ok_out << "\n";
    } else {
      for (const auto& p : v.problems) std::cerr << "❌ " << file << ": " << p.str() << "\n";
    }
    all_valid = all_valid && v.valid();
    unreadable = unreadable || !v.readable;
    verdicts.push_back(std::move(v));
  }
  if (cfg.json) std::cout << report(verdicts, all_valid, cfg.mode).dump(2) << "\n";
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
  app->add_option("--mode", cfg->mode,
                  "schema: the document alone; model, sim, hardware: also replay each init sequence there and "
                  "judge its POLLs and READ expectations")
      ->check(CLI::IsMember({"schema", "model", "sim", "hardware"}))
      ->capture_default_str();
  add_target_options(app, cfg->target);
  app->add_flag("--json", cfg->json, "Print a machine-readable report on stdout");
  return {app, [cfg] { return run_validate(*cfg); }};
}

}  // namespace gpuinit::cli

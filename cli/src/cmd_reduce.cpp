// gpu-init reduce RAW [-o SEQ] [--map MAP] [--stats] [--explain]
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/reduce/reduce.hpp"

namespace gpuinit::cli {
namespace {

struct ReduceConfig {
  std::string input;
  std::string output;
  std::string map;
  bool stats = false;
  bool explain = false;
};

std::string now_rfc3339() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_problems(const std::string& file, const std::vector<Problem>& problems) {
  for (const auto& p : problems) std::cerr << file << ": " << p.str() << "\n";
}

int run_reduce(const ReduceConfig& c) {
  std::optional<RegisterMap> map;
  if (!c.map.empty()) {
    auto m = load_regmap(read_file_text(c.map));
    if (!m.ok()) {
      print_problems(c.map, m.problems);
      return kFindings;
    }
    map = std::move(m.value);
  }
  reduce::Options opt;
  opt.map = map ? &*map : nullptr;
  opt.generated = now_rfc3339();

  const std::string text = read_file_text(c.input);
  reduce::Result result;
  std::optional<Trace> raw;
  auto t = load_trace(text);
  if (t.ok()) {
    raw = std::move(t.value);
    result = reduce::reduce_trace(*raw, opt);
  } else {
    // Not a trace: an init sequence is reduced again (its ops as a trace-like list).
    auto s = load_sequence(text);
    if (!s.ok()) {
      std::cerr << c.input << ": neither a trace nor an init sequence\n";
      print_problems(c.input + " (as a trace)", t.problems);
      print_problems(c.input + " (as a sequence)", s.problems);
      return kFindings;
    }
    result = reduce::reduce_sequence(*s.value, opt);
  }

  const std::string out = write_sequence(result.sequence);
  auto check = load_sequence(out);
  if (!check.ok()) {
    std::cerr << "gpu-init reduce: internal error: the reduced sequence does not validate\n";
    print_problems("(output)", check.problems);
    return kError;
  }
  // Human reports go to stdout when the sequence goes to a file, to stderr otherwise.
  std::ostream& human = c.output.empty() ? std::cerr : std::cout;
  if (c.output.empty()) std::cout << out;
  else write_file_atomic(c.output, out);
  if (c.explain) {
    if (raw) human << reduce::explain(result.sequence, *raw);
    else
      for (const auto& op : result.sequence.ops) human << reduce::describe_op(op) << "\n";
  }
  if (c.stats) human << reduce::format_stats(result.stats);
  return kOk;
}

}  // namespace

Subcommand add_reduce(CLI::App& root) {
  auto cfg = std::make_shared<ReduceConfig>();
  auto* app = root.add_subcommand("reduce", "Reduce a raw trace to a compact init sequence");
  app->add_option("RAW", cfg->input, "Raw trace (JSON Lines) or an init sequence to reduce again")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("-o,--output", cfg->output, "Write the sequence here (atomically) instead of stdout");
  app->add_option("--map", cfg->map, "Register map of the card (enables dead-write removal, card pairs)")
      ->check(CLI::ExistingFile);
  app->add_flag("--stats", cfg->stats, "Print what each pass did");
  app->add_flag("--explain", cfg->explain, "Print each op with the raw trace lines it came from");
  return {app, [cfg] { return run_reduce(*cfg); }};
}

}  // namespace gpuinit::cli

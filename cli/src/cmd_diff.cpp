// gpu-init diff A B [--map MAP] [--ignore-reads] [--ignore-timing] [--ignore-space S]... [--json]
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "gpuinit/replay/diff.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::cli {

namespace {

struct DiffConfig {
  std::string a, b;
  std::string map;
  bool ignore_reads = false;
  bool ignore_timing = false;
  bool writes_only = false;
  std::vector<std::string> ignore_spaces;
  std::vector<std::string> ignore_ports;
  std::size_t context = 3;
  bool json = false;
};

std::optional<replay::Document> load(const std::string& path) {
  auto d = replay::load_document(path);
  for (const auto& w : d.warnings) std::cerr << path << ": warning: " << w << "\n";
  if (d.ok()) return std::move(d.value);
  std::cerr << "gpu-init diff: " << path << ": not a valid trace or init sequence\n";
  for (const auto& p : d.problems) std::cerr << "  " << path << ": " << p.str() << "\n";
  return std::nullopt;
}

int run_diff(const DiffConfig& c) {
  replay::DiffOptions o;
  o.ignore_reads = c.ignore_reads;
  o.ignore_timing = c.ignore_timing;
  o.writes_only = c.writes_only;
  o.ignore_spaces = c.ignore_spaces;
  o.context = c.context;
  for (const auto& s : c.ignore_spaces)
    if (!parse_space(s)) {
      std::cerr << "gpu-init diff: --ignore-space: '" << s << "' is not a space name\n";
      return kError;
    }
  for (const auto& p : c.ignore_ports) {
    try {
      std::size_t used = 0;
      const auto v = std::stoull(p, &used, 0);
      if (used != p.size() || v > 0xFFFF) throw std::out_of_range(p);
      o.ignore_ports.push_back(v);
    } catch (const std::exception&) {
      std::cerr << "gpu-init diff: --ignore-port: '" << p << "' is not a port number (0..0xffff)\n";
      return kError;
    }
  }
  std::optional<RegisterMap> map;
  std::optional<replay::RegisterNamer> namer;
  if (!c.map.empty()) {
    try {
      map = replay::load_regmap_file(c.map);
    } catch (const std::exception& e) {
      std::cerr << "gpu-init diff: " << e.what() << "\n";
      return kError;
    }
    namer.emplace(*map);
    o.namer = &*namer;
  }
  const auto a = load(c.a);
  const auto b = load(c.b);
  if (!a || !b) return kError;
  const replay::DiffResult r = replay::diff(a->view(), b->view(), o);
  std::cout << (c.json ? replay::diff_json(r, c.a, c.b) : replay::diff_text(r, c.a, c.b));
  if (r.equal()) {
    std::cerr << "diff: equal (" << r.items_a << " items compared)\n";
    return kOk;
  }
  std::cerr << "diff: different: ";
  if (r.first) {
    std::cerr << "first divergence at " << (r.first->index_a ? "A#" + std::to_string(*r.first->index_a) : "A -")
              << " / " << (r.first->index_b ? "B#" + std::to_string(*r.first->index_b) : "B -") << " ("
              << r.first->detail << ")";
  } else {
    std::cerr << r.state.size() << " final-state differences";
  }
  std::cerr << "\n";
  return kFindings;
}

}  // namespace

Subcommand add_diff(CLI::App& root) {
  auto cfg = std::make_shared<DiffConfig>();
  auto* app = root.add_subcommand("diff", "Compare two traces or sequences (or a trace with a sequence's writes)");
  app->add_option("a", cfg->a, "First trace (.jsonl) or init sequence (.json)")->required();
  app->add_option("b", cfg->b, "Second trace or init sequence")->required();
  app->add_option("--map", cfg->map, "Register map: register names in the output");
  app->add_flag("--ignore-reads", cfg->ignore_reads, "Do not compare values read (nor READ expectations)");
  app->add_flag("--ignore-timing", cfg->ignore_timing,
                "Do not compare t_ns, icount, cs_ip, op, rom_offset, DELAY ops, POLL interval/timeout");
  app->add_flag("--writes-only", cfg->writes_only, "Compare observable writes only");
  app->add_option("--ignore-space", cfg->ignore_spaces, "Leave out accesses of this space (repeatable)");
  app->add_option("--ignore-port", cfg->ignore_ports, "Leave out this I/O port (port and vga_io; repeatable)");
  app->add_option("--context", cfg->context, "Aligned items shown before the first divergence")->capture_default_str();
  app->add_flag("--json", cfg->json, "Result as JSON on stdout");
  return {app, [cfg] { return run_diff(*cfg); }};
}

}  // namespace gpuinit::cli

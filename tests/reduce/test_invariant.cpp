// The reducer's invariant (docs/reduce.md): replaying the reduced sequence on the device
// model leaves the same final register state and makes the same ordered observable writes
// as replaying the raw trace; and reduction is idempotent.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/reduce/reduce.hpp"
#include "harness.hpp"

using namespace gpuinit;
using namespace gpuinit::test;
namespace rd = gpuinit::reduce;

namespace {

// Checks one trace; returns "" or what went wrong.
std::string check_trace(const Trace& raw, const RegisterMap& map, const RegisterMap* reducer_map, rd::Stats* sum) {
  rd::Options opt;
  opt.map = reducer_map;
  const auto r = rd::reduce_trace(raw, opt);
  const auto reloaded = load_sequence(write_sequence(r.sequence));
  if (!reloaded.ok()) return "output does not load: " + reloaded.problems.at(0).str();
  if (!(*reloaded.value == r.sequence)) return "output does not round-trip through JSON";

  const auto a = replay_trace(raw, map);
  const auto b = replay_sequence(r.sequence, map);
  if (!b.error.empty()) return b.error;
  if (auto d = compare_states(a.state, b.state, map); !d.empty()) return "final state: " + d;
  const auto wa = observable_writes(a.log, map);
  if (auto d = compare_logs(wa, observable_writes(b.log, map)); !d.empty()) return "observable writes: " + d;
  // Again through the project's replay engine on the model target.
  const auto c = replay_sequence_engine(r.sequence, map);
  if (!c.error.empty()) return c.error;
  if (auto d = compare_states(a.state, c.state, map); !d.empty()) return "final state (engine): " + d;
  if (auto d = compare_logs(wa, observable_writes(c.log, map)); !d.empty()) return "observable writes (engine): " + d;

  const auto again = rd::reduce_sequence(r.sequence, opt);
  if (!(again.sequence == r.sequence)) {
    for (std::size_t i = 0; i < std::min(again.sequence.ops.size(), r.sequence.ops.size()); ++i)
      if (!(again.sequence.ops[i] == r.sequence.ops[i]))
        return "not idempotent at op " + std::to_string(i) + ": " + rd::describe_op(r.sequence.ops[i]) + " vs " +
               rd::describe_op(again.sequence.ops[i]);
    return "not idempotent: " + std::to_string(r.sequence.ops.size()) + " ops, then " +
           std::to_string(again.sequence.ops.size());
  }
  if (sum) {
    const auto& s = r.stats;
    sum->debug_annotations += s.debug_annotations;
    sum->folded_accesses += s.folded_accesses;
    sum->index_selects += s.index_selects;
    sum->unfolded_accesses += s.unfolded_accesses;
    sum->polls_added += s.polls_added;
    sum->delays_added += s.delays_added;
    sum->wait_services += s.wait_services;
    sum->timer_accesses += s.timer_accesses;
    sum->dead_writes += s.dead_writes;
    sum->rmw_merged += s.rmw_merged;
    sum->reads_dropped += s.reads_dropped;
    sum->other_services += s.other_services;
    sum->events_in += s.events_in;
    sum->ops_out += s.ops_out;
  }
  return "";
}

void run_random(const RegisterMap* reducer_map, std::uint64_t seed, int cases) {
  const RegisterMap map = load_ref_map();
  std::mt19937_64 rng(seed);
  rd::Stats sum;
  for (int c = 0; c < cases; ++c) {
    const std::size_t steps = 1 + std::size_t(rng() % 60);
    const Trace raw = generate_trace(rng, map, steps);
    const std::string err = check_trace(raw, map, reducer_map ? &map : nullptr, &sum);
    if (!err.empty()) {
      INFO("case " << c << " (seed " << seed << ", " << raw.events.size() << " events): " << err);
      write_file_atomic(std::string(GPUINIT_BINARY_DIR) + "/reduce-failing-case.jsonl", write_trace(raw));
      FAIL("invariant broken; trace written to reduce-failing-case.jsonl in the build folder");
    }
  }
  INFO("events " << sum.events_in << " -> ops " << sum.ops_out);
  // Every pass did something somewhere in the run.
  CHECK(sum.debug_annotations > 0);
  CHECK(sum.folded_accesses > 0);
  CHECK(sum.index_selects > 0);
  CHECK(sum.unfolded_accesses > 0);
  CHECK(sum.polls_added > 0);
  CHECK(sum.delays_added > 0);
  CHECK(sum.wait_services > 0);
  CHECK(sum.timer_accesses > 0);
  CHECK(sum.rmw_merged > 0);
  CHECK(sum.reads_dropped > 0);
  if (reducer_map) CHECK(sum.dead_writes > 0);
  else CHECK(sum.dead_writes == 0);
  CHECK(sum.ops_out < sum.events_in);
}

}  // namespace

TEST_CASE("invariant on 3000 random traces, reducer given the register map") {
  const RegisterMap map = load_ref_map();
  run_random(&map, 0x5EED0001, 3000);
}

TEST_CASE("invariant on 1000 random traces, reducer without a map") { run_random(nullptr, 0x5EED0002, 1000); }

TEST_CASE("invariant on golden raw traces (reference card, SeaVGABIOS cards)") {
  // Raw traces of the reference card and the SeaVGABIOS ROMs (extractor or QEMU oracle)
  // land in tests/golden/ as *.jsonl; each raw trace (header source "extract:" or "qemu:")
  // is checked against the register map whose vendor/device ids match.
  namespace fs = std::filesystem;
  const fs::path golden = fs::path(GPUINIT_SOURCE_DIR) / "tests" / "golden";
  const fs::path maps = fs::path(GPUINIT_SOURCE_DIR) / "devices" / "maps";
  std::vector<fs::path> traces;
  if (fs::exists(golden))
    for (const auto& e : fs::recursive_directory_iterator(golden)) {
      const auto n = e.path().filename().string();
      if (e.is_regular_file() && n.size() > 6 && n.substr(n.size() - 6) == ".jsonl") traces.push_back(e.path());
    }
  std::sort(traces.begin(), traces.end());
  if (traces.empty()) {
    WARN("skipped: no raw traces (*.jsonl) under tests/golden/ yet");
    return;
  }
  std::vector<RegisterMap> all_maps;
  for (const auto& e : fs::directory_iterator(maps)) {
    auto m = load_regmap(read_file_text(e.path()));
    if (m.ok()) all_maps.push_back(*m.value);
  }
  for (const auto& p : traces) {
    auto t = load_trace(read_file_text(p));
    INFO(p.filename().string());
    REQUIRE(t.ok());
    const auto& src = t.value->header.source;
    if (src.rfind("extract:", 0) != 0 && src.rfind("qemu:", 0) != 0) continue;  // replays, not raw
    const RegisterMap* map = nullptr;
    if (t.value->header.device)
      for (const auto& m : all_maps)
        if (m.device.vendor == t.value->header.device->vendor && m.device.device == t.value->header.device->device)
          map = &m;
    if (!map) {
      WARN(p.filename().string() << ": no register map for its device; skipped");
      continue;
    }
    CHECK(check_trace(*t.value, *map, map, nullptr) == "");
  }
}

// The simulation targets inside the replay engine: registered by name, a sequence replayed
// on `model` and on `sim-fast`/`sim` gives traces that `gpu-init diff`'s comparison finds
// equal, and `validate --mode sim` reports polls and expectations.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/json_io.hpp"
#include <nlohmann/json.hpp>
#include "gpuinit/replay/diff.hpp"
#include "gpuinit/sim/register.hpp"

namespace {

using gpuinit::Op;
using gpuinit::OpKind;
using gpuinit::Space;

Op op(OpKind k, Space s, std::uint64_t off, unsigned width, std::uint64_t value = 0, std::uint8_t bar = 0) {
  Op o;
  o.kind = k;
  o.space = s;
  o.offset = off;
  o.width = std::uint8_t(width);
  o.value = value;
  o.bar = bar;
  return o;
}

// Writes and reads of every map register, every delayed_set trigger followed by a POLL of
// its status, a DELAY, and the registers read again.
gpuinit::InitSequence sequence_for(const gpuinit::RegisterMap& m) {
  gpuinit::InitSequence seq;
  seq.device = m.device;
  auto add_reg = [&](const gpuinit::Register& r, OpKind k, std::uint64_t v) {
    Op o = op(k, r.space, r.offset, r.width, v & gpuinit::width_mask(r.width), r.bar);
    o.space_name = r.space_name;
    seq.ops.push_back(o);
  };
  std::uint64_t v = 0x9E3779B97F4A7C15ull;
  for (const auto& r : m.registers) {
    add_reg(r, OpKind::read, 0);
    add_reg(r, OpKind::write, v);
    add_reg(r, OpKind::read, 0);
    v = v * 6364136223846793005ull + 1442695040888963407ull;
  }
  for (const auto& b : m.behaviours) {
    if (b.kind != gpuinit::BehaviourKind::delayed_set) continue;
    add_reg(*m.find(b.trigger), OpKind::write, b.trigger_value);
    const auto* r = m.find(b.reg);
    Op p = op(OpKind::poll, r->space, r->offset, r->width, b.value & b.mask, r->bar);
    p.space_name = r->space_name;
    p.mask = b.mask;
    p.interval_us = 10;
    p.timeout_us = 1000;
    p.on_timeout = gpuinit::OnTimeout::continue_;
    seq.ops.push_back(p);
  }
  Op d;
  d.kind = OpKind::delay;
  d.us = 500;
  seq.ops.push_back(d);
  for (const auto& r : m.registers) add_reg(r, OpKind::read, 0);
  Op end;
  end.kind = OpKind::end;
  seq.ops.push_back(end);
  return seq;
}

gpuinit::Trace replay_on(gpuinit::replay::Target& t, const gpuinit::InitSequence& seq) {
  gpuinit::Trace tr;
  const auto rep = gpuinit::replay::run_sequence(seq, t, {}, &tr);
  INFO(gpuinit::replay::report_text(rep));
  CHECK_FALSE(rep.refused);
  CHECK(rep.reached_end);
  return tr;
}

gpuinit::replay::TargetRegistry registry() {
  auto r = gpuinit::replay::builtin_targets();
  gpuinit::sim::register_sim_targets(r);
  return r;
}

void model_vs(const char* target, const char* map_name = "gpuinit-ref", const gpuinit::InitSequence* given = nullptr) {
  const auto* b = gpuinit::sim::find_block(map_name);
  REQUIRE(b != nullptr);
  const auto map = gpuinit::sim::block_map(*b);
  const auto seq = given ? *given : sequence_for(map);
  std::vector<gpuinit::Problem> problems;
  gpuinit::MapModelOptions mo;
  mo.unknown = gpuinit::UnknownPolicy::zero;
  auto mm = gpuinit::MapModel::create(map, mo, problems);
  REQUIRE(mm);
  std::vector<std::string> named;
  for (const auto& s : map.indexed_spaces) named.push_back(s.name);
  gpuinit::replay::ModelTarget model(std::move(mm), named, false);

  gpuinit::replay::TargetOptions opt;
  opt.name = target;
  opt.map = &map;
  auto sim = registry().make(opt);
  const auto ta = replay_on(model, seq);
  const auto tb = replay_on(*sim, seq);
  if (!given) REQUIRE(ta.events.size() > 2 * map.registers.size());
  REQUIRE_FALSE(ta.events.empty());
  const auto d = gpuinit::replay::diff(gpuinit::replay::view(ta), gpuinit::replay::view(tb));
  INFO(gpuinit::replay::diff_text(d, "model", target));
  CHECK(d.equal());
}

}  // namespace

TEST_CASE("replay: sim-fast and the model give equal traces on the reference card") { model_vs("sim-fast"); }
TEST_CASE("replay: sim (TLM) and the model give equal traces on the reference card") { model_vs("sim"); }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

// The golden init sequences of the QEMU cards (tests/golden/<card>/sequence.json, their map
// named by card.json) replayed on the model and on sim-fast give equal traces: the DDC
// bit-banging of the ATI BIOSes, the Bochs DISPI ports crossing a bus word, VMware's
// overlapping ports, the EDID blocks.
TEST_CASE("replay: every golden sequence gives the same trace on sim-fast and the model") {
  std::size_t cards = 0;
  for (const auto& dir : std::filesystem::directory_iterator(GPUINIT_GOLDEN_DIR)) {
    const auto card_file = dir.path() / "card.json";
    if (!std::filesystem::exists(card_file) || !std::filesystem::exists(dir.path() / "sequence.json")) continue;
    const auto card = nlohmann::json::parse(slurp(card_file));
    const auto map_file = std::filesystem::path(GPUINIT_SOURCE_DIR) / card.value("map", std::string());
    if (!std::filesystem::is_regular_file(map_file)) continue;
    const auto map = gpuinit::load_regmap(slurp(map_file));
    REQUIRE(map.ok());
    if (!gpuinit::sim::find_block(map.value->name)) continue;  // a map without RTL
    const auto seq = gpuinit::load_sequence(slurp(dir.path() / "sequence.json"));
    INFO("card " << dir.path().filename().string());
    REQUIRE(seq.ok());
    model_vs("sim-fast", map.value->name.c_str(), &*seq.value);
    ++cards;
  }
  CHECK(cards >= 9);  // the reference card and the eight QEMU cards
}

TEST_CASE("replay: the registry names both simulation targets and picks the block by device") {
  auto r = registry();
  CHECK(r.has("sim"));
  CHECK(r.has("sim-fast"));
  const auto* b = gpuinit::sim::find_block("gpuinit-ref");
  REQUIRE(b != nullptr);
  gpuinit::replay::TargetOptions opt;
  opt.name = "sim-fast";
  opt.device = gpuinit::sim::block_map(*b).device;
  CHECK(r.make(opt)->name() == "sim-fast:gpuinit-ref");
  opt.device->device ^= 0xFFFF;
  CHECK_THROWS_WITH(r.make(opt), Catch::Contains("no register block for device"));
}

TEST_CASE("replay: validate in simulation reports polls and expectations") {
  const auto* b = gpuinit::sim::find_block("sim-mini");
  REQUIRE(b != nullptr);
  gpuinit::InitSequence seq;
  seq.ops.push_back(op(OpKind::write, Space::mmio, 0x8, 32, 1));  // PLL_EN
  Op p = op(OpKind::poll, Space::mmio, 0xC, 32, 1);
  p.mask = 1;
  p.interval_us = 5;
  p.timeout_us = 100;
  seq.ops.push_back(p);
  Op r = op(OpKind::read, Space::mmio, 0x0, 32);
  r.has_expect = true;
  r.expect_mask = 0xFFFFFFFF;
  r.expect_value = 0x12345679;  // the ID is 0x12345678: this expectation fails
  seq.ops.push_back(r);
  Op end;
  end.kind = OpKind::end;
  seq.ops.push_back(end);
  gpuinit::sim::SimOptions o;
  o.systemc = false;
  const auto rep = gpuinit::sim::replay_in_sim(seq, *b, o);
  CHECK(rep.polls_satisfied == 1);
  CHECK(rep.expectations_failed == 1);
  CHECK(rep.end_ns >= 20'000);
}

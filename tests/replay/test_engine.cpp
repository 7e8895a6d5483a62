#include <catch2/catch.hpp>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/replay/engine.hpp"
#include "fixtures.hpp"

using namespace gpuinit;
using namespace gpuinit::replay;
using namespace gpuinit::test;

TEST_CASE("POLL is satisfied once the status bit sets - after the virtual time it took") {
  StatusModel* model = nullptr;
  auto t = status_target(25'000, &model);  // STATUS.0 sets 25 us after CTRL.0
  auto seq = seq_of({write_op(0x0, 1), poll_op(0x4, 1, 1, 10, 1000), write_op(0x8, 0xAB), end_op()});
  Trace trace;
  const RunReport r = run_sequence(seq, *t, {}, &trace);
  CHECK(r.ok());
  CHECK(r.reached_end);
  CHECK(r.ops_executed == 4);
  REQUIRE(r.polls.size() == 1);
  CHECK(r.polls[0].satisfied);
  CHECK(r.polls[0].op == 1);
  CHECK(r.polls[0].waited_ns == 30'000);  // reads at 0, 10, 20, 30 us
  CHECK(r.polls[0].reads == 4);
  CHECK(r.polls_satisfied == 1);
  // Virtual time: no sleeping, the clock just moved.
  CHECK(t->now_ns() == 30'000);
  // Trace: the write, four reads, the write; each event names its op and its time.
  REQUIRE(trace.events.size() == 6);
  CHECK(trace.events[0].dir == Dir::write);
  CHECK(trace.events[0].op == 0u);
  CHECK(trace.events[1].op == 1u);
  CHECK(trace.events[4].t_ns == 30'000);
  CHECK(trace.events[4].value == 1);
  CHECK(trace.events[5].op == 2u);
  CHECK(trace.events[5].seq == 5);
  CHECK(trace.header.source == "replay:model:status");
}

TEST_CASE("POLL timeout with on_timeout fail stops the run") {
  auto t = status_target(0);  // the bit never sets
  auto seq = seq_of({write_op(0x0, 1), poll_op(0x4, 1, 1, 100, 1000), write_op(0x8, 0xAB), end_op()});
  const RunReport r = run_sequence(seq, *t);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.reached_end);
  CHECK(r.ops_executed == 2);
  CHECK(r.polls_timed_out == 1);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].op == 1);
  CHECK_THAT(r.failures[0].message, Catch::Contains("POLL mmio bar0+0x4") && Catch::Contains("timed out"));
  CHECK(r.polls[0].waited_ns == 1'000'000);
  CHECK(r.polls[0].reads == 11);  // at 0, 100, ..., 1000 us
  // The write after the poll was never made.
  for (const auto& s : r.final_state) CHECK(s.offset != 0x8);
}

TEST_CASE("POLL timeout with on_timeout continue goes on") {
  auto t = status_target(0);
  auto seq = seq_of({poll_op(0x4, 1, 1, 100, 1000, OnTimeout::continue_), write_op(0x8, 0xAB), end_op()});
  const RunReport r = run_sequence(seq, *t);
  CHECK(r.ok());
  CHECK(r.reached_end);
  CHECK(r.polls_timed_out == 1);
  CHECK(r.failures.empty());
  CHECK(r.final_state.back().offset == 0x8);
}

TEST_CASE("POLL failure with --keep-going runs the rest") {
  auto t = status_target(0);
  auto seq = seq_of({poll_op(0x4, 1, 1, 100, 1000), write_op(0x8, 0xAB), end_op()});
  ReplayOptions o;
  o.keep_going = true;
  const RunReport r = run_sequence(seq, *t, o);
  CHECK_FALSE(r.ok());
  CHECK(r.reached_end);
  CHECK(r.ops_executed == 3);
  CHECK(r.failures.size() == 1);
}

TEST_CASE("a hostile POLL (interval 0 - timeout of hours) is bounded") {
  auto t = status_target(0);
  auto seq = seq_of({poll_op(0x4, 1, 1, 0, 3'600'000'000ull), end_op()});
  const RunReport r = run_sequence(seq, *t);
  REQUIRE(r.polls.size() == 1);
  CHECK_FALSE(r.polls[0].satisfied);
  CHECK(r.polls[0].reads <= kMaxPollReads + 2);
  CHECK(r.polls[0].waited_ns == 3'600'000'000'000ull);
}

TEST_CASE("RMW reads - keeps the bits outside the mask and stores the value's bits inside") {
  StatusModel* model = nullptr;
  auto t = status_target(0, &model);
  auto seq = seq_of({write_op(0x10, 0xF0F0'1234), rmw_op(0x10, 0x0000'FF00, 0x0000'AB00), end_op()});
  Trace trace;
  const RunReport r = run_sequence(seq, *t, {}, &trace);
  CHECK(r.ok());
  REQUIRE(trace.events.size() == 3);
  CHECK(trace.events[1].dir == Dir::read);
  CHECK(trace.events[1].value == 0xF0F0'1234);
  CHECK(trace.events[2].dir == Dir::write);
  CHECK(trace.events[2].value == 0xF0F0'AB34);
  CHECK(trace.events[2].op == 1u);
  REQUIRE(r.final_state.size() == 1);
  CHECK(r.final_state[0].value == 0xF0F0'AB34);
  CHECK(model->reads == 1);
  CHECK(model->writes == 2);
}

TEST_CASE("RMW value bits outside the mask are not stored") {
  auto t = status_target(0);
  auto seq = seq_of({write_op(0x10, 0x0), rmw_op(0x10, 0x0F, 0xFF), end_op()});
  const RunReport r = run_sequence(seq, *t);
  CHECK(r.final_state[0].value == 0x0F);
}

TEST_CASE("READ expectations: met - failed (stops) - failed with keep-going") {
  auto seq = seq_of({write_op(0x10, 0x5A), read_op(0x10, std::pair{0xFFull, 0x5Aull}),
                     read_op(0x10, std::pair{0x0Full, 0x0Bull}), write_op(0x14, 1), end_op()});
  {
    auto t = status_target(0);
    const RunReport r = run_sequence(seq, *t);
    CHECK(r.expectations_met == 1);
    CHECK(r.expectations_failed == 1);
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].op == 2);
    CHECK_THAT(r.failures[0].message, Catch::Contains("read 0x5a") && Catch::Contains("expected 0xb"));
    CHECK(r.ops_executed == 3);
  }
  {
    auto t = status_target(0);
    ReplayOptions o;
    o.keep_going = true;
    const RunReport r = run_sequence(seq, *t, o);
    CHECK(r.failures.size() == 1);
    CHECK(r.ops_executed == 5);
    CHECK(r.reached_end);
  }
}

TEST_CASE("DELAY advances virtual time and the trace's clock") {
  auto t = status_target(0);
  auto seq = seq_of({write_op(0x0, 0), delay_op(150), write_op(0x8, 1), delay_op(~0ull), end_op()});
  Trace trace;
  const RunReport r = run_sequence(seq, *t, {}, &trace);
  CHECK(r.ok());
  CHECK(trace.events[0].t_ns == 0);
  CHECK(trace.events[1].t_ns == 150'000);
  CHECK(t->now_ns() == ~0ull);  // saturates instead of wrapping
}

namespace {
// A target with only the io space and 8/16-bit accesses.
class NarrowTarget final : public Target {
 public:
  Capabilities capabilities() const override {
    Capabilities c;
    c.spaces = {Space::io};
    c.widths = 8 | 16;
    return c;
  }
  std::uint64_t read(const Access&) override {
    ++accesses;
    return 0;
  }
  void write(const Access&, std::uint64_t) override { ++accesses; }
  std::uint64_t now_ns() const override { return 0; }
  void advance(std::uint64_t) override {}
  std::string name() const override { return "narrow"; }
  int accesses = 0;
};
}  // namespace

TEST_CASE("a sequence using a space or width the target lacks is refused up front - naming the op") {
  NarrowTarget t;
  auto seq = seq_of({write_op(0x0, 1, 8, Space::io), write_op(0x4, 1, 32, Space::io), write_op(0x8, 1, 8), end_op()});
  const RunReport r = run_sequence(seq, t);
  CHECK(r.refused);
  CHECK_FALSE(r.ok());
  CHECK(t.accesses == 0);  // nothing executed, not even op 0
  REQUIRE(r.problems.size() == 2);
  CHECK(r.problems[0].where == "/init_sequence/1");
  CHECK_THAT(r.problems[0].message, Catch::Contains("32-bit"));
  CHECK(r.problems[1].where == "/init_sequence/2");
  CHECK_THAT(r.problems[1].message, Catch::Contains("no space 'mmio'"));
  CHECK_THAT(report_text(r), Catch::Contains("refused"));
}

TEST_CASE("malformed ops are refused: value too wide - offset outside the BAR - op after END") {
  auto t = status_target(0);
  auto seq = seq_of({write_op(0x0, 0x1FF, 8), write_op(0x1000, 1), end_op(), write_op(0, 0)});
  seq.device.bars.push_back({0, BarKind::mem32, 0x1000, false});
  const RunReport r = run_sequence(seq, *t);
  REQUIRE(r.problems.size() == 3);
  CHECK_THAT(r.problems[0].message, Catch::Contains("does not fit 8 bits"));
  CHECK_THAT(r.problems[1].message, Catch::Contains("outside BAR0"));
  CHECK(r.problems[2].where == "/init_sequence/3");
}

TEST_CASE("named spaces: the generic model accepts any - a map model only its own") {
  Op o = write_op(0x3, 0x12, 8, Space::named);
  o.space_name = "ref_pll";
  auto seq = seq_of({o, end_op()});
  auto any = status_target(0);
  CHECK(run_sequence(seq, *any).ok());
  ModelTarget only_other(std::make_unique<StatusModel>(0), {"other"}, false);
  const RunReport r = run_sequence(seq, only_other);
  CHECK(r.refused);
  CHECK_THAT(r.problems.at(0).message, Catch::Contains("ref_pll"));
}

TEST_CASE("schema target: plans every access - performs none - checks nothing") {
  auto reg = builtin_targets();
  auto t = reg.make({"schema", {}, nullptr, std::nullopt, {}});
  auto seq = seq_of({write_op(0x0, 1), poll_op(0x4, 1, 1, 10, 1000), read_op(0x4, std::pair{1ull, 1ull}), end_op()});
  Trace trace;
  const RunReport r = run_sequence(seq, *t, {}, &trace);
  CHECK(r.ok());
  CHECK(r.writes_suppressed == 1);
  CHECK(r.polls_unchecked == 1);
  CHECK(r.expectations_unchecked == 1);
  CHECK(trace.events.size() == 3);
  CHECK(t->now_ns() == 0);
}

TEST_CASE("the registry makes targets by name and rejects unknown or duplicate names") {
  TargetRegistry reg;
  register_builtin_targets(reg);
  CHECK(reg.names() == std::vector<std::string>{"model", "schema"});
  CHECK_THROWS_WITH(reg.make({"fpga", {}, nullptr, std::nullopt, {}}), Catch::Contains("unknown target 'fpga'") &&
                                                                            Catch::Contains("model, schema"));
  CHECK_THROWS(reg.add("model", "again", [](const TargetOptions&) { return std::unique_ptr<Target>(); }));
  // Another library's target joins the same registry.
  reg.add("narrow", "test target", [](const TargetOptions&) { return std::make_unique<NarrowTarget>(); });
  CHECK(make_target({"narrow", {}, nullptr, std::nullopt, {}}, reg)->name() == "narrow");
  // Two registries share nothing.
  CHECK_FALSE(builtin_targets().has("narrow"));
  auto generic = reg.make({"model", {}, nullptr, std::nullopt, {}});
  CHECK(generic->name() == "model:generic");
  CHECK_THROWS_WITH(reg.make({"model", "no/such/map.json", nullptr, std::nullopt, {}}),
                    Catch::Contains("no/such/map.json"));
}

TEST_CASE("the generic model target replays writes and reads them back") {
  auto t = builtin_targets().make({"model", {}, nullptr, std::nullopt, {}});
  auto seq = seq_of({write_op(0x20, 0xDEADBEEF), read_op(0x20, std::pair{0xFFFF'FFFFull, 0xDEADBEEFull}), end_op()});
  const RunReport r = run_sequence(seq, *t);
  CHECK(r.ok());
  CHECK(r.expectations_met == 1);
}

TEST_CASE("final state names registers through a namer") {
  RegisterMap map;
  Register reg;
  reg.name = "SCRATCH";
  reg.offset = 0x20;
  map.registers.push_back(reg);
  const RegisterNamer namer(map);
  auto t = status_target(0);
  ReplayOptions o;
  o.namer = &namer;
  const RunReport r = run_sequence(seq_of({write_op(0x20, 7), write_op(0x24, 1), write_op(0x20, 9), end_op()}), *t, o);
  REQUIRE(r.final_state.size() == 2);
  CHECK(r.final_state[0].name == "SCRATCH");
  CHECK(r.final_state[0].value == 9);
  CHECK(r.final_state[0].last_op == 2);
  CHECK(r.final_state[1].name.empty());
  CHECK_THAT(report_json(r), Catch::Contains("\"name\": \"SCRATCH\""));
}

namespace {
class ThrowingModel final : public DeviceModel {
 public:
  std::uint64_t read(const Access&, std::uint64_t) override { throw std::runtime_error("device gone"); }
  void write(const Access&, std::uint64_t, std::uint64_t) override {}
  std::string name() const override { return "throwing"; }
};
}  // namespace

TEST_CASE("a target error becomes a failure of the op that met it") {
  ModelTarget t(std::make_unique<ThrowingModel>(), {}, true);
  const RunReport r = run_sequence(seq_of({write_op(0, 1), read_op(0), write_op(4, 1), end_op()}), t);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].op == 1);
  CHECK_THAT(r.failures[0].message, Catch::Contains("device gone"));
  CHECK(r.ops_executed == 2);
}

TEST_CASE("the access budget stops a run") {
  auto t = status_target(0);
  ReplayOptions o;
  o.max_accesses = 2;
  const RunReport r = run_sequence(seq_of({write_op(0, 1), write_op(4, 1), write_op(8, 1), end_op()}), *t, o);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].op == 2);
  CHECK_THAT(r.failures[0].message, Catch::Contains("budget"));
}

TEST_CASE("a replay trace is trace v1 and loads back") {
  auto t = status_target(5'000);
  auto seq = seq_of({write_op(0x0, 1), poll_op(0x4, 1, 1, 1, 100), end_op()});
  Trace trace;
  REQUIRE(run_sequence(seq, *t, {}, &trace).ok());
  const auto back = load_trace(write_trace(trace));
  REQUIRE(back.ok());
  CHECK(*back.value == trace);
}

namespace {
const char* kRefMap = GPUINIT_SOURCE_DIR "/devices/maps/gpuinit-ref.json";
Op pll(OpKind k, std::uint64_t index) {
  Op o = write_op(index, 0);
  o.kind = k;
  o.space = Space::named;
  o.space_name = "pllmc";
  return o;
}
}  // namespace

TEST_CASE("model target from the reference map: PLL lock poll - w1c - constant id - names") {
  const RegisterMap map = load_regmap_file(kRefMap);
  const RegisterNamer namer(map);
  auto target = builtin_targets().make({"model", kRefMap, nullptr, std::nullopt, {}});
  CHECK(target->name() == "model:map:gpuinit-ref");
  Op enable = pll(OpKind::write, 0x0);  // PLL_CTRL: enable, power-down clear
  enable.value = 0x1;
  Op lock = pll(OpKind::poll, 0x2);  // PLL_STATUS.LOCK sets 100 us later
  lock.mask = 1;
  lock.value = 1;
  lock.interval_us = 10;
  lock.timeout_us = 1000;
  auto seq = seq_of({read_op(0x0, std::pair{0xFFFF'FFFFull, 0x4749'0100ull}), enable, lock,
                     write_op(0x20, 0x1),  // INT_STATUS is w1c, reset 0x5
                     read_op(0x20, std::pair{0xFFull, 0x4ull}), end_op()});
  ReplayOptions o;
  o.namer = &namer;
  const RunReport r = run_sequence(seq, *target, o);
  INFO(report_text(r));
  CHECK(r.ok());
  REQUIRE(r.polls.size() == 1);
  CHECK(r.polls[0].satisfied);
  CHECK(r.polls[0].waited_ns == 100'000);
  CHECK(r.expectations_met == 2);
  bool named = false;
  for (const auto& s : r.final_state) named |= s.name == "PLL_STATUS";
  CHECK(named);

  // The same poll with a 50 us timeout fails, naming the register.
  auto t2 = builtin_targets().make({"model", {}, &map, std::nullopt, {}});
  seq.ops[2].timeout_us = 50;
  const RunReport f = run_sequence(seq, *t2, o);
  REQUIRE(f.failures.size() == 1);
  CHECK(f.failures[0].op == 2);
  CHECK_THAT(f.failures[0].message, Catch::Contains("(PLL_STATUS)") && Catch::Contains("timed out"));
  // A named space the map lacks is refused.
  seq.ops[1].space_name = "nosuch";
  auto t3 = builtin_targets().make({"model", {}, &map, std::nullopt, {}});
  CHECK(run_sequence(seq, *t3, o).refused);
}

TEST_CASE("make_target without a registry makes the built-in targets") {
  CHECK(make_target({"schema", {}, nullptr, std::nullopt, {}})->name() == "schema");
  CHECK_THROWS_WITH(make_target({"sim", {}, nullptr, std::nullopt, {}}), Catch::Contains("unknown target 'sim'"));
}

TEST_CASE("FILL makes its stores in order at consecutive offsets and counts them against the budget") {
  StatusModel* model = nullptr;
  auto t = status_target(0, &model);
  Op fill = write_op(0x100, 0xAB, 16);
  fill.kind = OpKind::fill;
  fill.count = 5;
  auto seq = seq_of({fill, write_op(0x10, 1), end_op()});
  Trace trace;
  const RunReport r = run_sequence(seq, *t, {}, &trace);
  CHECK(r.ok());
  REQUIRE(trace.events.size() == 6);
  for (unsigned k = 0; k < 5; ++k) {
    CHECK(trace.events[k].dir == Dir::write);
    CHECK(trace.events[k].offset == 0x100 + 2 * k);
    CHECK(trace.events[k].width == 16);
    CHECK(trace.events[k].value == 0xAB);
    CHECK(trace.events[k].op == 0u);
  }
  CHECK(model->writes == 6);
  // The budget counts every store: 5 stores do not fit in 4 accesses.
  ReplayOptions small;
  small.max_accesses = 4;
  auto t2 = status_target(0);
  const RunReport r2 = run_sequence(seq, *t2, small, nullptr);
  CHECK_FALSE(r2.ok());
  REQUIRE_FALSE(r2.failures.empty());
  CHECK(r2.failures[0].message.find("access budget") != std::string::npos);
  // A FILL whose last store leaves its BAR is refused before anything runs.
  Op edge = fill;
  edge.offset = 0xF8;  // stores at 0xF8..0x100: the last one is past a 0x100-byte BAR
  InitSequence bad = seq_of({edge, end_op()});
  bad.device.bars = {Bar{0, BarKind::mem32, 0x100, false}};
  auto t3 = status_target(0);
  const RunReport r3 = run_sequence(bad, *t3, {}, nullptr);
  CHECK_FALSE(r3.ok());
}

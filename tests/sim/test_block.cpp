// The generated register block through the direct driver (sim-fast).
#include <catch2/catch.hpp>
#include <vector>

#include "gpuinit/sim/decoder.hpp"
#include "policy_checks.hpp"

using namespace simtest;
using gpuinit::sim::SimOptions;

namespace {
std::unique_ptr<gpuinit::replay::Target> fast() {
  SimOptions o;
  o.systemc = false;
  return gpuinit::sim::make_target(mini(), o);
}
}  // namespace

TEST_CASE("direct: access policies in hardware") {
  auto t = fast();
  check_policies(*t);
}

TEST_CASE("direct: constant, readback and delayed_set behaviours") {
  auto t = fast();
  check_behaviours(*t);
}

TEST_CASE("direct: index/data pairs and the VGA register file") {
  auto t = fast();
  check_indexed(*t);
}

TEST_CASE("direct: accesses take clock edges but annotate no time") {
  auto t = fast();
  CHECK(t->now_ns() == 0);
  (void)t->read(mmio(0));
  CHECK(t->now_ns() == 0);
  (void)t->read(at(gpuinit::Space::named, 5, 8, 0, "ext"));  // save, index, data, restore
  CHECK(gpuinit::sim::stats(*t).bus_cycles == 5);
  CHECK(gpuinit::sim::stats(*t).ticks == 0);
  t->advance(1'000'000'000);  // a second passes without simulating idle edges
  CHECK(t->now_ns() == 1'000'000'000);
  (void)t->read(mmio(0));
  CHECK(gpuinit::sim::stats(*t).ticks == 100'000'000);
}

TEST_CASE("direct: instances share nothing") {
  auto a = fast();
  auto b = fast();
  a->write(mmio(4), 1);
  b->write(mmio(4), 2);
  CHECK(a->read(mmio(4)) == 1u);
  CHECK(b->read(mmio(4)) == 2u);
}

TEST_CASE("decoder: accesses that cannot be expressed are refused with the access named") {
  gpuinit::sim::Decoder d(gpuinit::sim::block_map(mini()));
  auto none = [](const gpuinit::sim::BusStep&) -> std::uint64_t { return 0; };
  CHECK_THROWS_WITH(d.execute(mmio(0xFFFFFFFE, 32), false, 0, none), Catch::Contains("mmio bar 0 offset 0xfffffffe"));
  CHECK_THROWS_WITH(d.execute(at(gpuinit::Space::named, 1, 8, 0, "nope"), false, 0, none), Catch::Contains("nope"));
  CHECK_THROWS(d.execute(mmio(std::uint64_t{1} << 33), false, 0, none));
  CHECK_THROWS_WITH(d.execute(at(gpuinit::Space::vga_dac, 0x300), false, 0, none), Catch::Contains("0x0-0x2ff"));
  CHECK_THROWS(d.execute(at(gpuinit::Space::vga_seq, 0x100), false, 0, none));
}

TEST_CASE("decoder: an access crossing a bus word is two cycles and the second has bus_seq") {
  gpuinit::sim::Decoder d(gpuinit::sim::block_map(mini()));
  std::vector<gpuinit::sim::BusStep> steps;
  auto rec = [&](const gpuinit::sim::BusStep& s) -> std::uint64_t {
    steps.push_back(s);
    return s.seq ? 0x00000000'0000DDCCull : 0xBBAA0000'00000000ull;
  };
  CHECK(d.execute(mmio(6, 32), false, 0, rec) == 0xDDCCBBAAu);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].word == gpuinit::sim::bus_word(gpuinit::sim::kRegionBar0, 0));
  CHECK(steps[0].be == 0xC0);
  CHECK_FALSE(steps[0].seq);
  CHECK(steps[1].word == gpuinit::sim::bus_word(gpuinit::sim::kRegionBar0, 8));
  CHECK(steps[1].be == 0x03);
  CHECK(steps[1].seq);
  steps.clear();
  (void)d.execute(mmio(7, 64), true, 0x8877665544332211ull, rec);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].be == 0x80);
  CHECK(steps[0].wdata == 0x11000000'00000000ull);
  CHECK(steps[1].be == 0x7F);
  CHECK(steps[1].wdata == 0x00887766'55443322ull);
  CHECK(steps[1].wr);
}

TEST_CASE("catalog: every block's embedded map loads") {
  REQUIRE_FALSE(gpuinit::sim::blocks().empty());
  for (const auto& b : gpuinit::sim::blocks()) {
    INFO(b.map_name);
    CHECK(gpuinit::sim::block_map(b).name == b.map_name);
  }
}

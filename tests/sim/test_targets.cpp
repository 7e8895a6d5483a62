// The same checks through SystemC TLM-2.0 (sim), and waveforms. Each test case runs in its
// own process (catch_discover_tests), as SystemC allows one simulation per process.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "policy_checks.hpp"

using namespace simtest;
using gpuinit::sim::SimOptions;
using gpuinit::sim::Waveform;

// SystemC's own clock, read without including SystemC here.
std::uint64_t sc_now_ns();

TEST_CASE("tlm: access policies, behaviours and indexed spaces") {
  auto t = gpuinit::sim::make_target(mini(), SimOptions{});
  CHECK(t->name() == "sim:sim-mini");
  check_policies(*t);
  check_behaviours(*t);
  check_indexed(*t);
}

TEST_CASE("tlm: a second SystemC simulation in one process is refused") {
  auto t = gpuinit::sim::make_target(mini(), SimOptions{});
  CHECK_FALSE(gpuinit::sim::systemc_available());
  CHECK_THROWS_WITH(gpuinit::sim::make_target(mini(), SimOptions{}), Catch::Contains("one simulation per process"));
  SimOptions fast;
  fast.systemc = false;
  CHECK(gpuinit::sim::make_target(mini(), fast) != nullptr);
}

TEST_CASE("tlm: virtual time is SystemC time at the block's clock") {
  auto t = gpuinit::sim::make_target(mini(), SimOptions{});
  (void)t->read(mmio(0));
  CHECK(t->now_ns() == 0);
  t->advance(5'000'000);  // beyond the 1 us quantum: SystemC time moves
  CHECK(t->now_ns() == 5'000'000);
  CHECK(sc_now_ns() == 5'000'000);
  t->advance(300);  // within the quantum: a local offset only
  CHECK(t->now_ns() == 5'000'300);
  CHECK(sc_now_ns() == 5'000'000);
  (void)t->read(mmio(0));
  CHECK(gpuinit::sim::stats(*t).ticks == 500'030);
}

namespace {
void check_wave(bool systemc, Waveform w, const char* file, const char* magic) {
  const auto path = std::filesystem::path(GPUINIT_BINARY_DIR) / "tests" / "sim" / file;
  std::filesystem::remove(path);
  {
    SimOptions o;
    o.systemc = systemc;
    o.wave = w;
    o.waveform_path = path.string();
    auto t = gpuinit::sim::make_target(mini(), o);
    t->write(mmio(8), 1);
    t->advance(25'000);
    CHECK((t->read(mmio(0xC)) & 1) == 1u);
  }
  REQUIRE(std::filesystem::exists(path));
  CHECK(std::filesystem::file_size(path) > 100);
  std::ifstream in(path, std::ios::binary);
  std::string head(16, '\0');
  in.read(head.data(), 16);
  CHECK(head.find(magic) != std::string::npos);
}
}  // namespace

TEST_CASE("wave: VCD from the TLM target") { check_wave(true, Waveform::vcd, "tlm.vcd", "$"); }
TEST_CASE("wave: FST from the direct driver") { check_wave(false, Waveform::fst, "direct.fst", ""); }
TEST_CASE("wave: an unwritable waveform path is an error") {
  SimOptions o;
  o.systemc = false;
  o.wave = Waveform::vcd;
  o.waveform_path = "/nonexistent-dir/x.vcd";
  CHECK_THROWS_WITH(gpuinit::sim::make_target(mini(), o), Catch::Contains("cannot open waveform"));
}

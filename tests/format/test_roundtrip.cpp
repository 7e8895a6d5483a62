// Property tests over generated documents (fixed seeds, thousands of cases):
// from_json(to_json(x)) == x; load(write(x)) == x with no problem; writing is stable
// (write, load, write gives identical bytes).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "generate.hpp"
#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;
using nlohmann::json;

namespace {
constexpr int kCases = 3000;

std::string describe(const std::vector<Problem>& ps) {
  std::string s;
  for (std::size_t i = 0; i < ps.size() && i < 10; ++i) s += "  " + ps[i].str() + "\n";
  return s;
}
}  // namespace

TEST_CASE("sequence: from_json(to_json(x)) == x, load(write(x)) == x, stable bytes") {
  gen::Rng rng(0x5eed0001);
  for (int i = 0; i < kCases; ++i) {
    const InitSequence s = gen::sequence(rng, gen::below(rng, 12));
    const json j = s;
    CHECK(j.get<InitSequence>() == s);
    const std::string text = write_sequence(s);
    const auto loaded = load_sequence(text);
    INFO("case " << i << "\n" << text << describe(loaded.problems));
    REQUIRE(loaded.ok());
    CHECK(loaded.warnings.empty());
    CHECK(*loaded.value == s);
    CHECK(write_sequence(*loaded.value) == text);
  }
}

TEST_CASE("op: from_json(to_json(op)) == op for every kind") {
  gen::Rng rng(0x5eed0002);
  const DeviceInfo d = gen::device(rng);
  for (int i = 0; i < kCases; ++i) {
    const Op op = gen::op(rng, d);
    const json j = op;
    INFO(j.dump());
    CHECK(j.get<Op>() == op);
  }
}

TEST_CASE("trace: from_json(to_json(x)) == x, load(write(x)) == x, stable bytes") {
  gen::Rng rng(0x5eed0003);
  for (int i = 0; i < kCases; ++i) {
    const Trace t = gen::trace(rng, gen::below(rng, 10));
    json h = t.header;
    CHECK(h.get<TraceHeader>() == t.header);
    for (const auto& e : t.events) {
      const json je = e;
      CHECK(je.get<TraceEvent>() == e);
    }
    const std::string text = write_trace(t);
    const auto loaded = load_trace(text);
    INFO("case " << i << "\n" << text << describe(loaded.problems));
    REQUIRE(loaded.ok());
    CHECK(*loaded.value == t);
    CHECK(write_trace(*loaded.value) == text);
  }
}

TEST_CASE("register map: from_json(to_json(x)) == x, load(write(x)) == x, stable bytes") {
  gen::Rng rng(0x5eed0004);
  for (int i = 0; i < kCases; ++i) {
    const RegisterMap m = gen::regmap(rng, gen::below(rng, 16));
    const json j = m;
    CHECK(j.get<RegisterMap>() == m);
    const std::string text = write_regmap(m);
    const auto loaded = load_regmap(text);
    INFO("case " << i << "\n" << text << describe(loaded.problems));
    REQUIRE(loaded.ok());
    CHECK(*loaded.value == m);
    CHECK(write_regmap(*loaded.value) == text);
  }
}

TEST_CASE("writers put one op and one event per line") {
  gen::Rng rng(0x5eed0005);
  const InitSequence s = gen::sequence(rng, 50);
  const std::string text = write_sequence(s);
  CHECK(std::count(text.begin(), text.end(), '\n') == 5 + 51 + 2);  // {, 3 header lines, "init_sequence": [, ops, ], }
  const Trace t = gen::trace(rng, 40);
  const std::string tt = write_trace(t);
  CHECK(std::count(tt.begin(), tt.end(), '\n') == 41);
}

// check_schema() validates a sequence's ops and a trace's events with hand-written code
// (valijson is too slow for a million ops). Here it must report exactly what valijson alone
// reports (check_schema_reference), problem for problem, over valid documents and
// thousands of seeded mutations of them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <limits>

#include <nlohmann/json.hpp>

#include "generate.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/format/schema_check.hpp"

using namespace gpuinit;
using nlohmann::json;

namespace {

constexpr int kCases = 4000;

std::string difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  std::string s;
  for (const auto& x : only_a) s += "  only hand-written: " + x + "\n";
  for (const auto& x : only_b) s += "  only valijson:     " + x + "\n";
  return s;
}

std::vector<std::string> sorted(const std::vector<Problem>& ps) {
  std::vector<std::string> v;
  for (const auto& p : ps) v.push_back(p.str());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

const json& pool() {
  static const json p = json::array({
      -1, 0, 1, 5, 6, 8, 16, 24, 64, 65535, 65536, 8.0, 1.5, -0.5,
      std::numeric_limits<std::uint64_t>::max(), std::uint64_t{1} << 63, std::numeric_limits<std::int64_t>::min(),
      4294967295u, 4294967296u, "x", "", "WRITE", "RMW", "READ", "POLL", "DELAY", "END", "write", "mmio", "io",
      "vga_io", "config", "named", "Ref PLL", "ref_pll", "a_very_long_space_name_that_goes_past_the_sixty_four_character_limit",
      "c000:1a2b", "C000:1A2B", "c000-1a2b", "fail", "continue", "r", "w", "int15_86", "INT15", true, false, nullptr,
      json::array(), json::array({1, 2}), json::array({1, 2, 3}), json::array({json::array({1, 2}), 3}),
      json::object(), json{{"mask", 1}, {"value", 1}}, json{{"mask", 1}}, json{{"mask", -1}, {"value", "x"}},
      json{{"rom_offset", -1}}, json{{"seq", json::array({json::array({1, 2}), 3})}}, json{{"seq", json::array({json::array({1})})}},
      json{{"cs_ip", "zzzz:0000"}}, json{{"seq", 5}}, json{{"bogus", 1}}, json{{"rom_offset", 4294967296u}}});
  return p;
}

const std::vector<std::string>& op_keys() {
  static const std::vector<std::string> k = {"op", "space", "bar", "offset", "width", "value", "mask", "expect",
                                             "interval_us", "timeout_us", "on_timeout", "us", "src", "comment", "bogus"};
  return k;
}
const std::vector<std::string>& event_keys() {
  static const std::vector<std::string> k = {"seq", "t_ns", "space", "bar", "offset", "width", "dir", "value",
                                             "loop_exit", "service", "wait_ns", "cs_ip", "icount", "op", "rom_offset",
                                             "bogus"};
  return k;
}

json mutate(gen::Rng& r, json v, const std::vector<std::string>& keys) {
  const auto n = 1 + gen::below(r, 3);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto& p = pool();
    switch (gen::below(r, 6)) {
      case 0:
      case 1:
      case 2:
        if (v.is_object()) v[keys[gen::below(r, keys.size())]] = p[gen::below(r, p.size())];
        break;
      case 3:
        if (v.is_object() && !v.empty()) {
          auto it = v.begin();
          std::advance(it, static_cast<long>(gen::below(r, v.size())));
          v.erase(it);
        }
        break;
      case 4:
        if (gen::below(r, 8) == 0) v = p[gen::below(r, p.size())];
        break;
      default:
        if (v.is_object()) v[keys[gen::below(r, keys.size())]].swap(v[keys[gen::below(r, keys.size())]]);
        break;
    }
    if (v.is_object())  // erase the nulls a swap with a missing key leaves behind, sometimes
      for (auto it = v.begin(); it != v.end();)
        it = it->is_null() && gen::coin(r) ? v.erase(it) : std::next(it);
  }
  return v;
}

}  // namespace

TEST_CASE("ops: hand-written check == valijson over valid and mutated ops") {
  gen::Rng rng(0xe0e0001);
  std::size_t invalid = 0;
  for (int i = 0; i < kCases; ++i) {
    const InitSequence s = gen::sequence(rng, 3);
    json doc = s;
    for (auto& op : doc["init_sequence"])
      if (gen::below(rng, 3)) op = mutate(rng, op, op_keys());
    const auto fast = check_schema(SchemaId::sequence, doc);
    const auto ref = check_schema_reference(SchemaId::sequence, doc);
    INFO(doc["init_sequence"].dump());
    INFO(difference(sorted(fast), sorted(ref)));
    REQUIRE(sorted(fast) == sorted(ref));
    invalid += !ref.empty();
  }
  // The mutations must actually produce invalid documents, and not only invalid ones.
  CHECK(invalid > kCases / 4);
  CHECK(invalid < kCases);
}

TEST_CASE("events: hand-written check == valijson over valid and mutated events") {
  gen::Rng rng(0xe0e0002);
  std::size_t invalid = 0;
  for (int i = 0; i < kCases; ++i) {
    const Trace t = gen::trace(rng, 1);
    json ev = t.events[0];
    if (gen::below(rng, 4)) ev = mutate(rng, ev, event_keys());
    const auto fast = check_schema(SchemaId::trace_event, ev);
    const auto ref = check_schema_reference(SchemaId::trace_event, ev);
    INFO(ev.dump());
    INFO(difference(sorted(fast), sorted(ref)));
    REQUIRE(sorted(fast) == sorted(ref));
    invalid += !ref.empty();
  }
  CHECK(invalid > kCases / 4);
  CHECK(invalid < kCases);
}

TEST_CASE("messages name the pointer, the value and the rule") {
  json doc = json::parse(write_sequence(gen::sequence(*std::make_unique<gen::Rng>(1), 13)));
  doc["init_sequence"][12] = {{"op", "WRITE"}, {"space", "config"}, {"offset", 0}, {"width", 24}, {"value", 1}};
  for (const auto& ps : {check_schema(SchemaId::sequence, doc), check_schema_reference(SchemaId::sequence, doc)}) {
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].str() == "/init_sequence/12/width: 24 is not one of [8,16,32,64]");
  }
}

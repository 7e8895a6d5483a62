#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "gpuinit/replay/diff.hpp"
#include "gpuinit/replay/engine.hpp"
#include "fixtures.hpp"

using namespace gpuinit;
using namespace gpuinit::replay;
using namespace gpuinit::test;

namespace {

// Length of a longest common subsequence, by the textbook table (small inputs only).
std::size_t lcs(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  std::vector<std::vector<std::size_t>> t(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j)
      t[i][j] = a[i - 1] == b[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t[a.size()][b.size()];
}

// Every index of each side exactly once and in order; matches only of equal keys.
std::size_t check_alignment(const std::vector<AlignPair>& al, const std::vector<std::uint64_t>& a,
                            const std::vector<std::uint64_t>& b) {
  std::int64_t na = 0, nb = 0;
  std::size_t matches = 0;
  for (const auto& p : al) {
    REQUIRE((p.a >= 0 || p.b >= 0));
    if (p.a >= 0) REQUIRE(p.a == na++);
    if (p.b >= 0) REQUIRE(p.b == nb++);
    if (p.a >= 0 && p.b >= 0) {
      REQUIRE(a[std::size_t(p.a)] == b[std::size_t(p.b)]);
      ++matches;
    }
  }
  REQUIRE(std::size_t(na) == a.size());
  REQUIRE(std::size_t(nb) == b.size());
  return matches;
}

Trace trace_of(std::vector<TraceEvent> evs) {
  Trace t;
  t.header.source = "test";
  for (std::size_t i = 0; i < evs.size(); ++i) evs[i].seq = i;
  t.events = std::move(evs);
  return t;
}

}  // namespace

TEST_CASE("alignment finds an insertion and a deletion") {
  const std::vector<std::uint64_t> a{1, 2, 3, 4, 5};
  const std::vector<std::uint64_t> b{1, 2, 9, 3, 5, 6};
  bool exact = false;
  const auto al = align(a, b, kDefaultDiffWork, &exact);
  CHECK(exact);
  const std::vector<AlignPair> want{{0, 0}, {1, 1}, {-1, 2}, {2, 3}, {3, -1}, {4, 4}, {-1, 5}};
  CHECK(al == want);
}

TEST_CASE("alignment is a longest common subsequence (random inputs against the table)") {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 400; ++round) {
    const std::size_t n = rng() % 40, m = rng() % 40;
    const std::uint64_t alphabet = 1 + rng() % 5;
    std::vector<std::uint64_t> a(n), b(m);
    for (auto& x : a) x = rng() % alphabet;
    for (auto& x : b) x = rng() % alphabet;
    bool exact = false;
    const auto al = align(a, b, kDefaultDiffWork, &exact);
    CHECK(exact);
    CHECK(check_alignment(al, a, b) == lcs(a, b));
  }
}

TEST_CASE("over its work budget the alignment falls back to positions and says so") {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> a(5000), b(5000);
  for (auto& x : a) x = rng() % 50;
  for (auto& x : b) x = rng() % 50;
  bool exact = true;
  const auto al = align(a, b, 10'000, &exact);
  CHECK_FALSE(exact);
  check_alignment(al, a, b);
}

TEST_CASE("near-identical long inputs align in linear time") {
  std::vector<std::uint64_t> a(2'000'000);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = i * 2654435761u;
  std::vector<std::uint64_t> b = a;
  b.erase(b.begin() + 1'000'000);
  b.insert(b.begin() + 1'500'000, 42);
  bool exact = false;
  const auto al = align(a, b, 50'000'000, &exact);
  CHECK(exact);
  CHECK(check_alignment(al, a, b) == a.size() - 1);
}

TEST_CASE("trace diff: an inserted event is the first divergence - the rest aligns") {
  const Trace a = trace_of({ev(0, Dir::write, 0x0, 1), ev(0, Dir::write, 0x4, 2), ev(0, Dir::write, 0x8, 3),
                            ev(0, Dir::write, 0xC, 4)});
  Trace b = trace_of({ev(0, Dir::write, 0x0, 1), ev(0, Dir::write, 0x4, 2), ev(0, Dir::read, 0x10, 7),
                      ev(0, Dir::write, 0x8, 3), ev(0, Dir::write, 0xC, 4)});
  DiffOptions o;
  o.ignore_timing = true;  // the inserted event shifts every later t_ns
  const DiffResult r = diff(view(a), view(b), o);
  CHECK(r.mode == DiffMode::traces);
  CHECK_FALSE(r.equal());
  REQUIRE(r.first);
  CHECK(r.first->kind == DiffKind::only_b);
  CHECK(r.first->index_b == 2u);
  CHECK_THAT(r.first->b, Catch::Contains("r mmio bar0+0x10"));
  CHECK_THAT(r.first->a, Catch::Contains("next: event 2"));
  CHECK(r.context.size() == 2);
  CHECK(r.only_a == 0);
  CHECK(r.only_b == 1);
  CHECK(r.matched == 4);
  CHECK(r.value_diffs == 0);
  REQUIRE(r.state.size() == 1);  // the read location exists only in B
  CHECK_FALSE(r.state[0].a);
  CHECK(r.state[0].b == 7u);
}

TEST_CASE("trace diff: a deleted event and a changed value") {
  const Trace a = trace_of({ev(0, Dir::write, 0x0, 1), ev(1, Dir::write, 0x4, 2), ev(2, Dir::write, 0x8, 3),
                            ev(3, Dir::write, 0xC, 4)});
  const Trace b = trace_of({ev(0, Dir::write, 0x0, 1), ev(1, Dir::write, 0x8, 3), ev(2, Dir::write, 0xC, 5)});
  DiffOptions o;
  o.ignore_timing = true;
  const DiffResult r = diff(view(a), view(b), o);
  REQUIRE(r.first);
  CHECK(r.first->kind == DiffKind::only_a);
  CHECK(r.first->index_a == 1u);
  CHECK(r.only_a == 1);
  CHECK(r.value_diffs == 1);
  REQUIRE(r.differences.size() == 2);
  CHECK(r.differences[1].kind == DiffKind::value);
  CHECK(r.differences[1].index_a == 3u);
  CHECK(r.differences[1].index_b == 2u);
  CHECK(r.differences[1].detail == "value 0x4 != 0x5");
  // Final state: 0x4 only in A, 0xC differs.
  REQUIRE(r.state.size() == 2);
  CHECK(r.state[0].location == "mmio bar0+0x4 w32");
  CHECK(r.state[1].a == 4u);
  CHECK(r.state[1].b == 5u);
}

TEST_CASE("trace diff options: timing - read values - spaces and ports") {
  Trace a = trace_of({ev(0, Dir::write, 0x0, 1), ev(1, Dir::read, 0x4, 2), ev(2, Dir::write, 0x80, 0, Space::port)});
  Trace b = a;
  b.events[0].t_ns += 5;
  b.events[1].value = 3;
  b.events[2].value = 0x55;
  {
    const DiffResult r = diff(view(a), view(b));
    REQUIRE(r.first);
    CHECK(r.first->kind == DiffKind::timing);
    CHECK(r.first->detail == "t_ns 0 != 5");
    CHECK(r.value_diffs == 2);
  }
  DiffOptions o;
  o.ignore_timing = true;
  o.ignore_reads = true;
  {
    const DiffResult r = diff(view(a), view(b), o);
    CHECK(r.value_diffs == 1);
    CHECK(r.first->index_a == 2u);
  }
  o.ignore_ports = {0x80};
  CHECK(diff(view(a), view(b), o).equal());
  o.ignore_ports.clear();
  o.ignore_spaces = {"port"};
  CHECK(diff(view(a), view(b), o).equal());
}

TEST_CASE("a corrupted sequence (one value changed) is reported at that op first") {
  const InitSequence good = seq_of({write_op(0x0, 1), write_op(0x4, 2), rmw_op(0x8, 0xF0, 0x30),
                                    poll_op(0xC, 1, 1, 10, 100), delay_op(5), write_op(0x10, 0x77), end_op()});
  InitSequence bad = good;
  bad.ops[5].value = 0x78;
  RegisterMap map;
  Register reg;
  reg.name = "PLL_CTRL";
  reg.offset = 0x10;
  map.registers.push_back(reg);
  const RegisterNamer namer(map);
  DiffOptions o;
  o.namer = &namer;
  const DiffResult r = diff(view(good), view(bad), o);
  CHECK(r.mode == DiffMode::sequences);
  REQUIRE(r.first);
  CHECK(r.first->kind == DiffKind::value);
  CHECK(r.first->index_a == 5u);
  CHECK(r.first->index_b == 5u);
  CHECK(r.first->register_name == "PLL_CTRL");
  CHECK(r.first->detail == "value 0x77 != 0x78");
  CHECK(r.value_diffs == 1);
  REQUIRE(r.state.size() == 1);
  CHECK(r.state[0].register_name == "PLL_CTRL");
  const std::string text = diff_text(r, "good.json", "bad.json");
  CHECK_THAT(text, Catch::Contains("first divergence (value 0x77 != 0x78)") && Catch::Contains("op 5: WRITE") &&
                       Catch::Contains("(PLL_CTRL)"));
  const auto j = nlohmann::json::parse(diff_json(r, "good.json", "bad.json"));
  CHECK(j.at("equal") == false);
  CHECK(j.at("first").at("index_a") == 5);
  CHECK(j.at("summary").at("value_differences") == 1);
  CHECK(diff(view(good), view(good)).equal());
}

TEST_CASE("a replay trace matches its sequence's writes and a corrupted sequence does not") {
  const InitSequence seq = seq_of({write_op(0x0, 0xFF00), rmw_op(0x0, 0x00F0, 0x0050), read_op(0x4),
                                   delay_op(10), write_op(0x8, 3), end_op()});
  auto t = status_target(0);
  Trace trace;
  REQUIRE(run_sequence(seq, *t, {}, &trace).ok());
  const DiffResult same = diff(view(trace), view(seq));
  CHECK(same.mode == DiffMode::writes);
  CHECK(same.equal());
  CHECK(same.items_a == 3);  // writes only: WRITE, RMW's write, WRITE
  InitSequence bad = seq;
  bad.ops[1].value = 0x0060;
  const DiffResult r = diff(view(trace), view(bad));
  REQUIRE(r.first);
  CHECK(r.first->index_b == 1u);
  CHECK(r.first->index_a == 2u);  // the RMW's write event
  CHECK(r.state.size() == 1);
}

TEST_CASE("load_document tells traces from sequences and names what is wrong") {
  const auto missing = load_document("no/such/file.json");
  CHECK_FALSE(missing.ok());
  CHECK_THAT(missing.problems.at(0).message, Catch::Contains("no/such/file.json"));
}

TEST_CASE("a FILL compares as the WRITEs it makes: against its replay trace and a spelled-out sequence") {
  Op fill = write_op(0x200, 0x55, 32);
  fill.kind = OpKind::fill;
  fill.count = 6;
  const InitSequence s = seq_of({write_op(0x10, 1), fill, end_op()});
  auto t = status_target(0);
  Trace trace;
  REQUIRE(run_sequence(s, *t, {}, &trace).ok());
  REQUIRE(trace.events.size() == 7);
  CHECK(diff(view(s), view(trace)).equal());
  std::vector<Op> spelled{write_op(0x10, 1)};
  for (unsigned k = 0; k < 6; ++k) spelled.push_back(write_op(0x200 + 4 * k, 0x55));
  spelled.push_back(end_op());
  CHECK(diff(view(s), view(seq_of(spelled))).equal());
  // One store different: found at the fifth store of the FILL.
  spelled[5].value = 0x56;
  const DiffResult d = diff(view(s), view(seq_of(spelled)));
  CHECK_FALSE(d.equal());
  REQUIRE(d.first);
  CHECK(d.first->index_a == 5u);
}

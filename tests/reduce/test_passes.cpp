// One hand-built trace per rule of each pass.
#include <catch2/catch.hpp>

#include "gpuinit/format/json_io.hpp"
#include "gpuinit/reduce/reduce.hpp"

using namespace gpuinit;
namespace rd = gpuinit::reduce;

namespace {

struct TB {  // trace builder: one event per call, 1 us apart unless told
  Trace t;
  std::uint64_t now = 0;
  TB& ev(Space s, std::uint64_t off, unsigned width, bool wr, std::uint64_t v, std::uint8_t bar = 0,
         std::uint64_t dt = 1000, const char* name = "") {
    TraceEvent e;
    e.seq = t.events.size();
    e.t_ns = now;
    e.space = s;
    e.space_name = name;
    e.bar = bar;
    e.offset = off;
    e.width = std::uint8_t(width);
    e.dir = wr ? Dir::write : Dir::read;
    e.value = v;
    t.events.push_back(e);
    now += dt;
    return *this;
  }
  TB& w(Space s, std::uint64_t off, std::uint64_t v, unsigned width = 8) { return ev(s, off, width, true, v); }
  TB& r(Space s, std::uint64_t off, std::uint64_t v, unsigned width = 8) { return ev(s, off, width, false, v); }
  TB& svc(const char* name, std::uint64_t wait) {
    TraceEvent e;
    e.seq = t.events.size();
    e.t_ns = now;
    e.kind = EventKind::service;
    e.service = name;
    e.wait_ns = wait;
    t.events.push_back(e);
    now += wait;
    return *this;
  }
};

rd::Result run(const Trace& t, const RegisterMap* map = nullptr) {
  rd::Options o;
  o.map = map;
  return rd::reduce_trace(t, o);
}

// The ops without END.
std::vector<Op> body(const rd::Result& r) {
  auto v = r.sequence.ops;
  REQUIRE(!v.empty());
  REQUIRE(v.back().kind == OpKind::end);
  v.pop_back();
  return v;
}

RegisterMap small_map() {
  RegisterMap m;
  m.name = "test";
  auto reg = [&](const char* n, std::uint64_t off, bool side, bool sens) {
    Register r;
    r.name = n;
    r.space = Space::mmio;
    r.offset = off;
    r.width = 32;
    r.write_side_effect = side;
    r.read_sensitive = sens;
    m.registers.push_back(r);
  };
  reg("QUIET", 0x10, false, false);
  reg("GO", 0x14, true, false);
  reg("FIFO", 0x18, false, true);
  IndexedSpace s;
  s.name = "pll";
  s.index = {Space::io, 1, 0x10, 8};
  s.data = {Space::io, 1, 0x14, 32};
  m.indexed_spaces.push_back(s);
  return m;
}

}  // namespace

// ---- pass 1 --------------------------------------------------------------------------

TEST_CASE("normalise: debug-port text becomes a comment, not an op") {
  TB b;
  b.w(Space::port, 0x402, 'o').w(Space::port, 0x402, 'k').w(Space::mmio, 0x10, 1, 32);
  const auto r = run(b.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == OpKind::write);
  CHECK(ops[0].comment == "debug: ok");
  CHECK(r.stats.debug_annotations == 2);
}

TEST_CASE("normalise: a VGA port recorded as a plain port moves to vga_io") {
  TB b;
  b.w(Space::port, 0x3C2, 0x67);
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].space == Space::vga_io);
  CHECK(ops[0].offset == 0x3C2);
}

TEST_CASE("normalise: services other than waits are dropped and counted") {
  TB b;
  b.svc("int1a_b101", 0).w(Space::mmio, 0, 1, 32);
  const auto r = run(b.t);
  CHECK(body(r).size() == 1);
  CHECK(r.stats.other_services == 1);
}

// ---- pass 2 --------------------------------------------------------------------------

TEST_CASE("fold: sequencer index/data pair and a 16-bit OUT become vga_seq writes") {
  TB b;
  b.w(Space::vga_io, 0x3C4, 1).w(Space::vga_io, 0x3C5, 0x21).w(Space::vga_io, 0x3C4, 0x0302, 16);
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 2);
  CHECK((ops[0].space == Space::vga_seq && ops[0].offset == 1 && ops[0].value == 0x21));
  CHECK(ops[0].src.seq == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 1}});
  CHECK((ops[1].space == Space::vga_seq && ops[1].offset == 2 && ops[1].value == 3));
}

TEST_CASE("fold: CRTC folds only where misc output decodes the port") {
  TB b;
  b.w(Space::vga_io, 0x3D4, 1).w(Space::vga_io, 0x3D5, 5);   // misc unknown: raw
  b.w(Space::vga_io, 0x3C2, 0x67);                           // colour
  b.w(Space::vga_io, 0x3D4, 2).w(Space::vga_io, 0x3D5, 6);   // folded
  b.w(Space::vga_io, 0x3B4, 3).w(Space::vga_io, 0x3B5, 7);   // mono port, not decoded: raw
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 6);
  CHECK((ops[0].space == Space::vga_io && ops[0].offset == 0x3D4));
  CHECK((ops[1].space == Space::vga_io && ops[1].offset == 0x3D5));
  CHECK((ops[3].space == Space::vga_crtc && ops[3].offset == 2 && ops[3].value == 6));
  CHECK((ops[4].space == Space::vga_io && ops[4].offset == 0x3B4));
}

TEST_CASE("fold: attribute pairs fold; a lone index write keeps its flip-flop reset") {
  TB b;
  b.w(Space::vga_io, 0x3C2, 0x67);
  b.r(Space::vga_io, 0x3DA, 0).w(Space::vga_io, 0x3C0, 0x10).w(Space::vga_io, 0x3C0, 0x41);
  b.r(Space::vga_io, 0x3DA, 0).w(Space::vga_io, 0x3C0, 0x20);
  const auto r = run(b.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 4);
  CHECK((ops[1].space == Space::vga_attr && ops[1].offset == 0x10 && ops[1].value == 0x41));
  CHECK((ops[2].kind == OpKind::read && ops[2].offset == 0x3DA));
  CHECK((ops[3].kind == OpKind::write && ops[3].offset == 0x3C0 && ops[3].value == 0x20));
}

TEST_CASE("fold: DAC triples become vga_dac bytes; an incomplete triple is never stored") {
  TB b;
  b.w(Space::vga_io, 0x3C8, 2).w(Space::vga_io, 0x3C9, 10).w(Space::vga_io, 0x3C9, 20).w(Space::vga_io, 0x3C9, 30);
  b.w(Space::vga_io, 0x3C9, 40);  // incomplete
  b.w(Space::vga_io, 0x3C8, 9);
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(ops[std::size_t(i)].space == Space::vga_dac);
    CHECK(ops[std::size_t(i)].offset == std::uint64_t(6 + i));
    CHECK(ops[std::size_t(i)].value == std::uint64_t(10 * (i + 1)));
  }
}

TEST_CASE("fold: the card's own index/data pair from its register map") {
  const auto map = small_map();
  TB b;
  b.ev(Space::io, 0x10, 8, true, 5, 1).ev(Space::io, 0x14, 32, true, 0x1234, 1);
  const auto ops = body(run(b.t, &map));
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].space == Space::named);
  CHECK(ops[0].space_name == "pll");
  CHECK(ops[0].offset == 5);
  CHECK(ops[0].width == 32);
  // Without the map the pair stays raw.
  CHECK(body(run(b.t)).size() == 2);
}

// ---- pass 3 --------------------------------------------------------------------------

TEST_CASE("poll: identical reads ending in a change become POLL") {
  TB b;
  for (int i = 0; i < 5; ++i) b.r(Space::mmio, 0x20, 0x4, 32);  // 1 us apart
  b.r(Space::mmio, 0x20, 0x5, 32);
  const auto r = run(b.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 1);
  const Op& p = ops[0];
  CHECK(p.kind == OpKind::poll);
  CHECK(p.mask == 1);
  CHECK(p.value == 1);
  CHECK(p.interval_us == 1);
  CHECK(p.timeout_us == std::max<std::uint64_t>(rd::kPollTimeoutFloorUs, rd::kPollTimeoutFactor * 5));
  CHECK(p.src.seq == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 5}});
  CHECK(r.stats.poll_reads == 6);
}

TEST_CASE("poll: the timeout is a multiple of a long observed wait") {
  TB b;
  b.ev(Space::mmio, 0x20, 32, false, 0, 0, 500'000).ev(Space::mmio, 0x20, 32, false, 0, 0, 500'000);
  b.r(Space::mmio, 0x20, 0x80, 32);
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].timeout_us == rd::kPollTimeoutFactor * 1000);
  CHECK(ops[0].interval_us == 500);
}

TEST_CASE("poll: one spin is enough when the changing read ended a loop") {
  TB b;
  b.r(Space::mmio, 0x20, 0, 32).r(Space::mmio, 0x20, 2, 32);
  CHECK(body(run(b.t)).empty());  // two reads, no loop_exit: no POLL, reads dropped
  b.t.events.back().loop_exit = true;
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == OpKind::poll);
  CHECK(ops[0].mask == 2);
}

TEST_CASE("poll: never over a read-sensitive register") {
  const auto map = small_map();
  TB b;
  for (int i = 0; i < 4; ++i) b.r(Space::mmio, 0x18, 0, 32);
  b.r(Space::mmio, 0x18, 1, 32);
  const auto ops = body(run(b.t, &map));
  REQUIRE(ops.size() == 5);
  for (const auto& o : ops) CHECK(o.kind == OpKind::read);
}

TEST_CASE("poll: waits between the reads of a poll are its interval, not DELAYs") {
  // The vendor pattern: read STATUS, not ready, INT 15h/86h 10 us, read again, ...
  TB b;
  for (int i = 0; i < 4; ++i) b.r(Space::mmio, 0x20, 0x0, 32).svc("int15_86", 10'000);
  b.r(Space::mmio, 0x20, 0x1, 32);
  b.w(Space::mmio, 0x24, 7, 32);
  const auto r = run(b.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].kind == OpKind::poll);
  CHECK(ops[0].mask == 1);
  CHECK(ops[0].value == 1);
  CHECK(ops[0].interval_us == 11);  // 10 us wait + 1 us per read, as observed
  CHECK(ops[0].src.seq == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 8}});
  CHECK(ops[1].kind == OpKind::write);
  CHECK(r.stats.delays_added == 0);
  CHECK(r.stats.wait_services == 4);
}

TEST_CASE("poll: waits after reads that do not become a poll stay DELAYs") {
  TB b;
  b.r(Space::mmio, 0x20, 0x0, 32).svc("int15_86", 10'000).r(Space::mmio, 0x28, 0x5, 32);
  b.w(Space::mmio, 0x24, 7, 32);
  const auto r = run(b.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].kind == OpKind::delay);
  CHECK(ops[0].us == 10);
  CHECK(ops[1].kind == OpKind::write);
}

// ---- pass 4 --------------------------------------------------------------------------

TEST_CASE("delay: a PIT loop and an INT 15h wait become one DELAY of the virtual time") {
  TB b;
  b.w(Space::mmio, 0, 1, 32);
  b.ev(Space::port, 0x43, 8, true, 0, 0, 10'000);
  for (int i = 0; i < 10; ++i) b.ev(Space::port, 0x40, 8, false, std::uint64_t(100 - i), 0, 10'000);
  b.svc("int15_86", 2'000'000);
  b.w(Space::mmio, 0, 2, 32);
  const auto r = run(b.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 3);
  CHECK(ops[1].kind == OpKind::delay);
  CHECK(ops[1].us == 110 + 2000);  // from the 0x43 write to the end of the wait
  CHECK(r.stats.timer_accesses == 11);
  CHECK(r.stats.wait_services == 1);
}

TEST_CASE("delay: timer accesses with no time passing make no DELAY") {
  TB b;
  b.ev(Space::port, 0x43, 8, true, 0x36, 0, 0).ev(Space::port, 0x40, 8, true, 0, 0, 0);
  b.w(Space::mmio, 0, 2, 32);
  const auto ops = body(run(b.t));
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == OpKind::write);
}

// ---- pass 5 --------------------------------------------------------------------------

TEST_CASE("dead writes: only where the map says the register has no side effect") {
  const auto map = small_map();
  TB b;
  b.w(Space::mmio, 0x10, 1, 32).w(Space::mmio, 0x10, 2, 32);  // QUIET: first is dead
  b.w(Space::mmio, 0x14, 1, 32).w(Space::mmio, 0x14, 2, 32);  // GO: both kept
  b.w(Space::mmio, 0x30, 1, 32).w(Space::mmio, 0x30, 2, 32);  // unknown: both kept
  const auto with = run(b.t, &map);
  CHECK(body(with).size() == 5);
  CHECK(with.stats.dead_writes == 1);
  CHECK(body(run(b.t)).size() == 6);  // no map: nothing is known, nothing dropped
}

TEST_CASE("dead writes: a side effect, a delay or a kept read in between keeps the write") {
  const auto map = small_map();
  for (int barrier = 0; barrier < 3; ++barrier) {
    TB b;
    b.w(Space::mmio, 0x10, 1, 32);
    if (barrier == 0) b.w(Space::mmio, 0x14, 1, 32);
    if (barrier == 1) b.svc("int15_86", 5000);
    if (barrier == 2) b.r(Space::mmio, 0x18, 0, 32).w(Space::mmio, 0x18, 0, 32);  // FIFO, then unrelated
    b.w(Space::mmio, 0x10, 2, 32);
    const auto r = run(b.t, &map);
    INFO("barrier " << barrier);
    CHECK(r.stats.dead_writes == (barrier == 2 ? 1u : 0u));
  }
}

// ---- pass 6 --------------------------------------------------------------------------

TEST_CASE("rmw: read then write of the same register changing some bits") {
  TB b;
  b.r(Space::mmio, 0x30, 0x5, 32).w(Space::mmio, 0x30, 0x7, 32);
  auto ops = body(run(b.t));
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == OpKind::rmw);
  CHECK(ops[0].mask == 0x2);
  CHECK(ops[0].value == 0x2);
  CHECK(ops[0].src.seq == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 1}});
  // Writing back what was read stays a WRITE; legacy ports never merge.
  TB c;
  c.r(Space::mmio, 0x30, 0x5, 32).w(Space::mmio, 0x30, 0x5, 32);
  c.r(Space::vga_io, 0x3CC, 0x67).w(Space::vga_io, 0x3C2, 0x66);
  ops = body(run(c.t));
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].kind == OpKind::write);
  CHECK(ops[1].kind == OpKind::write);
}

// ---- pass 7 --------------------------------------------------------------------------

TEST_CASE("reads: dropped unless the map marks the register read-sensitive") {
  const auto map = small_map();
  TB b;
  b.r(Space::mmio, 0x10, 3, 32).r(Space::mmio, 0x18, 4, 32);
  const auto r = run(b.t, &map);
  const auto ops = body(r);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].offset == 0x18);
  CHECK(r.stats.reads_dropped == 1);
}

// ---- whole ---------------------------------------------------------------------------

TEST_CASE("statistics read like the seed demo") {
  rd::Stats s;
  s.events_in = 47;
  s.ops_out = 23;
  s.dead_writes = 12;
  s.delays_added = 3;
  s.polls_added = 1;
  const auto text = rd::format_stats(s);
  CHECK(text.rfind("Reduced 47 ops to 23 ops\nRemoved 12 duplicate writes\nDetected 3 delay points\n"
                   "Added 1 POLL operation\n",
                   0) == 0);
}

TEST_CASE("metadata, device and END, and the output loads") {
  TB b;
  b.w(Space::mmio, 0, 1, 32);
  b.t.header.rom_sha256 = std::string(64, 'a');
  DeviceInfo d;
  d.vendor = 0x1234;
  b.t.header.device = d;
  const auto r = run(b.t);
  CHECK(r.sequence.metadata.source_rom_sha256 == std::string(64, 'a'));
  CHECK(r.sequence.device.vendor == 0x1234);
  CHECK(r.sequence.metadata.counters.at("raw_events") == 1);
  CHECK(!r.sequence.metadata.pipeline_version.empty());
  CHECK(load_sequence(write_sequence(r.sequence)).ok());
}

TEST_CASE("explain prints each op with its raw lines") {
  TB b;
  b.w(Space::vga_io, 0x3C4, 1).w(Space::vga_io, 0x3C5, 0x21);
  const auto r = run(b.t);
  const auto text = rd::explain(r.sequence, b.t);
  CHECK(text.find("WRITE vga_seq[0x1] /8 = 0x21") != std::string::npos);
  CHECK(text.find("\"offset\":964") != std::string::npos);
  CHECK(text.find("\"offset\":965") != std::string::npos);
}

TEST_CASE("a hand trace reduces idempotently") {
  const auto map = small_map();
  TB b;
  b.w(Space::port, 0x402, 'x').w(Space::mmio, 0x10, 1, 32).w(Space::mmio, 0x10, 2, 32);
  b.r(Space::mmio, 0x30, 1, 32).r(Space::mmio, 0x40, 1, 32).w(Space::mmio, 0x30, 3, 32);
  b.r(Space::vga_io, 0x3DA, 0).w(Space::vga_io, 0x3C0, 0x20).svc("int15_86", 1000);
  rd::Options o;
  o.map = &map;
  const auto r1 = rd::reduce_trace(b.t, o);
  const auto r2 = rd::reduce_sequence(r1.sequence, o);
  CHECK(r2.sequence == r1.sequence);
}

TEST_CASE("output: runs of one value to consecutive memory locations become FILL ops") {
  TB tb;
  for (unsigned i = 0; i < 100; ++i) tb.w(Space::vga_mem, 0x8000 + 2 * i, 0x0720, 16);  // a text-screen clear
  for (unsigned i = 0; i < 7; ++i) tb.w(Space::vga_mem, 0x100 + i, 0);                    // too short: 7 WRITEs
  for (unsigned i = 0; i < 10; ++i) tb.w(Space::vga_mem, 0x200 + 2 * i, 0xAA);            // a gap: no run
  for (unsigned i = 0; i < 9; ++i) tb.w(Space::vga_mem, 0x400 + i, i == 8 ? 1 : 0);       // 8 of one value
  for (unsigned i = 0; i < 12; ++i) tb.ev(Space::io, 0x10 + i, 8, true, 0, 1);             // I/O: not memory
  const auto r = run(tb.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 1 + 7 + 10 + 1 + 1 + 12);
  CHECK(ops[0].kind == OpKind::fill);
  CHECK(ops[0].space == Space::vga_mem);
  CHECK(ops[0].offset == 0x8000);
  CHECK(ops[0].width == 16);
  CHECK(ops[0].value == 0x0720);
  CHECK(ops[0].count == 100);
  REQUIRE(ops[0].src.seq.size() == 1);
  CHECK(ops[0].src.seq[0] == std::pair<std::uint64_t, std::uint64_t>{0, 99});
  for (unsigned i = 1; i <= 17; ++i) CHECK(ops[i].kind == OpKind::write);
  CHECK(ops[18].kind == OpKind::fill);
  CHECK(ops[18].count == 8);
  CHECK(ops[19].kind == OpKind::write);
  CHECK(ops[19].value == 1);
  for (unsigned i = 20; i < 32; ++i) CHECK(ops[i].kind == OpKind::write);
  CHECK(r.stats.fills_added == 2);
  CHECK(r.stats.fill_writes == 108);
  CHECK(r.sequence.metadata.counters.at("reduce.fill_writes") == 108);
  // Written as 1.1 (FILL), read back equal; reduced again it gives the same ops.
  const std::string text = write_sequence(r.sequence);
  CHECK(text.find("\"schema_version\": \"1.1\"") != std::string::npos);
  const auto back = load_sequence(text);
  REQUIRE(back.ok());
  CHECK(back.value->ops == r.sequence.ops);
  const auto again = rd::reduce_sequence(*back.value, rd::Options{});
  REQUIRE(again.sequence.ops.size() == r.sequence.ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    CHECK(again.sequence.ops[i].kind == r.sequence.ops[i].kind);
    CHECK(again.sequence.ops[i].offset == r.sequence.ops[i].offset);
    CHECK(again.sequence.ops[i].count == r.sequence.ops[i].count);
  }
  // Without a FILL the sequence is written as 1.0.
  TB plain;
  plain.w(Space::vga_mem, 0, 1);
  CHECK(write_sequence(run(plain.t).sequence).find("\"schema_version\": \"1.0\"") != std::string::npos);
}

TEST_CASE("normalise: an unaligned memory access becomes its bytes so the sequence stays valid") {
  TB tb;
  tb.ev(Space::mmio, 0x43, 32, true, 0x44332211, 2);
  tb.ev(Space::mmio, 0x40, 32, true, 0xAABBCCDD, 2);  // aligned: as it is
  const auto r = run(tb.t);
  const auto ops = body(r);
  REQUIRE(ops.size() == 5);
  for (unsigned i = 0; i < 4; ++i) {
    CHECK(ops[i].kind == OpKind::write);
    CHECK(ops[i].width == 8);
    CHECK(ops[i].offset == 0x43 + i);
    CHECK(ops[i].value == 0x11 * (i + 1));
  }
  CHECK(ops[4].width == 32);
  CHECK(r.stats.split_accesses == 1);
  CHECK(load_sequence(write_sequence(r.sequence)).ok());
}

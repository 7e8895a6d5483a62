// VRAM windows of the generic model and the spin-breaking decorator.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/spin_breaker.hpp"

using namespace gpuinit;

namespace {
Access acc(Space s, std::uint64_t off, std::uint8_t w, std::uint8_t bar = 0) {
  Access a;
  a.space = s;
  a.offset = off;
  a.width = w;
  a.bar = bar;
  return a;
}
GenericOptions vram16() {
  GenericOptions o;
  o.vram = {{Space::mmio, 0, 16u << 20}, {Space::vga_mem, 0, 0x20000}};
  return o;
}
}  // namespace

TEST_CASE("vram: a memory-size probe reads back its pattern up to the BAR's size") {
  GenericModel m(vram16());
  for (std::uint64_t mib = 1; mib < 16; ++mib) m.write(acc(Space::mmio, (mib << 20) - 4, 32, 0), 0xA5A50000 | mib, 0);
  for (std::uint64_t mib = 1; mib < 16; ++mib) CHECK(m.read(acc(Space::mmio, (mib << 20) - 4, 32, 0), 0) == (0xA5A50000 | mib));
  CHECK(m.stats().vram_writes == 15);
  CHECK(m.stats().vram_reads == 15);
  CHECK(m.stats().vram_pages == 15);
  CHECK(m.stats().unknown_reads == 0);
}

TEST_CASE("vram: an access crossing a page boundary keeps every byte") {
  GenericModel m(vram16());
  m.write(acc(Space::mmio, kVramPageBytes - 2, 32, 0), 0x11223344, 0);
  CHECK(m.read(acc(Space::mmio, kVramPageBytes - 2, 32, 0), 0) == 0x11223344u);
  CHECK(m.read(acc(Space::mmio, kVramPageBytes, 16, 0), 0) == 0x1122u);
  CHECK(m.stats().vram_pages == 2);
}

TEST_CASE("vram: the legacy window reads back and never-written VRAM reads the fill") {
  GenericOptions o = vram16();
  o.fill = 0xFF;
  GenericModel m(o);
  m.write(acc(Space::vga_mem, 0x18000, 16), 0x0741, 0);  // a character cell in B8000
  CHECK(m.read(acc(Space::vga_mem, 0x18000, 16), 0) == 0x0741u);
  CHECK(m.read(acc(Space::vga_mem, 0x1FFFC, 32), 0) == 0xFFFFFFFFu);
  CHECK(m.stats().vram_pages == 1);  // the read allocated nothing
}

TEST_CASE("vram: the cap bounds the pages; writes past it are dropped and counted") {
  GenericOptions o = vram16();
  o.vram_cap = 2 * kVramPageBytes;
  GenericModel m(o);
  for (unsigned p = 0; p < 3; ++p) m.write(acc(Space::mmio, p * kVramPageBytes, 8, 0), 0x10 + p, 0);
  CHECK(m.stats().vram_pages == 2);
  CHECK(m.stats().vram_dropped_writes == 1);
  CHECK(m.read(acc(Space::mmio, 0, 8, 0), 0) == 0x10u);
  CHECK(m.read(acc(Space::mmio, 2 * kVramPageBytes, 8, 0), 0) == 0x00u);
}

TEST_CASE("vram: registers outside the windows keep the per-byte store") {
  GenericModel m(vram16());
  m.write(acc(Space::mmio, 0x10, 32, 2), 0xCAFE, 0);  // BAR2 is no VRAM window
  CHECK(m.read(acc(Space::mmio, 0x10, 32, 2), 0) == 0xCAFEu);
  CHECK(m.stats().vram_writes == 0);
}

TEST_CASE("vram: generic_options_for takes prefetchable memory BARs and the legacy window") {
  DeviceInfo d;
  d.class_code = 0x030000;
  d.bars = {{0, BarKind::mem32, 0x01000000, false}, {1, BarKind::mem64, 0x10000000, true}, {3, BarKind::io, 0x100, false}};
  const GenericOptions o = generic_options_for(d, 0xFF);
  REQUIRE(o.vram.size() == 2);
  CHECK(o.vram[0].space == Space::mmio);
  CHECK(o.vram[0].bar == 1);
  CHECK(o.vram[0].size == 0x10000000u);
  CHECK(o.vram[1].space == Space::vga_mem);
  CHECK(o.vram[1].size == 0x20000u);
  CHECK(o.fill == 0xFF);
  DeviceInfo other;
  other.class_code = 0x020000;
  CHECK(generic_options_for(other).vram.empty());
}

TEST_CASE("spin: a plain model never reports a loop exit") {
  GenericModel m;
  (void)m.read(acc(Space::vga_io, 0x3DA, 8), 0);
  CHECK_FALSE(m.take_loop_exit());
}

TEST_CASE("spin: the threshold-th identical read answers the complement, flagged once") {
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{8});
  const Access st = acc(Space::vga_io, 0x3DA, 8);
  for (int i = 0; i < 7; ++i) {
    CHECK(s.read(st, 0) == 0u);
    CHECK_FALSE(s.take_loop_exit());
  }
  CHECK(s.read(st, 0) == 0xFFu);
  CHECK(s.take_loop_exit());
  CHECK_FALSE(s.take_loop_exit());  // taking clears it
  s.write(acc(Space::vga_io, 0x3C0, 8), 0x20, 0);  // the code left the loop
  CHECK(s.stats().spins == 1);
  CHECK(s.stats().ended == 1);
  CHECK(s.stats().candidates == 1);
}

TEST_CASE("spin: when a candidate fails the next are zero then one bit flipped at a time") {
  auto inner = std::make_unique<GenericModel>();
  inner->write(acc(Space::io, 0x4, 8, 1), 0x81, 0);
  SpinBreaker s(std::move(inner), SpinOptions{4});
  const Access st = acc(Space::io, 0x4, 8, 1);
  for (int i = 0; i < 3; ++i) CHECK(s.read(st, 0) == 0x81u);
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 5; ++i) {
    got.push_back(s.read(st, 0));
    CHECK(s.take_loop_exit());
  }
  CHECK(got == std::vector<std::uint64_t>{0x7E, 0x00, 0x80, 0x83, 0x85});
}

TEST_CASE("spin: the candidate that worked is tried first next time (learning)") {
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{4});
  const Access st = acc(Space::mmio, 0x100, 32, 0);
  for (int i = 0; i < 3; ++i) (void)s.read(st, 0);
  CHECK(s.read(st, 0) == 0xFFFFFFFFu);  // candidate 0 fails
  CHECK(s.read(st, 0) == 0x0u);         // candidate 1 (zero) fails
  CHECK(s.read(st, 0) == 0x1u);         // candidate 2 ends the loop
  (void)s.read(acc(Space::mmio, 0x104, 32, 0), 0);
  CHECK(s.stats().ended == 1);
  // The location is volatile now: its reads alternate between the inner value and the
  // candidate that worked, flagged as loop exits.
  CHECK(s.read(st, 0) == 0u);
  CHECK_FALSE(s.take_loop_exit());
  CHECK(s.read(st, 0) == 0x1u);
  CHECK(s.take_loop_exit());
  CHECK(s.read(st, 0) == 0u);
  // A spin elsewhere starts at candidate 0; a spin here (inner value changed: the
  // alternation no longer repeats) starts at the learned candidate.
  SpinBreaker t(std::make_unique<GenericModel>(), SpinOptions{4});
  for (int i = 0; i < 3; ++i) (void)t.read(st, 0);
  CHECK(t.read(st, 0) == 0xFFFFFFFFu);
  CHECK(t.read(st, 0) == 0x0u);
  CHECK(t.read(st, 0) == 0x1u);
  (void)t.read(acc(Space::mmio, 0x104, 32, 0), 0);
  const Access other = acc(Space::mmio, 0x108, 32, 0);
  for (int i = 0; i < 3; ++i) CHECK(t.read(other, 0) == 0u);
  CHECK(t.read(other, 0) == 0xFFFFFFFFu);
}

TEST_CASE("spin: after every candidate failed the policy watches again and retries") {
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{4});
  const Access st = acc(Space::vga_io, 0x3DA, 8);
  std::vector<int> flags;
  for (int i = 0; i < 3 + 10 + 1 + 1 + 1; ++i) {
    (void)s.read(st, 0);
    flags.push_back(s.take_loop_exit() ? 1 : 0);
  }
  // 3 watched, 10 candidates (complement, zero, 8 bit flips); the give-up read already
  // repeats the one before it (2 reads of the 4), one more watched, a new round.
  CHECK(flags == std::vector<int>{0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1});
  CHECK(s.stats().given_up == 1);
  CHECK(s.stats().spins == 2);
}

TEST_CASE("spin: a two-register wait loop is a spin with period 2 answered one register at a time") {
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{8});
  // in 0x3C2; in 0x3BA; test al,1; jz: candidates go to the next reads of the cycle.
  std::vector<std::uint64_t> got;
  int flagged = 0;
  for (int i = 0; i < 6; ++i) {
    got.push_back(s.read(acc(Space::vga_io, 0x3C2, 8), 0));
    flagged += s.take_loop_exit();
    got.push_back(s.read(acc(Space::vga_io, 0x3BA, 8), 0));
    flagged += s.take_loop_exit();
  }
  // Reads 1-7 watched; read 8 (0x3BA, the newest read of the cycle) gets the complement;
  // 0x3C2 keeps its value while 0x3BA goes through its candidates: zero, then bit 0 set.
  CHECK(got == std::vector<std::uint64_t>{0, 0, 0, 0, 0, 0, 0, 0xFF, 0x00, 0x00, 0x00, 0x01});
  CHECK(flagged == 3);
  s.write(acc(Space::vga_io, 0x3C0, 8), 0, 0);
  CHECK(s.stats().ended == 1);
}

TEST_CASE("spin: reads whose values change, or with changing writes between them, are no spin") {
  auto inner = std::make_unique<GenericModel>();
  GenericModel* g = inner.get();
  SpinBreaker s(std::move(inner), SpinOptions{4});
  for (int i = 0; i < 100; ++i) {
    g->preset(acc(Space::vga_io, 0x3C9, 8), std::uint64_t(i));  // a palette read-out
    CHECK(s.read(acc(Space::vga_io, 0x3C9, 8), 0) == std::uint64_t(i));
    CHECK_FALSE(s.take_loop_exit());
  }
  for (int i = 0; i < 100; ++i) {  // a register dump: the index changes every time
    s.write(acc(Space::vga_io, 0x3D4, 8), std::uint64_t(i), 0);
    CHECK(s.read(acc(Space::vga_io, 0x3D5, 8), 0) == 0u);
    CHECK_FALSE(s.take_loop_exit());
  }
  for (int i = 0; i < 100; ++i) {  // a fill: writes alone are never answered
    s.write(acc(Space::vga_io, 0x3C9, 8), 0, 0);
    CHECK_FALSE(s.take_loop_exit());
  }
  CHECK(s.stats().spins == 0);
}

TEST_CASE("spin: an indexed poll (same index written then the data read) is a spin with period 2") {
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{8});
  // out 0x3D6, 0xD2; in ax, 0x3D6; test ah, 1; jz: the write repeats, the read is answered.
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 6; ++i) {
    s.write(acc(Space::vga_io, 0x3D6, 8), 0xD2, 0);
    CHECK_FALSE(s.take_loop_exit());
    got.push_back(s.read(acc(Space::vga_io, 0x3D6, 16), 0));
  }
  // Accesses 1-7 watched (the 4th read is the 8th access): complement, zero, bit flips.
  // The index byte the loop wrote reads back unchanged; the data byte gets the candidates.
  CHECK(got == std::vector<std::uint64_t>{0xD2, 0xD2, 0xD2, 0xFFD2, 0xD2, 0x1D2});
  CHECK(s.stats().spins == 1);
  s.write(acc(Space::vga_io, 0x3D6, 8), 0xD3, 0);  // another index: the loop was left
  CHECK(s.stats().ended == 1);
  // A write of another value inside the cycle ends it too.
  SpinBreaker t(std::make_unique<GenericModel>(), SpinOptions{4});
  for (int i = 0; i < 2; ++i) {
    t.write(acc(Space::io, 0x0, 8, 1), 0x05, 0);
    (void)t.read(acc(Space::io, 0x1, 8, 1), 0);
  }
  CHECK(t.take_loop_exit());
  t.write(acc(Space::io, 0x0, 8, 1), 0x06, 0);
  CHECK(t.stats().ended == 1);
}

TEST_CASE("spin: the answers are a function of the access stream (deterministic)") {
  auto run = [] {
    SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{3});
    std::vector<std::uint64_t> out;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 3 + round; ++i) out.push_back(s.read(acc(Space::io, 0x10 + round % 2, 16, 0), 0));
      s.write(acc(Space::io, 0x20, 8, 0), round, 0);
    }
    return out;
  };
  CHECK(run() == run());
  CHECK(SpinBreaker(std::make_unique<GenericModel>()).name() == "generic+spin");
}

TEST_CASE("spin: when the newest read is not the test the other reads of the cycle are tried next") {
  // in 0x3C3 (an I/O base: must keep its value); in status; test; jz. The loop ends only
  // when the status read has bit 2 set and the base read is unchanged.
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{4});
  const Access base = acc(Space::vga_io, 0x3C3, 8), status = acc(Space::io, 0x4C, 8, 4);
  bool ended = false;
  int turns = 0;
  for (; turns < 200 && !ended; ++turns) {
    const std::uint64_t st = s.read(status, 0);
    const std::uint64_t b = s.read(base, 0);
    ended = (st & 4) && b == 0;
  }
  CHECK(ended);
  s.write(acc(Space::vga_io, 0x3C0, 8), 0, 0);  // after the loop
  CHECK(s.stats().ended == 1);
  CHECK(s.stats().given_up == 0);
}

TEST_CASE("spin: a compare after the read guides the answer to the value the loop waits for") {
  // in eax, MM_DATA; shr eax, 24; cmp ax, 0x30; jne: the field is 0x84, the loop wants 0x30.
  // No complement, zero or single flipped bit of 0x8400FF00 has 0x30 in bits 31:24.
  auto run = [](bool hints) {
    SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{8});
    const Access reg = acc(Space::mmio, 0x5DA8, 32, 2);
    s.write(reg, 0x8400FF00, 0);
    for (int i = 0; i < 200; ++i) {
      const std::uint64_t v = s.read(reg, 0);
      const bool flagged = s.take_loop_exit();
      if ((v >> 24) == 0x30) return std::pair<int, bool>{i, flagged};
      if (hints && s.wants_compare_hints()) s.compare_hint(v >> 24, 0x30, 2);
    }
    return std::pair<int, bool>{-1, false};
  };
  const auto [at, flagged] = run(true);
  CHECK(at == 8);  // the spin is seen at the 8th read; the read after the first candidate
  CHECK(flagged);
  CHECK(run(false).first == -1);  // without the hints nothing ends it
  // The window closes at the next access: a compare made after another access is ignored.
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{2});
  const Access st = acc(Space::io, 0x10, 8, 1);
  (void)s.read(st, 0);
  (void)s.read(st, 0);
  CHECK(s.wants_compare_hints());
  (void)s.read(acc(Space::io, 0x11, 8, 1), 0);
  CHECK_FALSE(s.wants_compare_hints());
  s.compare_hint(0xFF, 0x42, 1);
  CHECK(s.stats().guided == 0);
}

TEST_CASE("spin: registers behind one data port are told apart by the index written before them") {
  // A loop that waits on register A through index/data: what was learned for A is not
  // answered for register B behind the same port, and A is volatile afterwards.
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{8});
  const Access index = acc(Space::io, 0x0, 32, 1), data = acc(Space::io, 0x4, 32, 1);
  auto indexed_read = [&](std::uint64_t reg) {
    s.write(index, reg, 0);
    return s.read(data, 0);
  };
  s.write(index, 0xB, 0);
  s.write(data, 0x1234, 0);  // the inner model keeps one value for the port: 0x1234
  std::uint64_t v = 0;
  int reads = 0;
  for (; reads < 20 && v != 0xFFFFEDCB; ++reads) v = indexed_read(0xA);
  CHECK(v == 0xFFFFEDCB);  // the complement ended A's wait
  CHECK(reads == 4);       // at the 8th access
  s.write(acc(Space::io, 0x8, 8, 1), 0, 0);
  CHECK(s.stats().ended == 1);
  // Register B, read outside a spin: B's value, not A's answer (as it was when the key was
  // the port alone: the second read of any register behind it got the answer).
  CHECK(indexed_read(0xB) == 0x1234);
  CHECK(indexed_read(0xB) == 0x1234);
  // Register A is volatile now: every second read of it gets the answer that worked.
  CHECK(indexed_read(0xA) == 0x1234);
  CHECK(indexed_read(0xA) == 0xFFFFEDCB);
}

TEST_CASE("spin: an inner read-until loop of varying length does not hide the cycle around it") {
  // Outer loop: write index, read status (the test); then a delay routine that reads a
  // counter register 1, 2 or 3 times. Read runs fold into one access, so the cycle has a
  // fixed period and the status read gets candidates.
  SpinBreaker s(std::make_unique<GenericModel>(), SpinOptions{16});
  const Access status = acc(Space::mmio, 0x100, 32, 2), counter = acc(Space::mmio, 0x200, 32, 2);
  int turn = 0;
  bool ended = false;
  for (; turn < 300 && !ended; ++turn) {
    s.write(acc(Space::mmio, 0x0, 32, 2), 0x100, 0);
    ended = (s.read(status, 0) & 1) != 0;
    for (int r = 0; r < 1 + (turn * 7 % 3); ++r) (void)s.read(counter, 0);
  }
  CHECK(ended);
  CHECK(turn < 60);
  // A long run of one read is a spin of its own (period 1) even inside a cycle being broken.
  SpinBreaker t(std::make_unique<GenericModel>(), SpinOptions{8});
  bool counter_ended = false;
  for (int i = 0; i < 30 && !counter_ended; ++i) counter_ended = t.read(counter, 0) != 0;
  CHECK(counter_ended);
}

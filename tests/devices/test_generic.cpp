#include <catch2/catch.hpp>

#include "gpuinit/devices/generic_model.hpp"

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
}  // namespace

TEST_CASE("generic: a 32-bit read composes earlier byte writes") {
  GenericModel m;
  for (unsigned i = 0; i < 4; ++i) m.write(acc(Space::mmio, 0x100 + i, 8), 0x11 * (i + 1), 0);
  CHECK(m.read(acc(Space::mmio, 0x100, 32), 0) == 0x44332211u);
  CHECK(m.read(acc(Space::mmio, 0x102, 16), 0) == 0x4433u);
  CHECK(m.stats().unknown_reads == 0);
}

TEST_CASE("generic: a read straddling written and unwritten bytes uses the fill for the rest") {
  GenericModel m(GenericOptions{0xFF});
  m.write(acc(Space::mmio, 0x6, 16), 0xBEEF, 0);  // bytes 6,7 of one block
  CHECK(m.read(acc(Space::mmio, 0x6, 32), 0) == 0xFFFFBEEFu);  // bytes 8,9 in the next block
  CHECK(m.stats().unknown_reads == 1);
}

TEST_CASE("generic: never-written locations read the fill and are counted once") {
  GenericModel m;
  CHECK(m.read(acc(Space::io, 0x10, 8, 1), 0) == 0);
  CHECK(m.read(acc(Space::io, 0x10, 8, 1), 0) == 0);
  CHECK(m.stats().unknown_reads == 2);
  CHECK(m.stats().unknown_locations == 1);
}

TEST_CASE("generic: spaces, bars and named spaces do not alias") {
  GenericModel m;
  m.write(acc(Space::mmio, 0x10, 32, 0), 1, 0);
  m.write(acc(Space::mmio, 0x10, 32, 2), 2, 0);
  m.write(acc(Space::io, 0x10, 32, 0), 3, 0);
  Access pll = acc(Space::named, 0x10, 32);
  pll.space_name = "pll";
  Access mc = pll;
  mc.space_name = "mc";
  m.write(pll, 4, 0);
  m.write(mc, 5, 0);
  CHECK(m.read(acc(Space::mmio, 0x10, 32, 0), 0) == 1);
  CHECK(m.read(acc(Space::mmio, 0x10, 32, 2), 0) == 2);
  CHECK(m.read(acc(Space::io, 0x10, 32, 0), 0) == 3);
  CHECK(m.read(pll, 0) == 4);
  CHECK(m.read(mc, 0) == 5);
}

TEST_CASE("generic: preset gives a reset value and is not a write") {
  GenericModel m;
  m.preset(acc(Space::config, 0, 32), 0x11111234);
  CHECK(m.read(acc(Space::config, 0, 16), 0) == 0x1234);
  CHECK(m.stats().writes == 0);
}

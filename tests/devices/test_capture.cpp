#include <catch2/catch.hpp>

#include "gpuinit/devices/capture_model.hpp"

using namespace gpuinit;

namespace {
TraceEvent ev(Space s, std::uint64_t off, std::uint8_t w, Dir d, std::uint64_t v, std::uint8_t bar = 0) {
  TraceEvent e;
  e.space = s;
  e.offset = off;
  e.width = w;
  e.dir = d;
  e.value = v;
  e.bar = bar;
  return e;
}
Access acc(Space s, std::uint64_t off, std::uint8_t w, std::uint8_t bar = 0) {
  Access a;
  a.space = s;
  a.offset = off;
  a.width = w;
  a.bar = bar;
  return a;
}
}  // namespace

TEST_CASE("capture: the n-th read of a location gets the n-th recorded value") {
  Trace t;
  t.events = {ev(Space::mmio, 0x10, 32, Dir::read, 1), ev(Space::io, 0x4, 8, Dir::read, 0xAA, 1),
              ev(Space::mmio, 0x10, 32, Dir::write, 9), ev(Space::mmio, 0x10, 32, Dir::read, 2),
              ev(Space::mmio, 0x10, 16, Dir::read, 0x77), ev(Space::mmio, 0x10, 32, Dir::read, 3)};
  CaptureModel m(t, "t.jsonl");
  CHECK(m.name() == "capture:t.jsonl");
  // Other locations interleave freely; each location keeps its own order.
  CHECK(m.read(acc(Space::mmio, 0x10, 32), 0) == 1);
  CHECK(m.read(acc(Space::mmio, 0x10, 16), 0) == 0x77);  // width is part of the location
  CHECK(m.read(acc(Space::mmio, 0x10, 32), 0) == 2);
  CHECK(m.read(acc(Space::io, 0x4, 8, 1), 0) == 0xAA);
  CHECK(m.read(acc(Space::mmio, 0x10, 32), 0) == 3);
  CHECK(m.stats().served == 5);
  CHECK(m.stats().past_end == 0);
  CHECK(m.misses().empty());
}

TEST_CASE("capture: past the end the last value repeats and is reported") {
  Trace t;
  t.events = {ev(Space::port, 0x61, 8, Dir::read, 0x10), ev(Space::port, 0x61, 8, Dir::read, 0x20)};
  CaptureModel m(t, "x");
  CHECK(m.read(acc(Space::port, 0x61, 8), 0) == 0x10);
  CHECK(m.read(acc(Space::port, 0x61, 8), 0) == 0x20);
  CHECK(m.read(acc(Space::port, 0x61, 8), 0) == 0x20);
  CHECK(m.read(acc(Space::port, 0x61, 8), 0) == 0x20);
  CHECK(m.stats().past_end == 2);
  const auto miss = m.misses();
  REQUIRE(miss.size() == 1);
  CHECK(miss[0].offset == 0x61);
  CHECK(miss[0].recorded == 2);
  CHECK(miss[0].extra == 2);
}

TEST_CASE("capture: a location never recorded answers its last written value, counted unknown") {
  Trace t;
  t.events = {ev(Space::mmio, 0x0, 32, Dir::read, 5)};
  CaptureModel m(t, "x");
  CHECK(m.read(acc(Space::mmio, 0x20, 32), 0) == 0);
  m.write(acc(Space::mmio, 0x20, 32), 0xCAFEF00D, 0);
  CHECK(m.read(acc(Space::mmio, 0x20, 32), 0) == 0xCAFEF00D);
  CHECK(m.read(acc(Space::mmio, 0x22, 8), 0) == 0xFE);
  CHECK(m.stats().unknown == 3);
  CHECK(m.stats().unread_values == 1);
  CHECK(m.misses().size() == 2);
}

#include <catch2/catch.hpp>

#include "gpuinit/format/json_io.hpp"
#include "gpuinit/format/space.hpp"

using namespace gpuinit;

TEST_CASE("space names round-trip and classify") {
  for (Space s : {Space::mmio, Space::io, Space::config, Space::vga_io, Space::vga_mem, Space::port,
                  Space::vga_seq, Space::vga_crtc, Space::vga_gfx, Space::vga_attr, Space::vga_dac}) {
    auto back = parse_space(space_name(s));
    REQUIRE(back);
    CHECK(*back == s);
  }
  CHECK(space_has_bar(Space::mmio));
  CHECK(space_has_bar(Space::io));
  CHECK_FALSE(space_has_bar(Space::vga_io));
  CHECK(space_is_indexed(Space::vga_crtc));
  CHECK(parse_space("ref_pll") == Space::named);
  CHECK_FALSE(parse_space("Bad Name"));
  CHECK_FALSE(parse_space(""));
}

TEST_CASE("cs:ip text form") {
  CHECK(format_cs_ip(0xC0001A2B) == "c000:1a2b");
  CHECK(parse_cs_ip("c000:1a2b") == 0xC0001A2Bu);
  CHECK_FALSE(parse_cs_ip("c000-1a2b"));
  CHECK_FALSE(parse_cs_ip("c0001a2b"));
}

TEST_CASE("trace event line matches the design's example") {
  TraceEvent e;
  e.seq = 0;
  e.t_ns = 1200;
  e.space = Space::io;
  e.bar = 1;
  e.offset = 16;
  e.width = 8;
  e.dir = Dir::write;
  e.value = 146;
  e.cs_ip = 0xC0001A2B;
  e.icount = 5012;
  CHECK(write_trace_event(e) ==
        "{\"seq\":0,\"t_ns\":1200,\"space\":\"io\",\"bar\":1,\"offset\":16,\"width\":8,\"dir\":\"w\","
        "\"value\":146,\"cs_ip\":\"c000:1a2b\",\"icount\":5012}\n");
}

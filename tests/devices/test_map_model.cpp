#include <catch2/catch.hpp>

#include "gpuinit/devices/map_check.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;

namespace {

// A small card exercising every policy and behaviour. BAR0 mmio 4 KiB, BAR1 io 256 ports.
constexpr const char* kMap = R"({
  "regmap_version": "1", "name": "test-card",
  "device": {"vendor": 4660, "device": 1, "class": 196608,
             "bars": [{"index": 0, "kind": "mem32", "size": 4096}, {"index": 1, "kind": "io", "size": 256}],
             "vga_decode": true},
  "vga": true,
  "registers": [
    {"name": "SCRATCH", "space": "mmio", "bar": 0, "offset": 0, "width": 32, "reset": 0, "access": "rw"},
    {"name": "ID", "space": "mmio", "bar": 0, "offset": 4, "width": 32, "reset": 305419896, "access": "ro"},
    {"name": "KEY", "space": "mmio", "bar": 0, "offset": 8, "width": 32, "reset": 0, "access": "wo"},
    {"name": "INT_STATUS", "space": "mmio", "bar": 0, "offset": 12, "width": 32, "reset": 15, "access": "w1c"},
    {"name": "INT_SET", "space": "mmio", "bar": 0, "offset": 16, "width": 32, "reset": 0, "access": "w1s"},
    {"name": "MIXED", "space": "mmio", "bar": 0, "offset": 20, "width": 32, "reset": 65280, "access": "rw",
     "fields": [{"name": "STATUS", "lsb": 8, "msb": 15, "access": "ro"},
                {"name": "PEND", "lsb": 16, "msb": 19, "access": "w1c"}]},
    {"name": "PLL_CTRL", "space": "mmio", "bar": 0, "offset": 256, "width": 32, "reset": 0, "access": "rw"},
    {"name": "PLL_STATUS", "space": "mmio", "bar": 0, "offset": 260, "width": 32, "reset": 0, "access": "ro"},
    {"name": "STRAPS", "space": "mmio", "bar": 0, "offset": 264, "width": 32, "reset": 0, "access": "rw"},
    {"name": "UNLOCK", "space": "mmio", "bar": 0, "offset": 268, "width": 8, "reset": 15, "access": "rw"},
    {"name": "LO16", "space": "mmio", "bar": 0, "offset": 272, "width": 16, "reset": 4369, "access": "rw"},
    {"name": "HI16", "space": "mmio", "bar": 0, "offset": 274, "width": 16, "reset": 8738, "access": "rw"},
    {"name": "MC_CTRL", "space": "bank", "offset": 16, "width": 8, "reset": 0, "access": "rw"},
    {"name": "MC_STATUS", "space": "bank", "offset": 17, "width": 8, "reset": 0, "access": "ro"},
    {"name": "CRTC_H_TOTAL", "space": "vga_crtc", "offset": 0, "width": 8, "reset": 0, "access": "rw"}
  ],
  "indexed_spaces": [
    {"name": "bank", "index": {"space": "io", "bar": 1, "offset": 16, "width": 8},
     "data": {"space": "io", "bar": 1, "offset": 17, "width": 8}, "size": 64}
  ],
  "behaviours": [
    {"kind": "delayed_set", "register": "PLL_STATUS", "mask": 1, "value": 1,
     "trigger": "PLL_CTRL", "trigger_mask": 1, "trigger_value": 1, "delay_ns": 50000},
    {"kind": "delayed_set", "register": "MC_STATUS", "mask": 128, "value": 128,
     "trigger": "MC_CTRL", "trigger_mask": 1, "trigger_value": 1, "delay_ns": 1000},
    {"kind": "constant", "register": "STRAPS", "mask": 255, "value": 90},
    {"kind": "readback", "register": "UNLOCK", "mask": 255, "value": 18,
     "when_mask": 23, "when_value": 18, "else_value": 15}
  ]
})";

Access acc(Space s, std::uint64_t off, std::uint8_t w, std::uint8_t bar = 0, std::string_view name = {}) {
  Access a;
  a.space = s;
  a.offset = off;
  a.width = w;
  a.bar = bar;
  a.space_name = name;
  return a;
}
Access mm(std::uint64_t off, std::uint8_t w = 32) { return acc(Space::mmio, off, w, 0); }
Access vio(std::uint64_t port, std::uint8_t w = 8) { return acc(Space::vga_io, port, w); }

std::unique_ptr<MapModel> make(MapModelOptions opt = {}) {
  auto loaded = load_checked_regmap(kMap);
  INFO((loaded.problems.empty() ? std::string() : loaded.problems[0].str()));
  REQUIRE(loaded.ok());
  std::vector<Problem> problems;
  auto m = MapModel::create(*loaded.value, opt, problems);
  REQUIRE(m);
  return m;
}

}  // namespace

TEST_CASE("map: rw stores, ro ignores writes, wo reads zero") {
  auto m = make();
  m->write(mm(0), 0xDEADBEEF, 0);
  CHECK(m->read(mm(0), 0) == 0xDEADBEEF);
  m->write(mm(4), 0, 0);
  CHECK(m->read(mm(4), 0) == 0x12345678);
  CHECK(m->stats().ro_writes == 1);
  m->write(mm(8), 0xAAAA5555, 0);
  CHECK(m->read(mm(8), 0) == 0);
  // Still stored: the final state shows what the device holds.
  const auto st = m->final_state(0);
  CHECK(std::find(st.begin(), st.end(), RegisterValue{"KEY", 0xAAAA5555}) != st.end());
}

TEST_CASE("map: w1c clears the ones written, w1s sets them") {
  auto m = make();
  CHECK(m->read(mm(12), 0) == 0xF);
  m->write(mm(12), 0x5, 0);
  CHECK(m->read(mm(12), 0) == 0xA);
  m->write(mm(12), 0x0, 0);
  CHECK(m->read(mm(12), 0) == 0xA);
  m->write(mm(16), 0x3, 0);
  m->write(mm(16), 0x8, 0);
  CHECK(m->read(mm(16), 0) == 0xB);
}

TEST_CASE("map: field policies override the register's") {
  auto m = make();
  // MIXED: reset 0x0000FF00; bits 8-15 ro, 16-19 w1c, the rest rw.
  m->write(mm(20), 0x000F00AA, 0);  // PEND w1c: nothing set yet; STATUS untouched
  CHECK(m->read(mm(20), 0) == 0x0000FFAA);
  m->write(mm(20), 0xFFF000CC, 0);
  CHECK(m->read(mm(20), 0) == 0xFFF0FFCC);
}

TEST_CASE("map: delayed_set sets a status bit a given time after its trigger, and reverts") {
  auto m = make();
  m->write(mm(256), 1, 1000);                  // enable at t=1000 ns
  CHECK(m->read(mm(260), 1000) == 0);
  CHECK(m->read(mm(260), 50999) == 0);         // 49,999 ns later: not yet
  CHECK(m->read(mm(260), 51000) == 1);         // 50,000 ns later: locked
  m->write(mm(256), 3, 60000);                 // still enabled: stays locked
  CHECK(m->read(mm(260), 60000) == 1);
  m->write(mm(256), 0, 70000);                 // disabled: back to the reset value
  CHECK(m->read(mm(260), 200000) == 0);
  m->write(mm(256), 1, 300000);                // re-armed from the new enable
  CHECK(m->read(mm(260), 349999) == 0);
  CHECK(m->read(mm(260), 350000) == 1);
}

TEST_CASE("map: constant overrides reads whatever was written") {
  auto m = make();
  m->write(mm(264), 0xFFFF1100, 0);
  CHECK(m->read(mm(264), 0) == 0xFFFF115A);
}

TEST_CASE("map: readback answers by the value of the last write (Cirrus SR6 style)") {
  auto m = make();
  CHECK(m->read(mm(268, 8), 0) == 0x0F);  // reset
  m->write(mm(268, 8), 0x92, 0);
  CHECK(m->read(mm(268, 8), 0) == 0x12);
  m->write(mm(268, 8), 0x00, 0);
  CHECK(m->read(mm(268, 8), 0) == 0x0F);
  m->write(mm(268, 8), 0x12, 0);
  CHECK(m->read(mm(268, 8), 0) == 0x12);
}

TEST_CASE("map: accesses narrower or wider than a register are split by byte lanes") {
  auto m = make();
  CHECK(m->read(mm(272, 32), 0) == 0x22221111);  // LO16 + HI16
  m->write(mm(273, 8), 0xAB, 0);                  // upper byte of LO16
  CHECK(m->read(mm(272, 16), 0) == 0xAB11);
  m->write(mm(272, 32), 0x44443333, 0);
  CHECK(m->read(mm(274, 16), 0) == 0x4444);
  CHECK(m->read(mm(6, 16), 0) == 0x1234);        // upper half of ID
}

TEST_CASE("map: index/data pair reaches the bank, and so does direct named access") {
  auto m = make();
  m->write(acc(Space::io, 16, 8, 1), 16, 0);     // select MC_CTRL
  m->write(acc(Space::io, 17, 8, 1), 1, 100);    // start training
  m->write(acc(Space::io, 16, 8, 1), 17, 100);   // select MC_STATUS
  CHECK(m->read(acc(Space::io, 17, 8, 1), 500) == 0);
  CHECK(m->read(acc(Space::io, 17, 8, 1), 1100) == 0x80);
  CHECK(m->read(acc(Space::io, 16, 8, 1), 1100) == 17);  // the index reads back
  // The same registers, as a folded sequence addresses them.
  CHECK(m->read(acc(Space::named, 17, 8, 0, "bank"), 1100) == 0x80);
  m->write(acc(Space::named, 16, 8, 0, "bank"), 0, 1200);
  CHECK(m->read(acc(Space::named, 17, 8, 0, "bank"), 1200) == 0);
  // A 16-bit write to the index port writes index then data.
  m->write(acc(Space::io, 16, 16, 1), 0x0110, 2000);
  CHECK(m->read(acc(Space::named, 16, 8, 0, "bank"), 2000) == 1);
  CHECK(m->unknown_registers().empty());
}

TEST_CASE("map: VGA sequencer, graphics and CRTC through index/data and directly") {
  auto m = make();
  m->write(vio(0x3C2), 0x01, 0);          // colour: CRTC at 0x3D4
  m->write(vio(0x3C4, 16), 0x0302, 0);    // SR2 = 3 in one word write
  CHECK(m->read(acc(Space::vga_seq, 2, 8), 0) == 3);
  m->write(vio(0x3CE), 5, 0);
  m->write(vio(0x3CF), 0x40, 0);
  CHECK(m->read(acc(Space::vga_gfx, 5, 8), 0) == 0x40);
  m->write(acc(Space::vga_crtc, 0, 8), 0x5F, 0);
  m->write(vio(0x3D4), 0, 0);
  CHECK(m->read(vio(0x3D5), 0) == 0x5F);
  CHECK(m->namer().name(Space::vga_crtc, {}, 0, 0) == "CRTC_H_TOTAL");
  CHECK(m->namer().name(Space::vga_crtc, {}, 0, 0x11) == "CRTC[0x11]");
  // CR11 bit 7 protects CR0-CR7 (CR7 bit 4 stays writable).
  m->write(acc(Space::vga_crtc, 0x11, 8), 0x80, 0);
  m->write(acc(Space::vga_crtc, 0, 8), 0x11, 0);
  m->write(acc(Space::vga_crtc, 7, 8), 0xFF, 0);
  CHECK(m->read(acc(Space::vga_crtc, 0, 8), 0) == 0x5F);
  CHECK(m->read(acc(Space::vga_crtc, 7, 8), 0) == 0x10);
  // Mono ports are off in colour mode.
  CHECK(m->read(vio(0x3B5), 0) == 0xFF);
}

TEST_CASE("map: VGA attribute flip-flop alternates index and data, reset by reading 0x3DA") {
  auto m = make();
  m->write(vio(0x3C2), 0x01, 0);
  (void)m->read(vio(0x3DA), 0);
  m->write(vio(0x3C0), 0x10, 0);  // index 0x10
  m->write(vio(0x3C0), 0x41, 0);  // data
  m->write(vio(0x3C0), 0x11, 0);  // index 0x11
  (void)m->read(vio(0x3DA), 0);   // reset: the next write is an index again
  m->write(vio(0x3C0), 0x12, 0);  // index 0x12
  m->write(vio(0x3C0), 0x0F, 0);  // data
  CHECK(m->read(acc(Space::vga_attr, 0x10, 8), 0) == 0x41);
  CHECK(m->read(acc(Space::vga_attr, 0x11, 8), 0) == 0);
  CHECK(m->read(acc(Space::vga_attr, 0x12, 8), 0) == 0x0F);
  CHECK(m->read(vio(0x3C0), 0) == 0x12);
  CHECK(m->read(vio(0x3C1), 0) == 0x0F);
  // Input status 1 toggles retrace so wait loops end.
  const auto s1 = m->read(vio(0x3DA), 0), s2 = m->read(vio(0x3DA), 0);
  CHECK((s1 ^ s2) == 0x09);
}

TEST_CASE("map: VGA DAC auto-increments over 3-byte entries") {
  auto m = make();
  m->write(vio(0x3C8), 4, 0);
  for (std::uint8_t b : {1, 2, 3, 4, 5, 6, 7}) m->write(vio(0x3C9), b, 0);  // entries 4, 5 and one byte
  CHECK(m->read(vio(0x3C8), 0) == 6);
  CHECK(m->read(acc(Space::vga_dac, 4 * 3 + 0, 8), 0) == 1);
  CHECK(m->read(acc(Space::vga_dac, 5 * 3 + 2, 8), 0) == 6);
  CHECK(m->read(acc(Space::vga_dac, 6 * 3 + 0, 8), 0) == 0);  // incomplete entry not stored
  m->write(vio(0x3C7), 5, 0);
  CHECK(m->read(vio(0x3C7), 0) == 3);
  CHECK(m->read(vio(0x3C9), 0) == 4);
  CHECK(m->read(vio(0x3C9), 0) == 5);
  CHECK(m->read(vio(0x3C9), 0) == 6);
  CHECK(m->read(vio(0x3C9), 0) == 0);  // entry 6
  CHECK(m->namer().name(Space::vga_dac, {}, 0, 5 * 3 + 1) == "DAC[0x05].g");
}

TEST_CASE("map: unknown registers read as last written, warned once each") {
  auto m = make();
  m->write(mm(0x800), 0x1234, 0);
  CHECK(m->read(mm(0x800), 0) == 0x1234);
  CHECK(m->read(mm(0x800), 0) == 0x1234);
  CHECK(m->read(mm(0x900, 8), 0) == 0);
  REQUIRE(m->unknown_registers().size() == 2);
  CHECK(m->unknown_registers()[0].message == "unknown register mmio0:0x800 (first access: 32-bit write)");
  CHECK(m->unknown_registers()[0].reads == 2);
  CHECK(m->unknown_registers()[0].writes == 1);
  CHECK(m->stats().unknown_reads == 3);
  CHECK(m->namer().name(Space::mmio, {}, 0, 0x800) == "mmio0:0x800");
}

TEST_CASE("map: unknown registers read as zero under the zero policy") {
  auto m = make(MapModelOptions{UnknownPolicy::zero});
  m->write(mm(0x800), 0x1234, 0);
  CHECK(m->read(mm(0x800), 0) == 0);
  m->write(acc(Space::named, 40, 8, 0, "bank"), 7, 0);
  CHECK(m->read(acc(Space::named, 40, 8, 0, "bank"), 0) == 0);
  CHECK(m->unknown_registers().size() == 2);
}

TEST_CASE("map: final state names every register touched, sorted by location") {
  auto m = make();
  m->write(mm(0), 7, 0);
  m->write(mm(256), 1, 0);
  (void)m->read(mm(4), 0);
  m->write(acc(Space::vga_seq, 1, 8), 0x21, 0);
  m->write(mm(0x800, 16), 0xBEEF, 0);
  const auto st = m->final_state(1'000'000);
  const std::vector<RegisterValue> want = {{"SCRATCH", 7},        {"ID", 0x12345678}, {"mmio0:0x800", 0xBEEF},
                                           {"PLL_CTRL", 1},       {"SEQ[0x01]", 0x21}};
  // Sorted by (space, bar, offset): mmio before vga_seq.
  std::vector<RegisterValue> sorted_want = {want[0], want[1], want[3], want[2], want[4]};
  CHECK(st == sorted_want);
}

TEST_CASE("map: two instances share nothing") {
  auto a = make();
  auto b = make();
  a->write(mm(0), 1, 0);
  CHECK(b->read(mm(0), 0) == 0);
}

// Data blocks, conditional constants and the i2c_gpio responder of the map model.
#include <catch2/catch.hpp>

#include "gpuinit/devices/map_check.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;

namespace {

// BAR0 mmio 4 KiB: an 8-byte table at 0x100 (6 data bytes, 2 zero), a DISPI-like ENABLE/XRES
// pair whose XRES reads 16000 while ENABLE bit 1 is set, and a DDC GPIO register at 0x40
// (SDA out/oe bits 0/16, SCL out/oe bits 1/17, levels in bits 8/9, clocked only while bit 25
// is set) in front of a 16-byte EEPROM at 0x50.
constexpr const char* kMap = R"({
  "regmap_version": "1", "name": "blocks-card",
  "device": {"vendor": 4660, "device": 2, "class": 196608,
             "bars": [{"index": 0, "kind": "mem32", "size": 4096}]},
  "registers": [
    {"name": "ENABLE", "space": "mmio", "bar": 0, "offset": 0, "width": 16, "access": "rw"},
    {"name": "XRES", "space": "mmio", "bar": 0, "offset": 2, "width": 16, "access": "rw"},
    {"name": "GPIO", "space": "mmio", "bar": 0, "offset": 64, "width": 32, "access": "rw"}
  ],
  "behaviours": [
    {"kind": "constant", "register": "XRES", "mask": 65535, "value": 16000,
     "trigger": "ENABLE", "trigger_mask": 2, "trigger_value": 2},
    {"kind": "i2c_gpio", "register": "GPIO", "mask": 3840, "value": 0,
     "when_mask": 33554432, "when_value": 33554432,
     "i2c": {"scl_out": 1, "sda_out": 0, "scl_oe": 17, "sda_oe": 16, "scl_in": 9, "sda_in": 8,
             "address": 80, "block": "EEPROM"}}
  ],
  "blocks": [
    {"name": "TABLE", "space": "mmio", "bar": 0, "offset": 256, "size": 8, "data": "a1B2c3d4e5f6"},
    {"name": "EEPROM", "size": 16, "data": "00ffffffffffff00101112131415ee17"}
  ]
})";

Access mm(std::uint64_t off, std::uint8_t w = 32) {
  Access a;
  a.space = Space::mmio;
  a.offset = off;
  a.width = w;
  return a;
}

RegisterMap map_of(const char* text) {
  auto loaded = load_checked_regmap(text);
  INFO((loaded.problems.empty() ? std::string() : loaded.problems[0].str()));
  REQUIRE(loaded.ok());
  return *loaded.value;
}

std::unique_ptr<MapModel> make() {
  std::vector<Problem> problems;
  auto m = MapModel::create(map_of(kMap), {}, problems);
  REQUIRE(m);
  return m;
}

// An I2C master bit-banging through GPIO as a video BIOS does: a line is pulled low by
// setting its output enable with the out bit 0, released by clearing the enable.
class Master {
 public:
  explicit Master(MapModel& m, bool enabled = true) : m_(m), en_(enabled ? 1u << 25 : 0) {}
  void set(bool scl, bool sda) {
    m_.write(mm(0x40), en_ | (scl ? 0 : 1u << 17) | (sda ? 0 : 1u << 16), t_ += 10);
  }
  bool sda() { return (m_.read(mm(0x40), t_ += 10) >> 8) & 1; }
  void start() { set(true, true), set(true, false), set(false, false); }
  void stop() { set(false, false), set(true, false), set(true, true); }
  bool send(std::uint8_t byte) {  // true: acknowledged
    for (int i = 7; i >= 0; --i) {
      const bool b = (byte >> i) & 1;
      set(false, b), set(true, b), set(false, b);
    }
    set(false, true), set(true, true);
    const bool ack = !sda();
    set(false, true);
    return ack;
  }
  std::uint8_t receive(bool ack) {
    std::uint8_t v = 0;
    for (int i = 0; i < 8; ++i) {
      set(false, true), set(true, true);
      v = std::uint8_t(v << 1 | (sda() ? 1 : 0));
      set(false, true);
    }
    set(false, !ack), set(true, !ack), set(false, !ack);
    return v;
  }

 private:
  MapModel& m_;
  std::uint32_t en_;
  std::uint64_t t_ = 0;
};

}  // namespace

TEST_CASE("map blocks: a mapped block answers its bytes at any width and ignores writes") {
  auto m = make();
  CHECK(m->read(mm(0x100, 8), 0) == 0xA1);
  CHECK(m->read(mm(0x100, 32), 0) == 0xD4C3B2A1);
  CHECK(m->read(mm(0x102, 16), 0) == 0xD4C3);
  CHECK(m->read(mm(0x104, 32), 0) == 0x0000F6E5);  // bytes past the data read 0
  m->write(mm(0x100, 32), 0x11223344, 0);
  CHECK(m->read(mm(0x100, 32), 0) == 0xD4C3B2A1);
  CHECK(m->stats().ro_writes == 4);
  CHECK(m->stats().unknown_reads == 0);
  CHECK(m->read(mm(0x108, 8), 0) == 0);  // past the block: an unknown register
  CHECK(m->stats().unknown_reads == 1);
}

TEST_CASE("map blocks: a conditional constant holds only while its condition does") {
  auto m = make();
  m->write(mm(2, 16), 640, 0);
  CHECK(m->read(mm(2, 16), 0) == 640);
  m->write(mm(0, 16), 2, 0);  // GETCAPS
  CHECK(m->read(mm(2, 16), 0) == 16000);
  m->write(mm(0, 16), 3, 0);
  CHECK(m->read(mm(2, 16), 0) == 16000);
  m->write(mm(0, 16), 1, 0);
  CHECK(m->read(mm(2, 16), 0) == 640);
}

TEST_CASE("map i2c_gpio: a random read of the EEPROM through bit-banged GPIO") {
  auto m = make();
  Master bus(*m);
  bus.stop();
  bus.start();
  CHECK(bus.send(0xA0));  // address 0x50, write
  CHECK(bus.send(0x08));  // pointer
  bus.set(false, true), bus.set(true, true);
  bus.start();            // repeated START
  CHECK(bus.send(0xA1));  // address 0x50, read
  CHECK(bus.receive(true) == 0x10);
  CHECK(bus.receive(true) == 0x11);
  CHECK(bus.receive(false) == 0x12);
  bus.stop();
  // Sequential read from where the pointer was left; it wraps at the block's size.
  bus.start();
  CHECK(bus.send(0xA0));
  CHECK(bus.send(0x0E));
  bus.set(false, true), bus.set(true, true);
  bus.start();
  CHECK(bus.send(0xA1));
  CHECK(bus.receive(true) == 0xEE);
  CHECK(bus.receive(true) == 0x17);
  CHECK(bus.receive(false) == 0x00);  // byte 0 again
  bus.stop();
  // The line levels read back in bits 9 (SCL) and 8 (SDA); the other bits as written.
  bus.set(true, true);
  CHECK(m->read(mm(0x40), 0) == ((1u << 25) | 0x300));
}

TEST_CASE("map i2c_gpio: another address is not acknowledged and nothing is clocked without the enable bit") {
  auto m = make();
  {
    Master bus(*m);
    bus.stop();
    bus.start();
    CHECK_FALSE(bus.send(0xA8));  // 0x54: nobody there
    bus.stop();
  }
  {
    Master bus(*m, false);  // bit 25 clear: the register stores what is written, nothing else
    bus.set(true, true);
    CHECK(m->read(mm(0x40), 0) == 0);
    bus.set(false, false);
    CHECK(m->read(mm(0x40), 0) == 0x30000);
  }
}

TEST_CASE("map blocks: blocks and i2c behaviours survive a JSON round trip") {
  const RegisterMap m = map_of(kMap);
  REQUIRE(m.blocks.size() == 2);
  CHECK(m.blocks[0].mapped);
  CHECK(m.blocks[0].data == std::vector<std::uint8_t>{0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6});
  CHECK_FALSE(m.blocks[1].mapped);
  auto again = load_regmap(write_regmap(m));
  REQUIRE(again.ok());
  CHECK(*again.value == m);
}

TEST_CASE("map blocks: broken blocks and i2c behaviours are refused with the place named") {
  auto problems_of = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    auto loaded = load_regmap(text);
    if (!loaded.ok()) return loaded.problems;
    return check_regmap_rules(*loaded.value);
  };
  auto first = [](const std::vector<Problem>& ps) { return ps.empty() ? std::string() : ps[0].str(); };
  const std::string map = kMap;
  CHECK_THAT(first(problems_of(map, "a1B2c3d4e5f6", "a1B2c3d4e5f")), Catch::Contains("/blocks/0/data"));
  CHECK_THAT(first(problems_of(map, "a1B2c3d4e5f6", "a1B2c3d4e5fg")), Catch::Contains("/blocks/0/data"));
  CHECK_THAT(first(problems_of(map, "\"offset\": 256, \"size\": 8", "\"offset\": 256, \"size\": 4")),
             Catch::Contains("/blocks/0"));
  CHECK_THAT(first(problems_of(map, "\"offset\": 256", "\"offset\": 60")), Catch::Contains("overlaps"));
  CHECK_THAT(first(problems_of(map, "\"offset\": 256", "\"offset\": 4092")), Catch::Contains("outside BAR 0"));
  CHECK_THAT(first(problems_of(map, "\"block\": \"EEPROM\"", "\"block\": \"NONE\"")),
             Catch::Contains("is not a block of the map"));
  CHECK_THAT(first(problems_of(map, "\"scl_in\": 9", "\"scl_in\": 40")), Catch::Contains("outside the register"));
  CHECK_THAT(first(problems_of(map, "\"mask\": 3840", "\"mask\": 256")), Catch::Contains("scl_in and sda_in"));
  CHECK_THAT(first(problems_of(map, "\"address\": 80", "\"address\": 200")), Catch::Contains("/behaviours/1/i2c/address") && Catch::Contains("127"));
  CHECK_THAT(first(problems_of(map, "\"trigger\": \"ENABLE\"", "\"trigger\": \"NOPE\"")),
             Catch::Contains("condition register 'NOPE'"));
}

TEST_CASE("map blocks: the namer names bytes of a mapped block") {
  auto m = make();
  CHECK(m->namer().name(Space::mmio, {}, 0, 0x100) == "TABLE");
  CHECK(m->namer().name(Space::mmio, {}, 0, 0x105) == "TABLE+5");
  CHECK(m->namer().name(Space::mmio, {}, 0, 0x108) == "mmio0:0x108");
}

// Every shipped register map loads and keeps its own rules; maps breaking them are refused
// with a message naming the register at fault.
#include <catch2/catch.hpp>

#include <filesystem>

#include "gpuinit/devices/map_check.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;

namespace {

std::string first_problem(const std::vector<Problem>& p) { return p.empty() ? std::string() : p.front().str(); }

// A valid base map; each corruption below breaks exactly one rule.
RegisterMap base() {
  RegisterMap m;
  m.name = "t";
  m.device.vendor = 0xF00D;
  m.device.bars = {Bar{0, BarKind::mem32, 4096, false}};
  Register a;
  a.name = "A";
  a.offset = 0;
  Register b;
  b.name = "B";
  b.offset = 4;
  m.registers = {a, b};
  return m;
}

}  // namespace

TEST_CASE("maps: every map in devices/maps loads, keeps its rules and builds a model") {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(GPUINIT_SOURCE_DIR "/devices/maps")) {
    if (e.path().extension() != ".json") continue;
    ++n;
    INFO(e.path().filename().string());
    const auto text = read_file_text(e.path());
    const auto plain = load_regmap(text);
    INFO(first_problem(plain.problems));
    REQUIRE(plain.ok());
    const auto checked = load_checked_regmap(text);
    INFO(first_problem(checked.problems));
    REQUIRE(checked.ok());
    CHECK(checked.value->name == e.path().stem().string());
    std::vector<Problem> problems;
    auto model = MapModel::create(*checked.value, {}, problems);
    CHECK(model);
    // The writer round-trips the map.
    const auto again = load_regmap(write_regmap(*checked.value));
    REQUIRE(again.ok());
    CHECK(*again.value == *checked.value);
  }
  CHECK(n >= 8);
}

TEST_CASE("maps: the base map of the rule tests is valid") { CHECK(check_regmap_rules(base()).empty()); }

TEST_CASE("maps: overlapping registers are refused, naming both") {
  auto m = base();
  m.registers[1].offset = 2;
  const auto p = check_regmap_rules(m);
  REQUIRE(!p.empty());
  CHECK(p[0].str() == "/registers/1: B overlaps A at mmio bar 0 offset 0x2");
}

TEST_CASE("maps: a field past the register's width is refused") {
  auto m = base();
  m.registers[0].width = 16;
  m.registers[0].fields = {RegField{"HIGH", 12, 17, std::nullopt, ""}};
  const auto p = check_regmap_rules(m);
  REQUIRE(!p.empty());
  CHECK(p[0].str() == "/registers/0/fields/0: A.HIGH: bits 17:12 lie outside the register's 16 bits");
}

TEST_CASE("maps: a behaviour on an unknown register is refused") {
  auto m = base();
  Behaviour b;
  b.kind = BehaviourKind::constant;
  b.reg = "NOPE";
  b.mask = 1;
  m.behaviours = {b};
  const auto p = check_regmap_rules(m);
  REQUIRE(!p.empty());
  CHECK(p[0].str() == "/behaviours/0: behaviour on unknown register 'NOPE'");
}

TEST_CASE("maps: further rules each name the register") {
  SECTION("duplicate name") {
    auto m = base();
    m.registers[1].name = "A";
    CHECK(first_problem(check_regmap_rules(m)) == "/registers/1: A: name used twice");
  }
  SECTION("reset wider than the register") {
    auto m = base();
    m.registers[0].width = 8;
    m.registers[0].reset = 0x100;
    CHECK(first_problem(check_regmap_rules(m)) == "/registers/0: A: reset 0x100 does not fit in 8 bits");
  }
  SECTION("outside its BAR") {
    auto m = base();
    m.registers[1].offset = 4094;
    CHECK(first_problem(check_regmap_rules(m)) ==
          "/registers/1: B: offset 0xffe + 4 bytes lies outside BAR 0 (0x1000 bytes)");
  }
  SECTION("undeclared BAR") {
    auto m = base();
    m.registers[1].bar = 3;
    CHECK(first_problem(check_regmap_rules(m)) == "/registers/1: B: BAR 3 is not declared in device.bars");
  }
  SECTION("named space not declared") {
    auto m = base();
    m.registers[1].space = Space::named;
    m.registers[1].space_name = "bank";
    CHECK(first_problem(check_regmap_rules(m)) ==
          "/registers/1: B: indexed space 'bank' is not declared in indexed_spaces");
  }
  SECTION("VGA space without vga") {
    auto m = base();
    m.registers[1].space = Space::vga_crtc;
    m.registers[1].width = 8;
    CHECK(first_problem(check_regmap_rules(m)) == "/registers/1: B: space vga_crtc needs \"vga\": true");
  }
  SECTION("overlapping fields") {
    auto m = base();
    m.registers[0].fields = {RegField{"X", 0, 3, std::nullopt, ""}, RegField{"Y", 3, 4, std::nullopt, ""}};
    CHECK(first_problem(check_regmap_rules(m)) == "/registers/0/fields/1: A.Y: overlaps another field");
  }
  SECTION("delayed_set trigger unknown") {
    auto m = base();
    Behaviour b;
    b.kind = BehaviourKind::delayed_set;
    b.reg = "A";
    b.mask = 1;
    b.value = 1;
    b.trigger = "GONE";
    b.trigger_mask = 1;
    b.trigger_value = 1;
    m.behaviours = {b};
    CHECK(first_problem(check_regmap_rules(m)) == "/behaviours/0: A: trigger 'GONE' is not a register of the map");
  }
}

TEST_CASE("maps: a model is not built from a map that breaks its rules") {
  auto m = base();
  m.registers[1].offset = 0;
  std::vector<Problem> problems;
  CHECK(MapModel::create(m, {}, problems) == nullptr);
  REQUIRE(!problems.empty());
  CHECK(problems[0].message.find("B overlaps A") != std::string::npos);
}

TEST_CASE("maps: load_checked_regmap refuses a document breaking the rules") {
  auto m = base();
  m.registers[1].offset = 0;
  const auto r = load_checked_regmap(write_regmap(m));
  CHECK(!r.ok());
  CHECK(!r.value);
  REQUIRE(!r.problems.empty());
  CHECK(r.problems[0].where == "/registers/1");
}

namespace {
std::unique_ptr<MapModel> model_of(const char* file) {
  const auto m = load_checked_regmap(read_file_text(std::string(GPUINIT_SOURCE_DIR "/devices/maps/") + file));
  REQUIRE(m.ok());
  std::vector<Problem> problems;
  auto model = MapModel::create(*m.value, {}, problems);
  REQUIRE(model);
  return model;
}
Access port(Space s, std::uint64_t off, std::uint8_t w) {
  Access a;
  a.space = s;
  a.offset = off;
  a.width = w;
  return a;
}
}  // namespace

TEST_CASE("maps: qemu-cirrus unlocks with SR6 = 0x12 (masked 0x17) as SeaVGABIOS probes it") {
  auto m = model_of("qemu-cirrus.json");
  m->write(port(Space::vga_io, 0x3C4, 16), 0x9206, 0);  // SR6 <- 0x92
  CHECK(m->read(port(Space::vga_io, 0x3C5, 8), 0) == 0x12);
  m->write(port(Space::vga_io, 0x3C5, 8), 0x00, 0);
  CHECK(m->read(port(Space::vga_io, 0x3C5, 8), 0) == 0x0F);
  m->write(port(Space::vga_io, 0x3C2, 8), 0x01, 0);
  m->write(port(Space::vga_io, 0x3D4, 8), 0x27, 0);
  CHECK(m->read(port(Space::vga_io, 0x3D5, 8), 0) == 0xB8);
  CHECK(m->namer().name(Space::vga_seq, {}, 0, 6) == "SR06_UNLOCK");
}

TEST_CASE("maps: qemu-stdvga answers the Bochs DISPI id handshake") {
  auto m = model_of("qemu-stdvga.json");
  CHECK(m->read(port(Space::port, 0x1CF, 16), 0) == 0xB0C5);  // index 0 = ID after reset
  m->write(port(Space::port, 0x1CE, 16), 0, 0);
  m->write(port(Space::port, 0x1CF, 16), 0xB0C0, 0);
  CHECK(m->read(port(Space::port, 0x1CF, 16), 0) == 0xB0C0);
  m->write(port(Space::port, 0x1CE, 16), 0x0A, 0);
  CHECK(m->read(port(Space::port, 0x1CF, 16), 0) == 256);  // 16 MiB in 64 KiB units
  CHECK(m->unknown_registers().empty());
}

#include "gpuinit/devices/model_factory.hpp"

TEST_CASE("factory: builds each kind of model from its spec, and names what is wrong") {
  CHECK(make_device_model("generic").model->name() == "generic");
  auto g = make_device_model("generic:0xff");
  REQUIRE(g.model);
  CHECK(g.model->read(port(Space::mmio, 0, 16), 0) == 0xFFFF);
  auto m = make_device_model("map:gpuinit-ref", GPUINIT_SOURCE_DIR "/devices/maps");
  REQUIRE(m.model);
  CHECK(m.model->name() == "map:gpuinit-ref");
  CHECK(make_device_model("generic:300").problems.at(0).message.find("byte") != std::string::npos);
  CHECK(!make_device_model("map:/nonexistent/x.json").model);
  CHECK(make_device_model("bogus").problems.at(0).message.find("unknown model") != std::string::npos);
}

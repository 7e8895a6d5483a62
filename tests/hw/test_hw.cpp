#include <catch2/catch.hpp>

#include "fake_sysfs.hpp"
#include "gpuinit/hw/hw_target.hpp"

using namespace gpuinit;
using namespace gpuinit::hw;

namespace {

constexpr std::uint16_t kVendor = 0x1de5, kDevice = 0x0001;

InitSequence sequence_for(std::uint16_t vendor, std::uint16_t device, std::vector<Op> ops) {
  InitSequence s;
  s.device.vendor = vendor;
  s.device.device = device;
  s.ops = std::move(ops);
  Op end;
  end.kind = OpKind::end;
  s.ops.push_back(end);
  return s;
}

Op write_op(Space space, unsigned bar, std::uint64_t offset, unsigned width, std::uint64_t value) {
  Op op;
  op.kind = OpKind::write;
  op.space = space;
  op.bar = std::uint8_t(bar);
  op.offset = offset;
  op.width = std::uint8_t(width);
  op.value = value;
  return op;
}

Access access_of(const Op& op) {
  Access a;
  a.space = op.space;
  a.bar = op.bar;
  a.offset = op.offset;
  a.width = op.width;
  a.space_name = op.space_name;
  return a;
}

HwOptions options(const FakeSysfs& fs, bool commit) {
  HwOptions o;
  o.sysfs_root = fs.root;
  o.slot = "01:00.0";
  o.commit = commit;
  return o;
}

}  // namespace

TEST_CASE("resource file parsing keeps kinds, sizes and skips empty slots") {
  auto bars = parse_resource_file(
      "0x00000000fe000000 0x00000000fe00ffff 0x0000000000040200\n"
      "0x000000000000e000 0x000000000000e0ff 0x0000000000040101\n"
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
      "0x00000000c0000000 0x00000000cfffffff 0x000000000014220c\n");
  REQUIRE(bars.size() == 3);
  CHECK(bars[0].index == 0);
  CHECK(bars[0].kind == BarKind::mem32);
  CHECK(bars[0].size == 0x10000);
  CHECK(bars[1].kind == BarKind::io);
  CHECK(bars[1].size == 0x100);
  CHECK(bars[2].index == 3);
  CHECK(bars[2].kind == BarKind::mem64);
  CHECK(bars[2].prefetchable);
}

TEST_CASE("libpci finds the fake card by slot and by id") {
  FakeSysfs fs("0000:01:00.0", kVendor, kDevice, 0x10000, 0x100);
  auto by_slot = find_functions(fs.root, "01:00.0", "");
  REQUIRE(by_slot.size() == 1);
  CHECK(by_slot[0].bdf == "0000:01:00.0");
  CHECK(by_slot[0].vendor == kVendor);
  CHECK(by_slot[0].device == kDevice);
  CHECK(by_slot[0].subsystem_vendor == 0x1234);
  CHECK(by_slot[0].class_code == 0x030000);
  REQUIRE(by_slot[0].bars.size() == 2);
  CHECK(find_functions(fs.root, "", "1de5:0001").size() == 1);
  CHECK(find_functions(fs.root, "", "1de5:0002").empty());
  CHECK(find_functions(fs.root, "02:00.0", "").empty());
  CHECK_THROWS_WITH(find_functions(fs.root, "zz:zz.9", ""), Catch::Contains("-s zz:zz.9"));
}

TEST_CASE("committed writes land in the BAR, I/O BAR and config files with the op's width") {
  FakeSysfs fs("0000:01:00.0", kVendor, kDevice, 0x10000, 0x100);
  const Op mm = write_op(Space::mmio, 0, 0x10, 32, 0xA1B2C3D4);
  const Op io = write_op(Space::io, 1, 0x04, 16, 0xBEEF);
  const Op cfg = write_op(Space::config, 0, 0x40, 8, 0x5A);
  auto seq = sequence_for(kVendor, kDevice, {mm, io, cfg});
  auto t = open_hw_target(options(fs, true), seq, nullptr);
  CHECK(t->capabilities().writable);
  t->write(access_of(mm), mm.value);
  t->write(access_of(io), io.value);
  t->write(access_of(cfg), cfg.value);
  CHECK(t->read(access_of(mm)) == 0xA1B2C3D4);
  CHECK(t->read(access_of(io)) == 0xBEEF);
  t.reset();  // unmaps
  auto bar0 = fs.file("resource0");
  CHECK(bar0[0x10] == 0xD4);
  CHECK(bar0[0x11] == 0xC3);
  CHECK(bar0[0x12] == 0xB2);
  CHECK(bar0[0x13] == 0xA1);
  CHECK(bar0[0x14] == 0x00);
  auto bar1 = fs.file("resource1");
  CHECK(bar1[4] == 0xEF);
  CHECK(bar1[5] == 0xBE);
  CHECK(fs.file("config")[0x40] == 0x5A);
}

TEST_CASE("a dry run touches no file and reports each access it would make") {
  FakeSysfs fs("0000:01:00.0", kVendor, kDevice, 0x10000, 0x100);
  const Op mm = write_op(Space::mmio, 0, 0x20, 32, 0x12345678);
  auto seq = sequence_for(kVendor, kDevice, {mm});
  RegisterMap map;
  Register reg;
  reg.name = "SCRATCH";
  reg.space = Space::mmio;
  reg.bar = 0;
  reg.offset = 0x20;
  map.registers.push_back(reg);
  std::vector<std::string> lines;
  auto opt = options(fs, false);
  opt.log = [&](const std::string& l) { lines.push_back(l); };
  const auto before0 = fs.file("resource0");
  const auto before_cfg = fs.file("config");
  auto t = open_hw_target(opt, seq, &map);
  CHECK_FALSE(t->capabilities().writable);
  CHECK(t->capabilities().touches_nothing);
  t->write(access_of(mm), mm.value);
  CHECK(t->read(access_of(mm)) == 0);
  t.reset();
  CHECK(fs.file("resource0") == before0);
  CHECK(fs.file("config") == before_cfg);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "would write mmio BAR0+0x20 (SCRATCH) [32] <- 0x12345678");
  CHECK(lines[1] == "would read mmio BAR0+0x20 (SCRATCH) [32]");
}

TEST_CASE("an out-of-range offset is refused before any access") {
  FakeSysfs fs("0000:01:00.0", kVendor, kDevice, 0x10000, 0x100);
  const Op ok = write_op(Space::mmio, 0, 0x0, 32, 1);
  const Op past = write_op(Space::mmio, 0, 0xFFFE, 32, 2);  // 2 bytes past the end
  auto seq = sequence_for(kVendor, kDevice, {ok, past});
  const auto before = fs.file("resource0");
  try {
    (void)open_hw_target(options(fs, true), seq, nullptr);
    FAIL("expected a refusal");
  } catch (const HwRefusal& r) {
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].where == "/init_sequence/1 (WRITE)");
    CHECK_THAT(r.problems[0].message, Catch::Contains("outside BAR0"));
  }
  CHECK(fs.file("resource0") == before);  // the first, valid op did not run either
}

TEST_CASE("an id mismatch is refused unless forced, and so are wrong BAR kinds and absolute ports") {
  FakeSysfs fs("0000:01:00.0", kVendor, kDevice, 0x10000, 0x100);
  auto seq = sequence_for(0x10de, 0x1234, {write_op(Space::mmio, 0, 0, 32, 1)});
  CHECK_THROWS_AS(open_hw_target(options(fs, true), seq, nullptr), HwRefusal);
  auto forced = options(fs, true);
  forced.force_id = true;
  CHECK_NOTHROW(open_hw_target(forced, seq, nullptr));

  auto fn = find_functions(fs.root, "01:00.0", "").at(0);
  auto bad = sequence_for(kVendor, kDevice,
                          {write_op(Space::io, 0, 0, 8, 1), write_op(Space::mmio, 3, 0, 8, 1),
                           write_op(Space::port, 0, 0x61, 8, 1), write_op(Space::vga_io, 0, 0x3C0, 8, 1)});
  auto problems = check_sequence(fn, bad, nullptr, HwOptions{});
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0].message, Catch::Contains("is a memory BAR"));
  CHECK_THAT(problems[1].message, Catch::Contains("BAR3 is not present"));
  CHECK_THAT(problems[2].message, Catch::Contains("--allow-ports"));
}

TEST_CASE("a card's own index/data space writes the index, then the data") {
  FakeSysfs fs("0000:01:00.0", kVendor, kDevice, 0x10000, 0x100);
  RegisterMap map;
  IndexedSpace pll;
  pll.name = "ref_pll";
  pll.index = {Space::io, 1, 0x10, 8};
  pll.data = {Space::io, 1, 0x14, 32};
  pll.size = 64;
  map.indexed_spaces.push_back(pll);
  Op op = write_op(Space::named, 0, 0x05, 32, 0x00C0FFEE);
  op.space_name = "ref_pll";
  auto seq = sequence_for(kVendor, kDevice, {op});
  auto t = open_hw_target(options(fs, true), seq, &map);
  t->write(access_of(op), op.value);
  t.reset();
  auto bar1 = fs.file("resource1");
  CHECK(bar1[0x10] == 0x05);
  CHECK(bar1[0x14] == 0xEE);
  CHECK(bar1[0x17] == 0x00);
  CHECK(bar1[0x15] == 0xFF);

  Op outside = op;
  outside.offset = 64;
  auto fn = find_functions(fs.root, "01:00.0", "").at(0);
  auto problems = check_sequence(fn, sequence_for(kVendor, kDevice, {outside}), &map, HwOptions{});
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0].message, Catch::Contains("outside space 'ref_pll'"));
  CHECK_FALSE(check_sequence(fn, sequence_for(kVendor, kDevice, {op}), nullptr, HwOptions{}).empty());
}

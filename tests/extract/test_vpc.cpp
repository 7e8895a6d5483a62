// Unit tests of the virtual PC with tiny ROMs assembled by nasm at build time.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/x86/pc.hpp"

using namespace gpuinit;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> asm_rom(const char* name) {
  return read_file_bytes(fs::path(GPUINIT_EXTRACT_ASM_DIR) / (std::string(name) + ".bin"));
}

// A card with a 16 MiB prefetchable BAR0, a 256-byte I/O BAR1 and VGA decode.
x86::PcConfig card() {
  x86::PcConfig cfg;
  cfg.device.vendor = 0x1002;
  cfg.device.device = 0x5159;
  cfg.device.class_code = 0x030000;
  cfg.device.vga_decode = true;
  cfg.device.bars = {Bar{0, BarKind::mem32, 16u << 20, true}, Bar{1, BarKind::io, 256, false}};
  cfg.max_instructions = 10'000'000;
  return cfg;
}

// An NVIDIA Pascal card with its family's BARs: registers at BAR0, I/O at BAR5.
x86::PcConfig nv_card(std::uint64_t max_instructions) {
  x86::PcConfig cfg;
  cfg.device.vendor = 0x10DE;
  cfg.device.device = 0x1D01;
  cfg.device.class_code = 0x030000;
  cfg.device.vga_decode = true;
  cfg.max_instructions = max_instructions;
  return cfg;
}

std::vector<TraceEvent> accesses(const x86::PcResult& r) {
  std::vector<TraceEvent> out;
  for (const auto& e : r.trace.events)
    if (e.kind == EventKind::access) out.push_back(e);
  return out;
}

void check(const TraceEvent& e, Space s, std::uint64_t off, unsigned width, Dir d, std::uint64_t value) {
  INFO("event " << e.seq << " offset 0x" << std::hex << e.offset << " value 0x" << e.value);
  CHECK(e.space == s);
  CHECK(e.offset == off);
  CHECK(e.width == width);
  CHECK(e.dir == d);
  CHECK(e.value == value);
}

}  // namespace

TEST_CASE("config space: ids, BAR sizing, ROM BAR, absent functions") {
  GenericModel model;
  const auto rom = asm_rom("config");
  const auto r = x86::run_option_rom(rom, card(), model);
  REQUIRE(r.stop == x86::PcStop::completed);
  const auto ev = accesses(r);
  REQUIRE(ev.size() == 9);
  check(ev[0], Space::config, 0x00, 32, Dir::read, 0x51591002);
  check(ev[1], Space::config, 0x0A, 16, Dir::read, 0x0300);
  check(ev[2], Space::config, 0x0B, 8, Dir::read, 0x03);
  // SeaBIOS placement: the prefetchable 16 MiB BAR below the non-prefetchable window.
  check(ev[3], Space::config, 0x10, 32, Dir::read, 0xFD000008);
  check(ev[4], Space::config, 0x10, 32, Dir::write, 0xFFFFFFFF);
  check(ev[5], Space::config, 0x10, 32, Dir::read, 0xFF000008);
  check(ev[6], Space::config, 0x10, 32, Dir::write, 0xFD000008);
  check(ev[7], Space::config, 0x30, 32, Dir::write, 0xFFFFFFFE);
  check(ev[8], Space::config, 0x30, 32, Dir::read, 0xFFFFF800);  // a 1 KiB image: 2 KiB ROM BAR
  CHECK(ev[0].cs_ip.has_value());
  CHECK((*ev[0].cs_ip >> 16) == 0xC000);
}

TEST_CASE("address decode: BAR, legacy VGA, ports, I/O BAR, decode off") {
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("decode"), card(), model);
  REQUIRE(r.stop == x86::PcStop::completed);
  const auto ev = accesses(r);
  REQUIRE(ev.size() == 10);
  check(ev[0], Space::config, 0x10, 32, Dir::read, 0xFD000008);
  check(ev[1], Space::mmio, 0x10, 32, Dir::read, 0);
  CHECK(ev[1].bar == 0);
  check(ev[2], Space::mmio, 0x22, 16, Dir::write, 0xBEEF);
  check(ev[3], Space::vga_io, 0x3C4, 16, Dir::write, 0x0102);
  check(ev[4], Space::vga_mem, 0x10, 8, Dir::write, 0x55);
  check(ev[5], Space::port, 0x80, 8, Dir::write, 0x42);
  check(ev[6], Space::config, 0x14, 32, Dir::read, 0xC001);
  check(ev[7], Space::io, 0x4, 8, Dir::read, 0);
  CHECK(ev[7].bar == 1);
  check(ev[8], Space::config, 0x04, 16, Dir::write, 0);
  check(ev[9], Space::port, 0x3C4, 8, Dir::write, 7);
}

TEST_CASE("virtual time: PIT one-shot, INT 15h/86h, tick count, RDTSC") {
  GenericModel model;
  auto cfg = card();
  const auto r = x86::run_option_rom(asm_rom("timing"), cfg, model);
  REQUIRE(r.stop == x86::PcStop::completed);
  // 0x1000 PIT counts = 3.433 ms; then a 1 ms wait.
  CHECK(r.t_ns > 4'400'000);
  CHECK(r.t_ns < 4'600'000);
  bool waited = false;
  for (const auto& e : r.trace.events)
    if (e.kind == EventKind::service && e.service == "int15_86") waited = e.wait_ns == 1'000'000;
  CHECK(waited);
  // Deterministic: a second run gives the same trace.
  GenericModel model2;
  const auto r2 = x86::run_option_rom(asm_rom("timing"), cfg, model2);
  CHECK(r2.trace == r.trace);
}

TEST_CASE("stop reasons: budget, halt, invalid opcode, boot request, no image") {
  auto rom = asm_rom("stops");
  auto cfg = card();
  cfg.max_instructions = 100'000;
  auto run_at = [&](std::uint16_t target) {
    const std::uint16_t rel = std::uint16_t(target - 6);
    rom[3] = 0xE9;
    rom[4] = std::uint8_t(rel);
    rom[5] = std::uint8_t(rel >> 8);
    GenericModel model;
    return x86::run_option_rom(rom, cfg, model);
  };
  auto r = run_at(6);
  CHECK(r.stop == x86::PcStop::budget);
  CHECK(r.instructions == 100'000);
  CHECK(run_at(0x20).stop == x86::PcStop::halted);
  r = run_at(0x30);
  CHECK(r.stop == x86::PcStop::invalid_opcode);
  CHECK(r.message.find("c000:0030") != std::string::npos);
  CHECK(run_at(0x40).stop == x86::PcStop::boot_request);
  GenericModel model;
  const std::vector<std::uint8_t> junk = {0x12, 0x34, 0x56, 0x78};
  CHECK(x86::run_option_rom(junk, cfg, model).stop == x86::PcStop::bad_image);
}

TEST_CASE("wall-clock limit stops a spinning ROM") {
  auto rom = asm_rom("stops");
  auto cfg = card();
  cfg.max_instructions = ~std::uint64_t{0};
  cfg.timeout_s = 0.05;
  GenericModel model;
  const auto r = x86::run_option_rom(rom, cfg, model);
  CHECK(r.stop == x86::PcStop::timeout);
}

TEST_CASE("image chain walk") {
  std::vector<std::uint8_t> rom(2048, 0);
  // image 0: 512 bytes with a PCIR (x86, not last); image 1: 1 KiB, EFI, last.
  auto pcir = [&](std::size_t at, std::uint16_t blocks, std::uint8_t type, bool last) {
    rom[at] = 0x55, rom[at + 1] = 0xAA, rom[at + 2] = std::uint8_t(blocks);
    rom[at + 0x18] = 0x40, rom[at + 0x19] = 0;
    std::memcpy(&rom[at + 0x40], "PCIR", 4);
    rom[at + 0x40 + 0x10] = std::uint8_t(blocks);
    rom[at + 0x40 + 0x14] = type;
    rom[at + 0x40 + 0x15] = last ? 0x80 : 0;
  };
  pcir(0, 1, 0, false);
  pcir(512, 2, 3, true);
  auto imgs = x86::walk_images(rom);
  REQUIRE(imgs.size() == 2);
  CHECK(imgs[1].offset == 512);
  CHECK(imgs[1].length == 1024);
  CHECK(imgs[1].code_type == 3);
  rom[512 + 0x40 + 0x15] = 0;  // not last, and nothing after it: the walk stops by itself
  CHECK(x86::walk_images(rom).size() == 2);
  rom[0x40 + 0x10] = 0xFF;  // length past the end: truncated to what exists
  imgs = x86::walk_images(rom);
  REQUIRE(imgs.size() == 1);
  CHECK(imgs[0].length == rom.size());
}

TEST_CASE("event budget: the run stops as budget when the trace is full") {
  auto cfg = card();
  cfg.max_events = 4;
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("decode"), cfg, model);
  CHECK(r.stop == x86::PcStop::budget);
  CHECK(r.truncated);
  CHECK(r.trace.events.size() == 4);
  CHECK(r.message.find("event budget of 4") != std::string::npos);
  cfg.max_events = 10;  // exactly what the ROM makes: it completes
  GenericModel model2;
  const auto r2 = x86::run_option_rom(asm_rom("decode"), cfg, model2);
  CHECK(r2.stop == x86::PcStop::completed);
  CHECK_FALSE(r2.truncated);
}

TEST_CASE("timer poll: a PIT-polled delay is fast-forwarded and recorded as one timer_poll wait") {
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("pitpoll"), card(), model);
  REQUIRE(r.stop == x86::PcStop::completed);
  // 20 periods of 570 us at 1 ns per instruction would take about 11 M instructions.
  CHECK(r.instructions < 20'000);
  std::uint64_t waited = 0, timer_events = 0, polls = 0;
  for (const auto& e : r.trace.events) {
    if (e.kind == EventKind::service && e.service == "timer_poll") ++polls, waited += e.wait_ns;
    if (e.kind == EventKind::access && e.space == Space::port) ++timer_events;
  }
  CHECK(polls == 1);
  CHECK(timer_events <= 33);  // the first accesses of the poll are kept as they are
  // The wait lasts as long as the ROM meant it: 20 periods, less the part before the poll.
  CHECK(waited > 10'000'000);
  CHECK(waited < 12'500'000);
  CHECK(r.t_ns > 11'000'000);
  // ATI cards answer port 0x3C3 with the upper byte of their I/O BAR (at 0xC000 here).
  const auto ev = accesses(r);
  REQUIRE_FALSE(ev.empty());
  check(ev.back(), Space::vga_io, 0x3C3, 8, Dir::read, 0xC0);
}

TEST_CASE("default BARs follow the card's family") {
  using x86::default_bars;
  auto io_bar = [](const std::vector<Bar>& bars) {
    for (const Bar& b : bars)
      if (b.kind == BarKind::io) return int(b.index);
    return -1;
  };
  CHECK(io_bar(default_bars(0x1002, 0x5159)) == 1);  // Radeon 7000: R100 layout
  CHECK(io_bar(default_bars(0x1002, 0x6821)) == 1);  // ATI keeps the R100 layout (see pc.cpp)
  CHECK(io_bar(default_bars(0x10DE, 0x1D01)) == 5);  // Pascal
  CHECK(io_bar(default_bars(0x10DE, 0x0110)) == -1); // NV11: no I/O BAR
  CHECK(io_bar(default_bars(0x1234, 0x1111)) == 1);
  CHECK(default_bars(0x10DE, 0x1D01).front().prefetchable == false);  // registers at BAR0
  x86::PcConfig cfg;
  std::vector<std::uint8_t> img(1024, 0);
  const DeviceInfo d = x86::presented_device(img, cfg);  // no PCIR: the placeholder card
  CHECK(d.vendor == 0x1234);
  CHECK(io_bar(d.bars) == 1);
}


TEST_CASE("NVIDIA register window: the data port reaches the register the address names") {
  auto cfg = nv_card(100'000);
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("nvwin"), cfg, model);
  REQUIRE(r.stop == x86::PcStop::completed);
  std::vector<TraceEvent> regs;
  for (const auto& e : accesses(r))
    if (e.space == Space::mmio) regs.push_back(e);
  REQUIRE(regs.size() == 3);
  check(regs[0], Space::mmio, 0x200, 32, Dir::write, 0xCAFE);
  check(regs[1], Space::mmio, 0x88000, 32, Dir::read, 0x1D0110DE);  // config space mirrored
  check(regs[2], Space::mmio, 0x200, 32, Dir::read, 0xCAFE);
}

TEST_CASE("VGA address select: after the misc output write only the selected CRTC range decodes") {
  auto cfg = card();
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("vgasel"), cfg, model);
  REQUIRE(r.stop == x86::PcStop::completed);
  std::vector<std::uint64_t> echoed;
  bool other_adapter_recorded = false;
  for (const auto& e : accesses(r)) {
    if (e.space == Space::port && e.offset == 0x80 && e.dir == Dir::write) echoed.push_back(e.value);
    // Accesses to the deselected range reach no device of ours and leave no event.
    if (e.space == Space::vga_io && e.value == 0x55) other_adapter_recorded = true;
  }
  CHECK(echoed == std::vector<std::uint64_t>{0xAA, 0x01, 0xFF, 0x66, 0xFF, 0xAA});
  CHECK_FALSE(other_adapter_recorded);
}

TEST_CASE("NVIDIA PROM: BAR0 0x300000 and the 0x1A40 legacy window read the ROM chip") {
  auto cfg = nv_card(100'000);
  const auto rom = asm_rom("nvprom");
  auto run = [&](const x86::PcConfig& c) {
    GenericModel model;
    auto r = x86::run_option_rom(rom, c, model);
    REQUIRE(r.stop == x86::PcStop::completed);
    std::vector<std::uint64_t> reads;
    for (const auto& e : accesses(r))
      if (e.dir == Dir::read && (e.space == Space::mmio || e.space == Space::vga_mem)) reads.push_back(e.value);
    return std::make_pair(r, reads);
  };
  const std::uint32_t head = rom[0] | rom[1] << 8 | rom[2] << 16 | std::uint32_t(rom[3]) << 24;
  {
    // The chip is the image alone: past its end the flash reads erased.
    const auto [r, reads] = run(cfg);
    CHECK(reads == std::vector<std::uint64_t>{head, 0xFFFFFFFF, 0xAA55, 0});
    REQUIRE(r.rom_read_past_end.has_value());
    CHECK(*r.rom_read_past_end == 0x400);
  }
  {
    // The whole dump: the bytes after the image are there.
    std::vector<std::uint8_t> chip = rom;
    for (std::uint8_t b : {0x11, 0x22, 0x33, 0x44}) chip.push_back(b);
    cfg.rom_chip = chip;
    const auto [r, reads] = run(cfg);
    CHECK(reads == std::vector<std::uint64_t>{head, 0x44332211, 0xAA55, 0});
    CHECK_FALSE(r.rom_read_past_end.has_value());
  }
  {
    // Not an NVIDIA card: 0x300000 is an ordinary register.
    cfg.device.vendor = 0x1002;
    cfg.device.device = 0x5159;
    cfg.device.bars = {Bar{0, BarKind::mem32, 16u << 20, false}};
    const auto [r, reads] = run(cfg);
    CHECK(reads == std::vector<std::uint64_t>{0, 0, 0, 0});
  }
}

TEST_CASE("NVIDIA PTIMER: delays on TIME_0 follow virtual time and fold into timer polls") {
  auto cfg = nv_card(1'000'000);
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("nvtimer"), cfg, model);
  REQUIRE(r.stop == x86::PcStop::completed);
  // 3 ms of waits, each at most twice as long as asked once time is fast-forwarded.
  CHECK(r.t_ns >= 3'000'000);
  CHECK(r.t_ns < 6'500'000);
  CHECK(r.instructions < 20'000);
  std::size_t polls = 0, timer_reads = 0;
  std::uint64_t last = 0;
  for (const auto& e : r.trace.events) {
    if (e.kind == EventKind::service && e.service == std::string("timer_poll")) ++polls;
    if (e.kind == EventKind::access && e.space == Space::mmio && e.offset == 0x9400) {
      CHECK(e.value >= last);  // the counter only goes up
      last = e.value;
      ++timer_reads;
    }
  }
  CHECK(polls == 1);  // the two waits follow each other with only timer accesses between
  CHECK(timer_reads < 80);
  // The timer is the PC's: neither its reads nor the window address writes reach the model.
  CHECK(model.stats().reads == 0);
  CHECK(model.stats().writes == 0);
}

TEST_CASE("a run that fails after reading its ROM chip past the dump says so") {
  auto cfg = nv_card(14);  // past the two PROM reads, short of the far return
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("nvprom"), cfg, model);
  REQUIRE(r.stop == x86::PcStop::budget);
  CHECK(r.message.find("past the end of the dump (offset 0x400)") != std::string::npos);
}

TEST_CASE("runaway: execution in zero-filled memory stops as runaway, real loops do not") {
  auto cfg = card();
  cfg.max_instructions = 50'000'000;
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("runaway"), cfg, model);
  CHECK(r.stop == x86::PcStop::runaway);
  CHECK(r.instructions < 5'000'000);  // three slices, not the whole budget
  CHECK(r.message.find("zero-filled") != std::string::npos);
  // `jmp $` in real code runs to the budget.
  auto rom = asm_rom("stops");
  cfg.max_instructions = 5'000'000;
  GenericModel model2;
  CHECK(x86::run_option_rom(rom, cfg, model2).stop == x86::PcStop::budget);
  // Nor is a loop that spends its time in our BIOS's IRET stub (zeros around it).
  GenericModel model3;
  CHECK(x86::run_option_rom(asm_rom("intloop"), cfg, model3).stop == x86::PcStop::budget);
}

TEST_CASE("ATI window: MM_INDEX/MM_DATA reach each register and the frame buffer, and a field poll ends on the compared value") {
  x86::PcConfig cfg;
  cfg.device.vendor = 0x1002;
  cfg.device.device = 0x6821;  // default BARs: frame buffer 0, I/O 1, registers 2
  cfg.device.class_code = 0x030000;
  cfg.device.vga_decode = true;
  cfg.max_instructions = 1'000'000;
  const auto rom = asm_rom("atipoll");
  const auto model = x86::vendor_rom_model(rom, cfg);
  REQUIRE(cfg.io_window);
  const auto r = x86::run_option_rom(rom, cfg, *model);
  REQUIRE(r.stop == x86::PcStop::completed);
  std::vector<TraceEvent> data;  // MM_DATA accesses, recorded as the I/O accesses they are
  for (const auto& e : accesses(r))
    if (e.space == Space::io && e.bar == 1 && e.offset == 4) data.push_back(e);
  REQUIRE(data.size() >= 6);
  check(data[2], Space::io, 4, 32, Dir::read, 0x8400FF00);  // its own value, not the last data written
  // The poll ended on a value with 0x30 in bits 31:24, found from the CMP's operands.
  const TraceEvent& exit = data[data.size() - 3];
  CHECK(exit.loop_exit);
  CHECK((exit.value >> 24) == 0x30);
  CHECK(data.size() < 200);  // well before the bit flips would have been tried
  check(data.back(), Space::io, 4, 32, Dir::read, 0xCAFEBABE);  // frame buffer word

  // Without the window the data port is one location: the read-back gives the last data written.
  x86::PcConfig plain = cfg;
  plain.io_window = false;
  plain.max_instructions = 100'000;
  GenericModel generic;
  const auto r2 = x86::run_option_rom(rom, plain, generic);
  std::vector<TraceEvent> data2;
  for (const auto& e : accesses(r2))
    if (e.space == Space::io && e.bar == 1 && e.offset == 4) data2.push_back(e);
  REQUIRE(data2.size() >= 3);
  check(data2[2], Space::io, 4, 32, Dir::read, 0x11);
}

TEST_CASE("tick wait: the BDA tick count follows virtual time and a port-0x80 delay loop is fast-forwarded") {
  auto cfg = card();
  cfg.max_instructions = 2'000'000;  // the loop's bound alone would take about 4 M
  GenericModel model;
  const auto r = x86::run_option_rom(asm_rom("tickwait"), cfg, model);
  REQUIRE(r.stop == x86::PcStop::completed);
  CHECK(r.instructions < 20'000);
  CHECK(r.t_ns > 19 * 54'925'439ull);  // the ticks passed: about 20 of them
  CHECK(r.t_ns < 22 * 54'925'439ull);
  std::uint64_t port80 = 0, polls = 0;
  for (const auto& e : r.trace.events) {
    if (e.kind == EventKind::access && e.space == Space::port && e.offset == 0x80) ++port80;
    if (e.kind == EventKind::service && e.service == "timer_poll") ++polls;
  }
  CHECK(port80 <= 33);  // the first reads of the loop as they are
  CHECK(polls == 1);    // the rest one wait
}

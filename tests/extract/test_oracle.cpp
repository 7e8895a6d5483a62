// The extractor against QEMU: each SeaVGABIOS ROM, as the guest saw it, run in the virtual
// PC with reads answered from the QEMU capture, must make the same accesses as under QEMU.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "gpuinit/devices/capture_model.hpp"
#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/x86/pc.hpp"
#include "oracle_compare.hpp"

namespace fs = std::filesystem;
using namespace gpuinit;

namespace {

const fs::path kGolden = fs::path(GPUINIT_SOURCE_DIR) / "tests/golden/qemu";
const fs::path kSeabios = "/usr/share/seabios";

struct Case {
  Trace oracle;
  std::vector<std::uint8_t> rom;
  x86::PcConfig cfg;
};

// Rebuilds the ROM QEMU's guest ran and the machine SeaBIOS set up, from the side file the
// oracle script wrote.
Case load_case(const std::string& card) {
  Case c;
  const auto side = nlohmann::json::parse(read_file_text(kGolden / (card + ".rom.json")));
  auto loaded = load_trace(read_file_text(kGolden / (card + ".jsonl")));
  REQUIRE(loaded.ok());
  c.oracle = std::move(*loaded.value);
  c.rom = read_file_bytes(kSeabios / side.at("rom_file").get<std::string>());
  REQUIRE(sha256_hex(c.rom) == side.at("rom_file_sha256").get<std::string>());
  c.rom.resize(side.at("guest_size").get<std::size_t>());
  for (const auto& p : side.at("patch")) c.rom.at(p.at(0).get<std::size_t>()) = p.at(1).get<std::uint8_t>();
  REQUIRE(sha256_hex(c.rom) == side.at("guest_sha256").get<std::string>());
  c.cfg.devfn = side.at("devfn").get<std::uint8_t>();
  c.cfg.device = *c.oracle.header.device;
  for (const auto& [k, v] : side.at("bar_bases").items()) c.cfg.bar_bases[unsigned(std::stoul(k))] = v.get<std::uint64_t>();
  const auto& r = side.at("entry_regs");
  c.cfg.entry.ebx = r.at("ebx");
  c.cfg.entry.ecx = r.at("ecx");
  c.cfg.entry.edx = r.at("edx");
  c.cfg.entry.esi = r.at("esi");
  c.cfg.entry.edi = r.at("edi");
  c.cfg.entry.ebp = r.at("ebp");
  c.cfg.entry.sp = std::uint16_t(r.at("esp").get<std::uint32_t>());
  c.cfg.entry.ss = r.at("ss");
  c.cfg.entry.ds = r.at("ds");
  c.cfg.entry.es = r.at("es");
  c.cfg.entry.eflags = r.at("eflags");
  return c;
}

void check_card(const std::string& card, bool seabios_defaults = false) {
  Case c = load_case(card);
  if (seabios_defaults) {  // only the card's identity: placement and entry state are ours
    c.cfg.bar_bases.clear();
    c.cfg.entry = x86::EntryRegs{};
  }
  CaptureModel model(c.oracle, card);
  const auto res = x86::run_option_rom(c.rom, c.cfg, model);
  INFO(card << ": " << x86::pc_stop_name(res.stop) << ": " << res.message);
  INFO("debug text:\n" << res.debug_text);
  CHECK(res.stop == x86::PcStop::completed);
  const auto diff = test::first_divergence(test::rom_accesses(res.trace.events), c.oracle.events);
  INFO("first divergence: " << diff);
  CHECK(diff.empty());
}

}  // namespace

TEST_CASE("stdvga matches QEMU") { check_card("stdvga"); }
TEST_CASE("cirrus matches QEMU") { check_card("cirrus"); }
TEST_CASE("ati-rage128p matches QEMU") { check_card("ati-rage128p"); }
TEST_CASE("ati-rv100 matches QEMU") { check_card("ati-rv100"); }
TEST_CASE("bochs-display matches QEMU") { check_card("bochs-display"); }
TEST_CASE("virtio matches QEMU") { check_card("virtio"); }
TEST_CASE("vmware matches QEMU") { check_card("vmware"); }
TEST_CASE("qxl matches QEMU") { check_card("qxl"); }

TEST_CASE("default machine matches QEMU's SeaBIOS set-up") {
  for (const char* card : {"stdvga", "cirrus", "ati-rage128p", "ati-rv100", "virtio", "qxl"}) {
    INFO(card);
    check_card(card, true);
  }
}

TEST_CASE("the comparer reports a changed written value") {
  Case c = load_case("stdvga");
  auto mutated = c.oracle.events;
  for (auto& e : mutated)
    if (e.dir == Dir::write && e.space == Space::vga_io) {
      e.value ^= 1;
      break;
    }
  const auto diff = test::first_divergence(mutated, c.oracle.events);
  CHECK(diff.find("vga_io") != std::string::npos);
  mutated.pop_back();
  CHECK_FALSE(test::first_divergence(mutated, c.oracle.events).empty());
  CHECK(test::first_divergence(c.oracle.events, c.oracle.events).empty());
}

TEST_CASE("ramfb spins until the instruction budget") {
  const auto rom = read_file_bytes(kSeabios / "vgabios-ramfb.bin");
  x86::PcConfig cfg;
  cfg.max_instructions = 5'000'000;
  GenericModel model;
  const auto res = x86::run_option_rom(rom, cfg, model);
  INFO(res.message);
  CHECK(res.stop == x86::PcStop::budget);
  CHECK(res.instructions == 5'000'000);
}

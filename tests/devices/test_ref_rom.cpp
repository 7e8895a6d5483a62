// Structure of the built reference-card option ROM, against its register map.
#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>

#include "gpuinit/devices/map_check.hpp"
#include "gpuinit/format/file_io.hpp"

using namespace gpuinit;

namespace {
std::uint16_t le16(const std::vector<std::uint8_t>& b, std::size_t at) {
  REQUIRE(at + 2 <= b.size());
  return std::uint16_t(b[at] | (b[at + 1] << 8));
}
}  // namespace

TEST_CASE("ref rom: header, PCIR ids of the map, checksum and size") {
  const auto rom = read_file_bytes(GPUINIT_REF_ROM);
  const auto map = load_checked_regmap(read_file_text(GPUINIT_SOURCE_DIR "/devices/maps/gpuinit-ref.json"));
  REQUIRE(map.ok());
  REQUIRE(rom.size() >= 512);
  CHECK(rom[0] == 0x55);
  CHECK(rom[1] == 0xAA);
  CHECK(rom[2] * 512u == rom.size());                           // size byte
  CHECK((rom[3] == 0xEB || rom[3] == 0xE9));                    // init entry: a jump at offset 3
  CHECK(std::accumulate(rom.begin(), rom.end(), 0u) % 256 == 0);  // checksum
  const std::size_t pcir = le16(rom, 0x18);
  REQUIRE(pcir + 24 <= rom.size());
  CHECK(std::string(rom.begin() + long(pcir), rom.begin() + long(pcir) + 4) == "PCIR");
  CHECK(le16(rom, pcir + 4) == map.value->device.vendor);
  CHECK(le16(rom, pcir + 6) == map.value->device.device);
  CHECK(le16(rom, pcir + 0x0A) >= 0x18);  // structure length
  const std::uint32_t cls = rom[pcir + 0x0D] | (rom[pcir + 0x0E] << 8) | (rom[pcir + 0x0F] << 16);
  CHECK(cls == map.value->device.class_code);
  CHECK(le16(rom, pcir + 0x10) * 512u == rom.size());  // image length
  CHECK(rom[pcir + 0x14] == 0);                        // code type x86
  CHECK((rom[pcir + 0x15] & 0x80) != 0);               // last image
}

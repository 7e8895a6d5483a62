// libFuzzer target: any bytes through parse_rom, the JSON and the text form. The parser must
// not crash, read out of bounds (ASan) or hit undefined behaviour (UBSan), and its output
// must stay within its limits.
#include <cstdint>
#include <cstdlib>
#include <span>

#include <nlohmann/json.hpp>

#include "gpuinit/rom/rom.hpp"
#include "gpuinit/rom/rom_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto info = gpuinit::rom::parse_rom(std::span<const std::uint8_t>(data, size), {.hash = false});
  if (info.size != size || info.images.size() > gpuinit::rom::kMaxImages ||
      info.diagnostics.size() > gpuinit::rom::kMaxDiagnostics + 1 || info.tables.size() > gpuinit::rom::kMaxTables)
    std::abort();
  for (const auto& img : info.images)
    for (const auto& c : img.checksums)
      if (c.start + c.length > size) std::abort();
  const std::string json = gpuinit::rom::to_json(info, "fuzz.rom").dump();
  const std::string text = gpuinit::rom::to_text(info, "fuzz.rom");
  if (json.empty() || text.empty()) std::abort();
  return 0;
}

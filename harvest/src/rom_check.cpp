#include "gpuinit/harvest/rom_check.hpp"

#include <cstdio>

#include "gpuinit/rom/rom.hpp"

namespace gpuinit::harvest {

Verdict check_rom(std::span<const std::uint8_t> bytes) {
  Verdict v;
  if (bytes.empty()) {
    v.rejection = "empty-file";
    return v;
  }
  const rom::RomInfo info = rom::parse_rom(bytes, {.hash = false});
  if (!rom::is_rom(info)) {
    // The parser's first diagnosis says why (no signature, truncated, ...).
    const std::string why = info.diagnostics.empty() ? std::string() : info.diagnostics.front().name;
    v.rejection = why.empty() || why == "not-a-rom" ? std::string("not-a-rom") : "not-a-rom: " + why;
    return v;
  }
  for (const auto& img : info.images)
    if (img.vendor_id && img.device_id) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04x:%04x", *img.vendor_id, *img.device_id);
      v.vendor_device = buf;
      break;
    }
  return v;
}

}  // namespace gpuinit::harvest

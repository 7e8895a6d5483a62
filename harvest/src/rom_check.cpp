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
  const rom::RomInfo info = rom::parse_rom(bytes);
  if (info.images.empty()) {
    // The parser's first diagnosis says why (no signature, truncated, ...).
    v.rejection = info.diagnostics.empty() ? std::string("not-a-rom") : "not-a-rom: " + info.diagnostics.front().name;
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

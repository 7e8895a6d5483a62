// Finding a PCI function and its resources on a Linux host (libpci over sysfs). Every
// path is taken relative to a sysfs root so tests can point it at a fake tree.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gpuinit/format/device.hpp"

namespace gpuinit::hw {

struct PciBar {
  unsigned index = 0;
  BarKind kind = BarKind::mem32;
  std::uint64_t start = 0;  // host physical / port address (for reports only)
  std::uint64_t size = 0;
  bool prefetchable = false;
};

struct PciFunction {
  std::string bdf;  // "0000:01:00.0"
  std::uint16_t vendor = 0, device = 0;
  std::uint16_t subsystem_vendor = 0, subsystem_device = 0;
  std::uint32_t class_code = 0;
  std::vector<PciBar> bars;  // present BARs only (size > 0)
  std::filesystem::path sysfs_dir;  // <root>/bus/pci/devices/<bdf>

  [[nodiscard]] const PciBar* bar(unsigned index) const noexcept {
    for (const auto& b : bars)
      if (b.index == index) return &b;
    return nullptr;
  }
};

// Selects functions as lspci/setpci do: `slot` is "[[DOMAIN:]BUS:]DEV.FN" (parts may be
// omitted or '*'), `id` is "[VENDOR]:[DEVICE]" in hex. Empty strings match everything.
// Throws std::runtime_error with a sentence when the syntax is wrong or sysfs cannot be
// read.
[[nodiscard]] std::vector<PciFunction> find_functions(const std::filesystem::path& sysfs_root,
                                                      const std::string& slot, const std::string& id);

// Parses a sysfs `resource` file (one "start end flags" line per resource).
[[nodiscard]] std::vector<PciBar> parse_resource_file(const std::string& text);

}  // namespace gpuinit::hw

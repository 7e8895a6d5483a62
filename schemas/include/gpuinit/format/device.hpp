// Identity and resources of a PCI function, shared by sequences, traces and register maps.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpuinit {

enum class BarKind : std::uint8_t { mem32, mem64, io };

struct Bar {
  std::uint8_t index = 0;  // 0..5
  BarKind kind = BarKind::mem32;
  std::uint64_t size = 0;  // bytes, a power of two
  bool prefetchable = false;
  bool operator==(const Bar&) const = default;
};

struct DeviceInfo {
  std::uint16_t vendor = 0;
  std::uint16_t device = 0;
  std::optional<std::uint16_t> subsystem_vendor;
  std::optional<std::uint16_t> subsystem_device;
  std::uint32_t class_code = 0;  // 24-bit base/sub/prog-if, e.g. 0x030000
  std::vector<Bar> bars;
  bool vga_decode = false;  // decodes legacy 0x3B0-0x3DF and 0xA0000-0xBFFFF
  bool operator==(const DeviceInfo&) const = default;

  [[nodiscard]] const Bar* bar(unsigned index) const noexcept {
    for (const auto& b : bars)
      if (b.index == index) return &b;
    return nullptr;
  }
};

}  // namespace gpuinit

// Runs arbitrary bytes as an option ROM in the virtual PC, against the model batch uses
// (x86::vendor_rom_model: SpinBreaker over GenericModel with VRAM windows, the I/O BAR's
// index/data window, compare hints), with small budgets: the PC, its timer and port-0x80
// fast-forward, the card windows and the spin breaker must neither crash, nor hang, nor
// touch memory out of bounds. The first two bytes pick the card: byte 0 the vendor (ATI,
// NVIDIA, Intel or the ROM's PCIR; bit 3: the input itself is the ROM chip NVIDIA's PROM
// reads, else the image), byte 1 the high byte of the device id.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "gpuinit/x86/pc.hpp"

using namespace gpuinit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const std::uint16_t vendors[] = {0, 0x1002, 0x10DE, 0x8086};
  x86::PcConfig cfg;
  cfg.device.vendor = vendors[data[0] & 3];
  cfg.device.device = std::uint16_t(data[1] << 8 | 0x01);
  cfg.device.class_code = 0x030000;
  cfg.device.vga_decode = (data[0] & 4) != 0;
  cfg.max_instructions = 200'000;
  cfg.max_events = 20'000;
  cfg.timeout_s = 0;
  // The image: 55 AA, a size, then the input from byte 2 on at the entry.
  std::vector<std::uint8_t> rom(4096, 0);
  rom[0] = 0x55;
  rom[1] = 0xAA;
  rom[2] = 8;
  for (std::size_t i = 2; i < size && i + 1 < rom.size(); ++i) rom[i + 1] = data[i];
  if (data[0] & 8) cfg.rom_chip = std::span<const std::uint8_t>(data, size);
  const auto model = x86::vendor_rom_model(rom, cfg);
  const auto r = x86::run_option_rom(rom, cfg, *model);
  if (r.trace.events.size() > cfg.max_events) __builtin_trap();
  if (r.instructions > cfg.max_instructions + 1) __builtin_trap();
  return 0;
}

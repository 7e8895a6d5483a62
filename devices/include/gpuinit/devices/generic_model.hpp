// The generic model: a device that remembers what was written. Reads return the bytes last
// written at that (space, bar, offset) — stored per byte, so a 32-bit read after four byte
// writes composes them — or the configured reset fill for bytes never written.
//
// VRAM: the windows listed in GenericOptions::vram (the frame buffer behind a memory BAR,
// the legacy window 0xA0000-0xBFFFF) are plain memory of the window's size, stored in
// pages of kVramPageBytes allocated on first write, at most vram_cap bytes in all. A
// memory-size probe (write a pattern at N MiB, read it back) therefore finds the BAR's
// size. Past the cap, writes to new pages are dropped (counted) and read as the fill;
// bytes past a window's size are not VRAM and read as the fill.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/device.hpp"

namespace gpuinit {

inline constexpr std::uint64_t kVramPageBytes = 4096;
// Bound on VRAM pages held by one model (a ROM that clears 256 MiB must not take 256 MiB).
inline constexpr std::uint64_t kMaxVramBytes = std::uint64_t{64} << 20;
// Windows per model: one per BAR plus the legacy window.
inline constexpr std::size_t kMaxVramWindows = 8;

struct VramWindow {
  Space space = Space::mmio;  // mmio (BAR-relative, with bar) or vga_mem
  std::uint8_t bar = 0;
  std::uint64_t size = 0;     // bytes from offset 0
};

struct GenericOptions {
  GenericOptions() = default;
  GenericOptions(std::uint8_t fill_byte) : fill(fill_byte) {}  // NOLINT: GenericOptions{0xFF}
  std::uint8_t fill = 0x00;  // value of every byte never written
  std::vector<VramWindow> vram;  // at most kMaxVramWindows are used
  std::uint64_t vram_cap = kMaxVramBytes;
};

// Options for a card: VRAM behind every prefetchable memory BAR (the frame buffer on the
// ATI/AMD, NVIDIA, Intel, Cirrus and Matrox cards we know; register BARs are not
// prefetchable) and the legacy window (128 KiB) when the card decodes VGA or is a display
// controller (class 0x03).
[[nodiscard]] GenericOptions generic_options_for(const DeviceInfo& d, std::uint8_t fill = 0x00);

struct GenericStats {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  // Reads that returned at least one never-written byte (answered with the fill).
  std::uint64_t unknown_reads = 0;
  // Distinct locations (space, bar, offset) whose first access was such a read.
  std::uint64_t unknown_locations = 0;
  // VRAM: accesses that fell in a VRAM window (also counted in reads/writes above),
  // pages allocated, writes dropped because vram_cap was reached.
  std::uint64_t vram_reads = 0;
  std::uint64_t vram_writes = 0;
  std::uint64_t vram_pages = 0;
  std::uint64_t vram_dropped_writes = 0;
};

class GenericModel final : public DeviceModel {
 public:
  explicit GenericModel(GenericOptions opt = {});

  [[nodiscard]] std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  [[nodiscard]] std::string name() const override { return "generic"; }

  // Gives a location a reset value without counting it as written by the code under test.
  void preset(const Access& a, std::uint64_t value);

  [[nodiscard]] const GenericStats& stats() const noexcept { return stats_; }

 private:
  struct Block {                // 8 bytes of one space, aligned on 8
    std::uint64_t data = 0;
    std::uint8_t valid = 0;     // bit i: byte i was written or preset
    bool reported = false;      // counted once in unknown_locations
  };
  [[nodiscard]] std::uint64_t block_key(const Access& a, std::uint64_t block) ;
  std::uint16_t name_id(std::string_view n);
  // Index of the VRAM window holding the whole access, or -1.
  [[nodiscard]] int vram_window(const Access& a) const noexcept;
  [[nodiscard]] std::uint64_t vram_read(int w, std::uint64_t off, unsigned n);
  void vram_write(int w, std::uint64_t off, unsigned n, std::uint64_t value);
  std::uint8_t* vram_page(int w, std::uint64_t page, bool create);

  GenericOptions opt_;
  GenericStats stats_;
  std::unordered_map<std::uint64_t, Block> blocks_;
  std::vector<std::string> names_;  // interned Space::named names
  std::unordered_map<std::uint64_t, std::unique_ptr<std::uint8_t[]>> pages_;
  std::uint64_t last_page_key_ = ~std::uint64_t{0};
  std::uint8_t* last_page_ = nullptr;
};

}  // namespace gpuinit

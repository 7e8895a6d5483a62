// The virtual PC: runs an option ROM's x86 init (entry at offset 3) the way a PC BIOS does
// and records every device access as a trace v1 event.
//
// Machine: 1 MiB of conventional memory plus extended RAM up to kRamTop; the ROM image in a
// writable shadow at C0000; our BIOS in segment F000 (IVT vectors point at hypercall stubs,
// 0F FF ib, at the IBM PC fixed entry addresses, then IRET); BIOS data area; $PMM and $PnP
// structures; one PCI function at (bus, devfn) with configuration mechanism #1; legacy VGA
// windows; PIT channels 0/2 and port 0x61 on virtual time; debug port 0x402 as text.
//
// Defaults reproduce what SeaBIOS 1.16 gives a VGA ROM under QEMU's `pc` machine (entry
// registers, return address F000:D015, $PnP at F000:6060, $PMM entry F000:D0B1, the first
// conventional PMM block at E8A40, BAR placement), so that traces compare with QEMU's.
//
// Time: virtual, ns_per_instruction per retired instruction plus INT 15h/86h waits; the
// PIT, port 0x61, INT 1Ah tick count and RDTSC (1 tick per ns) all read it.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/device.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit::x86 {

inline constexpr std::uint64_t kDefaultMaxInstructions = 200'000'000;
inline constexpr double kDefaultTimeoutS = 30.0;
inline constexpr std::uint32_t kRamTop = 0x0200'0000;          // 32 MiB of RAM, bounded
// Events one run may record; the run stops (as `budget`) when it reaches it. Each event is
// about 200 bytes in memory, so this bounds a run to about 1 GiB.
inline constexpr std::size_t kMaxTraceEvents = 4'000'000;
inline constexpr std::size_t kMaxDebugText = 1 << 20;          // bytes of port-0x402 text kept

// General registers and segments at the ROM's entry (SeaBIOS 1.16 values).
struct EntryRegs {
  std::uint32_t ebx = 0xFFFF, ecx = 0, edx = 0xFFFF, esi = 0, edi = 0x6060, ebp = 0;
  std::uint16_t sp = 0x6D14, ss = 0, ds = 0, es = 0xF000, fs = 0, gs = 0;
  std::uint32_t eflags = 0x202;
  std::uint16_t return_cs = 0xF000, return_ip = 0xD015;  // the far return ends the run
};

struct PcConfig {
  std::uint8_t bus = 0;
  std::uint8_t devfn = 0x10;  // 00:02.0: never 00:00.0 (ROMs treat bdf 0 as "no PCI")
  // Identity and BARs of the card. vendor == 0: ids and class come from the ROM's PCIR.
  // No BARs given: the family's layout (default_bars()).
  DeviceInfo device;
  bool default_bars = true;  // use the layout above when device.bars is empty
  // BAR addresses by index; a BAR not listed is placed the way SeaBIOS does (memory from
  // the top of the 32-bit window at 0xFEC00000 down, prefetchable below the rest, largest
  // first; I/O from 0xC000 up).
  std::map<unsigned, std::uint64_t> bar_bases;
  std::uint32_t io_window_base = 0xC000;
  EntryRegs entry;
  std::uint32_t pmm_low_top = 0xE8C40;   // conventional PMM blocks are carved downwards from here
  std::uint32_t pmm_high_top = kRamTop;  // extended PMM blocks likewise
  std::uint64_t ns_per_instruction = 1;  // virtual time per retired instruction
  std::uint64_t max_instructions = kDefaultMaxInstructions;
  double timeout_s = kDefaultTimeoutS;   // wall clock; <= 0: none
  bool record_icount = true;
  std::size_t max_events = kMaxTraceEvents;  // event budget (0: kMaxTraceEvents)
  // ATI/AMD and Intel cards: give the model the register (or ATI frame-buffer) access that
  // an access to the index/data window of the I/O BAR makes (MM_INDEX/MM_DATA,
  // MMIO_INDEX/MMIO_DATA), instead of the I/O access, which the trace still records. For
  // models without the card's register map (a map models the pair itself).
  bool io_window = false;
  // The whole contents of the card's ROM chip (the dump the image came from), which NVIDIA
  // cards show at BAR0 0x300000-0x3FFFFF (PROM); empty: the image alone. Must outlive
  // the run.
  std::span<const std::uint8_t> rom_chip;
};

enum class PcStop : std::uint8_t {
  completed,       // the init's far return reached the return address
  budget,          // max_instructions retired, or max_events recorded
  timeout,         // wall-clock limit
  halted,          // HLT (nothing can wake it: the virtual PC delivers no interrupts)
  invalid_opcode,
  triple_fault,
  runaway,         // execution ran into mostly zero-filled memory (a wild jump or return)
  unhandled_fault, // a CPU exception (#DE, #GP, ...) with no handler of the ROM's
  boot_request,    // the ROM asked to boot (INT 18h/19h)
  bad_image,       // nothing to run: no 0x55AA image, or too short for an entry
};
[[nodiscard]] const char* pc_stop_name(PcStop s) noexcept;

struct PcResult {
  PcStop stop = PcStop::completed;
  std::string message;   // one sentence, with CS:IP where it applies
  std::uint64_t instructions = 0;
  std::uint64_t t_ns = 0;
  std::string debug_text;  // what the ROM wrote to port 0x402
  Trace trace;
  bool truncated = false;  // the event budget was reached: the run stopped there (stop == budget)
  // The first ROM-chip offset the code read past the end of PcConfig::rom_chip (NVIDIA's
  // PROM), if any: the dump lacks what the code looked for there.
  std::optional<std::uint64_t> rom_read_past_end;
  [[nodiscard]] bool ok() const noexcept { return stop == PcStop::completed; }
};

// The card the virtual PC presents for `image` under `cfg`: cfg.device, with ids and class
// from the image's PCIR when cfg.device.vendor is 0, and the default BARs when none are given.
[[nodiscard]] DeviceInfo presented_device(std::span<const std::uint8_t> image, const PcConfig& cfg);
// The BARs a card of this vendor and device id has, by family (docs/extract.md); any other
// card gets BAR0 16 MiB prefetchable memory, BAR1 256 bytes I/O, BAR2 64 KiB memory.
[[nodiscard]] std::vector<Bar> default_bars(std::uint16_t vendor, std::uint16_t device);

// What runs vendor ROMs without a register map (batch, `extract --model generic+spin`): the
// generic model with VRAM behind the card's memory BARs and the legacy window, under the
// spin-breaking policy (docs/devices.md). Sets the options of `cfg` that go with it
// (io_window).
[[nodiscard]] std::unique_ptr<DeviceModel> vendor_rom_model(std::span<const std::uint8_t> image, PcConfig& cfg);

// Runs the x86 image `image` (the bytes of one 0x55AA image, as the BIOS would copy it).
// Reads of device spaces go to `model`; config registers 0x00-0x3F are the virtual PC's.
[[nodiscard]] PcResult run_option_rom(std::span<const std::uint8_t> image, const PcConfig& cfg,
                                      DeviceModel& model);

// The ids and class in an image's PCIR, if it has a valid one.
struct PcirIds {
  std::uint16_t vendor = 0, device = 0;
  std::uint32_t class_code = 0;
};
[[nodiscard]] std::optional<PcirIds> read_pcir(std::span<const std::uint8_t> image) noexcept;

// One image of an option ROM's chain (just enough to pick the x86 image to run; the full
// parser is gpuinit::rom::parse_rom).
struct ChainImage {
  std::size_t offset = 0, length = 0;
  std::optional<std::uint8_t> code_type;  // PCIR code type; nullopt without a PCIR
};
inline constexpr std::size_t kMaxChainImages = 16;
// Walks 0x55AA images by PCIR image length until the last-image bit, a bad signature or
// kMaxChainImages. Never reads outside `rom`.
[[nodiscard]] std::vector<ChainImage> walk_images(std::span<const std::uint8_t> rom);

}  // namespace gpuinit::x86

// Option ROM image-chain parser (PCI Firmware Specification 3.0) and vendor tables.
// parse_rom() never throws on hostile bytes and never reads outside `bytes`: what cannot
// be trusted is reported as a Diagnostic, and everything before it is still described.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gpuinit::rom {

// PCIR code types (PCI Firmware Spec 3.0 table 5-2), plus NVIDIA's firmware image type.
enum class CodeType : std::uint8_t { x86 = 0, open_firmware = 1, hp_pa_risc = 2, efi = 3, nvidia_fw = 0xE0 };

struct Diagnostic {
  std::string name;     // stable kebab-case id: "truncated", "bad-checksum", ...
  std::uint64_t offset = 0;  // in the file
  std::string message;  // one sentence
};

struct Image {
  std::uint64_t offset = 0;  // of the 0x55AA signature in the file
  std::optional<std::uint64_t> pcir_offset;  // absolute; nullopt for an ISA ROM
  std::optional<std::uint16_t> vendor_id, device_id;
  std::optional<std::uint32_t> class_code;   // 24 bits
  std::optional<std::uint8_t> code_type;     // the PCIR number
  std::uint64_t length = 0;  // bytes, from PCIR (or NPDE, or the 0x02 byte for ISA ROMs)
  bool last = false;
  std::uint8_t init_size_512 = 0;  // byte at 0x02 (x86 / legacy)
  std::optional<bool> checksum_ok;  // 8-bit sum of the image (x86 only)
  // Further facts per kind are listed by the implementation (EFI header, FCode header,
  // NPDE, ...) and all appear in to_json.
};

struct Table {
  std::string kind;  // "atombios", "nvidia-bit", "nvidia-bmp", "intel-vbt", "ati-legacy", ...
  std::uint64_t offset = 0;
};

struct RomInfo {
  std::uint64_t size = 0;
  std::vector<Image> images;
  std::vector<Table> tables;
  std::vector<Diagnostic> diagnostics;
};

[[nodiscard]] RomInfo parse_rom(std::span<const std::uint8_t> bytes);

}  // namespace gpuinit::rom

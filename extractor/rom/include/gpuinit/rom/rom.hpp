// Option ROM image-chain parser (PCI Firmware Specification 3.0) and vendor tables.
// parse_rom() never throws on hostile bytes and never reads outside `bytes`: what cannot
// be trusted is reported as a Diagnostic, and everything before it is still described.
// All offsets in this model are file offsets unless a name says otherwise.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpuinit::rom {

// PCIR code types (PCI Firmware Spec 3.0 table 5-2), plus NVIDIA's firmware image type.
enum class CodeType : std::uint8_t { x86 = 0, open_firmware = 1, hp_pa_risc = 2, efi = 3, nvidia_fw = 0xE0 };

// Limits against hostile input. Real ROMs stay far below each of them.
inline constexpr std::size_t kMaxImages = 64;        // images per file (real chains: <= 8)
inline constexpr std::size_t kMaxDiagnostics = 256;  // then one "too-many-diagnostics"
inline constexpr std::size_t kMaxDeviceList = 64;    // PCIR 3.0 device-list entries
inline constexpr std::size_t kMaxTableEntries = 512; // entries of any one vendor directory
inline constexpr std::size_t kMaxTables = 64;        // vendor tables per file

enum class Severity : std::uint8_t { info, warning, error };

struct Diagnostic {
  std::string name;     // stable kebab-case id: "truncated", "bad-checksum", ...
  std::uint64_t offset = 0;  // in the file
  std::string message;  // one sentence
  Severity severity = Severity::warning;
};

// An 8-bit sum over a byte range; ok when it is 0. `fix_value` written at `fix_offset`
// would make it 0 (absent when the fix byte lies outside the file).
struct Checksum {
  std::string name;  // "image" (PCIR length), "init" (byte 0x02 * 512), "ati" (0x21 over byte 0x02 * 512)
  std::uint64_t start = 0, length = 0;  // bytes actually summed (clipped to the file)
  std::uint8_t sum = 0;
  bool ok = false;
  std::optional<std::uint64_t> fix_offset;
  std::optional<std::uint8_t> fix_value;
};

// The PCI data structure, every field as stored.
struct Pcir {
  std::string signature;  // "PCIR"; NVIDIA also uses "NPDS" and "RGIS"
  std::uint16_t vendor_id = 0, device_id = 0;
  std::uint16_t device_list_ptr = 0;  // relative to the PCIR; VPD pointer before revision 3
  std::uint16_t length = 0;           // of the structure, bytes
  std::uint8_t revision = 0;
  std::uint32_t class_code = 0;       // base << 16 | sub << 8 | prog-if
  std::uint16_t image_length_512 = 0;
  std::uint16_t code_revision = 0;
  std::uint8_t code_type = 0;
  std::uint8_t indicator = 0;         // bit 7: last image
  std::uint16_t max_runtime_512 = 0;  // revision 3
  std::optional<std::uint16_t> config_utility_ptr, dmtf_clp_ptr;  // revision 3, when the length covers them
  std::vector<std::uint16_t> device_list;  // revision 3 device ids
};

// NVIDIA PCI data extension: 16-byte aligned after the PCIR; overrides length and last flag.
struct Npde {
  std::uint64_t offset = 0;
  std::uint16_t revision = 0, length = 0, image_length_512 = 0;
  std::uint8_t flags = 0;  // bit 7: last image
};

struct X86Entry {
  std::uint8_t opcode = 0;                  // byte at 0x03
  std::optional<std::uint64_t> target;      // file offset of a jmp short / jmp near target
};

struct EfiHeader {
  std::uint16_t init_size_512 = 0;  // 16-bit at 0x02
  std::uint32_t signature = 0;      // 0x0EF1
  std::uint16_t subsystem = 0, machine = 0, compression = 0;
  std::uint16_t pe_offset = 0;      // relative to the image
  std::optional<bool> pe_mz;        // "MZ" at pe_offset; unknown when compressed
};

struct FcodeHeader {
  std::uint64_t offset = 0;       // of the start token
  std::uint8_t start_token = 0;   // 0xF0 start0, 0xF1 start1, 0xF2 start2, 0xF3 start4
  std::uint8_t format = 0;
  std::uint16_t checksum = 0;     // 16-bit sum of the bytes after the 8-byte header
  std::uint32_t length = 0;       // of the program, header included
  std::optional<bool> checksum_ok;  // unknown when the program runs past the file
};

struct Image {
  std::uint64_t offset = 0;  // of the 0x55AA signature in the file
  std::optional<std::uint64_t> pcir_offset;  // absolute; nullopt for an ISA ROM
  std::optional<std::uint16_t> vendor_id, device_id;
  std::optional<std::uint32_t> class_code;   // 24 bits
  std::optional<std::uint8_t> code_type;     // the PCIR number
  std::uint64_t length = 0;  // bytes, from PCIR (or NPDE, or the 0x02 byte for ISA ROMs)
  bool last = false;         // PCIR indicator, overridden by NPDE
  std::uint8_t init_size_512 = 0;  // byte at 0x02 (x86 / legacy)
  std::optional<bool> checksum_ok;  // every checksum of an x86 image is 0; nullopt otherwise
  // Further facts per kind.
  std::uint16_t signature = 0;  // first two bytes, little-endian: 0xAA55, 0xBB77, 0x564E ("NV")
  bool in_chain = true;         // false: found after the declared end of the chain
  bool ati = false;             // ATI/AMD " 761295520" magic at 0x30
  std::vector<Checksum> checksums;  // "image" for every image; x86 adds "init" or "ati"
  std::optional<Pcir> pcir;
  std::optional<Npde> npde;
  std::optional<X86Entry> x86;
  std::optional<EfiHeader> efi;
  std::optional<FcodeHeader> fcode;
};

// One entry of a vendor table directory (AtomBIOS master tables, BIT tokens, VBT blocks).
struct TableEntry {
  std::uint32_t index = 0;   // AtomBIOS table index, BIT token id (a character), VBT block id
  std::uint64_t offset = 0;  // file offset
  std::uint32_t size = 0;
  std::uint8_t format_revision = 0, content_revision = 0;  // AtomBIOS; BIT: version in format_revision
  bool in_bounds = true;     // the entry lies inside the file
};

struct Table {
  std::string kind;  // "atombios", "nvidia-bit", "nvidia-bmp", "intel-vbt", "ati-legacy", ...
  std::uint64_t offset = 0;
  std::size_t image = 0;        // index into RomInfo::images
  std::string version;          // "2.2", "1.0", "100", ... as the table states it
  // atombios: master command table in `entries`, master data table in `data_entries`;
  // nvidia-bit: tokens; intel-vbt: BDB blocks.
  std::optional<std::uint64_t> directory_offset, data_directory_offset;
  std::vector<TableEntry> entries, data_entries;
  std::optional<std::uint16_t> subsystem_vendor_id, subsystem_id;  // atombios
};

struct RomInfo {
  std::uint64_t size = 0;
  std::string sha256;            // of the whole file
  std::uint64_t chain_end = 0;   // end of the declared chain (file offset)
  std::vector<Image> images;
  std::vector<Table> tables;
  std::vector<Diagnostic> diagnostics;
};

[[nodiscard]] RomInfo parse_rom(std::span<const std::uint8_t> bytes);

// True when at least one image was found: the file is an option ROM.
[[nodiscard]] bool is_rom(const RomInfo& info);
// The first in-chain image with x86 code (PCIR code type 0, or an ISA ROM), or nullptr.
[[nodiscard]] const Image* find_x86_image(const RomInfo& info);

// Names used in output.
[[nodiscard]] std::string_view code_type_name(std::optional<std::uint8_t> code_type);
[[nodiscard]] std::string_view vendor_name(std::uint16_t vendor_id);  // "" when unknown
[[nodiscard]] std::string_view severity_name(Severity s);
[[nodiscard]] std::string_view efi_machine_name(std::uint16_t machine);
[[nodiscard]] std::string_view efi_subsystem_name(std::uint16_t subsystem);

// `gpu-init info` text: one lspci -v like block per image, then tables and diagnostics.
[[nodiscard]] std::string to_text(const RomInfo& info, std::string_view file);

}  // namespace gpuinit::rom

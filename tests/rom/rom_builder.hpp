// Builds option ROM bytes by hand for the parser tests. Every field is written by name so a
// test can corrupt exactly one of them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

namespace gpuinit::rom::test {

using Bytes = std::vector<std::uint8_t>;

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b.at(at) = v & 0xFF;
  b.at(at + 1) = v >> 8;
}
inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  put16(b, at, v & 0xFFFF);
  put16(b, at + 2, v >> 16);
}
inline void put_str(Bytes& b, std::size_t at, std::string_view s) { std::copy(s.begin(), s.end(), b.begin() + static_cast<std::ptrdiff_t>(at)); }

// Sets the last byte of [at, at + len) so the 8-bit sum of the range is 0.
inline void fix_checksum(Bytes& b, std::size_t at, std::size_t len, std::size_t fix_at) {
  b.at(fix_at) = 0;
  unsigned sum = 0;
  for (std::size_t i = at; i < at + len; ++i) sum += b.at(i);
  b.at(fix_at) = static_cast<std::uint8_t>(-sum);
}

struct ImageSpec {
  std::uint16_t units = 2;          // image length in 512-byte units
  std::uint16_t vendor = 0x1234, device = 0x1111;
  std::uint32_t class_code = 0x030000;
  std::uint8_t code_type = 0;       // x86
  bool last = true;
  std::uint16_t pcir_at = 0x40;     // PCIR pointer at 0x18
  std::uint8_t pcir_revision = 3;
};

// One image: ROM header, entry jump, PCI data structure, checksum fixed in the last byte.
inline Bytes image(const ImageSpec& s) {
  Bytes b(std::size_t{s.units} * 512, 0);
  b[0] = 0x55;                                 // signature
  b[1] = 0xAA;
  b[2] = static_cast<std::uint8_t>(s.units);   // init size, 512-byte units
  b[3] = 0xEB;                                 // entry: jmp short
  b[4] = 0x20;                                 //   to 0x03 + 2 + 0x20 = 0x25
  b[0x25] = 0xCB;                              // retf
  put16(b, 0x18, s.pcir_at);                   // pointer to the PCI data structure
  const std::size_t p = s.pcir_at;
  put_str(b, p + 0x00, "PCIR");                // signature
  put16(b, p + 0x04, s.vendor);                // vendor id
  put16(b, p + 0x06, s.device);                // device id
  put16(b, p + 0x08, 0);                       // device list pointer (none)
  put16(b, p + 0x0A, 0x1C);                    // structure length (revision 3)
  b[p + 0x0C] = s.pcir_revision;               // structure revision
  b[p + 0x0D] = s.class_code & 0xFF;           // class code: programming interface
  b[p + 0x0E] = (s.class_code >> 8) & 0xFF;    //   sub-class
  b[p + 0x0F] = (s.class_code >> 16) & 0xFF;   //   base class
  put16(b, p + 0x10, s.units);                 // image length, 512-byte units
  put16(b, p + 0x12, 0x0102);                  // code revision
  b[p + 0x14] = s.code_type;                   // code type
  b[p + 0x15] = s.last ? 0x80 : 0x00;          // indicator: bit 7 = last image
  put16(b, p + 0x16, 0);                       // max runtime image length
  put16(b, p + 0x18, 0);                       // config utility code header pointer
  put16(b, p + 0x1A, 0);                       // DMTF CLP entry point pointer
  fix_checksum(b, 0, b.size(), b.size() - 1);
  return b;
}

// An EFI image: the ROM header's EFI fields, then an uncompressed "MZ" at 0x60.
inline Bytes efi_image(ImageSpec s) {
  s.code_type = 3;
  s.pcir_at = 0x1C;
  Bytes b = image(s);
  put16(b, 0x02, s.units);   // initialization size (16-bit for EFI)
  put32(b, 0x04, 0x0EF1);    // EFI signature
  put16(b, 0x08, 11);        // subsystem: boot service driver
  put16(b, 0x0A, 0x8664);    // machine type: X64
  put16(b, 0x0C, 0);         // compression: none
  put16(b, 0x16, 0x60);      // EFI image (PE) offset
  put_str(b, 0x60, "MZ");
  return b;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace gpuinit::rom::test

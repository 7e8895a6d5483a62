// Option ROM bytes built by hand for the batch tests.
#pragma once
#include <cstdint>
#include <vector>

namespace gpuinit::testroms {

// One 512-byte image: 55 AA, size 1, `code` at the entry (offset 3, at most 0x15 bytes),
// PCIR at 0x20 unless `pci` is false, checksum fixed in the last byte.
inline std::vector<std::uint8_t> image(std::vector<std::uint8_t> code, bool pci = true, std::uint8_t code_type = 0,
                                       bool last = true, std::uint16_t vendor = 0x1234, std::uint16_t device = 0x5678) {
  std::vector<std::uint8_t> b(512, 0);
  b[0] = 0x55;  // signature
  b[1] = 0xAA;
  b[2] = 1;     // init size, 512-byte units
  for (std::size_t i = 0; i < code.size() && i < 0x15; ++i) b[3 + i] = code[i];
  if (pci) {
    b[0x18] = 0x20;  // PCIR pointer
    b[0x20] = 'P';
    b[0x21] = 'C';
    b[0x22] = 'I';
    b[0x23] = 'R';
    b[0x24] = std::uint8_t(vendor);
    b[0x25] = std::uint8_t(vendor >> 8);
    b[0x26] = std::uint8_t(device);
    b[0x27] = std::uint8_t(device >> 8);
    b[0x2A] = 0x18;  // PCIR length
    b[0x2C] = 0x00;  // revision
    b[0x2D] = 0x00;  // class: prog-if, sub, base 0x03 (VGA)
    b[0x2E] = 0x00;
    b[0x2F] = 0x03;
    b[0x30] = 1;  // image length, 512-byte units
    b[0x34] = code_type;
    b[0x35] = last ? 0x80 : 0x00;
  }
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i + 1 < b.size(); ++i) sum = std::uint8_t(sum + b[i]);
  b[511] = std::uint8_t(0x100 - sum);
  return b;
}

// mov dx,0x3C4; mov al,1; out dx,al; in al,dx; retf
inline std::vector<std::uint8_t> polite_code() { return {0xBA, 0xC4, 0x03, 0xB0, 0x01, 0xEE, 0xEC, 0xCB}; }
// mov dx,0x3DA; wait: in al,dx; test al,8; jz wait; retf  (spins until bit 3 is set)
inline std::vector<std::uint8_t> spin_code() { return {0xBA, 0xDA, 0x03, 0xEC, 0xA8, 0x08, 0x74, 0xFB, 0xCB}; }
// hlt
inline std::vector<std::uint8_t> halt_code() { return {0xFA, 0xF4}; }

}  // namespace gpuinit::testroms

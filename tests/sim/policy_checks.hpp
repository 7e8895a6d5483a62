// Checks of the fixture block's behaviour through any Target (direct driver or TLM).
#pragma once
#include "sim_fixture.hpp"

namespace simtest {

using gpuinit::Space;

inline void check_policies(gpuinit::replay::Target& t) {
  // ro: a strap keeps its value.
  CHECK(t.read(mmio(0x0)) == 0x12345678u);
  t.write(mmio(0x0), 0xFFFFFFFF);
  CHECK(t.read(mmio(0x0)) == 0x12345678u);
  // rw, and a ro field inside a rw register.
  t.write(mmio(0x4), 0xDEADBEEF);
  CHECK(t.read(mmio(0x4)) == 0xDEADBEEFu);
  t.write(mmio(0x8), 0xFF000004);
  CHECK(t.read(mmio(0x8)) == 0x00000004u);
  // w1c: ones clear, zeros keep.
  CHECK(t.read(mmio(0x10)) == 0xFFu);
  t.write(mmio(0x10), 0x0F);
  CHECK(t.read(mmio(0x10)) == 0xF0u);
  // w1s: ones set, zeros keep.
  t.write(mmio(0x14), 0x01);
  t.write(mmio(0x14), 0x10);
  CHECK(t.read(mmio(0x14)) == 0x11u);
  // wo: reads zero.
  t.write(mmio(0x18), 0x55);
  CHECK(t.read(mmio(0x18)) == 0u);
  // Field-level overrides: C w1c, S w1s, W wo, K ro, top nibble rw.
  CHECK(t.read(mmio(0x1C)) == 0xF000F0F0u);
  t.write(mmio(0x1C), 0x1FAA0F30);
  // C: 0xF0 & ~0x30 = 0xC0; S: 0xF0 | 0x0F = 0xFF; W reads 0; K stays 0; top = 0x1.
  CHECK(t.read(mmio(0x1C)) == 0x1000FFC0u);
  // 64-bit register and sub-word accesses.
  t.write(mmio(0x20, 64), 0x0123456789ABCDEFull);
  CHECK(t.read(mmio(0x20, 64)) == 0x0123456789ABCDEFull);
  CHECK(t.read(mmio(0x24, 32)) == 0x01234567u);
  t.write(mmio(0x21, 8), 0x00);
  CHECK(t.read(mmio(0x20, 32)) == 0x89AB00EFu);
  // Two registers in one word: a 16-bit and an 8-bit one, read together.
  t.write(mmio(0x2A, 8), 0x77);
  CHECK(t.read(mmio(0x28, 32)) == 0x00771234u);
  // Unmapped: reads zero, writes vanish.
  t.write(mmio(0x100), 0x1234);
  CHECK(t.read(mmio(0x100)) == 0u);
  // I/O BAR.
  t.write(at(Space::io, 0, 8, 2), 0xA5);
  CHECK(t.read(at(Space::io, 0, 8, 2)) == 0xA5u);
}

inline void check_behaviours(gpuinit::replay::Target& t) {
  // constant: the top byte of MODE always reads 0xA3.
  t.write(mmio(0x30), 0x000000FF);
  CHECK(t.read(mmio(0x30)) == 0xA30000FFu);
  // readback: 0x92 unlocks (reads 0x12), anything else reads 0x0F.
  CHECK(t.read(mmio(0x34, 8)) == 0u);
  t.write(mmio(0x34, 8), 0x92);
  CHECK(t.read(mmio(0x34, 8)) == 0x12u);
  t.write(mmio(0x34, 8), 0x01);
  CHECK(t.read(mmio(0x34, 8)) == 0x0Fu);
  // delayed_set: PLL_LOCK 20 us after PLL_EN, TRAIN_DONE 55 ns after both bits.
  CHECK(t.read(mmio(0xC)) == 0u);
  t.write(mmio(0x8), 0x1);
  const auto t0 = t.now_ns();
  CHECK(t.read(mmio(0xC)) == 0u);
  t.advance(19'000);
  CHECK((t.read(mmio(0xC)) & 1u) == 0u);
  CHECK(t.now_ns() - t0 < 20'000);
  t.advance(20'000 - (t.now_ns() - t0));
  CHECK(t.now_ns() - t0 == 20'000);
  CHECK((t.read(mmio(0xC)) & 1u) == 1u);
  // Writing the same enable again does not restart the count.
  t.write(mmio(0x8), 0x1);
  CHECK((t.read(mmio(0xC)) & 1u) == 1u);
  t.write(mmio(0x8), 0x3);
  CHECK(t.read(mmio(0xC)) == 0x1u);
  t.advance(60);
  CHECK(t.read(mmio(0xC)) == 0x3u);
  // Dropping the trigger condition reverts the bits.
  t.write(mmio(0x8), 0x0);
  CHECK(t.read(mmio(0xC)) == 0u);
}

inline void check_indexed(gpuinit::replay::Target& t) {
  // The card's own index/data pair: listed registers with their policies, a bank elsewhere.
  CHECK(t.read(at(Space::named, 5, 8, 0, "ext")) == 0x11u);
  CHECK(t.read(at(Space::named, 6, 8, 0, "ext")) == 0x5Au);
  t.write(at(Space::named, 6, 8, 0, "ext"), 0);
  CHECK(t.read(at(Space::named, 6, 8, 0, "ext")) == 0x5Au);
  t.write(at(Space::named, 9, 8, 0, "ext"), 0x3C);  // not in the map: nothing stored
  CHECK(t.read(at(Space::named, 9, 8, 0, "ext")) == 0u);
  // The index register is real: written and read at its port, and an access through the
  // indexed space puts back the index it found.
  t.write(at(Space::io, 4, 8, 2), 0x2A);
  (void)t.read(at(Space::named, 5, 8, 0, "ext"));
  CHECK(t.read(at(Space::io, 4, 8, 2)) == 0x2Au);
  // A 16-bit write to the index port writes index and data in one cycle.
  t.write(at(Space::io, 4, 16, 2), 0x6605);
  CHECK(t.read(at(Space::named, 5, 8, 0, "ext")) == 0x66u);
  // Beyond the space's 64 entries: reads zero.
  t.write(at(Space::named, 70, 8, 0, "ext"), 0x44);
  CHECK(t.read(at(Space::named, 70, 8, 0, "ext")) == 0u);
  // VGA: sequencer register from the map (readback), plain CRTC/GFX/ATTR storage.
  CHECK(t.read(at(Space::vga_seq, 6)) == 0x0Fu);
  t.write(at(Space::vga_seq, 6), 0x92);
  CHECK(t.read(at(Space::vga_seq, 6)) == 0x12u);
  t.write(at(Space::vga_crtc, 0x11), 0x8E);
  CHECK(t.read(at(Space::vga_crtc, 0x11)) == 0x8Eu);
  t.write(at(Space::vga_io, 0x3B4), 0x11);  // misc bit 0 clear: the mono ports
  CHECK(t.read(at(Space::vga_io, 0x3B5)) == 0x8Eu);
  CHECK(t.read(at(Space::vga_io, 0x3D5)) == 0xFFu);  // colour ports off
  t.write(at(Space::vga_gfx, 0x06), 0x05);
  CHECK(t.read(at(Space::vga_gfx, 0x06)) == 0x05u);
  t.write(at(Space::vga_attr, 0x10), 0x41);
  t.write(at(Space::vga_attr, 0x12), 0x0F);
  CHECK(t.read(at(Space::vga_attr, 0x10)) == 0x41u);
  CHECK(t.read(at(Space::vga_attr, 0x12)) == 0x0Fu);
  // Attribute flip-flop by hand: index, data, then 0x3DA resets it.
  (void)t.read(at(Space::vga_io, 0x3DA));
  t.write(at(Space::vga_io, 0x3C0), 0x33);  // index 0x13, PAS
  t.write(at(Space::vga_io, 0x3C0), 0x08);  // data
  CHECK(t.read(at(Space::vga_io, 0x3C0)) == 0x33u);
  CHECK(t.read(at(Space::vga_io, 0x3C1)) == 0x08u);
  // Misc output: written at 0x3C2, read at 0x3CC.
  t.write(at(Space::vga_io, 0x3C2), 0x67);
  CHECK(t.read(at(Space::vga_io, 0x3CC)) == 0x67u);
  // DAC: write index, three components per entry, read back through the read index.
  t.write(at(Space::vga_io, 0x3C8), 0x10);
  for (unsigned v : {0x3Fu, 0x20u, 0x01u, 0x02u, 0x03u, 0x04u}) t.write(at(Space::vga_io, 0x3C9), v);
  CHECK(t.read(at(Space::vga_io, 0x3C8)) == 0x12u);
  t.write(at(Space::vga_io, 0x3C7), 0x10);
  CHECK(t.read(at(Space::vga_io, 0x3C7)) == 0x03u);
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(t.read(at(Space::vga_io, 0x3C9)));
  CHECK(got == std::vector<std::uint64_t>{0x3F, 0x20, 0x01, 0x02, 0x03, 0x04});
  // Palette bytes directly (vga_dac offset = entry * 3 + component): one component
  // changes, its neighbours keep their values.
  t.write(at(Space::vga_dac, 0x10 * 3 + 1), 0x2A);
  CHECK(t.read(at(Space::vga_dac, 0x10 * 3 + 0)) == 0x3Fu);
  CHECK(t.read(at(Space::vga_dac, 0x10 * 3 + 1)) == 0x2Au);
  CHECK(t.read(at(Space::vga_dac, 0x10 * 3 + 2)) == 0x01u);
  CHECK(t.read(at(Space::vga_dac, 0x11 * 3 + 0)) == 0x02u);
}

}  // namespace simtest

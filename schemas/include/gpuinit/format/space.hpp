// Address spaces of an access: the one list every component derives its names from.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace gpuinit {

// X(enumerator, json name, bar-relative, indexed)
//  - bar-relative spaces carry `bar` (the BAR index) and an offset from that BAR's base;
//  - indexed spaces take the index register value as `offset`;
//  - vga_io offset = absolute port (0x3B0-0x3DF); vga_mem offset from 0xA0000;
//  - port = any other absolute I/O port; config = PCI config space offset.
#define GPUINIT_SPACES(X)                  \
  X(mmio, "mmio", true, false)             \
  X(io, "io", true, false)                 \
  X(config, "config", false, false)        \
  X(vga_io, "vga_io", false, false)        \
  X(vga_mem, "vga_mem", false, false)      \
  X(port, "port", false, false)            \
  X(vga_seq, "vga_seq", false, true)       \
  X(vga_crtc, "vga_crtc", false, true)     \
  X(vga_gfx, "vga_gfx", false, true)       \
  X(vga_attr, "vga_attr", false, true)     \
  X(vga_dac, "vga_dac", false, true)

enum class Space : std::uint8_t {
#define GPUINIT_X(e, n, b, i) e,
  GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
  // A card's own index/data pair, named in its register map; the name travels beside
  // the enumerator (Op::space_name, TraceEvent::space_name).
  named,
};

[[nodiscard]] std::string_view space_name(Space s) noexcept;  // "named" for Space::named
[[nodiscard]] bool space_has_bar(Space s) noexcept;
[[nodiscard]] bool space_is_indexed(Space s) noexcept;  // named spaces are indexed
// A built-in name gives its enumerator; any other identifier ([a-z][a-z0-9_]*) gives
// Space::named; anything else gives nullopt.
[[nodiscard]] std::optional<Space> parse_space(std::string_view name) noexcept;

[[nodiscard]] constexpr bool valid_width(unsigned w) noexcept {
  return w == 8 || w == 16 || w == 32 || w == 64;
}
[[nodiscard]] constexpr std::uint64_t width_mask(unsigned w) noexcept {
  return w >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << w) - 1);
}
// The PC's timer ports (PIT 0x40-0x43, port 0x61): the emulator answers them itself and
// the reducer turns accesses to them into waits.
[[nodiscard]] constexpr bool is_timer_port(std::uint64_t port) noexcept {
  return (port >= 0x40 && port <= 0x43) || port == 0x61;
}

}  // namespace gpuinit

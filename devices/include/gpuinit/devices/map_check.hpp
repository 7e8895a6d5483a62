// The rules a register map must keep beyond its JSON Schema, checked before a model is
// built from it: every problem names the register (or space, or behaviour) at fault.
#pragma once
#include <string_view>
#include <vector>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/result.hpp"

namespace gpuinit {

// Limits against hostile maps (a map is input like any other).
inline constexpr std::size_t kMaxMapRegisters = 65536;
inline constexpr std::uint32_t kMaxIndexedSpaceSize = 65536;
inline constexpr std::size_t kMaxMapBehaviours = 4096;
inline constexpr std::size_t kMaxMapBlocks = 64;
inline constexpr std::uint64_t kMaxBlockBytes = 65536;  // an EDID with extensions is 32 KiB at most

// Rules: unique non-empty register names; valid widths; reset fits the width; BAR-relative
// registers name a BAR of the right kind and fit inside it; vga_io registers lie in
// 0x3B0-0x3DF and avoid the built-in VGA ports when `vga` is set; VGA indexed spaces need
// `vga`; named spaces are declared in indexed_spaces and the offset is below their size;
// no two registers overlap; index/data locations collide with no register or each other;
// fields lie inside the width, do not overlap and have unique names; behaviours name
// existing registers, masks lie inside the register and values inside the mask; a
// conditional constant's trigger fits its register; i2c_gpio names an existing block, bit
// numbers lie inside the register and the address is 7-bit; data blocks have unique names,
// at most kMaxBlockBytes with data no longer than size, and a mapped block lies in a direct
// space (inside its BAR) without overlapping registers or index/data locations.
[[nodiscard]] std::vector<Problem> check_regmap_rules(const RegisterMap& m);

// load_regmap() followed by check_regmap_rules().
[[nodiscard]] Loaded<RegisterMap> load_checked_regmap(std::string_view text);

// The standard VGA ports the model implements itself when a map sets `vga`.
[[nodiscard]] bool is_builtin_vga_port(std::uint64_t port) noexcept;

// Number of indices of a built-in indexed space (vga_dac: 768 palette bytes).
[[nodiscard]] std::uint32_t builtin_indexed_size(Space s) noexcept;

}  // namespace gpuinit

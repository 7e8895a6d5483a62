// The store's admission check, by the ROM parser: a file is accepted when it holds at
// least one option-ROM image (0x55AA with a sane length), so HTML error pages, empty
// downloads and random files are rejected with the parser's reason.
#pragma once
#include "gpuinit/harvest/store.hpp"

namespace gpuinit::harvest {
[[nodiscard]] Verdict check_rom(std::span<const std::uint8_t> bytes);
}

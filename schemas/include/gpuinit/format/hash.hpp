// SHA-1 and SHA-256 of byte strings (ROM identity in metadata, content-addressed names).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace gpuinit {
[[nodiscard]] std::string sha1_hex(std::span<const std::uint8_t> data);
[[nodiscard]] std::string sha256_hex(std::span<const std::uint8_t> data);
}  // namespace gpuinit

// Whole-file reading and atomic writing.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gpuinit {

// Hard cap on any input file we read whole (ROMs are at most a few MiB; traces of a full
// vendor POST can be large). Named so hostile inputs cannot make us allocate without bound.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{1} << 31;  // 2 GiB

// Throws std::runtime_error naming the file and the cause.
[[nodiscard]] std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& p);
[[nodiscard]] std::string read_file_text(const std::filesystem::path& p);

// Writes to a temporary file beside `p`, flushes, then renames over `p`: an interrupted
// run leaves either the old file or the new one, never half of one. Throws on failure.
void write_file_atomic(const std::filesystem::path& p, std::string_view content);

}  // namespace gpuinit

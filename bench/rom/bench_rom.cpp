// Times what `gpu-init info --json` does for the whole corpus in one process: parse every
// file and build its JSON (files are read once, before timing). Prints the median of
// several whole-corpus passes, with and without the SHA-256 of each file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/rom/rom.hpp"
#include "gpuinit/rom/rom_json.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::path(GPUINIT_CORPUS_DIR);
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 15;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file() && it->path().extension() != ".tsv")
      files.emplace_back(it->path().string(), gpuinit::read_file_bytes(it->path()));
  if (files.empty()) {
    std::fprintf(stderr, "bench_rom: no files under %s\n", dir.string().c_str());
    return 2;
  }
  std::uint64_t bytes = 0;
  for (const auto& f : files) bytes += f.second.size();

  // One series as `info --json` runs (SHA-256 of each file included), one without hashing.
  std::size_t out_chars = 0;
  for (const bool hash : {true, false}) {
    std::vector<double> ms;
    for (int p = 0; p < passes; ++p) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& [name, data] : files)
        out_chars += gpuinit::rom::to_json(gpuinit::rom::parse_rom(data, {.hash = hash}), name).dump().size();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("rom parse+json%s: %zu files, %.1f MiB, %d passes: median %.2f ms per pass (min %.2f, max %.2f)\n",
                hash ? " (with sha256)" : " (no hashing)", files.size(), static_cast<double>(bytes) / (1 << 20), passes,
                ms[ms.size() / 2], ms.front(), ms.back());
  }
  std::printf("%zu JSON chars in all\n", out_chars);
  return 0;
}

// Bus transactions per second on a generated register block: the Verilated model driven
// directly, the sim-fast target, and the SystemC TLM-2.0 target, each without and with a
// waveform. SystemC allows one simulation per process, so `all` runs every mode in a child
// process of its own (this same program).
//
//   bench_sim [all | block | direct | direct-vcd | direct-fst | tlm | tlm-vcd | tlm-fst] [N] [MAP]
//
// Prints one line per mode: "mode tx/s median-of-7 (N transactions)". Waveforms go to the
// temporary folder and are removed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gpuinit/sim/sim.hpp"

namespace {

using gpuinit::sim::Waveform;

int run_mode(const std::string& mode, std::uint64_t n, const std::string& map_name) {
  const auto* b = gpuinit::sim::find_block(map_name);
  if (!b) {
    std::fprintf(stderr, "bench_sim: no block for map '%s'\n", map_name.c_str());
    return 2;
  }
  const auto map = gpuinit::sim::block_map(*b);
  const gpuinit::Register* reg = nullptr;
  for (const auto& r : map.registers)
    if (r.space == gpuinit::Space::mmio && r.access == gpuinit::AccessPolicy::rw && r.width == 32) {
      reg = &r;
      break;
    }
  if (!reg) {
    std::fprintf(stderr, "bench_sim: map '%s' has no 32-bit rw mmio register\n", map_name.c_str());
    return 2;
  }
  gpuinit::Access a;
  a.space = gpuinit::Space::mmio;
  a.bar = reg->bar;
  a.offset = reg->offset;
  a.width = 32;

  gpuinit::sim::SimOptions o;
  o.systemc = mode.rfind("tlm", 0) == 0;
  const auto wave_path = std::filesystem::temp_directory_path() / ("gpuinit-bench-" + mode + std::to_string(::getpid()));
  if (mode.ends_with("-vcd")) o.wave = Waveform::vcd;
  if (mode.ends_with("-fst")) o.wave = Waveform::fst;
  o.waveform_path = wave_path.string();
  const int reps = o.wave == Waveform::none ? 7 : 3;
  std::vector<double> rates;
  if (mode == "block") {
    auto blk = b->make(Waveform::none, {});
    const std::uint64_t word = gpuinit::sim::bus_word(gpuinit::sim::kRegionBar0 + reg->bar, reg->offset);
    const unsigned shift = unsigned(reg->offset % 8) * 8;
    const std::uint8_t be = std::uint8_t(0xF << (reg->offset % 8));
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      std::uint64_t acc = 0;
      for (std::uint64_t i = 0; i < n; ++i) acc += blk->cycle(word, (i & 0xFFFFFFFF) << shift, be, true, false);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rates.push_back(double(n) / s + double(acc & 1) * 0);
    }
  } else {
    // One target per process for SystemC; the direct one is reused across repetitions too.
    auto t = gpuinit::sim::make_target(*b, o);
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t i = 0; i < n; ++i) {
        t->write(a, i & 0xFFFFFFFF);
        t->advance(10);  // one clock period between accesses, as a bus would space them
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rates.push_back(double(n) / s);
    }
  }
  std::error_code ec;
  std::filesystem::remove(wave_path, ec);
  std::sort(rates.begin(), rates.end());
  std::printf("%-11s %8.2f M tx/s  (median of %d, %llu transactions, map %s)\n", mode.c_str(),
              rates[rates.size() / 2] / 1e6, reps, static_cast<unsigned long long>(n), map_name.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "all";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000;
  const std::string map = argc > 3 ? argv[3] : "gpuinit-ref";
  if (mode != "all") return run_mode(mode, n, map);
  int rc = 0;
  for (const char* m : {"block", "direct", "direct-vcd", "direct-fst", "tlm", "tlm-vcd", "tlm-fst"}) {
    std::fflush(stdout);
    const std::string cmd = "'" + std::string(argv[0]) + "' " + m + " " + std::to_string(n) + " '" + map + "'";
    if (std::system(cmd.c_str()) != 0) rc = 1;
  }
  return rc;
}

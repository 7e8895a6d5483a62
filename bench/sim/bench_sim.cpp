// Bus transactions per second on a generated register block: the Verilated model driven
// directly, the sim-fast target, and the SystemC TLM-2.0 target, each without and with a
// waveform. SystemC allows one simulation per process, so `all` runs every mode in a child
// process of its own (this same program).
//
//   bench_sim [all | block | direct | direct-vcd | direct-fst | tlm | tlm-vcd | tlm-fst] [N] [MAP] [WORKLOAD]
//
// Workloads (each transaction is followed by advance(10 ns), one clock period, as a bus
// would space them):
//   write  a 32-bit write to one read/write mmio register (the default);
//   mix    round robin over the map's read/write mmio registers: 32-bit write, 32-bit read,
//          16-bit read of the upper half, 8-bit write of byte 1; on a VGA map also a
//          vga_io write and read of the sequencer index port.
//
// Prints one line per mode with the median rate over the repetitions, computed from the
// process's CPU time (what counts on a shared machine) and from wall-clock time, and the
// load average when the mode started. Waveforms go to the temporary folder and are removed
// unless GPUINIT_BENCH_KEEP_WAVE is set.
#include <time.h>
#include <unistd.h>

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

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Tx {
  gpuinit::Access a;
  bool write = false;
};

std::vector<Tx> workload(const gpuinit::RegisterMap& map, const std::string& kind) {
  std::vector<Tx> txs;
  for (const auto& r : map.registers) {
    if (r.space != gpuinit::Space::mmio || r.access != gpuinit::AccessPolicy::rw || r.width != 32) continue;
    gpuinit::Access a;
    a.space = gpuinit::Space::mmio;
    a.bar = r.bar;
    a.offset = r.offset;
    a.width = 32;
    txs.push_back({a, true});
    if (kind == "write") return txs;
    txs.push_back({a, false});
    gpuinit::Access h = a;
    h.offset += 2;
    h.width = 16;
    txs.push_back({h, false});
    gpuinit::Access b = a;
    b.offset += 1;
    b.width = 8;
    txs.push_back({b, true});
  }
  if (kind == "mix" && map.vga && !txs.empty()) {
    gpuinit::Access p;
    p.space = gpuinit::Space::vga_io;
    p.offset = 0x3C4;
    p.width = 8;
    txs.push_back({p, true});
    txs.push_back({p, false});
  }
  return txs;
}

int run_mode(const std::string& mode, std::uint64_t n, const std::string& map_name, const std::string& kind) {
  const auto* b = gpuinit::sim::find_block(map_name);
  if (!b) {
    std::fprintf(stderr, "bench_sim: no block for map '%s'\n", map_name.c_str());
    return 2;
  }
  if (kind != "write" && kind != "mix") {
    std::fprintf(stderr, "bench_sim: unknown workload '%s' (write, mix)\n", kind.c_str());
    return 2;
  }
  const auto map = gpuinit::sim::block_map(*b);
  const auto txs = workload(map, kind);
  if (txs.empty()) {
    std::fprintf(stderr, "bench_sim: map '%s' has no 32-bit rw mmio register\n", map_name.c_str());
    return 2;
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 1) load[0] = -1;

  gpuinit::sim::SimOptions o;
  o.systemc = mode.rfind("tlm", 0) == 0;
  const auto wave_path = std::filesystem::temp_directory_path() / ("gpuinit-bench-" + mode + std::to_string(::getpid()));
  if (mode.ends_with("-vcd")) o.wave = Waveform::vcd;
  if (mode.ends_with("-fst")) o.wave = Waveform::fst;
  o.waveform_path = wave_path.string();
  const int reps = o.wave == Waveform::none ? 7 : 3;
  std::vector<double> cpu_rates, wall_rates;
  std::uint64_t sink = 0;
  auto measure = [&](auto&& body) {
    for (int r = 0; r < reps; ++r) {
      const double c0 = cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      body();
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = cpu_seconds() - c0;
      cpu_rates.push_back(double(n) / cpu);
      wall_rates.push_back(double(n) / wall);
    }
  };
  if (mode == "block") {
    // The pins only: one bus cycle per transaction, no decoding, no target.
    auto blk = b->make(Waveform::none, {});
    struct Pin {
      std::uint64_t word;
      unsigned shift;
      std::uint8_t be;
      bool wr;
    };
    std::vector<Pin> pins;
    for (const auto& t : txs) {
      const unsigned region = t.a.space == gpuinit::Space::vga_io ? gpuinit::sim::kRegionVgaIo
                                                                  : gpuinit::sim::kRegionBar0 + t.a.bar;
      const unsigned lane = unsigned(t.a.offset % 8);
      pins.push_back({gpuinit::sim::bus_word(region, t.a.offset), lane * 8,
                      std::uint8_t(((1u << (t.a.width / 8)) - 1u) << lane), t.write});
    }
    measure([&] {
      std::size_t k = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        const Pin& p = pins[k];
        k = k + 1 == pins.size() ? 0 : k + 1;
        sink += blk->cycle(p.word, p.wr ? (i & 0xFFFFFFFF) << p.shift : 0, p.be, p.wr, !p.wr);
      }
    });
  } else {
    // One target per process for SystemC; the direct one is reused across repetitions too.
    auto t = gpuinit::sim::make_target(*b, o);
    measure([&] {
      std::size_t k = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        const Tx& x = txs[k];
        k = k + 1 == txs.size() ? 0 : k + 1;
        if (x.write)
          t->write(x.a, i & 0xFFFFFFFF);
        else
          sink += t->read(x.a);
        t->advance(10);
      }
    });
  }
  std::error_code ec;
  if (!std::getenv("GPUINIT_BENCH_KEEP_WAVE")) std::filesystem::remove(wave_path, ec);
  std::sort(cpu_rates.begin(), cpu_rates.end());
  std::sort(wall_rates.begin(), wall_rates.end());
  std::printf("%-11s cpu %7.2f M tx/s  wall %7.2f M tx/s  (median of %d x %llu, %s, %s, load %.2f)%s\n",
              mode.c_str(), cpu_rates[cpu_rates.size() / 2] / 1e6, wall_rates[wall_rates.size() / 2] / 1e6, reps,
              static_cast<unsigned long long>(n), kind.c_str(), map_name.c_str(), load[0], sink == 1 ? " " : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "all";
  const std::uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000;
  const std::string map = argc > 3 ? argv[3] : "gpuinit-ref";
  const std::string kind = argc > 4 ? argv[4] : "write";
  if (n == 0) {
    std::fprintf(stderr, "bench_sim: N must be a positive number\n");
    return 2;
  }
  if (mode != "all") return run_mode(mode, n, map, kind);
  int rc = 0;
  for (const char* m : {"block", "direct", "direct-vcd", "direct-fst", "tlm", "tlm-vcd", "tlm-fst"}) {
    std::fflush(stdout);
    const std::string cmd =
        "'" + std::string(argv[0]) + "' " + m + " " + std::to_string(n) + " '" + map + "' '" + kind + "'";
    if (std::system(cmd.c_str()) != 0) rc = 1;
  }
  return rc;
}

// Reduces a generated trace of N events (default 10,000,000) streamed into the reducer:
// prints events/s, the generator's own share, the output size and peak memory.
//   bench_reduce [N]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "gpuinit/reduce/reduce.hpp"

using namespace gpuinit;
namespace rd = gpuinit::reduce;

namespace {

// An init-like trace in blocks: VGA index/data writes, register writes (some overwritten),
// a status poll, a PIT delay loop, stray reads. About 300 events per block.
class Source {
 public:
  explicit Source(std::uint64_t seed) : rng_(seed) {}
  template <class Sink>
  void block(Sink&& sink) {
    for (int i = 0; i < 8; ++i) {
      acc(Space::vga_io, 0x3C4, 8, Dir::write, i & 7, sink);
      acc(Space::vga_io, 0x3C5, 8, Dir::write, rng_() & 0xFF, sink);
    }
    for (int i = 0; i < 6; ++i) acc(Space::mmio, 0x10 + 4 * (rng_() % 3), 32, Dir::write, rng_() & 0xFFFF, sink);
    const unsigned spins = 100 + unsigned(rng_() % 200);
    for (unsigned i = 0; i < spins; ++i) acc(Space::mmio, 0x20, 32, Dir::read, 0, sink);
    acc(Space::mmio, 0x20, 32, Dir::read, 1, sink);
    acc(Space::port, 0x43, 8, Dir::write, 0, sink);
    for (unsigned i = 0; i < 40; ++i) acc(Space::port, 0x40, 8, Dir::read, (t_ >> 10) & 0xFF, sink);
    for (int i = 0; i < 10; ++i) acc(Space::mmio, 0x30, 32, Dir::read, rng_() & 0xF, sink);
    acc(Space::mmio, 0x34, 32, Dir::read, 5, sink);
    acc(Space::mmio, 0x34, 32, Dir::write, 7, sink);
  }

 private:
  template <class Sink>
  void acc(Space s, std::uint64_t off, unsigned w, Dir d, std::uint64_t v, Sink& sink) {
    e_.seq = seq_++;
    e_.t_ns = t_;
    t_ += 700;
    e_.space = s;
    e_.offset = off;
    e_.width = std::uint8_t(w);
    e_.dir = d;
    e_.value = v;
    e_.cs_ip = 0xC0001000u + std::uint32_t(off);
    sink(e_);
  }
  std::mt19937_64 rng_;
  TraceEvent e_;
  std::uint64_t seq_ = 0, t_ = 0;
};

RegisterMap bench_map() {
  RegisterMap m;
  m.name = "bench";
  for (std::uint64_t off : {0x10, 0x14, 0x18, 0x34}) {
    Register r;
    r.name = "R" + std::to_string(off);
    r.offset = off;
    r.width = 32;
    m.registers.push_back(r);
  }
  return m;
}

double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peak_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  using clk = std::chrono::steady_clock;

  // The generator alone, to separate its cost.
  std::uint64_t gen_events = 0, sink_sum = 0;
  auto g0 = clk::now();
  {
    Source src(1);
    while (gen_events < n)
      src.block([&](const TraceEvent& e) {
        ++gen_events;
        sink_sum += e.value;
      });
  }
  const double gen_s = std::chrono::duration<double>(clk::now() - g0).count();

  const double rss_before = peak_mib();
  const RegisterMap map = bench_map();
  rd::Options opt;
  opt.map = &map;
  rd::Reducer red(opt);
  std::uint64_t events = 0;
  const double c0 = cpu_s();
  auto t0 = clk::now();
  Source src(1);
  while (events < n)
    src.block([&](const TraceEvent& e) {
      ++events;
      red.push(e);
    });
  auto t1 = clk::now();
  const auto result = red.finish(nullptr);
  auto t2 = clk::now();
  const double cpu = cpu_s() - c0;
  const double push_s = std::chrono::duration<double>(t1 - t0).count();
  const double total_s = std::chrono::duration<double>(t2 - t0).count();

  std::printf("events           %llu\n", (unsigned long long)events);
  std::printf("ops out          %zu (%.1f events per op)\n", result.sequence.ops.size(),
              double(events) / double(result.sequence.ops.size()));
  std::printf("generator alone  %.3f s (%.1f M events/s)%s\n", gen_s, double(gen_events) / gen_s / 1e6,
              sink_sum == 42 ? " " : "");
  std::printf("reduce, total    %.3f s  -> %.1f M events/s (generator included)\n", total_s,
              double(events) / total_s / 1e6);
  std::printf("  passes 1-4     %.3f s, passes 5-7 and output %.3f s\n", push_s, total_s - push_s);
  std::printf("  net of gen.    %.1f M events/s\n", double(events) / std::max(1e-9, total_s - gen_s) / 1e6);
  std::printf("reduce, CPU time %.3f s  -> %.1f M events/s (wall differs on a loaded machine)\n", cpu,
              double(events) / cpu / 1e6);
  std::printf("peak RSS         %.1f MiB (%.1f MiB before reducing)\n", peak_mib(), rss_before);
  std::printf("sizeof(ROp)      %zu bytes\n", sizeof(rd::ROp));
  std::fputs(rd::format_stats(result.stats).c_str(), stdout);
  return 0;
}

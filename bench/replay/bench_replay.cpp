// Replay speed on the model target: ops/s for a generated 1,000,000-op sequence, without and
// with trace recording. Usage: bench_replay [ops] [repeats]
//
// Models: "generic" (the devices library's generic model, per-byte store) over 4096
// registers, "map" (the register-map model of the reference card) over its four read/write
// BAR0 registers, and "flat" (a register file in a flat array, here to show the engine's
// own cost apart from a model's).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <time.h>
#include <vector>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/replay/engine.hpp"
#include "gpuinit/replay/targets.hpp"

using namespace gpuinit;
using namespace gpuinit::replay;

namespace {

// 4096 32-bit registers of BAR0: as fast as a model can be.
class FlatModel final : public DeviceModel {
 public:
  std::uint64_t read(const Access& a, std::uint64_t) override { return regs_[(a.offset >> 2) & 4095]; }
  void write(const Access& a, std::uint64_t v, std::uint64_t) override { regs_[(a.offset >> 2) & 4095] = v; }
  std::string name() const override { return "flat"; }

 private:
  std::vector<std::uint64_t> regs_ = std::vector<std::uint64_t>(4096);
};

// A mix like a reduced init sequence: mostly writes, some RMW, reads with expectations that
// hold, polls satisfied at once (they wait on a value written just before), a few delays.
InitSequence generate(std::size_t n, const std::vector<std::uint64_t>& offsets) {
  InitSequence s;
  s.metadata.method = "generated";
  s.ops.reserve(n + 1);
  std::mt19937_64 rng(42);
  std::vector<std::uint64_t> last(offsets.size());
  for (std::size_t i = 0; i < n; ++i) {
    Op o;
    o.space = Space::mmio;
    o.width = 32;
    const std::uint64_t reg = rng() % offsets.size();
    o.offset = offsets[reg];
    const unsigned pick = unsigned(rng() % 100);
    if (pick < 70) {
      o.kind = OpKind::write;
      o.value = rng() & 0xFFFF'FFFF;
      last[reg] = o.value;
    } else if (pick < 82) {
      o.kind = OpKind::rmw;
      o.mask = 0x0000'FF00;
      o.value = rng() & o.mask;
      last[reg] = (last[reg] & ~o.mask) | o.value;
    } else if (pick < 92) {
      o.kind = OpKind::read;
      o.has_expect = true;
      o.expect_mask = 0xFF;
      o.expect_value = last[reg] & 0xFF;
    } else if (pick < 97) {
      o.kind = OpKind::poll;
      o.mask = 0xF;
      o.value = last[reg] & 0xF;
      o.interval_us = 10;
      o.timeout_us = 1000;
    } else {
      o.kind = OpKind::delay;
      o.us = 1 + rng() % 50;
      o.space = Space::mmio;
      o.width = 0;
      o.offset = 0;
    }
    s.ops.push_back(std::move(o));
  }
  s.ops.push_back(Op{});  // END
  return s;
}

// CPU time of this thread: on a shared, loaded machine wall time measures the neighbours.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

using MakeModel = std::function<std::unique_ptr<DeviceModel>()>;

struct Timing {
  double wall, cpu;
};

// Seconds per run (median of `repeats`), wall and thread CPU time; each run gets a fresh model.
Timing measure(const InitSequence& seq, const MakeModel& make, bool trace, bool precompiled, int repeats) {
  std::vector<double> times, cpu;
  std::vector<Problem> problems;
  const Capabilities caps = ModelTarget(make(), {}, true).capabilities();
  auto prog = Program::compile(seq, caps, problems);
  if (!prog) {
    std::fprintf(stderr, "bench_replay: generated sequence refused: %s\n", problems.at(0).str().c_str());
    std::exit(2);
  }
  for (int r = 0; r < repeats; ++r) {
    ModelTarget t(make(), {}, true);
    Trace tr;
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const RunReport rep = precompiled ? prog->run(t, {}, trace ? &tr : nullptr)
                                      : run_sequence(seq, t, {}, trace ? &tr : nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    cpu.push_back(cpu_seconds() - c0);
    if (!rep.ok()) {
      std::fprintf(stderr, "bench_replay: run failed: %s\n", rep.failures.at(0).message.c_str());
      std::exit(2);
    }
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  return {median(times), median(cpu)};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  std::vector<std::uint64_t> all(4096);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i * 4;
  const InitSequence seq = generate(n, all);
  // The reference card's read/write registers in BAR0 (SCRATCH0, SCRATCH1, INT_ENABLE, FB_BASE).
  const InitSequence ref_seq = generate(n, {0xC, 0x10, 0x24, 0x34});
  const RegisterMap ref_map = load_regmap_file(GPUINIT_SOURCE_DIR "/devices/maps/gpuinit-ref.json");
  const double ops = double(seq.ops.size());
  std::printf("replay of a generated %zu-op sequence (70%% WRITE, 12%% RMW, 10%% READ+expect, 5%% POLL, 3%% DELAY),"
              " median of %d runs\n", seq.ops.size(), repeats);
  std::printf("%-8s %-34s %9s %9s %14s %14s\n", "model", "mode", "wall ms", "cpu ms", "M ops/s wall",
              "M ops/s cpu");
  struct Case {
    const char* name;
    const InitSequence* seq;
    MakeModel make;
  };
  const Case cases[] = {
      {"generic", &seq, [] { return std::make_unique<GenericModel>(); }},
      {"map", &ref_seq,
       [&ref_map]() -> std::unique_ptr<DeviceModel> {
         std::vector<Problem> problems;
         return MapModel::create(ref_map, {}, problems);
       }},
      {"flat", &seq, [] { return std::make_unique<FlatModel>(); }},
  };
  for (const auto& [name, sq, make] : cases) {
    struct Mode {
      const char* label;
      bool trace, pre;
    };
    for (const Mode m : {Mode{"run_sequence (check+compile+run)", false, false},
                         Mode{"Program::run (precompiled)", false, true},
                         Mode{"run_sequence + trace", true, false}}) {
      const Timing t = measure(*sq, make, m.trace, m.pre, repeats);
      std::printf("%-8s %-34s %9.1f %9.1f %14.1f %14.1f\n", name, m.label, t.wall * 1e3, t.cpu * 1e3,
                  ops / t.wall / 1e6, ops / t.cpu / 1e6);
    }
  }
  return 0;
}

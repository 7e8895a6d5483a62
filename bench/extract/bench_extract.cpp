// Time of a whole option-ROM init in the virtual PC, with exact attribution (CS:IP and
// icount on every event), reads answered by the generic model.
//
//   bench_extract [DIR [RUNS [NAME...]]]   median/min wall and thread-CPU time of each
//                                          SeaVGABIOS ROM (default: stdvga cirrus ati)
//   bench_extract --digest FILE...         for each file: stop, instructions, events and
//                                          the SHA-256 of the trace as JSONL (first x86
//                                          image, generic model, 5 M instruction budget,
//                                          no wall-clock limit): a byte-exact regression
//                                          check for speed work
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/x86/pc.hpp"

namespace {

constexpr std::uint64_t kDigestBudget = 5'000'000;

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

int digest(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::vector<std::uint8_t> rom;
    try {
      rom = gpuinit::read_file_bytes(argv[i]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 2;
    }
    const auto images = gpuinit::x86::walk_images(rom);
    const gpuinit::x86::ChainImage* pick = nullptr;
    for (const auto& ci : images)
      if (!ci.code_type || *ci.code_type == 0) {
        pick = &ci;
        break;
      }
    if (!pick) {
      std::printf("%s no-x86-image\n", argv[i]);
      continue;
    }
    gpuinit::GenericModel model;
    gpuinit::x86::PcConfig cfg;
    cfg.max_instructions = kDigestBudget;
    cfg.timeout_s = 0;
    const auto img = std::span<const std::uint8_t>(rom).subspan(pick->offset, pick->length);
    const auto r = gpuinit::x86::run_option_rom(img, cfg, model);
    const std::string text = gpuinit::write_trace(r.trace) + r.debug_text;
    const auto h = gpuinit::sha256_hex(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    std::printf("%s %s %llu %zu %s\n", argv[i], gpuinit::x86::pc_stop_name(r.stop),
                static_cast<unsigned long long>(r.instructions), r.trace.events.size(), h.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--digest") == 0) return digest(argc, argv);
  const std::string dir = argc > 1 ? argv[1] : "/usr/share/seabios";
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 21;
  std::vector<std::string> names;
  for (int i = 3; i < argc; ++i) names.push_back(std::string("vgabios-") + argv[i] + ".bin");
  if (names.empty()) names = {"vgabios-stdvga.bin", "vgabios-cirrus.bin", "vgabios-ati.bin"};
  for (const auto& name : names) {
    std::vector<std::uint8_t> rom;
    try {
      rom = gpuinit::read_file_bytes(dir + "/" + name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 2;
    }
    std::vector<double> ms, cpu;
    std::uint64_t insns = 0, events = 0;
    for (int i = 0; i < runs; ++i) {
      gpuinit::GenericModel model;
      gpuinit::x86::PcConfig cfg;
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = thread_cpu_ms();
      const auto r = gpuinit::x86::run_option_rom(rom, cfg, model);
      const double c1 = thread_cpu_ms();
      const auto t1 = std::chrono::steady_clock::now();
      if (!r.ok()) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), r.message.c_str());
        return 1;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      cpu.push_back(c1 - c0);
      insns = r.instructions;
      events = r.trace.events.size();
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    const double med = cpu[cpu.size() / 2];
    std::printf("%-22s %8llu instructions %6llu events  cpu median %.3f ms min %.3f ms  wall median %.3f ms"
                "  %.1f M instructions/cpu-s\n",
                name.c_str(), static_cast<unsigned long long>(insns), static_cast<unsigned long long>(events), med,
                cpu.front(), ms[ms.size() / 2], double(insns) / med / 1000.0);
  }
  return 0;
}

// Wall time of a whole option-ROM init in the virtual PC, with exact attribution (CS:IP and
// icount on every event), reads answered by the generic model. Median of N runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/x86/pc.hpp"

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/usr/share/seabios";
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 21;
  for (const char* name : {"vgabios-stdvga.bin", "vgabios-cirrus.bin", "vgabios-ati.bin"}) {
    std::vector<std::uint8_t> rom;
    try {
      rom = gpuinit::read_file_bytes(dir + "/" + name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 2;
    }
    std::vector<double> ms;
    std::uint64_t insns = 0, events = 0;
    for (int i = 0; i < runs; ++i) {
      gpuinit::GenericModel model;
      gpuinit::x86::PcConfig cfg;
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = gpuinit::x86::run_option_rom(rom, cfg, model);
      const auto t1 = std::chrono::steady_clock::now();
      if (!r.ok()) {
        std::fprintf(stderr, "%s: %s\n", name, r.message.c_str());
        return 1;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      insns = r.instructions;
      events = r.trace.events.size();
    }
    std::sort(ms.begin(), ms.end());
    const double med = ms[ms.size() / 2];
    std::printf("%-22s %8llu instructions %6llu events  median %.3f ms  min %.3f ms  %.1f M instructions/s\n", name,
                static_cast<unsigned long long>(insns), static_cast<unsigned long long>(events), med, ms.front(),
                double(insns) / med / 1000.0);
  }
  return 0;
}

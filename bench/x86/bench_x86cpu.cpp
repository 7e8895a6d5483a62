// Interpreter throughput: instructions per second on (1) a CPU-bound checksum loop over
// 64 KiB and (2) a port-I/O loop whose bus records every access with CS:IP and icount.
// Prints one line per case: name, median M instructions per CPU-second over the runs,
// and each run.
#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gpuinit/x86/bus.hpp"
#include "gpuinit/x86/cpu.hpp"

using namespace gpuinit::x86;

namespace {

struct Record {
  std::uint16_t port;
  std::uint8_t bytes, dir;
  std::uint32_t value, cs_ip;
  std::uint64_t icount;
};

class BenchBus : public Bus {
 public:
  std::vector<std::uint8_t> mem = std::vector<std::uint8_t>(0x110000, 0);
  std::vector<Record> log;
  Cpu* cpu = nullptr;
  std::uint8_t* page(std::uint32_t base, bool) override {
    return base < mem.size() ? mem.data() + base : nullptr;
  }
  std::uint32_t mem_read(std::uint32_t, unsigned) override { return 0xFFFFFFFF; }
  void mem_write(std::uint32_t, unsigned, std::uint32_t) override {}
  // The log is handed on (here: dropped) every kChunk records, as a trace writer streams.
  static constexpr std::size_t kChunk = 1 << 16;
  std::uint64_t records = 0;
  void flush_log() {
    if (log.size() >= kChunk) {
      records += log.size();
      log.clear();
    }
  }
  std::uint32_t io_read(std::uint16_t port, unsigned bytes) override {
    std::uint32_t v = port ^ 0x5A;
    flush_log();
    log.push_back({port, std::uint8_t(bytes), 0, v, cpu->insn_cs_ip(), cpu->icount()});
    return v;
  }
  void io_write(std::uint16_t port, unsigned bytes, std::uint32_t value) override {
    flush_log();
    log.push_back({port, std::uint8_t(bytes), 1, value, cpu->insn_cs_ip(), cpu->icount()});
  }
  void hypercall(Cpu&, std::uint8_t) override {}
  std::uint64_t rdtsc() override { return cpu->icount(); }
  bool rdmsr(std::uint32_t, std::uint64_t&) override { return false; }
  bool wrmsr(std::uint32_t, std::uint64_t) override { return false; }
};

// 64 KiB checksum, forever: xor si,si; mov cx,8000h; l: lodsw; add bx,ax; adc dx,0;
// rol bx,1; loop l; jmp start
const std::uint8_t kChecksum[] = {0x31, 0xF6, 0xB9, 0x00, 0x80, 0xAD, 0x01, 0xC3, 0x83,
                                  0xD2, 0x00, 0xD1, 0xC3, 0xE2, 0xF6, 0xEB, 0xEF};
// Register-programming loop: mov dx,3C4h; l: mov al,cl; out dx,al; inc dx; in al,dx;
// dec dx; out 80h,al; loop l; jmp start
const std::uint8_t kIoLoop[] = {0xBA, 0xC4, 0x03, 0x88, 0xC8, 0xEE, 0x42, 0xEC,
                                0x4A, 0xE6, 0x80, 0xE2, 0xF6, 0xEB, 0xF1};

double run_case(const std::uint8_t* code, std::size_t n, std::uint64_t insns, bool io) {
  BenchBus bus;
  Cpu cpu(bus);
  bus.cpu = &cpu;
  std::memcpy(&bus.mem[0x10000], code, n);
  for (std::size_t i = 0; i < 0x10000; ++i) bus.mem[0x20000 + i] = std::uint8_t(i * 31 + 7);
  cpu.load_segment_real(CS, 0x1000);
  cpu.load_segment_real(DS, 0x2000);
  cpu.load_segment_real(SS, 0x3000);
  cpu.regs().gpr[ESP] = 0xFFFE;
  cpu.regs().eip = 0;
  if (io) bus.log.reserve(BenchBus::kChunk);
  // Thread CPU time, not wall time: on a shared build machine the wall clock mostly
  // measures the other processes.
  timespec t0{}, t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  StopReason why = cpu.run(insns);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  if (why != StopReason::budget) std::fprintf(stderr, "unexpected stop: %s\n", stop_reason_name(why));
  double s = double(t1.tv_sec - t0.tv_sec) + double(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  return double(cpu.icount()) / s / 1e6;
}

void report(const char* name, const std::uint8_t* code, std::size_t n, std::uint64_t insns,
            bool io, int runs) {
  std::vector<double> v;
  for (int i = 0; i < runs; ++i) v.push_back(run_case(code, n, insns, io));
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  std::printf("%-28s median %7.1f M instr/s  runs:", name, sorted[sorted.size() / 2]);
  for (double x : v) std::printf(" %.1f", x);
  std::printf("\n");
}

}  // namespace

// bench_x86cpu [RUNS [SCALE [CASE]]]: SCALE divides the instruction counts (for runs under
// callgrind); CASE "checksum" or "io" runs one case only.
int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 7;
  if (runs < 1 || runs > 100) runs = 7;
  long scale = argc > 2 ? std::atol(argv[2]) : 1;
  if (scale < 1 || scale > 1000000) scale = 1;
  const char* only = argc > 3 ? argv[3] : "";
  if (!*only || !std::strcmp(only, "checksum"))
    report("checksum-64k", kChecksum, sizeof kChecksum, 200'000'000 / scale, false, runs);
  if (!*only || !std::strcmp(only, "io"))
    report("io-loop-recorded", kIoLoop, sizeof kIoLoop, 50'000'000 / scale, true, runs);
  return 0;
}

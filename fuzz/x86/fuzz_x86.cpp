// Runs arbitrary bytes as real-mode code on a flat 1 MiB bus with a device window and a
// budget: the interpreter must neither crash, nor hang, nor touch memory out of bounds.
// Input: byte 0 = options (bit 0: deliver #UD through the IVT; bit 1: 4 GiB data limits;
// bit 2: DF set; bit 3: 32-bit stack pointer values), bytes 1..32 = the eight 32-bit
// registers, the rest = code at 1000:0000, also copied over the IVT and to F000:0000
// so that interrupts and far jumps land on more fuzzed code.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gpuinit/x86/bus.hpp"
#include "gpuinit/x86/cpu.hpp"

using namespace gpuinit::x86;

namespace {

// Instructions per input: enough for loops and REP strings, small enough to keep the
// fuzzer fast.
constexpr std::uint64_t kBudget = 5000;
constexpr std::uint32_t kRam = 0x100000;
constexpr std::uint32_t kDeviceBase = 0xA0000, kDeviceSize = 0x20000;

class FuzzBus : public Bus {
 public:
  explicit FuzzBus(std::vector<std::uint8_t>& m) : mem(m) {}
  std::vector<std::uint8_t>& mem;
  std::uint32_t acc = 0;
  std::uint8_t* page(std::uint32_t base, bool write) override {
    if (base - kDeviceBase < kDeviceSize) return nullptr;
    if (base >= kRam) return nullptr;
    if (write && base >= 0xF0000) return nullptr;  // a read-only BIOS area
    return mem.data() + base;
  }
  std::uint32_t mem_read(std::uint32_t lin, unsigned bytes) override {
    acc = acc * 31 + lin + bytes;
    return bytes == 4 ? acc : acc & ((1u << (8 * bytes)) - 1);
  }
  void mem_write(std::uint32_t lin, unsigned bytes, std::uint32_t value) override {
    acc ^= lin + bytes + value;
  }
  std::uint32_t io_read(std::uint16_t port, unsigned bytes) override {
    acc = acc * 17 + port;
    return bytes == 4 ? acc : acc & ((1u << (8 * bytes)) - 1);
  }
  void io_write(std::uint16_t port, unsigned, std::uint32_t value) override { acc ^= port + value; }
  void hypercall(Cpu& cpu, std::uint8_t id) override {
    // Exercise what a virtual PC does from a hypercall.
    if (id == 1) cpu.request_stop();
    if (id == 2) cpu.interrupt(std::uint8_t(cpu.regs().gpr[EAX]));
    if (id == 3) cpu.flush_page_cache();
    if (id == 4) cpu.regs().eip = cpu.regs().gpr[EBX];
  }
  std::uint64_t rdtsc() override { return acc; }
  bool rdmsr(std::uint32_t msr, std::uint64_t& v) override {
    v = msr;
    return msr & 1;
  }
  bool wrmsr(std::uint32_t msr, std::uint64_t) override { return msr & 1; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 33) return 0;
  // One RAM buffer for the process, cleared per input (allocating 1 MiB per input under
  // ASan costs more than the run).
  static std::vector<std::uint8_t> ram(kRam, 0);
  std::fill(ram.begin(), ram.end(), 0);
  FuzzBus bus(ram);
  const std::uint8_t opts = data[0];
  const std::uint8_t* code = data + 33;
  std::size_t n = size - 33;
  if (n > 0x8000) n = 0x8000;
  std::memcpy(&bus.mem[0x10000], code, n);
  std::memcpy(&bus.mem[0xF0000], code, n);
  std::memcpy(&bus.mem[0], code, n < 0x400 ? n : 0x400);
  Cpu cpu(bus);
  cpu.set_stop_on_ud(!(opts & 1));
  Registers& r = cpu.regs();
  for (int i = 0; i < 8; ++i) std::memcpy(&r.gpr[i], data + 1 + 4 * i, 4);
  if (!(opts & 8)) r.gpr[ESP] &= 0xFFFF;
  if (opts & 2)
    for (unsigned s : {ES, DS, FS, GS}) r.seg[s].limit = 0xFFFFFFFF;
  if (opts & 4) r.eflags |= 0x400;
  cpu.load_segment_real(CS, 0x1000);
  cpu.load_segment_real(SS, 0x2000);
  r.eip = 0;
  cpu.set_stop_at(0xF000, 0xFFF0);
  // A few runs, as a virtual PC resumes after a stop it handled.
  std::uint64_t left = kBudget;
  for (int i = 0; i < 4 && left; ++i) {
    std::uint64_t before = cpu.icount();
    StopReason why = cpu.run(left / 2 + 1);
    std::uint64_t used = cpu.icount() - before;
    left = used >= left ? 0 : left - used;
    (void)cpu.last_error();
    if (why == StopReason::triple_fault || why == StopReason::stop_address) break;
  }
  return 0;
}

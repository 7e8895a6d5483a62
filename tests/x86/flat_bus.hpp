// A flat-memory Bus for tests and benchmarks: RAM below `ram_size`, an optional device
// window that reaches mem_read/mem_write, and I/O ports answered by a pure function of
// (port, width) so two machines given the same code see the same values. Every device
// and I/O access is recorded with the CS:IP and width the CPU reported.
#pragma once
#include <cstdint>
#include <vector>

#include "gpuinit/x86/bus.hpp"
#include "gpuinit/x86/cpu.hpp"

namespace gpuinit::x86::test {

struct Access {
  char kind;  // 'r' 'w' mem read/write, 'i' 'o' port in/out, 'h' hypercall
  std::uint32_t addr;
  unsigned bytes;
  std::uint32_t value;
  std::uint32_t cs_ip;
  std::uint64_t icount;
  bool operator==(const Access&) const = default;
};

inline std::uint32_t io_answer(std::uint16_t port, unsigned bytes) {
  std::uint32_t v = (port * 0x9E3779B1u) ^ (bytes * 0x85EBCA6Bu);
  v ^= v >> 13;
  return bytes == 4 ? v : v & ((1u << (8 * bytes)) - 1);
}

class FlatBus : public Bus {
 public:
  explicit FlatBus(std::uint32_t ram_size = 0x200000) : mem(ram_size, 0) {}

  std::vector<std::uint8_t> mem;
  std::uint32_t device_base = 0, device_size = 0;  // a device window (no RAM behind it)
  std::vector<std::uint32_t> device_regs = std::vector<std::uint32_t>(1024, 0);
  std::vector<Access> log;
  bool record = true;
  Cpu* cpu = nullptr;
  std::uint64_t tsc = 0;
  int hypercalls = 0;
  std::uint8_t last_hypercall = 0;
  bool stop_on_hypercall = false;

  bool in_device(std::uint32_t a) const { return a - device_base < device_size; }

  std::uint8_t* page(std::uint32_t base, bool) override {
    if (in_device(base)) return nullptr;
    if (base >= mem.size()) return nullptr;
    return mem.data() + base;
  }
  std::uint32_t mem_read(std::uint32_t lin, unsigned bytes) override {
    std::uint32_t v = 0xFFFFFFFFu;
    if (in_device(lin)) v = device_regs[((lin - device_base) / 4) % device_regs.size()] >> (8 * (lin & 3));
    if (bytes < 4) v &= (1u << (8 * bytes)) - 1;
    note('r', lin, bytes, v);
    return v;
  }
  void mem_write(std::uint32_t lin, unsigned bytes, std::uint32_t value) override {
    if (in_device(lin) && bytes == 4 && (lin & 3) == 0)
      device_regs[((lin - device_base) / 4) % device_regs.size()] = value;
    note('w', lin, bytes, value);
  }
  std::uint32_t io_read(std::uint16_t port, unsigned bytes) override {
    std::uint32_t v = io_answer(port, bytes);
    note('i', port, bytes, v);
    return v;
  }
  void io_write(std::uint16_t port, unsigned bytes, std::uint32_t value) override {
    note('o', port, bytes, value);
  }
  // Compare hints (Cpu::set_compare_hints): a, b, bytes of each CMP.
  struct Hint {
    std::uint32_t a, b;
    unsigned bytes;
    bool operator==(const Hint&) const = default;
  };
  std::vector<Hint> hints;
  void compare_hint(std::uint32_t a, std::uint32_t b, unsigned bytes) override { hints.push_back({a, b, bytes}); }
  void hypercall(Cpu& c, std::uint8_t id) override {
    ++hypercalls;
    last_hypercall = id;
    note('h', id, 0, c.regs().gpr[EAX]);
    if (stop_on_hypercall) c.request_stop();
  }
  std::uint64_t rdtsc() override { return tsc += 1000; }
  bool rdmsr(std::uint32_t msr, std::uint64_t& value) override {
    if (msr != 0x10) return false;
    value = tsc;
    return true;
  }
  bool wrmsr(std::uint32_t msr, std::uint64_t value) override {
    if (msr != 0x10) return false;
    tsc = value;
    return true;
  }

 private:
  void note(char k, std::uint32_t a, unsigned b, std::uint32_t v) {
    if (!record) return;
    log.push_back({k, a, b, v, cpu ? cpu->insn_cs_ip() : 0, cpu ? cpu->icount() : 0});
  }
};

}  // namespace gpuinit::x86::test

// The contract between the x86 interpreter (Cpu) and the machine around it (the virtual
// PC, or a test harness). The CPU does segmentation and decoding; the bus owns memory,
// devices, I/O ports and time.
#pragma once
#include <cstdint>

namespace gpuinit::x86 {

class Cpu;

// Hypercall opcode: the byte sequence 0F FF ib is undefined on every 8086-486 part. The
// interpreter treats it as a trap into the bus (Bus::hypercall with the immediate) and
// then continues at the next instruction unless the handler changed CS:IP or asked to
// stop. BIOS service stubs in the virtual PC's F000 segment are made of it, so an IVT
// entry still points at real code that a ROM can read, copy and chain to.
inline constexpr std::uint8_t kHypercallOpcode0 = 0x0F;
inline constexpr std::uint8_t kHypercallOpcode1 = 0xFF;

class Bus {
 public:
  virtual ~Bus() = default;

  // Plain memory, 4 KiB pages: a host pointer to the start of the page holding linear
  // address `page_base` (a multiple of 4096), or nullptr when the page is device memory
  // (then every access to it goes through mem_read/mem_write, with the exact width the
  // instruction used). `write` asks for a writable page: nullptr for a read-only page
  // makes writes go through mem_write too. The CPU may cache the pointer until
  // Cpu::flush_page_cache() is called, which the bus does whenever it changes the map.
  [[nodiscard]] virtual std::uint8_t* page(std::uint32_t page_base, bool write) = 0;

  // Device memory and I/O ports: `bytes` is 1, 2 or 4 (the access as the instruction
  // made it; an access that crosses a page boundary into device memory is split
  // per byte, as hardware would see it on a byte-enable bus — document any exception).
  // Values are zero-extended. Cpu::insn_cs_ip() and Cpu::icount() give attribution.
  [[nodiscard]] virtual std::uint32_t mem_read(std::uint32_t linear, unsigned bytes) = 0;
  virtual void mem_write(std::uint32_t linear, unsigned bytes, std::uint32_t value) = 0;
  [[nodiscard]] virtual std::uint32_t io_read(std::uint16_t port, unsigned bytes) = 0;
  virtual void io_write(std::uint16_t port, unsigned bytes, std::uint32_t value) = 0;

  // 0F FF ib executed at Cpu::insn_cs_ip(). The handler may read and change registers.
  virtual void hypercall(Cpu& cpu, std::uint8_t id) = 0;

  // Time-stamp counter on virtual time (RDTSC); MSRs (RDMSR/WRMSR; return false for an
  // MSR the machine does not have: the CPU raises #GP).
  [[nodiscard]] virtual std::uint64_t rdtsc() = 0;
  virtual bool rdmsr(std::uint32_t msr, std::uint64_t& value) = 0;
  virtual bool wrmsr(std::uint32_t msr, std::uint64_t value) = 0;

  // Comparison hints, only while Cpu::set_compare_hints(true): every CMP (the forms
  // 38-3D, 80/81/83 /7) reports its two operands, `a` the first (destination) and `b` the
  // second, as `bytes`-wide unsigned values, before the flags are set. The spin breaker
  // learns from them which value a polling loop waits for.
  virtual void compare_hint(std::uint32_t a, std::uint32_t b, unsigned bytes) { (void)a, (void)b, (void)bytes; }
};

}  // namespace gpuinit::x86

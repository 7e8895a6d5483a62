// Real-mode x86 interpreter: the 8086-486 integer instruction set with 32-bit operand and
// address-size prefixes, big real mode (descriptor caches keep 4 GiB limits), enough
// protected-mode state to enter and leave unreal mode, CPUID/RDTSC/RDMSR through the bus.
// All state lives in the object: two Cpu instances never see each other.
#pragma once
#include <cstdint>
#include <string>

#include "gpuinit/x86/bus.hpp"

namespace gpuinit::x86 {

enum class StopReason : std::uint8_t {
  none,            // still running (internal)
  stop_address,    // CS:IP reached the address set by set_stop_at (the far return)
  budget,          // the instruction budget of run() was used up
  halted,          // HLT with interrupts disabled (nothing can wake it)
  invalid_opcode,  // #UD with no handler installed that we trust, at fault_cs_ip()
  triple_fault,    // a fault while delivering a double fault
  unhandled_fault, // a fault whose vector holds the default handler (set_unhandled_ud_vector), at fault_cs_ip()
  requested,       // request_stop() was called (by a hypercall handler, a watchdog)
};
[[nodiscard]] const char* stop_reason_name(StopReason r) noexcept;

struct SegmentReg {
  std::uint16_t selector = 0;
  std::uint32_t base = 0;
  std::uint32_t limit = 0xFFFF;  // real mode default; big real mode: 0xFFFFFFFF
  // D/B bit of the descriptor cache (loaded from the GDT in protected mode and kept in
  // real mode, as the limit is): CS: 32-bit default operand/address size; SS: ESP stack.
  bool db = false;
};

struct Registers {
  // General registers in the order of the ModRM reg field: EAX ECX EDX EBX ESP EBP ESI EDI.
  std::uint32_t gpr[8] = {};
  std::uint32_t eip = 0;
  std::uint32_t eflags = 0x2;  // bit 1 is always set
  // ES CS SS DS FS GS, in the order of the sreg encoding.
  SegmentReg seg[6];
  std::uint32_t cr0 = 0x10;  // ET set, PE clear
  std::uint32_t gdtr_base = 0, idtr_base = 0;
  std::uint16_t gdtr_limit = 0, idtr_limit = 0x3FF;
};

enum Gpr : unsigned { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
enum SegIndex : unsigned { ES, CS, SS, DS, FS, GS };

class Cpu {
 public:
  explicit Cpu(Bus& bus);
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;
  ~Cpu();

  [[nodiscard]] Registers& regs() noexcept;
  [[nodiscard]] const Registers& regs() const noexcept;
  // Loads a segment register the real-mode way (base = selector << 4), keeping its limit.
  void load_segment_real(SegIndex s, std::uint16_t selector) noexcept;

  // Runs until a stop condition or until `max_instructions` more instructions retired.
  StopReason run(std::uint64_t max_instructions);
  void set_stop_at(std::uint16_t cs, std::uint16_t ip) noexcept;
  void request_stop() noexcept;  // safe to call from bus callbacks

  [[nodiscard]] std::uint64_t icount() const noexcept;      // instructions retired in total
  [[nodiscard]] std::uint32_t insn_cs_ip() const noexcept;  // CS << 16 | IP of the current instruction
  [[nodiscard]] std::uint32_t fault_cs_ip() const noexcept; // where the run stopped for a fault
  [[nodiscard]] std::string last_error() const;              // a sentence for a fault stop

  // Drops cached page pointers (the bus changed its memory map).
  void flush_page_cache() noexcept;

  // Raise a software interrupt as INT n would (used by bus code that reflects into the IVT).
  void interrupt(std::uint8_t vector);

  // #UD policy. true (the default): an invalid opcode stops the run with
  // StopReason::invalid_opcode at fault_cs_ip() without touching the stack. false: #UD is
  // delivered through IVT vector 6 like any fault (a virtual PC whose default vector-6
  // handler is a hypercall can then decide, and stop with request_stop()).
  void set_stop_on_ud(bool stop) noexcept;
  // Refines the stop: with stop_on_ud set, #UD stops only while IVT vector 6 still holds
  // this far pointer (the machine's default handler, which would return to the faulting
  // instruction forever); once the code installs its own vector-6 handler, #UD is
  // delivered to it as a CPU does. Not called: every #UD stops.
  void set_unhandled_ud_vector(std::uint16_t cs, std::uint16_t ip) noexcept;
  // Report CMP operands to Bus::compare_hint (off by default: it costs a branch per CMP).
  void set_compare_hints(bool on) noexcept;
  // Internal state a register dump cannot show: CR2/CR3/CR4.
  [[nodiscard]] std::uint32_t control_register(unsigned n) const noexcept;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace gpuinit::x86

// Hand-written interpreter tests: assembled snippets (nasm, at build time) with their full
// expected state, unreal mode, stops (budget, HLT, #UD, triple fault, requested), the
// hypercall, and the exact widths and CS:IP that the bus sees.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "flat_bus.hpp"
#include "gpuinit/x86/cpu.hpp"

using namespace gpuinit::x86;
using gpuinit::x86::test::Access;
using gpuinit::x86::test::FlatBus;

namespace {

std::vector<std::uint8_t> snippet(const std::string& name) {
  std::ifstream f(std::string(X86_SNIPPET_DIR) + "/" + name + ".bin", std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Machine {
  FlatBus bus{0x200000};
  Cpu cpu{bus};
  Machine() {
    bus.cpu = &cpu;
    // IVT: every vector to F000:0000 + 4*vector, where a HLT waits (vector = (IP)/4).
    for (unsigned v = 0; v < 256; ++v) {
      std::uint16_t ip = std::uint16_t(v * 4);
      bus.mem[v * 4] = std::uint8_t(ip);
      bus.mem[v * 4 + 1] = std::uint8_t(ip >> 8);
      bus.mem[v * 4 + 2] = 0x00;
      bus.mem[v * 4 + 3] = 0xF0;
      bus.mem[0xF0000 + ip] = 0xF4;  // HLT
    }
    cpu.load_segment_real(SS, 0x3000);
    cpu.regs().gpr[ESP] = 0x1000;
  }
  void load(std::uint32_t lin, const std::vector<std::uint8_t>& code) {
    std::memcpy(&bus.mem[lin], code.data(), code.size());
  }
  // Pushes a far return address to F000:FFF0 and stops there.
  void far_return_to_stop() {
    auto& r = cpu.regs();
    r.gpr[ESP] -= 4;
    std::uint32_t a = 0x30000 + (r.gpr[ESP] & 0xFFFF);
    bus.mem[a] = 0xF0;
    bus.mem[a + 1] = 0xFF;
    bus.mem[a + 2] = 0x00;
    bus.mem[a + 3] = 0xF0;
    cpu.set_stop_at(0xF000, 0xFFF0);
  }
  void start(std::uint16_t cs, std::uint16_t ip) {
    cpu.load_segment_real(CS, cs);
    cpu.regs().eip = ip;
  }
};

}  // namespace

TEST_CASE("assembled checksum snippet reaches its full expected state") {
  Machine m;
  m.load(0x10000, snippet("checksum"));
  for (unsigned i = 0; i < 256; ++i) m.bus.mem[0x20000 + i] = std::uint8_t(i * 7 + 3);
  m.cpu.load_segment_real(DS, 0x2000);
  m.start(0x1000, 0);
  m.far_return_to_stop();
  REQUIRE(m.cpu.run(100000) == StopReason::stop_address);
  const Registers& r = m.cpu.regs();
  CHECK(r.gpr[EAX] == 0x000000FC);  // AH = xor of the bytes (0), AL = the last byte
  CHECK(r.gpr[EBX] == 0x00007F80);  // 16-bit sum
  CHECK(r.gpr[ECX] == 0);
  CHECK(r.gpr[EDX] == 0x00002340);
  CHECK(r.gpr[ESP] == 0x1000);
  CHECK(r.gpr[EBP] == 0);
  CHECK(r.gpr[ESI] == 0x100);
  CHECK(r.gpr[EDI] == 0x7E80);      // 0x7F80 * 3 truncated
  CHECK(r.eflags == 0x803);         // SHL by 4: CF=1 (bit 12 out), OF=MSB^CF=1, PF=0
  CHECK(r.seg[CS].selector == 0xF000);
  CHECK(r.eip == 0xFFF0);
  CHECK(m.cpu.icount() == 5 + 5 * 256 + 4 + 3);
  CHECK(m.bus.log.empty());         // all of it plain RAM
}

TEST_CASE("unreal mode: a limit loaded in protected mode stays in real mode") {
  Machine m;
  m.load(0x10000, snippet("unreal"));
  m.start(0x1000, 0);
  m.far_return_to_stop();
  REQUIRE(m.cpu.run(1000) == StopReason::stop_address);
  const Registers& r = m.cpu.regs();
  CHECK(r.gpr[EBX] == 0xCAFEBABE);
  std::uint32_t v;
  std::memcpy(&v, &m.bus.mem[0x150000], 4);
  CHECK(v == 0xCAFEBABE);
  CHECK(m.bus.mem[0x120000] == 0x5A);
  CHECK((r.cr0 & 1) == 0);
  CHECK(r.seg[DS].selector == 0);
  CHECK(r.seg[DS].base == 0);
  CHECK(r.seg[DS].limit == 0xFFFFFFFF);
  CHECK(r.seg[ES].base == 0x20000);
  CHECK(r.seg[ES].limit == 0xFFFFFFFF);
  CHECK(r.seg[CS].limit == 0xFFFF);  // the 16-bit code descriptor's limit
  CHECK(r.gdtr_limit == 23);
  // The GDT entries used got their accessed bit set, as on a real CPU.
  CHECK((m.bus.mem[0x10000 + 0x58 + 16 + 5] & 1) == 1);
}

TEST_CASE("a real-mode limit violation raises #GP through the IVT") {
  Machine m;
  // mov ax, [0xFFFF]  (a word past the 64 KiB limit)
  m.load(0x10000, {0xA1, 0xFF, 0xFF, 0x90});
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(10) == StopReason::halted);
  // Vector 13's HLT at F000:0034, return address = the faulting instruction.
  CHECK(m.cpu.fault_cs_ip() == 0xF0000034);
  CHECK(m.cpu.regs().gpr[ESP] == 0x1000 - 6);
  CHECK(m.bus.mem[0x30000 + 0x1000 - 6] == 0x00);  // IP = 0 (the MOV)
  CHECK(m.bus.mem[0x30000 + 0x1000 - 4] == 0x00);  // CS = 0x1000
  CHECK(m.bus.mem[0x30000 + 0x1000 - 3] == 0x10);
}

TEST_CASE("#DE from DIV and AAM is delivered with the faulting CS:IP") {
  Machine m;
  m.load(0x10000, {0x31, 0xDB, 0xF7, 0xF3});  // xor bx,bx; div bx
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(10) == StopReason::halted);
  CHECK(m.cpu.fault_cs_ip() == 0xF0000000);
  CHECK(m.bus.mem[0x30000 + 0x1000 - 6] == 0x02);  // IP of the DIV
}

TEST_CASE("compare hints: every CMP form reports its operands only while enabled") {
  using H = FlatBus::Hint;
  Machine m;
  // mov eax,0x8400FF00; shr eax,24; cmp ax,0x30; cmp al,0x84; mov bx,7; cmp bx,ax;
  // cmp eax,0x12345678; sub ax,1 (not a compare); cmp bl,5 (83/80 /7 imm8 form); hlt
  m.load(0x10000, {0x66, 0xB8, 0x00, 0xFF, 0x00, 0x84, 0x66, 0xC1, 0xE8, 0x18, 0x3D, 0x30, 0x00, 0x3C, 0x84,
                   0xBB, 0x07, 0x00, 0x39, 0xC3, 0x66, 0x3D, 0x78, 0x56, 0x34, 0x12, 0x2D, 0x01, 0x00,
                   0x80, 0xFB, 0x05, 0xF4});
  m.start(0x1000, 0);
  m.cpu.set_compare_hints(true);
  (void)m.cpu.run(100);
  CHECK(m.bus.hints == std::vector<H>{{0x84, 0x30, 2}, {0x84, 0x84, 1}, {7, 0x84, 2}, {0x84, 0x12345678, 4}, {7, 5, 1}});
  Machine off;
  off.load(0x10000, {0x3C, 0x84, 0xF4});
  off.start(0x1000, 0);
  (void)off.cpu.run(10);
  CHECK(off.bus.hints.empty());
}

TEST_CASE("budget stop is exact and the run resumes") {
  Machine m;
  m.load(0x10000, {0x41, 0xEB, 0xFD});  // l: inc cx; jmp l
  m.start(0x1000, 0);
  CHECK(m.cpu.run(1001) == StopReason::budget);
  CHECK(m.cpu.icount() == 1001);
  CHECK(m.cpu.regs().gpr[ECX] == 501);
  CHECK(m.cpu.run(1) == StopReason::budget);
  CHECK(m.cpu.icount() == 1002);
  CHECK(m.cpu.regs().gpr[ECX] == 501);
  CHECK(m.cpu.run(0) == StopReason::budget);
  CHECK(m.cpu.icount() == 1002);
}

TEST_CASE("rep string instructions count per iteration and stop mid-way") {
  Machine m;
  m.load(0x10000, {0xF3, 0xAA, 0x90});  // rep stosb; nop
  m.cpu.load_segment_real(ES, 0x4000);
  m.cpu.regs().gpr[ECX] = 100;
  m.cpu.regs().gpr[EAX] = 0x77;
  m.start(0x1000, 0);
  CHECK(m.cpu.run(40) == StopReason::budget);
  CHECK(m.cpu.regs().gpr[ECX] == 60);
  CHECK(m.cpu.regs().eip == 0);  // still at the REP instruction
  CHECK(m.cpu.run(60) == StopReason::budget);
  CHECK(m.cpu.regs().gpr[ECX] == 0);
  CHECK(m.cpu.regs().eip == 2);
  CHECK(m.bus.mem[0x40000 + 99] == 0x77);
  CHECK(m.bus.mem[0x40000 + 100] == 0);
}

TEST_CASE("hypercall reaches the bus at its CS:IP and continues") {
  Machine m;
  // mov ax, 5; hypercall 0x42; inc ax; hypercall 0x43
  m.load(0x10000, {0xB8, 0x05, 0x00, 0x0F, 0xFF, 0x42, 0x40, 0x0F, 0xFF, 0x43, 0xF4});
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(100) == StopReason::halted);
  REQUIRE(m.bus.log.size() == 2);
  CHECK(m.bus.log[0] == Access{'h', 0x42, 0, 5, 0x10000003, 1});
  CHECK(m.bus.log[1] == Access{'h', 0x43, 0, 6, 0x10000007, 3});
  CHECK(m.cpu.fault_cs_ip() == 0x1000000A);
}

TEST_CASE("request_stop from a hypercall ends the run after that instruction") {
  Machine m;
  m.bus.stop_on_hypercall = true;
  m.load(0x10000, {0x0F, 0xFF, 0x01, 0x40, 0x40});
  m.start(0x1000, 0);
  CHECK(m.cpu.run(100) == StopReason::requested);
  CHECK(m.cpu.regs().eip == 3);
  CHECK(m.cpu.icount() == 1);
  CHECK(m.cpu.run(2) == StopReason::budget);  // the request does not stick
  CHECK(m.cpu.regs().gpr[EAX] == 2);
}

TEST_CASE("device memory and ports see exact widths and the instruction's CS:IP") {
  Machine m;
  m.bus.device_base = 0xFEBF0000;
  m.bus.device_size = 0x10000;
  m.bus.device_regs[1] = 0x11223344;
  auto& r = m.cpu.regs();
  r.seg[DS].limit = 0xFFFFFFFF;  // big real mode, as a BIOS enters option ROMs
  r.seg[ES].limit = 0xFFFFFFFF;
  m.load(0x10000, {
      0x67, 0x66, 0x8B, 0x06,              // 0000 mov eax, [esi]
      0x67, 0x8B, 0x5E, 0x02,              // 0004 mov bx, [esi+2]
      0x67, 0x8A, 0x4E, 0x05,              // 0008 mov cl, [esi+5]
      0x67, 0x66, 0x89, 0x46, 0x04,        // 000C mov [esi+4], eax
      0x67, 0x66, 0x83, 0x0E, 0x01,        // 0011 or dword [esi], 1  (read, then write)
      0xEE,                                // 0016 out dx, al
      0xEF,                                // 0017 out dx, ax
      0x66, 0xED,                          // 0018 in eax, dx
      0xE4, 0x61,                          // 001A in al, 0x61
      0xF4});
  r.gpr[ESI] = 0xFEBF0000;
  r.gpr[EDX] = 0x3C4;
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(100) == StopReason::halted);
  std::vector<Access> want = {
      {'r', 0xFEBF0000, 4, 0, 0x10000000, 0},
      {'r', 0xFEBF0002, 2, 0, 0x10000004, 1},
      {'r', 0xFEBF0005, 1, 0x33, 0x10000008, 2},
      {'w', 0xFEBF0004, 4, 0, 0x1000000C, 3},
      {'r', 0xFEBF0000, 4, 0, 0x10000011, 4},
      {'w', 0xFEBF0000, 4, 1, 0x10000011, 4},
      {'o', 0x3C4, 1, 0, 0x10000016, 5},
      {'o', 0x3C4, 2, 0, 0x10000017, 6},
      {'i', 0x3C4, 4, 0, 0x10000018, 7},
      {'i', 0x61, 1, 0, 0x1000001A, 8},
  };
  REQUIRE(m.bus.log.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("access " << i);
    CHECK(m.bus.log[i].kind == want[i].kind);
    CHECK(m.bus.log[i].addr == want[i].addr);
    CHECK(m.bus.log[i].bytes == want[i].bytes);
    CHECK(m.bus.log[i].cs_ip == want[i].cs_ip);
    CHECK(m.bus.log[i].icount == want[i].icount);
  }
  CHECK(m.bus.log[2].value == 0x33);  // byte 5 of the register file = byte 1 of reg 1
  CHECK(m.bus.log[5].value == 1);
  CHECK(m.bus.device_regs[0] == 1);
  CHECK(m.bus.device_regs[1] == 0);
}

TEST_CASE("string I/O: OUTS reads DS:SI (overridable), INS writes ES:DI, steps by width") {
  Machine m;
  m.load(0x10000, {0xF3, 0x26, 0x6F,  // rep outsw with ES override
                   0xF3, 0x66, 0x6D,  // rep insd
                   0xF4});
  auto& r = m.cpu.regs();
  m.cpu.load_segment_real(DS, 0x6000);
  m.cpu.load_segment_real(ES, 0x5000);
  const std::uint8_t src[4] = {0xAA, 0xBB, 0xCC, 0xDD};
  std::memcpy(&m.bus.mem[0x50010], src, 4);
  r.gpr[ESI] = 0x10;
  r.gpr[EDI] = 0x100;
  r.gpr[ECX] = 2;
  r.gpr[EDX] = 0x1CE;
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(2) == StopReason::budget);  // two OUTSW iterations
  CHECK(r.gpr[ESI] == 0x14);
  CHECK(r.gpr[ECX] == 0);
  r.gpr[ECX] = 2;
  REQUIRE(m.cpu.run(10) == StopReason::halted);
  CHECK(r.gpr[EDI] == 0x108);
  REQUIRE(m.bus.log.size() == 4);
  CHECK(m.bus.log[0] == Access{'o', 0x1CE, 2, 0xBBAA, 0x10000000, 0});
  CHECK(m.bus.log[1] == Access{'o', 0x1CE, 2, 0xDDCC, 0x10000000, 1});
  CHECK(m.bus.log[2].kind == 'i');
  CHECK(m.bus.log[2].bytes == 4);
  CHECK(m.bus.log[2].cs_ip == 0x10000003);
  std::uint32_t v;
  std::memcpy(&v, &m.bus.mem[0x50104], 4);
  CHECK(v == gpuinit::x86::test::io_answer(0x1CE, 4));
}

TEST_CASE("an access crossing from RAM into a device page is split into bytes") {
  Machine m;
  m.bus.device_base = 0x21000;
  m.bus.device_size = 0x1000;
  m.load(0x10000, {0x8B, 0x07, 0xC7, 0x07, 0x34, 0x12, 0xF4});  // mov ax,[bx]; mov word [bx],1234h
  m.cpu.load_segment_real(DS, 0x2000);
  m.cpu.regs().gpr[EBX] = 0xFFF;  // linear 0x20FFF: last RAM byte, then the device
  m.bus.mem[0x20FFF] = 0x99;
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(10) == StopReason::halted);
  REQUIRE(m.bus.log.size() == 2);
  CHECK(m.bus.log[0] == Access{'r', 0x21000, 1, 0, 0x10000000, 0});
  CHECK(m.bus.log[1] == Access{'w', 0x21000, 1, 0x12, 0x10000002, 1});
  CHECK((m.cpu.regs().gpr[EAX] & 0xFFFF) == 0x0099);
  CHECK(m.bus.mem[0x20FFF] == 0x34);
}

TEST_CASE("invalid opcode stops, or goes through vector 6 when asked") {
  Machine m;
  m.load(0x10000, {0x90, 0x0F, 0x0B});  // nop; ud2
  m.start(0x1000, 0);
  CHECK(m.cpu.run(10) == StopReason::invalid_opcode);
  CHECK(m.cpu.fault_cs_ip() == 0x10000001);
  CHECK(m.cpu.regs().eip == 1);
  CHECK(m.cpu.regs().gpr[ESP] == 0x1000);
  CHECK(m.cpu.last_error() == "invalid opcode at 1000:0001");
  m.cpu.set_stop_on_ud(false);
  CHECK(m.cpu.run(10) == StopReason::halted);
  CHECK(m.cpu.fault_cs_ip() == 0xF0000018);  // vector 6's HLT
}

TEST_CASE("#UD stops only while vector 6 holds the default handler") {
  Machine m;
  m.cpu.set_unhandled_ud_vector(0xF000, 6 * 4);  // this machine's default vector 6
  // VMREAD (0F 78) and BOUND with a register operand (62 F8) are #UD in real mode.
  m.load(0x10000, {0x90, 0x0F, 0x78, 0x88, 0x13, 0x62, 0xF8, 0x90, 0x90, 0xF4});
  m.start(0x1000, 0);
  CHECK(m.cpu.run(10) == StopReason::invalid_opcode);
  CHECK(m.cpu.fault_cs_ip() == 0x10000001);
  CHECK(m.cpu.regs().gpr[ESP] == 0x1000);
  // A handler installed in vector 6 gets the exception, with the faulting IP pushed; it
  // skips the 4-byte instruction (add word [bp+0], 4; iret).
  m.load(0x0018, {0x00, 0x02, 0x00, 0x10});  // vector 6 -> 1000:0200
  m.load(0x10200, {0x55, 0x89, 0xE5, 0x83, 0x46, 0x02, 0x04, 0x5D, 0xCF});  // push bp; mov bp,sp; add word [bp+2],4; pop bp; iret
  m.cpu.regs().eip = 1;
  CHECK(m.cpu.run(30) == StopReason::halted);  // both #UDs were skipped by the handler
  CHECK(m.cpu.fault_cs_ip() == 0x10000009);
  CHECK(m.cpu.icount() == 1 + (1 + 5) + (1 + 5) + 1);  // nop, then #UD + handler twice, hlt
  CHECK(m.cpu.regs().gpr[ESP] == 0x1000);
  CHECK(m.bus.mem[0x30000 + 0x1000 - 6] == 0x09);  // the last #UD pushed IP 0005; +4
  // With the default handler back, the next #UD stops again (no delivery).
  m.load(0x0018, {0x18, 0x00, 0x00, 0xF0});
  m.cpu.regs().eip = 5;
  CHECK(m.cpu.run(10) == StopReason::invalid_opcode);
  CHECK(m.cpu.fault_cs_ip() == 0x10000005);
}

TEST_CASE("16-bit code wraps IP from FFFF to 0 without a fault") {
  Machine m;
  m.load(0x1FFFA, {0x90, 0xB8, 0x34, 0x12, 0x31, 0xDB});  // nop; mov ax,1234h; xor bx,bx (ends at FFFF)
  m.load(0x10000, {0xF4});                                // hlt at 1000:0000
  m.cpu.regs().gpr[EBX] = 0x55;
  m.start(0x1000, 0xFFFA);
  CHECK(m.cpu.run(10) == StopReason::halted);
  CHECK(m.cpu.fault_cs_ip() == 0x10000000);  // not vector 13's HLT
  CHECK(m.cpu.regs().eip == 1);
  CHECK(m.cpu.icount() == 4);
  CHECK((m.cpu.regs().gpr[EAX] & 0xFFFF) == 0x1234);
  CHECK(m.cpu.regs().gpr[EBX] == 0);
  CHECK(m.cpu.regs().gpr[ESP] == 0x1000);
}

TEST_CASE("a fault while delivering becomes #DF, then a triple fault") {
  Machine m;
  // lidt [idt0] (limit 0: no vector fits); int3
  m.load(0x10000, {0x0F, 0x01, 0x1E, 0x10, 0x00, 0xCC, 0x90});
  m.load(0x10010, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  m.cpu.load_segment_real(DS, 0x1000);
  m.start(0x1000, 0);
  CHECK(m.cpu.run(10) == StopReason::triple_fault);
  CHECK(m.cpu.fault_cs_ip() == 0x10000005);
  CHECK_THAT(m.cpu.last_error(), Catch::Contains("triple fault"));
}

TEST_CASE("HLT stops; x87 probes find no FPU; CPUID, RDTSC, RDMSR") {
  Machine m;
  m.cpu.load_segment_real(DS, 0x2000);
  m.load(0x10000, {
      0xDB, 0xE3,                    // fninit
      0xC7, 0x06, 0x00, 0x00, 0x5A, 0x5A, // mov word [0], 5A5Ah
      0xDD, 0x3E, 0x00, 0x00,        // fnstsw [0]  (nothing written)
      0x31, 0xC0,                    // xor ax, ax
      0xDF, 0xE0,                    // fnstsw ax   (0xFFFF: no FPU)
      0x89, 0xC7,                    // mov di, ax
      0x66, 0x31, 0xC0,              // xor eax, eax
      0x0F, 0xA2,                    // cpuid
      0x66, 0x89, 0xDE,              // mov esi, ebx
      0x0F, 0x31,                    // rdtsc
      0xF4});
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(100) == StopReason::halted);
  auto& r = m.cpu.regs();
  CHECK(m.bus.mem[0x20000] == 0x5A);
  CHECK(m.bus.mem[0x20001] == 0x5A);
  CHECK((r.gpr[EDI] & 0xFFFF) == 0xFFFF);
  CHECK(r.gpr[ESI] == 0x756E6547);
  CHECK(r.gpr[EAX] == 1000);
  CHECK(r.gpr[EDX] == 0);
  CHECK(m.cpu.fault_cs_ip() == 0x1000001C);
  // RDMSR of an MSR the bus does not have: #GP through vector 13.
  Machine n;
  n.load(0x10000, {0x66, 0xB9, 0x99, 0x00, 0x00, 0x00, 0x0F, 0x32});
  n.start(0x1000, 0);
  CHECK(n.cpu.run(10) == StopReason::halted);
  CHECK(n.cpu.fault_cs_ip() == 0xF0000034);
}

TEST_CASE("interrupt() from the machine pushes a frame like INT n") {
  Machine m;
  m.load(0x10000, {0x90, 0x90});
  m.start(0x1000, 1);
  m.cpu.regs().eflags = 0x202;
  m.cpu.interrupt(0x10);
  CHECK(m.cpu.regs().seg[CS].selector == 0xF000);
  CHECK(m.cpu.regs().eip == 0x40);
  CHECK(m.cpu.regs().eflags == 0x2);
  CHECK(m.cpu.regs().gpr[ESP] == 0x1000 - 6);
  CHECK(m.bus.mem[0x30000 + 0x1000 - 6] == 0x01);
  CHECK(m.bus.mem[0x30000 + 0x1000 - 2] == 0x02);  // FLAGS low byte
  CHECK(m.bus.mem[0x30000 + 0x1000 - 1] == 0x02);  // IF was set
}

TEST_CASE("a protected-mode 32-bit code segment runs with 32-bit defaults") {
  Machine m;
  // GDT at 0x10100: null, 32-bit code base 0 4 GiB, data base 0 4 GiB.
  const std::uint8_t gdt[] = {0, 0, 0, 0, 0, 0, 0, 0,
                              0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0,
                              0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0,
                              0x17, 0x00, 0x00, 0x01, 0x01, 0x00};  // gdt_ptr at 0x10118
  m.load(0x10100, std::vector<std::uint8_t>(std::begin(gdt), std::end(gdt)));
  m.load(0x10000, {
      0x0F, 0x01, 0x16, 0x18, 0x01,        // lgdt [0x118] (DS = 0x1000)
      0x0F, 0x20, 0xC0, 0x0C, 0x01,        // mov eax, cr0; or al, 1
      0x0F, 0x22, 0xC0,                    // mov cr0, eax
      0x66, 0xEA, 0x20, 0x00, 0x01, 0x00, 0x08, 0x00,  // jmp dword 0x08:0x10020
  });
  m.load(0x10020, {
      0xB8, 0x78, 0x56, 0x34, 0x12,        // mov eax, 0x12345678 (32-bit default)
      0x66, 0xBB, 0x34, 0x12,              // mov bx, 0x1234 (0x66: 16-bit)
      0xF4});
  m.cpu.load_segment_real(DS, 0x1000);
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(20) == StopReason::halted);
  CHECK(m.cpu.regs().gpr[EAX] == 0x12345678);
  CHECK((m.cpu.regs().gpr[EBX] & 0xFFFF) == 0x1234);
  CHECK(m.cpu.regs().seg[CS].db);
  CHECK(m.cpu.regs().seg[CS].limit == 0xFFFFFFFF);
}

TEST_CASE("TF single-steps through vector 1 after the instruction") {
  Machine m;
  m.load(0x10000, {0x40, 0x40});  // inc ax; inc ax
  m.start(0x1000, 0);
  m.cpu.regs().eflags = 0x102;  // TF
  REQUIRE(m.cpu.run(10) == StopReason::halted);
  CHECK(m.cpu.fault_cs_ip() == 0xF0000004);  // vector 1's HLT
  CHECK((m.cpu.regs().gpr[EAX] & 0xFFFF) == 1);  // one instruction ran
  CHECK(m.bus.mem[0x30000 + 0x1000 - 6] == 0x01);  // return IP: the next instruction
  CHECK((m.cpu.regs().eflags & 0x100) == 0);
}

TEST_CASE("SGDT/SIDT store the tables; CR2-CR4 keep what was written") {
  Machine m;
  m.load(0x10000, {
      0x0F, 0x01, 0x06, 0x00, 0x00,        // sgdt [0]
      0x0F, 0x01, 0x0E, 0x08, 0x00,        // sidt [8]
      0x66, 0xB8, 0x00, 0x30, 0x12, 0x00,  // mov eax, 0x123000
      0x0F, 0x22, 0xD8,                    // mov cr3, eax
      0x0F, 0x22, 0xE0,                    // mov cr4, eax
      0x0F, 0x20, 0xDB,                    // mov ebx, cr3
      0x0F, 0x20, 0xC1,                    // mov ecx, cr0
      0xF4});
  m.cpu.load_segment_real(DS, 0x2000);
  auto& r = m.cpu.regs();
  r.gdtr_base = 0x12345678;
  r.gdtr_limit = 0x27;
  m.start(0x1000, 0);
  REQUIRE(m.cpu.run(20) == StopReason::halted);
  const std::uint8_t gdt[6] = {0x27, 0x00, 0x78, 0x56, 0x34, 0x00};  // 16-bit: 24-bit base
  const std::uint8_t idt[6] = {0xFF, 0x03, 0x00, 0x00, 0x00, 0x00};
  CHECK(std::memcmp(&m.bus.mem[0x20000], gdt, 6) == 0);
  CHECK(std::memcmp(&m.bus.mem[0x20008], idt, 6) == 0);
  CHECK(r.gpr[EBX] == 0x123000);
  CHECK(r.gpr[ECX] == 0x10);
  CHECK(m.cpu.control_register(3) == 0x123000);
  CHECK(m.cpu.control_register(4) == 0x123000);
}

TEST_CASE("a fault whose vector holds the default handler stops; an installed handler gets it") {
  Machine m;
  m.cpu.set_unhandled_ud_vector(0xF000, 6 * 4);  // this machine's default handler
  m.load(0x0000, {0x18, 0x00, 0x00, 0xF0});      // vector 0 (#DE) -> the default too
  // xor cx,cx; div cx (#DE); hlt
  m.load(0x10000, {0x31, 0xC9, 0xF7, 0xF1, 0xF4});
  m.start(0x1000, 0);
  CHECK(m.cpu.run(10) == StopReason::unhandled_fault);
  CHECK(m.cpu.fault_cs_ip() == 0x10000002);
  CHECK(m.cpu.last_error().find("exception 0") != std::string::npos);
  // The ROM's own #DE handler: mov cx,1; iret (the divide is retried and succeeds).
  m.load(0x0000, {0x00, 0x03, 0x00, 0x10});
  m.load(0x10300, {0xB9, 0x01, 0x00, 0xCF});
  m.cpu.regs().eip = 2;
  CHECK(m.cpu.run(20) == StopReason::halted);
  CHECK((m.cpu.regs().gpr[ECX] & 0xFFFF) == 1);
}

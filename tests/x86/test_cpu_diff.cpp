// Differential tests: generated real-mode snippets (fixed seed) run on our interpreter and
// on Unicorn from the same state; final registers, EFLAGS (minus the flags the SDM leaves
// undefined for the instruction under test) and memory must match. Unicorn's known
// deviations are excluded by named rules (see kRule* below and docs/x86.md).
#include <unicorn/unicorn.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "flat_bus.hpp"
#include "gpuinit/x86/cpu.hpp"

using namespace gpuinit::x86;
using gpuinit::x86::test::FlatBus;
using gpuinit::x86::test::io_answer;

namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr u32 CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
constexpr u32 kArith = CF | PF | AF | ZF | SF | OF;

// Named Unicorn quirks (TOOLCHAIN.md): each excludes exactly what it says.
// LOOPE/LOOPNE ending on CX=0 leaves garbage flags in Unicorn 2.0.1: flags not compared.
constexpr const char* kRuleLoopccFlags = "unicorn-loopcc-flags";

constexpr u16 kCodeCs = 0x0100;
constexpr u16 kCodeIp = 0x0100;
constexpr u16 kHandlerIp = 0x0F00;  // default IVT target: far jump to the snippet's end
constexpr u16 kIntHandlerIp = 0x0E00;
constexpr u16 kFarTargetIp = 0x0C00;
constexpr u32 kMemCompare = 0x90000;  // IVT, code, data segments and stack
constexpr u32 kRam = 0x100000;
constexpr u16 kSegs[6] = {0x3000, kCodeCs, 0x4000, 0x2000, 0x5000, 0x6000};  // ES CS SS DS FS GS

struct Rng {
  u64 s;
  u64 next() {
    u64 z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  u32 u(u32 n) { return u32(next() % n); }
  u32 r32() { return u32(next()); }
  bool coin() { return next() & 1; }
};

struct Snip {
  std::vector<u8> code;
  std::vector<std::pair<u32, std::vector<u8>>> pokes;  // extra memory (linear)
  u32 gpr[8] = {};
  u32 eflags = 2;
  u32 flag_mask = 0xFFFFFFFF;  // compared bits
  const char* rule = nullptr;  // a Unicorn quirk rule applied to this case
  std::string what;
};

struct Final {
  u32 gpr[8];
  u32 eip;
  u32 eflags;
  u16 sel[6];
  std::vector<u8> mem;
  std::vector<std::string> io;
  std::string error;
};

void init_memory(std::vector<u8>& m, const Snip& s) {
  Rng r{0x1234};
  for (u32 a = 0x10000; a < kMemCompare; a += 8) {
    u64 v = r.next();
    std::memcpy(&m[a], &v, 8);
  }
  u16 end_ip = u16(kCodeIp + s.code.size());
  for (unsigned v = 0; v < 256; ++v) {  // IVT: everything to the default handler
    m[v * 4] = u8(kHandlerIp);
    m[v * 4 + 1] = u8(kHandlerIp >> 8);
    m[v * 4 + 2] = u8(kCodeCs);
    m[v * 4 + 3] = u8(kCodeCs >> 8);
  }
  u32 h = kCodeCs * 16u + kHandlerIp;  // JMP FAR kCodeCs:end
  const u8 jmp[] = {0xEA, u8(end_ip), u8(end_ip >> 8), u8(kCodeCs), u8(kCodeCs >> 8)};
  std::memcpy(&m[h], jmp, sizeof jmp);
  std::memcpy(&m[kCodeCs * 16u + kCodeIp], s.code.data(), s.code.size());
  for (auto& [a, bytes] : s.pokes) std::memcpy(&m[a], bytes.data(), bytes.size());
}

std::string io_str(char k, u32 port, unsigned bytes, u32 v) {
  char b[64];
  std::snprintf(b, sizeof b, "%c %04x/%u %08x", k, port, bytes, v);
  return b;
}

Final run_ours(const Snip& s) {
  FlatBus bus(kRam);
  bus.record = true;
  init_memory(bus.mem, s);
  Cpu cpu(bus);
  bus.cpu = &cpu;
  cpu.set_stop_on_ud(true);
  Registers& r = cpu.regs();
  for (int i = 0; i < 8; ++i) r.gpr[i] = s.gpr[i];
  r.eflags = s.eflags;
  for (int i = 0; i < 6; ++i) cpu.load_segment_real(SegIndex(i), kSegs[i]);
  r.eip = kCodeIp;
  cpu.set_stop_at(kCodeCs, u16(kCodeIp + s.code.size()));
  StopReason why = cpu.run(200000);
  Final f;
  if (why != StopReason::stop_address)
    f.error = std::string("ours stopped: ") + stop_reason_name(why) + " " + cpu.last_error();
  for (int i = 0; i < 8; ++i) f.gpr[i] = r.gpr[i];
  f.eip = r.eip;
  f.eflags = r.eflags;
  for (int i = 0; i < 6; ++i) f.sel[i] = r.seg[i].selector;
  f.mem.assign(bus.mem.begin(), bus.mem.begin() + kMemCompare);
  for (auto& a : bus.log)
    if (a.kind == 'i' || a.kind == 'o') f.io.push_back(io_str(a.kind, a.addr, a.bytes, a.value));
  return f;
}

struct UcCtx {
  int pending = -1;
  u32 pending_eip = 0;
  std::vector<std::string>* io;
};

void uc_intr(uc_engine* uc, u32 intno, void* user) {
  auto* c = static_cast<UcCtx*>(user);
  c->pending = int(intno);
  uc_reg_read(uc, UC_X86_REG_EIP, &c->pending_eip);
  uc_emu_stop(uc);
}
u32 uc_in(uc_engine*, u32 port, int size, void* user) {
  auto* c = static_cast<UcCtx*>(user);
  u32 v = io_answer(u16(port), unsigned(size));
  c->io->push_back(io_str('i', port, unsigned(size), v));
  return v;
}
void uc_out(uc_engine*, u32 port, int size, u32 value, void* user) {
  auto* c = static_cast<UcCtx*>(user);
  u32 v = size == 4 ? value : value & ((1u << (8 * size)) - 1);
  c->io->push_back(io_str('o', port, unsigned(size), v));
}

Final run_unicorn(const Snip& s) {
  Final f;
  // One engine for the whole run (uc_open costs milliseconds): memory is rewritten and
  // the translation cache dropped before every case.
  static std::unique_ptr<uc_engine, decltype(&uc_close)> engine(nullptr, &uc_close);
  static UcCtx ctx;
  if (!engine) {
    uc_engine* e = nullptr;
    REQUIRE(uc_open(UC_ARCH_X86, UC_MODE_16, &e) == UC_ERR_OK);
    engine.reset(e);
    uc_mem_map(e, 0, kRam, UC_PROT_ALL);
    uc_hook h1, h2, h3;
    uc_hook_add(e, &h1, UC_HOOK_INTR, reinterpret_cast<void*>(uc_intr), &ctx, 1, 0);
    uc_hook_add(e, &h2, UC_HOOK_INSN, reinterpret_cast<void*>(uc_in), &ctx, 1, 0, UC_X86_INS_IN);
    uc_hook_add(e, &h3, UC_HOOK_INSN, reinterpret_cast<void*>(uc_out), &ctx, 1, 0, UC_X86_INS_OUT);
  }
  uc_engine* uc = engine.get();
  static std::vector<u8> m(kRam, 0);
  std::fill(m.begin(), m.end(), 0);
  init_memory(m, s);
  uc_mem_write(uc, 0, m.data(), kRam);
  uc_ctl_remove_cache(uc, 0, kRam);
  u32 zero = 0;
  uc_reg_write(uc, UC_X86_REG_CR0, &zero);
  const int regs[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                       UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};
  const int sregs[6] = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS,
                        UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};
  for (int i = 0; i < 8; ++i) uc_reg_write(uc, regs[i], &s.gpr[i]);
  u32 fl = s.eflags;
  uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
  for (int i = 0; i < 6; ++i) {
    u32 v = kSegs[i];
    uc_reg_write(uc, sregs[i], &v);
  }
  ctx.io = &f.io;
  u32 end_lin = kCodeCs * 16u + kCodeIp + u32(s.code.size());
  u32 start = kCodeCs * 16u + kCodeIp;
  bool delivered = false;
  for (int round = 0; round < 32; ++round) {
    ctx.pending = -1;
    uc_err err = uc_emu_start(uc, start, end_lin, 2000000, 0);
    if (err != UC_ERR_OK) {
      f.error = std::string("unicorn: ") + uc_strerror(err);
      break;
    }
    if (ctx.pending < 0) break;
    delivered = true;
    // Real-mode delivery through the IVT (Unicorn does not do it): FLAGS, CS, IP.
    u32 flags, sp, cs;
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &flags);
    uc_reg_read(uc, UC_X86_REG_ESP, &sp);
    uc_reg_read(uc, UC_X86_REG_CS, &cs);
    u32 ss_base = kSegs[SS] * 16u;  // tests never change SS
    u16 frame[3] = {u16(ctx.pending_eip), u16(cs), u16(flags)};
    u16 nsp = u16(sp - 6);
    for (int i = 0; i < 3; ++i) uc_mem_write(uc, ss_base + u16(nsp + 2 * i), &frame[i], 2);
    sp = (sp & 0xFFFF0000u) | nsp;
    uc_reg_write(uc, UC_X86_REG_ESP, &sp);
    flags &= ~(0x100u | 0x200u | 0x40000u);
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &flags);
    u16 vec[2];
    uc_mem_read(uc, u32(ctx.pending) * 4, vec, 4);
    u32 ncs = vec[1], nip = vec[0];
    uc_reg_write(uc, UC_X86_REG_CS, &ncs);
    uc_reg_write(uc, UC_X86_REG_EIP, &nip);
    start = ncs * 16 + nip;
  }
  for (int i = 0; i < 8; ++i) uc_reg_read(uc, regs[i], &f.gpr[i]);
  uc_reg_read(uc, UC_X86_REG_EIP, &f.eip);
  uc_reg_read(uc, UC_X86_REG_EFLAGS, &f.eflags);
  for (int i = 0; i < 6; ++i) {
    u32 v = 0;
    uc_reg_read(uc, sregs[i], &v);
    f.sel[i] = u16(v);
  }
  f.mem.resize(kMemCompare);
  uc_mem_read(uc, 0, f.mem.data(), kMemCompare);
  // After a CPU exception stopped it from a hook, a reused engine misses the next
  // exception: start a fresh one then.
  if (delivered) engine.reset();
  return f;
}

std::string hex(const std::vector<u8>& b) {
  std::string s;
  char t[4];
  for (u8 x : b) {
    std::snprintf(t, sizeof t, "%02x ", x);
    s += t;
  }
  return s;
}

// Returns "" when equal, else a description of the first differences.
std::string compare(const Snip& s, const Final& a, const Final& b) {
  std::string d;
  char t[160];
  if (!a.error.empty() || !b.error.empty()) d += a.error + " | " + b.error + "\n";
  const char* names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
  for (int i = 0; i < 8; ++i)
    if (a.gpr[i] != b.gpr[i]) {
      std::snprintf(t, sizeof t, "%s ours %08x unicorn %08x\n", names[i], a.gpr[i], b.gpr[i]);
      d += t;
    }
  if (a.eip != b.eip) {
    std::snprintf(t, sizeof t, "eip ours %08x unicorn %08x\n", a.eip, b.eip);
    d += t;
  }
  u32 m = s.rule == kRuleLoopccFlags ? 0 : s.flag_mask;
  if ((a.eflags & m) != (b.eflags & m)) {
    std::snprintf(t, sizeof t, "eflags ours %08x unicorn %08x (mask %08x)\n", a.eflags, b.eflags, m);
    d += t;
  }
  for (int i = 0; i < 6; ++i)
    if (a.sel[i] != b.sel[i]) {
      std::snprintf(t, sizeof t, "sreg %d ours %04x unicorn %04x\n", i, a.sel[i], b.sel[i]);
      d += t;
    }
  for (u32 i = 0; i < kMemCompare; ++i)
    if (a.mem[i] != b.mem[i]) {
      std::snprintf(t, sizeof t, "mem[%05x] ours %02x unicorn %02x\n", i, a.mem[i], b.mem[i]);
      d += t;
      break;
    }
  if (a.io != b.io) d += "io sequences differ (" + std::to_string(a.io.size()) + " vs " +
                         std::to_string(b.io.size()) + ")\n";
  if (!d.empty()) {
    std::string init;
    for (int i = 0; i < 8; ++i) {
      std::snprintf(t, sizeof t, "%s=%08x ", names[i], s.gpr[i]);
      init += t;
    }
    std::snprintf(t, sizeof t, "fl=%08x", s.eflags);
    init += t;
    d = s.what + ": " + hex(s.code) + "\n  init " + init + "\n  " + d;
  }
  return d;
}

// ------------------------------------------------------------------ generators

void random_state(Rng& r, Snip& s) {
  for (auto& g : s.gpr) g = r.r32();
  s.gpr[4] = 0x1000 + 2 * r.u(0x7000);  // SP: even, well inside the stack segment
  s.eflags = 2 | (r.r32() & kArith) | (r.u(8) == 0 ? 0x400 : 0);
}

struct Code {
  std::vector<u8> b;
  void put(std::initializer_list<u8> x) { b.insert(b.end(), x); }
  void put8(u32 v) { b.push_back(u8(v)); }
  void put16(u32 v) {
    put8(v);
    put8(v >> 8);
  }
  void put32(u32 v) {
    put16(v);
    put16(v >> 16);
  }
};

// A memory ModRM operand whose effective address stays below 0xFFF0 (so that neither
// side wraps or faults); address registers are given small values in `s`.
void mem_operand(Rng& r, Snip& s, Code& c, unsigned regf, bool a32) {
  for (;;) {
    u32 gpr[8];
    std::memcpy(gpr, s.gpr, sizeof gpr);
    Code t;
    u32 ea = 0;
    unsigned mod = r.u(3), rm = r.u(8);
    if (!a32) {
      auto small = [&](int g) { gpr[g] = (gpr[g] & 0xFFFF0000u) | r.u(0x7000); return gpr[g] & 0xFFFF; };
      t.put8((mod << 6) | (regf << 3) | rm);
      switch (rm) {
        case 0: ea = small(EBX) + small(ESI); break;
        case 1: ea = small(EBX) + small(EDI); break;
        case 2: ea = small(EBP) + small(ESI); break;
        case 3: ea = small(EBP) + small(EDI); break;
        case 4: ea = small(ESI); break;
        case 5: ea = small(EDI); break;
        case 6:
          if (mod == 0) {
            ea = r.u(0xFFF0);
            t.put16(ea);
          } else ea = small(EBP);
          break;
        default: ea = small(EBX); break;
      }
      if (mod == 1) {
        u32 d = r.u(256);
        t.put8(d);
        ea += u32(int32_t(int8_t(d)));
      } else if (mod == 2) {
        u32 d = r.u(0x10000);
        t.put16(d);
        ea += d;
      }
      ea &= 0xFFFF;
    } else {
      auto small = [&](int g) { gpr[g] = r.u(0x6000); return gpr[g]; };
      if (rm == 4) {
        unsigned base = r.u(8), idx = r.u(8), sc = r.u(4);
        if (base == ESP || idx == ESP && r.coin()) continue;  // keep ESP out of addresses
        t.put8((mod << 6) | (regf << 3) | 4);
        t.put8((sc << 6) | (idx << 3) | base);
        if (base == 5 && mod == 0) {
          u32 d = r.u(0x8000);
          t.put32(d);
          ea = d;
        } else ea = small(int(base));
        if (idx != 4) {
          if (int(idx) != int(base)) gpr[idx] = r.u(0x800);
          ea += gpr[idx] << sc;
        }
      } else {
        t.put8((mod << 6) | (regf << 3) | rm);
        if (rm == 5 && mod == 0) {
          u32 d = r.u(0xFFF0);
          t.put32(d);
          ea = d;
        } else ea = small(int(rm));
      }
      if (mod == 1) {
        u32 d = r.u(256);
        t.put8(d);
        ea += u32(int32_t(int8_t(d)));
      } else if (mod == 2) {
        u32 d = r.u(0x2000) - 0x1000;
        t.put32(d);
        ea += d;
      }
    }
    if (ea > 0xFFF0) continue;
    std::memcpy(s.gpr, gpr, sizeof gpr);
    c.b.insert(c.b.end(), t.b.begin(), t.b.end());
    return;
  }
}

// An r/m operand: register (random) or memory.
void rm_operand(Rng& r, Snip& s, Code& c, unsigned regf, bool a32, bool allow_sp = true) {
  if (r.coin()) {
    unsigned rm = r.u(8);
    if (!allow_sp && rm == ESP) rm = EAX;
    c.put8(0xC0 | (regf << 3) | rm);
  } else {
    mem_operand(r, s, c, regf, a32);
  }
}

void prefixes(Rng& r, Code& c, bool& o32, bool& a32) {
  o32 = r.coin();
  a32 = r.u(4) == 0;
  if (o32) c.put8(0x66);
  if (a32) c.put8(0x67);
}

Snip gen_alu(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  bool o32, a32;
  prefixes(r, c, o32, a32);
  unsigned kind = r.u(10);
  bool logic = false;
  if (kind < 4) {  // 00-3D
    unsigned op = r.u(8), form = r.u(6);
    logic = op == 1 || op == 4 || op == 6;
    c.put8(op * 8 + form);
    unsigned regf = r.u(8);
    if (form < 4) rm_operand(r, s, c, regf, a32);
    else if (form == 4) c.put8(r.u(256));
    else if (o32) c.put32(r.r32());
    else c.put16(r.u(0x10000));
    s.what = "alu";
  } else if (kind < 7) {  // 80/81/83
    u8 op = u8(0x80 + r.u(4));
    unsigned regf = r.u(8);
    logic = regf == 1 || regf == 4 || regf == 6;
    c.put8(op);
    rm_operand(r, s, c, regf, a32);
    if (op == 0x81) {
      if (o32) c.put32(r.r32());
      else c.put16(r.u(0x10000));
    } else c.put8(r.u(256));
    s.what = "alu-grp1";
  } else if (kind == 7) {  // INC/DEC
    if (r.coin()) c.put8(0x40 + r.u(16));
    else {
      c.put8(r.coin() ? 0xFE : 0xFF);
      rm_operand(r, s, c, r.u(2), a32);
    }
    s.what = "incdec";
  } else if (kind == 8) {  // TEST/NOT/NEG
    bool w = r.coin();
    unsigned regf = r.u(4);
    if (regf == 1) regf = 0;
    logic = regf == 0;
    c.put8(w ? 0xF7 : 0xF6);
    rm_operand(r, s, c, regf, a32);
    if (regf == 0) {
      if (!w) c.put8(r.u(256));
      else if (o32) c.put32(r.r32());
      else c.put16(r.u(0x10000));
    }
    s.what = "grp3";
  } else {  // TEST/XCHG/MOV Eb/Ev
    u8 op = u8(0x84 + r.u(8));
    logic = op < 0x86;
    c.put8(op);
    rm_operand(r, s, c, r.u(8), a32, false);
    s.what = "test-xchg-mov";
  }
  if (logic) s.flag_mask &= ~AF;
  s.code = c.b;
  return s;
}

Snip gen_shift(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  bool o32, a32;
  prefixes(r, c, o32, a32);
  unsigned width = 0;
  unsigned count = r.coin() ? r.u(9) : r.u(256);
  if (r.u(5) == 0) {  // SHLD/SHRD
    width = o32 ? 32 : 16;
    if (width == 16) count = r.u(17);
    bool cl = r.coin();
    c.put({0x0F, u8((r.coin() ? 0xA4 : 0xAC) + (cl ? 1 : 0))});
    rm_operand(r, s, c, r.u(8), a32);
    if (cl) s.gpr[ECX] = (s.gpr[ECX] & ~0xFFu) | count;
    else c.put8(count);
    unsigned m = count & 31;
    if (m) {
      s.flag_mask &= ~AF;
      if (m != 1) s.flag_mask &= ~OF;
    }
    s.what = "shld/shrd";
    s.code = c.b;
    return s;
  }
  unsigned form = r.u(6);  // C0 C1 D0 D1 D2 D3
  static const u8 ops[6] = {0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3};
  u8 op = ops[form];
  width = (op & 1) ? (o32 ? 32 : 16) : 8;
  unsigned regf = r.u(8);
  c.put8(op);
  rm_operand(r, s, c, regf, a32);
  if (op == 0xC0 || op == 0xC1) c.put8(count);
  else if (op == 0xD0 || op == 0xD1) count = 1;
  else s.gpr[ECX] = (s.gpr[ECX] & ~0xFFu) | count;
  // The ModRM may have replaced CL with a small address: recompute the count.
  if (op >= 0xD2) count = s.gpr[ECX] & 0xFF;
  unsigned m = count & 31;
  if (m) {
    if (regf >= 4) s.flag_mask &= ~AF;
    if (m != 1) s.flag_mask &= ~OF;
    if (regf >= 4 && m >= width) s.flag_mask &= ~CF;
  }
  s.what = "shift/" + std::to_string(regf);
  s.code = c.b;
  return s;
}

Snip gen_muldiv(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  bool o32, a32;
  prefixes(r, c, o32, a32);
  unsigned kind = r.u(5);
  if (kind < 3) {
    unsigned regf = 4 + r.u(4);
    c.put8(r.coin() ? 0xF7 : 0xF6);
    // Mostly dividends that fit: make the high half small (before the operand, which
    // may give EDX/EAX small address values of its own).
    if (regf >= 6 && r.u(4)) {
      s.gpr[EDX] = r.u(4) == 0 ? 0 : s.gpr[EDX] & 0x7;
      s.gpr[EAX] = (s.gpr[EAX] & 0xFFFF00FFu) | (r.u(3) << 8);
    }
    rm_operand(r, s, c, regf, a32);
    if (regf >= 6) {
      s.flag_mask &= ~kArith;
    } else {
      s.flag_mask &= ~(SF | ZF | AF | PF);
    }
    s.what = regf >= 6 ? "div" : "mul";
  } else if (kind == 3) {
    c.put({0x0F, 0xAF});
    rm_operand(r, s, c, r.u(8), a32);
    s.flag_mask &= ~(SF | ZF | AF | PF);
    s.what = "imul2";
  } else {
    bool b = r.coin();
    c.put8(b ? 0x6B : 0x69);
    rm_operand(r, s, c, r.u(8), a32);
    if (b) c.put8(r.u(256));
    else if (o32) c.put32(r.r32());
    else c.put16(r.u(0x10000));
    s.flag_mask &= ~(SF | ZF | AF | PF);
    s.what = "imul3";
  }
  s.code = c.b;
  return s;
}

Snip gen_bcd(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  static const u8 ops[6] = {0x27, 0x2F, 0x37, 0x3F, 0xD4, 0xD5};
  u8 op = ops[r.u(6)];
  c.put8(op);
  if (op >= 0xD4) {
    u32 base = r.u(3) ? 10 : r.u(256);
    c.put8(base);
    s.flag_mask &= ~(OF | AF | CF);
  } else if (op <= 0x2F) {
    s.flag_mask &= ~OF;
  } else {
    s.flag_mask &= ~(OF | SF | ZF | PF);
  }
  s.what = "bcd";
  s.code = c.b;
  return s;
}

Snip gen_string(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  bool o32 = r.coin(), a32 = r.coin();
  unsigned rep = r.u(3);
  static const u8 ops[7] = {0xA4, 0xA6, 0xAA, 0xAC, 0xAE, 0x6C, 0x6E};
  u8 op = ops[r.u(7)];
  if (op != 0xA6 && op != 0xAE && rep == 1) rep = 2;
  if (rep == 1) c.put8(0xF2);
  if (rep == 2) c.put8(0xF3);
  if (o32) c.put8(0x66);
  if (a32) c.put8(0x67);
  if ((op == 0xA4 || op == 0xA6 || op == 0xAC || op == 0x6E) && r.coin()) {
    static const u8 so[5] = {0x26, 0x2E, 0x36, 0x64, 0x65};
    c.put8(so[r.u(5)]);
  }
  c.put8(u8(op + (r.coin() ? 1 : 0)));
  u32 count = r.u(16);
  if (a32) s.gpr[ECX] = count;
  else s.gpr[ECX] = (s.gpr[ECX] & 0xFFFF0000u) | count;
  s.gpr[ESI] = (a32 ? 0 : (s.gpr[ESI] & 0xFFFF0000u)) | (0x200 + r.u(0xF000));
  s.gpr[EDI] = (a32 ? 0 : (s.gpr[EDI] & 0xFFFF0000u)) | (0x200 + r.u(0xF000));
  s.eflags = (s.eflags & ~0x400u) | (r.coin() ? 0x400 : 0);
  if (op == 0xA6 || op == 0xAE) {  // make equal runs likely
    s.gpr[EAX] = r.u(3) ? 0 : s.gpr[EAX];
    if (r.coin()) {
      std::vector<u8> z(64, u8(s.gpr[EAX]));
      s.pokes.push_back({kSegs[ES] * 16u + (s.gpr[EDI] & 0xFFFF) - 32, z});
    }
  }
  s.gpr[EDX] = (s.gpr[EDX] & 0xFFFF0000u) | r.u(0x10000);
  s.what = "string";
  s.code = c.b;
  return s;
}

Snip gen_stack(Rng& r) {
  Snip s;
  random_state(r, s);
  s.gpr[EBP] = 0x1000 + r.u(0x6000);
  Code c;
  unsigned n = 1 + r.u(4);
  for (unsigned i = 0; i < n; ++i) {
    bool o32 = r.coin();
    if (o32) c.put8(0x66);
    switch (r.u(12)) {
      case 0: c.put8(0x50 + r.u(8)); break;
      case 1: {
        unsigned g = r.u(8);
        c.put8(0x58 + (g == ESP ? EAX : g));
        break;
      }
      case 2: c.put8(0x68); if (o32) c.put32(r.r32()); else c.put16(r.u(0x10000)); break;
      case 3: c.put8(0x6A); c.put8(r.u(256)); break;
      case 4: {
        static const u8 ps[4] = {0x06, 0x0E, 0x16, 0x1E};
        if (r.coin()) c.put8(ps[r.u(4)]);
        else c.put({0x0F, u8(r.coin() ? 0xA0 : 0xA8)});
        break;
      }
      case 5: {  // pop into ES/DS/FS/GS a value we pushed
        c.put8(0x68); if (o32) c.put32(r.u(0x10000)); else c.put16(r.u(0x10000));
        if (o32) c.put8(0x66);
        static const u8 pp[4] = {0x07, 0x1F, 0xA1, 0xA9};
        u8 p = pp[r.u(4)];
        if (p >= 0xA1) c.put8(0x0F);
        c.put8(p);
        break;
      }
      case 6: c.put8(0x60); break;
      case 7: c.put8(0x61); break;
      case 8: c.put8(0x9C); break;
      case 9: {  // POPF of a pushed value without TF
        c.put8(0x68); if (o32) c.put32(r.r32() & ~0x100u & ~0x20000u & ~0x10000u); else c.put16(r.u(0x10000) & ~0x100u);
        if (o32) c.put8(0x66);
        c.put8(0x9D);
        break;
      }
      case 10: c.put8(0xC8); c.put16(r.u(64)); c.put8(r.u(4)); break;
      default:
        if (r.coin()) c.put8(0xC9);
        else {  // PUSH/POP [mem]
          bool push = r.coin();
          c.put8(push ? 0xFF : 0x8F);
          mem_operand(r, s, c, push ? 6 : 0, false);
        }
        break;
    }
  }
  s.what = "stack";
  s.code = c.b;
  return s;
}

Snip gen_flags(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  switch (r.u(6)) {
    case 0:  // 8086/286 probe: bits 12-15
      c.put({0x9C, 0x58, 0x25, 0xFF, 0x0F, 0x50, 0x9D, 0x9C, 0x58});
      c.put({0x0D, 0x00, 0xF0, 0x50, 0x9D, 0x9C, 0x5B});
      break;
    case 1:  // 486 probe: AC
      c.put({0x66, 0x9C, 0x66, 0x58, 0x66, 0x89, 0xC1, 0x66, 0x35, 0x00, 0x00, 0x04, 0x00,
             0x66, 0x50, 0x66, 0x9D, 0x66, 0x9C, 0x66, 0x58});
      break;
    case 2:  // CPUID probe: ID
      c.put({0x66, 0x9C, 0x66, 0x58, 0x66, 0x89, 0xC1, 0x66, 0x35, 0x00, 0x00, 0x20, 0x00,
             0x66, 0x50, 0x66, 0x9D, 0x66, 0x9C, 0x66, 0x58, 0x66, 0x51, 0x66, 0x9D});
      break;
    case 3:  // SAHF/LAHF
      c.put({0x9E, 0x9F});
      break;
    case 4: {  // flag instructions
      static const u8 f[7] = {0xF5, 0xF8, 0xF9, 0xFC, 0xFD, 0xD6, 0x9F};
      for (unsigned i = 0, n = 1 + r.u(5); i < n; ++i) c.put8(f[r.u(7)]);
      break;
    }
    default: {  // POPF(D) of a random value (no TF), then PUSHF(D)
      bool o32 = r.coin();
      c.put8(0x68);
      if (o32) {
        c.b.insert(c.b.begin() + long(c.b.size()) - 1, 0x66);
        c.put32(r.r32() & ~0x30100u);
        c.put({0x66, 0x9D, 0x66, 0x9C, 0x66, 0x5A});
      } else {
        c.put16(r.u(0x10000) & ~0x100u);
        c.put({0x9D, 0x9C, 0x5A});
      }
      break;
    }
  }
  s.what = "flags";
  s.code = c.b;
  return s;
}

// Far transfers: a CALL FAR / JMP FAR to a target reached through an aliased CS, which
// returns with RETF (imm) or IRET; and IRET from a frame the snippet pushed.
Snip gen_far(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  bool o32 = r.coin();
  u16 alias = u16(r.u(0x40));
  u16 tcs = u16(kCodeCs + alias), tip = u16(kFarTargetIp - alias * 16);
  Code t;  // the target routine
  unsigned kind = r.u(4);
  u16 ret_imm = u16(r.coin() ? 0 : 2 * r.u(4));
  auto put_ret = [&](Code& x) {
    if (o32) x.put8(0x66);
    if (ret_imm) {
      x.put8(0xCA);
      x.put16(ret_imm);
    } else x.put8(0xCB);
  };
  if (kind == 0) {  // CALL FAR ptr
    if (o32) c.put8(0x66);
    c.put8(0x9A);
    if (o32) c.put32(tip); else c.put16(tip);
    c.put16(tcs);
    t.put({0xB8, 0x34, 0x12});  // MOV AX, 1234h
    put_ret(t);
  } else if (kind == 1) {  // CALL FAR [mem]
    bool a32 = r.coin();
    if (o32) c.put8(0x66);
    if (a32) c.put8(0x67);
    c.put8(0xFF);
    if (a32) {
      c.put8(0x1D);  // [disp32]
      c.put32(0x0400);
    } else {
      c.put8(0x1E);  // [disp16]
      c.put16(0x0400);
    }
    std::vector<u8> ptr;
    if (o32) ptr = {u8(tip), u8(tip >> 8), 0, 0, u8(tcs), u8(tcs >> 8)};
    else ptr = {u8(tip), u8(tip >> 8), u8(tcs), u8(tcs >> 8)};
    s.pokes.push_back({kSegs[DS] * 16u + 0x400, ptr});
    t.put({0xBB, 0x78, 0x56});
    put_ret(t);
  } else if (kind == 2) {  // IRET from a pushed frame to the next instruction
    u32 fl = (r.r32() & (kArith | 0x400 | 0x3000 | 0x4000 | 0x40000 | 0x200000)) | 2;
    if (o32) {
      c.put({0x66, 0x68}); c.put32(fl);
      c.put({0x66, 0x68}); c.put32(tcs);
      c.put({0x66, 0x68}); c.put32(tip);
      c.put({0x66, 0xCF});
    } else {
      c.put8(0x68); c.put16(fl);
      c.put8(0x68); c.put16(tcs);
      c.put8(0x68); c.put16(tip);
      c.put8(0xCF);
    }
    // The target jumps back with a far jump (to after this code).
    t.put({0x9C, 0x59});  // PUSHF; POP CX
    t.put8(0xEA);
    u16 back = u16(kCodeIp + c.b.size());
    t.put16(back);
    t.put16(kCodeCs);
  } else {  // JMP FAR ptr and back
    if (o32) c.put8(0x66);
    c.put8(0xEA);
    if (o32) c.put32(tip); else c.put16(tip);
    c.put16(tcs);
    t.put({0x8C, 0xC8});  // MOV AX, CS
    t.put8(0xEA);
    u16 back = u16(kCodeIp + c.b.size());
    t.put16(back);
    t.put16(kCodeCs);
  }
  s.pokes.push_back({u32(tcs) * 16u + tip, t.b});
  s.what = "far";
  s.code = c.b;
  return s;
}

Snip gen_int(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  Code h;
  u8 vec = u8(0x10 + r.u(0xE0));
  unsigned kind = r.u(5);
  switch (r.u(3)) {
    case 0: h.put8(0xCF); break;  // IRET
    case 1: h.put({0x55, 0x89, 0xE5, 0x83, 0x4E, 0x06, 0x01, 0x5D, 0xCF}); break;  // set CF in frame
    default: h.put({0xBA, 0x11, 0x22, 0xCA, 0x02, 0x00}); break;  // RETF 2
  }
  u8 hv = vec;
  if (kind == 0) {
    c.put({0xCD, vec});
  } else if (kind == 1) {
    c.put8(0xCC);
    hv = 3;
  } else if (kind == 2) {
    c.put8(0xCE);
    hv = 4;
  } else if (kind == 3) {  // #DE through the IVT: handler far-jumps to the end
    c.put({0x31, 0xDB, 0xF6, 0xF3});  // XOR BX,BX; DIV BL
    hv = 0;
  } else {  // BOUND out of range: #BR
    s.pokes.push_back({kSegs[DS] * 16u + 0x500, {0x10, 0x00, 0x20, 0x00}});
    c.put({0xB8, 0x30, 0x00, 0x62, 0x06, 0x00, 0x05});  // MOV AX,30h; BOUND AX,[500h]
    hv = 5;
  }
  c.put({0x9C, 0x5F});  // PUSHF; POP DI: the flags after the return
  if (kind < 3) {
    s.pokes.push_back({u32(hv) * 4, {u8(kIntHandlerIp), u8(kIntHandlerIp >> 8), u8(kCodeCs), u8(kCodeCs >> 8)}});
    s.pokes.push_back({kCodeCs * 16u + kIntHandlerIp, h.b});
  }
  s.eflags |= 0x200;
  s.what = "int";
  s.code = c.b;
  return s;
}

Snip gen_misc(Rng& r) {
  Snip s;
  random_state(r, s);
  Code c;
  bool o32, a32;
  prefixes(r, c, o32, a32);
  switch (r.u(16)) {
    case 0: c.put({0x0F, u8(0xB6 + r.u(2))}); rm_operand(r, s, c, r.u(8), a32); s.what = "movzx"; break;
    case 1: c.put({0x0F, u8(0xBE + r.u(2))}); rm_operand(r, s, c, r.u(8), a32); s.what = "movsx"; break;
    case 2: c.put({0x0F, u8(0x90 + r.u(16))}); rm_operand(r, s, c, 0, a32); s.what = "setcc"; break;
    case 3: c.put({0x0F, u8(0x40 + r.u(16))}); rm_operand(r, s, c, r.u(8), a32); s.what = "cmovcc"; break;
    case 4: {  // BT family, register offset (memory: absolute 0x800, offsets within +-256 bits)
      static const u8 o[4] = {0xA3, 0xAB, 0xB3, 0xBB};
      unsigned regf = r.u(8);
      if (regf == ESP) regf = EAX;
      c.put({0x0F, o[r.u(4)]});
      if (r.coin()) {
        if (a32) { c.put8(0x05 | (regf << 3)); c.put32(0x800); }
        else { c.put8(0x06 | (regf << 3)); c.put16(0x800); }
        s.gpr[regf] = u32(int32_t(r.u(512)) - 256);
      } else c.put8(0xC0 | (regf << 3) | r.u(8));
      s.flag_mask &= ~(OF | SF | ZF | AF | PF);
      s.what = "bt";
      break;
    }
    case 5:
      c.put({0x0F, 0xBA});
      rm_operand(r, s, c, 4 + r.u(4), a32);
      c.put8(r.u(256));
      s.flag_mask &= ~(OF | SF | ZF | AF | PF);
      s.what = "bt-imm";
      break;
    case 6:
      c.put({0x0F, u8(0xBC + r.u(2))});
      rm_operand(r, s, c, r.u(8), a32);
      if (r.u(4) == 0) s.gpr[r.u(8) == 4 ? 0 : r.u(8)] = 0;
      s.flag_mask &= ~(OF | SF | AF | PF | CF);
      s.what = "bsf/bsr";
      break;
    case 7: c.put({0x0F, u8(0xC0 + r.u(2))}); rm_operand(r, s, c, r.u(8), a32, false); s.what = "xadd"; break;
    case 8: {
      c.put({0x0F, u8(0xB0 + r.u(2))});
      rm_operand(r, s, c, r.u(8), a32, false);
      if (r.coin()) s.gpr[EAX] = s.gpr[(c.b.back() & 7)];
      s.what = "cmpxchg";
      break;
    }
    case 9: {
      c.put({0x0F, 0xC7});
      if (r.coin()) s.gpr[EAX] = 0x44434241;
      mem_operand(r, s, c, 1, a32);
      s.what = "cmpxchg8b";
      break;
    }
    case 10:
      if (!o32) c.b.insert(c.b.begin(), 0x66);
      c.put({0x0F, u8(0xC8 + r.u(8))});
      s.what = "bswap";
      break;
    case 11: c.put8(u8(0x98 + r.u(2))); s.what = "cbw/cwd"; break;
    case 12: c.put8(0xD7); s.gpr[EBX] = (a32 ? 0 : s.gpr[EBX] & 0xFFFF0000u) | r.u(0xFF00); s.what = "xlat"; break;
    case 13: c.put8(0x8D); mem_operand(r, s, c, r.u(8), a32); s.what = "lea"; break;
    case 14: {  // Jcc short/near over a MOV
      unsigned cc = r.u(16);
      if (r.coin()) c.put({u8(0x70 + cc), 0x03});
      else {
        c.put({0x0F, u8(0x80 + cc)});
        if (o32) c.put32(3); else c.put16(3);
      }
      c.put({0xB8, 0x11, 0x11});
      s.what = "jcc";
      break;
    }
    default: {  // LOOP family and JCXZ by address size
      unsigned op = r.u(4);
      u32 n = r.u(6);
      if (a32) s.gpr[ECX] = n | (r.coin() ? 0 : 0);
      else s.gpr[ECX] = (s.gpr[ECX] & 0xFFFF0000u) | n;
      if (r.u(8) == 0) s.gpr[ECX] = a32 ? 0x10000 : 0xFFFF0000u;  // CX=0 but ECX!=0
      // L: INC DI; CMP AL, 5; LOOPxx L   (or JCXZ +2 / MOV)
      if (op == 3) {
        c.put({0xE3, 0x03, 0xB8, 0x22, 0x22});
      } else {
        size_t at = c.b.size();
        c.put({0x47, 0x3C, 0x05});
        c.put8(0xE0 + op);
        c.put8(u8(int(at) - int(c.b.size() + 1)));
        if (op < 2) s.rule = kRuleLoopccFlags;
        s.gpr[EAX] = (s.gpr[EAX] & ~0xFFu) | (r.coin() ? 5 : r.u(8));
        if (!a32 && (n == 0 && s.gpr[ECX] != 0xFFFF0000u)) {
          s.gpr[ECX] = (s.gpr[ECX] & 0xFFFF0000u) | 1;
        }
      }
      s.what = "loop/jcxz";
      break;
    }
  }
  s.code = c.b;
  return s;
}

struct Outcome {
  int run = 0, failed = 0, ruled = 0;
  std::string first;
};

template <typename Gen>
Outcome run_class(Gen gen, u64 seed, int n) {
  Rng r{seed};
  Outcome o;
  for (int i = 0; i < n; ++i) {
    Snip s = gen(r);
    Final a = run_ours(s);
    Final b = run_unicorn(s);
    ++o.run;
    if (s.rule) ++o.ruled;
    std::string d = compare(s, a, b);
    if (!d.empty()) {
      if (o.failed < 6) o.first += "#" + std::to_string(i) + " " + d + "\n";
      ++o.failed;
    }
  }
  return o;
}

void check(const Outcome& o) {
  INFO(o.first);
  INFO("cases " << o.run << ", failed " << o.failed << ", with a Unicorn rule " << o.ruled);
  CHECK(o.failed == 0);
}

}  // namespace

TEST_CASE("alu with random operands") { check(run_class(gen_alu, 1, 3000)); }
TEST_CASE("shifts and rotates") { check(run_class(gen_shift, 2, 3000)); }
TEST_CASE("mul and div") { check(run_class(gen_muldiv, 3, 2000)); }
TEST_CASE("bcd adjust") { check(run_class(gen_bcd, 4, 2000)); }
TEST_CASE("string ops with rep, both address sizes") { check(run_class(gen_string, 5, 2000)); }
TEST_CASE("push and pop forms") { check(run_class(gen_stack, 6, 2000)); }
TEST_CASE("cpu detection flag idioms") { check(run_class(gen_flags, 7, 1000)); }
TEST_CASE("far call, ret, jmp and iret") { check(run_class(gen_far, 8, 1000)); }
TEST_CASE("int through the ivt") { check(run_class(gen_int, 9, 1000)); }
TEST_CASE("bit ops, cmpxchg, xadd, movzx, setcc, loops") { check(run_class(gen_misc, 10, 3000)); }

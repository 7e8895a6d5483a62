// Real-mode x86 interpreter. One instruction per step(): prefixes, then a switch on the
// opcode. Flags are computed eagerly (exact AF/PF/OF), so a bus callback or a hypercall
// handler always sees the architectural EFLAGS. Faults are C++ exceptions thrown from the
// point of detection and caught in step(), which restores EIP/ESP/CS to the start of the
// instruction (precise faults) and delivers the vector through the IVT.
#include "gpuinit/x86/cpu.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <limits>

namespace gpuinit::x86 {

const char* stop_reason_name(StopReason r) noexcept {
  switch (r) {
    case StopReason::none: return "none";
    case StopReason::stop_address: return "stop_address";
    case StopReason::budget: return "budget";
    case StopReason::halted: return "halted";
    case StopReason::invalid_opcode: return "invalid_opcode";
    case StopReason::triple_fault: return "triple_fault";
    case StopReason::unhandled_fault: return "unhandled_fault";
    case StopReason::requested: return "requested";
  }
  return "unknown";
}

namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i8 = std::int8_t;
using i16 = std::int16_t;
using i32 = std::int32_t;
using i64 = std::int64_t;

constexpr u32 CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200,
              DF = 0x400, OF = 0x800, ACF = 0x40000;
constexpr u32 kArith = CF | PF | AF | ZF | SF | OF;
// Bits POPF(D) may change in real mode at CPL 0: arithmetic, TF, IF, DF, IOPL, NT, AC, ID.
constexpr u32 kPopfMask = 0x247FD5;

// Vectors.
constexpr u8 kDE = 0, kDB = 1, kBP = 3, kOFv = 4, kBR = 5, kUD = 6, kDF = 8, kSS = 12, kGP = 13;

// Longest legal instruction; more prefixes than this raise #GP as on a 486+.
constexpr unsigned kMaxInsnLength = 15;
// Direct-mapped page-pointer cache (entries per direction).
constexpr unsigned kPageCacheSize = 256;
constexpr u32 kNoTag = 1;  // never a page base

#define GPUINIT_HOT __attribute__((always_inline)) inline
#define GPUINIT_COLD __attribute__((noinline, cold))

struct CpuFault {
  u8 vector;
};
struct CpuStop {};

constexpr std::array<u8, 256> make_parity() {
  std::array<u8, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    unsigned n = 0;
    for (unsigned b = i; b; b >>= 1) n += b & 1;
    t[i] = (n & 1) ? 0 : PF;
  }
  return t;
}
constexpr std::array<u8, 256> kParity = make_parity();

template <unsigned W>
constexpr u32 mask_of() {
  return W == 4 ? 0xFFFFFFFFu : (1u << (8 * W)) - 1;
}
template <unsigned W>
constexpr u32 sign_of() {
  return 1u << (8 * W - 1);
}
template <unsigned W>
constexpr i32 sext(u32 v) {
  if constexpr (W == 1) return static_cast<i8>(v);
  else if constexpr (W == 2) return static_cast<i16>(v);
  else return static_cast<i32>(v);
}
template <unsigned W>
inline u32 szp(u32 res) {
  return ((res & sign_of<W>()) ? SF : 0) | ((res & mask_of<W>()) ? 0 : ZF) | kParity[res & 0xFF];
}

// Prefix bytes: 1..6 segment override (ES+1 .. GS+1), 7 operand size, 8 address size,
// 9 LOCK, 10 REP/REPNE.
constexpr std::array<u8, 256> make_prefixes() {
  std::array<u8, 256> t{};
  t[0x26] = 1 + ES;
  t[0x2E] = 1 + CS;
  t[0x36] = 1 + SS;
  t[0x3E] = 1 + DS;
  t[0x64] = 1 + FS;
  t[0x65] = 1 + GS;
  t[0x66] = 7;
  t[0x67] = 8;
  t[0xF0] = 9;
  t[0xF2] = 10;
  t[0xF3] = 10;
  return t;
}
constexpr std::array<u8, 256> kPrefix = make_prefixes();

// One-byte opcodes whose operand size follows the 66h prefix: the cases of exec_w(); every
// other opcode goes straight to exec_byte().
constexpr std::array<bool, 256> make_width_ops() {
  std::array<bool, 256> t{};
  for (unsigned g = 0; g < 8; ++g) t[g * 8 + 1] = t[g * 8 + 3] = t[g * 8 + 5] = true;  // ALU Ev,Gv Gv,Ev eAX,Iv
  for (unsigned op = 0x40; op <= 0x62; ++op) t[op] = true;  // INC DEC PUSH POP PUSHA POPA BOUND
  for (unsigned op = 0x91; op <= 0x9A; ++op) t[op] = true;  // XCHG CBW CWD CALLF
  for (unsigned op = 0xB8; op <= 0xBF; ++op) t[op] = true;  // MOV r, Iv
  for (unsigned op : {0x68, 0x69, 0x6A, 0x6B, 0x6D, 0x6F, 0x81, 0x83, 0x85, 0x87, 0x89, 0x8B, 0x8C, 0x8D,
                      0x8F, 0x9C, 0x9D, 0xA1, 0xA3, 0xA5, 0xA7, 0xA9, 0xAB, 0xAD, 0xAF, 0xC1, 0xC2, 0xC3,
                      0xC4, 0xC5, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCF, 0xD1, 0xD3, 0xE5, 0xE7, 0xE8, 0xE9,
                      0xEA, 0xED, 0xEF, 0xF7, 0xFF})
    t[op] = true;
  return t;
}
constexpr std::array<bool, 256> kWidthOp = make_width_ops();

struct PageEntry {
  u32 tag = kNoTag;
  u8* ptr = nullptr;
};

struct Ea {
  bool reg;
  u8 rm;   // register number (mod == 3)
  u8 regf; // ModRM reg field
  u8 seg;
  u32 off;
};

}  // namespace

struct Cpu::Impl {
  Impl(Cpu& c, Bus& b) : self(c), bus(b) {}

  Cpu& self;
  Bus& bus;
  Registers r;
  u64 icount = 0;
  u64 end = 0;
  StopReason stop = StopReason::none;
  bool stop_requested = false;
  bool stop_on_ud = true;
  bool compare_hints = false;  // CMP operands go to Bus::compare_hint
  // IVT vector 6 contents (CS << 16 | IP) that count as "no handler"; only used when
  // ud_default_set.
  bool ud_default_set = false;
  u32 ud_default = 0;
  // The stop address: EIP (as u64: ~0 never matches) and CS selector.
  u64 stop_ip = ~0ull;
  u16 stop_cs = 0;
  u32 start_eip = 0, start_esp = 0;
  u16 start_cs_sel = 0;
  // CS as it was before a far transfer changed it in this instruction (restored on fault).
  SegmentReg saved_cs;
  bool cs_saved = false;
  // Fetch window of the current instruction: bytes of one RAM page that lie inside the
  // CS limit (and, for 16-bit code, below the IP wrap), at most kMaxInsnLength.
  const u8* fp = nullptr;
  const u8* fend = nullptr;
  u32 fault_csip = 0;
  std::string error;
  u32 cr2 = 0, cr3 = 0, cr4 = 0;
  u32 dr[8] = {0, 0, 0, 0, 0xFFFF0FF0u, 0x400, 0xFFFF0FF0u, 0x400};
  // Decode state of the current instruction.
  bool o32 = false, a32 = false;
  int sego = -1;
  u8 rep = 0;
  PageEntry rcache[kPageCacheSize];
  PageEntry wcache[kPageCacheSize];

  // ---------------------------------------------------------------- faults and stops
  [[noreturn]] void fault(u8 v) { throw CpuFault{v}; }
  [[noreturn]] void stop_now(StopReason why, std::string msg) {
    stop = why;
    end = 0;
    fault_csip = insn_cs_ip();
    error = std::move(msg);
    throw CpuStop{};
  }
  [[nodiscard]] u32 insn_cs_ip() const noexcept {
    return (u32(start_cs_sel) << 16) | (start_eip & 0xFFFF);
  }

  void flush() {
    fend = fp;
    forget_code();
    for (auto& e : rcache) e = PageEntry{};
    for (auto& e : wcache) e = PageEntry{};
  }

  // ---------------------------------------------------------------- linear memory
  GPUINIT_HOT PageEntry& rentry(u32 lin) {
    PageEntry& e = rcache[(lin >> 12) & (kPageCacheSize - 1)];
    u32 base = lin & ~0xFFFu;
    if (e.tag != base) [[unlikely]] {
      e.ptr = bus.page(base, false);
      e.tag = base;
    }
    return e;
  }
  GPUINIT_HOT PageEntry& wentry(u32 lin) {
    PageEntry& e = wcache[(lin >> 12) & (kPageCacheSize - 1)];
    u32 base = lin & ~0xFFFu;
    if (e.tag != base) [[unlikely]] {
      e.ptr = bus.page(base, true);
      e.tag = base;
    }
    return e;
  }
  template <unsigned W>
  GPUINIT_HOT u32 rl(u32 lin) {
    if ((lin & 0xFFF) <= 0x1000 - W) {
      PageEntry& e = rentry(lin);
      if (e.ptr) {
        const u8* p = e.ptr + (lin & 0xFFF);
        if constexpr (W == 1) return p[0];
        else if constexpr (W == 2) return u32(p[0]) | u32(p[1]) << 8;
        else return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24;
      }
      return bus.mem_read(lin, W);
    }
    // Crosses a page boundary: byte by byte (device pages see byte accesses).
    u32 v = 0;
    for (unsigned i = 0; i < W; ++i) v |= rl<1>(lin + i) << (8 * i);
    return v;
  }
  template <unsigned W>
  GPUINIT_HOT void wl(u32 lin, u32 v) {
    if ((lin & 0xFFF) <= 0x1000 - W) {
      PageEntry& e = wentry(lin);
      if (e.ptr) {
        u8* p = e.ptr + (lin & 0xFFF);
        p[0] = u8(v);
        if constexpr (W >= 2) p[1] = u8(v >> 8);
        if constexpr (W == 4) {
          p[2] = u8(v >> 16);
          p[3] = u8(v >> 24);
        }
        return;
      }
      bus.mem_write(lin, W, v & mask_of<W>());
      return;
    }
    for (unsigned i = 0; i < W; ++i) wl<1>(lin + i, (v >> (8 * i)) & 0xFF);
  }

  // ---------------------------------------------------------------- segmented memory
  GPUINIT_HOT u32 lin_addr(unsigned s, u32 off, unsigned size) {
    const SegmentReg& sr = r.seg[s];
    if (off > sr.limit || size - 1 > sr.limit - off) fault(s == SS ? kSS : kGP);
    return sr.base + off;
  }
  template <unsigned W>
  GPUINIT_HOT u32 rd(unsigned s, u32 off) {
    return rl<W>(lin_addr(s, off, W));
  }
  template <unsigned W>
  GPUINIT_HOT void wr(unsigned s, u32 off, u32 v) {
    wl<W>(lin_addr(s, off, W), v);
  }
  u32 amask() const { return a32 ? 0xFFFFFFFFu : 0xFFFFu; }

  // ---------------------------------------------------------------- fetch
  // Code window of the last begin_fetch_slow(): for every EIP with
  // EIP - code_lo <= code_span (as u64) and an unchanged CS, 15 bytes from CS:EIP lie in
  // one RAM page, inside the CS limit and below the 16-bit IP wrap; they start at
  // code_ptr + (EIP - code_page_eip). The window is forgotten whenever CS may change its
  // limit or D bit (every far transfer, a fault, a hypercall, a new run) or the page map
  // changes; the base is compared on each use as well.
  static constexpr u64 kNoCode = u64(1) << 40;  // no u32 EIP is within reach of it
  u64 code_lo = kNoCode, code_span = 0;
  u32 code_page_eip = 0, code_cs_base = 0;
  const u8* code_ptr = nullptr;
  void forget_code() { code_lo = kNoCode; }

  GPUINIT_HOT void begin_fetch() {
    const u32 eip = r.eip;
    if (u64(eip) - code_lo <= code_span && r.seg[CS].base == code_cs_base) [[likely]] {
      fp = code_ptr + u32(eip - code_page_eip);
      fend = fp + kMaxInsnLength;
      return;
    }
    begin_fetch_slow();
  }
  GPUINIT_COLD void begin_fetch_slow() {
    const SegmentReg& cs = r.seg[CS];
    u32 eip = r.eip;
    fp = fend = nullptr;
    if (eip > cs.limit) return;
    u64 avail = u64(cs.limit) - eip + 1;
    // In 16-bit code the byte at IP FFFFh is left to fetch8_slow(), which wraps IP to 0
    // after it (the fast path only adds to EIP).
    if (!cs.db) avail = eip >= 0xFFFFu ? 0 : std::min<u64>(avail, 0xFFFFu - eip);
    u32 lin = cs.base + eip;
    if (avail > 0x1000u - (lin & 0xFFF)) avail = 0x1000u - (lin & 0xFFF);
    if (avail > kMaxInsnLength) avail = kMaxInsnLength;
    PageEntry& e = rentry(lin);
    if (!e.ptr) return;
    fp = e.ptr + (lin & 0xFFF);
    fend = fp + avail;
    // Remember the EIPs whose 15 bytes lie in this page and inside the limit.
    forget_code();
    const i64 top = cs.db ? i64(cs.limit) : std::min<i64>(cs.limit, 0xFFFE);
    const u32 po = lin & 0xFFF;
    const i64 lo = std::max<i64>(i64(eip) - po, 0);
    const i64 hi = std::min<i64>(i64(eip) - po + (0x1000 - kMaxInsnLength), top - (kMaxInsnLength - 1));
    if (i64(eip) < lo || i64(eip) > hi) return;
    code_lo = u64(lo);
    code_span = u64(hi - lo);
    code_page_eip = eip - po;
    code_cs_base = cs.base;
    code_ptr = e.ptr;
  }
  GPUINIT_HOT u8 fetch8() {
    if (fp < fend) [[likely]] {
      ++r.eip;
      return *fp++;
    }
    return fetch8_slow();
  }
  GPUINIT_COLD u8 fetch8_slow() {
    u32 off = r.eip;
    const SegmentReg& cs = r.seg[CS];
    u32 len = cs.db ? off - start_eip : (off - start_eip) & 0xFFFF;
    if (len >= kMaxInsnLength) fault(kGP);
    if (off > cs.limit) fault(kGP);
    r.eip = cs.db ? off + 1 : (off + 1) & 0xFFFF;
    return u8(rl<1>(cs.base + off));
  }
  GPUINIT_HOT u32 fetch16() {
    if (fend - fp >= 2) [[likely]] {
      u32 v = u32(fp[0]) | u32(fp[1]) << 8;
      fp += 2;
      r.eip += 2;
      return v;
    }
    u32 lo = fetch8();
    return lo | u32(fetch8()) << 8;
  }
  GPUINIT_HOT u32 fetch32() {
    if (fend - fp >= 4) [[likely]] {
      u32 v = u32(fp[0]) | u32(fp[1]) << 8 | u32(fp[2]) << 16 | u32(fp[3]) << 24;
      fp += 4;
      r.eip += 4;
      return v;
    }
    u32 lo = fetch16();
    return lo | fetch16() << 16;
  }
  u32 fetchv() { return o32 ? fetch32() : fetch16(); }

  // ---------------------------------------------------------------- registers
  template <unsigned W>
  u32 rg(unsigned i) const {
    if constexpr (W == 1) return i < 4 ? (r.gpr[i] & 0xFF) : ((r.gpr[i - 4] >> 8) & 0xFF);
    else if constexpr (W == 2) return r.gpr[i] & 0xFFFF;
    else return r.gpr[i];
  }
  template <unsigned W>
  void sg(unsigned i, u32 v) {
    if constexpr (W == 1) {
      if (i < 4) r.gpr[i] = (r.gpr[i] & ~0xFFu) | (v & 0xFF);
      else r.gpr[i - 4] = (r.gpr[i - 4] & ~0xFF00u) | ((v & 0xFF) << 8);
    } else if constexpr (W == 2) {
      r.gpr[i] = (r.gpr[i] & 0xFFFF0000u) | (v & 0xFFFF);
    } else {
      r.gpr[i] = v;
    }
  }
  void set_flags(u32 mask, u32 val) { r.eflags = (r.eflags & ~mask) | (val & mask) | 2; }

  // ---------------------------------------------------------------- ModRM
  GPUINIT_HOT void modrm(Ea& e) {
    u8 m = fetch8();
    if ((m >> 6) == 3) {
      e.reg = true;
      e.regf = (m >> 3) & 7;
      e.rm = m & 7;
      return;
    }
    e = modrm_mem(m);
  }
  // Returned by value (8 bytes, in a register) so that the caller's Ea need not live in
  // memory.
  Ea modrm_mem(u8 m) {
    Ea e;
    const u8 mod = m >> 6;
    e.regf = (m >> 3) & 7;
    e.rm = m & 7;
    e.reg = false;
    u8 seg = DS;
    u32 off = 0;
    if (!a32) {
      switch (e.rm) {
        case 0: off = r.gpr[EBX] + r.gpr[ESI]; break;
        case 1: off = r.gpr[EBX] + r.gpr[EDI]; break;
        case 2: off = r.gpr[EBP] + r.gpr[ESI]; seg = SS; break;
        case 3: off = r.gpr[EBP] + r.gpr[EDI]; seg = SS; break;
        case 4: off = r.gpr[ESI]; break;
        case 5: off = r.gpr[EDI]; break;
        case 6:
          if (mod == 0) off = fetch16();
          else { off = r.gpr[EBP]; seg = SS; }
          break;
        default: off = r.gpr[EBX]; break;
      }
      if (mod == 1) off += u32(i32(i8(fetch8())));
      else if (mod == 2) off += fetch16();
      off &= 0xFFFF;
    } else {
      if (e.rm == 4) {
        u8 sib = fetch8();
        u8 base = sib & 7, idx = (sib >> 3) & 7, scale = sib >> 6;
        if (base == 5 && mod == 0) off = fetch32();
        else {
          off = r.gpr[base];
          if (base == ESP || base == EBP) seg = SS;
        }
        if (idx != 4) off += r.gpr[idx] << scale;
      } else if (e.rm == 5 && mod == 0) {
        off = fetch32();
      } else {
        off = r.gpr[e.rm];
        if (e.rm == EBP) seg = SS;
      }
      if (mod == 1) off += u32(i32(i8(fetch8())));
      else if (mod == 2) off += fetch32();
    }
    e.seg = sego >= 0 ? u8(sego) : seg;
    e.off = off;
    return e;
  }
  template <unsigned W>
  GPUINIT_HOT u32 rd_ea(const Ea& e) {
    return e.reg ? rg<W>(e.rm) : rd<W>(e.seg, e.off);
  }
  template <unsigned W>
  GPUINIT_HOT void wr_ea(const Ea& e, u32 v) {
    if (e.reg) sg<W>(e.rm, v);
    else wr<W>(e.seg, e.off, v);
  }
  void need_mem(const Ea& e) {
    if (e.reg) fault(kUD);
  }

  // ---------------------------------------------------------------- stack
  bool ss32() const { return r.seg[SS].db; }
  u32 sp() const { return ss32() ? r.gpr[ESP] : (r.gpr[ESP] & 0xFFFF); }
  void set_sp(u32 v) {
    if (ss32()) r.gpr[ESP] = v;
    else r.gpr[ESP] = (r.gpr[ESP] & 0xFFFF0000u) | (v & 0xFFFF);
  }
  u32 sp_add(u32 s, i32 d) const { return ss32() ? s + u32(d) : (s + u32(d)) & 0xFFFF; }
  template <unsigned W>
  void push(u32 v) {
    u32 s = sp_add(sp(), -i32(W));
    wr<W>(SS, s, v);
    set_sp(s);
  }
  void pushv(u32 v) {
    if (o32) push<4>(v);
    else push<2>(v);
  }
  template <unsigned W>
  u32 pop() {
    u32 s = sp();
    u32 v = rd<W>(SS, s);
    set_sp(sp_add(s, W));
    return v;
  }
  u32 popv() { return o32 ? pop<4>() : pop<2>(); }

  // ---------------------------------------------------------------- segments
  bool pe() const { return r.cr0 & 1; }
  void load_seg(unsigned s, u16 sel) {
    SegmentReg& sr = r.seg[s];
    if (!pe()) {
      sr.selector = sel;
      sr.base = u32(sel) << 4;
      return;
    }
    // Protected mode (CPL 0, GDT only): the descriptor fills the cache.
    if ((sel & ~3u) == 0) {
      if (s == CS || s == SS) fault(kGP);
      sr.selector = sel;
      sr.base = 0;
      sr.limit = 0;
      sr.db = false;
      return;
    }
    if (sel & 4) fault(kGP);  // no LDT
    u32 idx = sel & ~7u;
    if (idx + 7 > r.gdtr_limit) fault(kGP);
    u32 lo = rl<4>(r.gdtr_base + idx);
    u32 hi = rl<4>(r.gdtr_base + idx + 4);
    if (!(hi & 0x8000)) fault(s == SS ? kSS : 11);  // not present
    u32 limit = (lo & 0xFFFF) | (hi & 0xF0000);
    if (hi & 0x800000) limit = (limit << 12) | 0xFFF;
    if (!(hi & 0x100)) wl<1>(r.gdtr_base + idx + 5, ((hi >> 8) & 0xFF) | 1);  // accessed
    sr.selector = sel;
    sr.base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    sr.limit = limit;
    sr.db = (hi & 0x400000) != 0;
  }
  void save_cs() {
    forget_code();
    if (!cs_saved) {
      saved_cs = r.seg[CS];
      cs_saved = true;
    }
  }
  void far_jump(u16 sel, u32 off) {
    save_cs();
    if (pe()) {
      load_seg(CS, sel);
    } else {
      r.seg[CS].selector = sel;
      r.seg[CS].base = u32(sel) << 4;
    }
    if (off > r.seg[CS].limit) fault(kGP);
    r.eip = off;
  }

  // ---------------------------------------------------------------- interrupts
  // Delivers `vec` through the real-mode IVT: FLAGS, CS, IP pushed (16-bit), IF/TF/AC
  // cleared. Throws CpuFault on a fault while doing so.
  void deliver(u8 vec) {
    if (pe()) stop_now(StopReason::triple_fault,
                       "interrupt or exception " + std::to_string(vec) +
                           " in protected mode (no IDT support)");
    u32 idx = u32(vec) * 4;
    if (idx + 3 > r.idtr_limit) fault(kGP);
    u32 ent = rl<4>(r.idtr_base + idx);
    u32 s = sp();
    u32 s1 = sp_add(s, -2), s2 = sp_add(s, -4), s3 = sp_add(s, -6);
    wr<2>(SS, s1, r.eflags & 0xFFFF);
    wr<2>(SS, s2, r.seg[CS].selector);
    wr<2>(SS, s3, r.eip & 0xFFFF);
    set_sp(s3);
    r.eflags &= ~(IF | TF | ACF);
    save_cs();
    r.seg[CS].selector = u16(ent >> 16);
    r.seg[CS].base = (ent >> 16) << 4;
    r.eip = ent & 0xFFFF;
  }
  // Delivers an exception; a fault on the way becomes #DF, a fault delivering #DF a
  // triple-fault stop. Never throws CpuFault (may throw CpuStop).
  void deliver_exception(u8 vec) {
    u32 esp0 = r.gpr[ESP];
    try {
      deliver(vec);
      return;
    } catch (const CpuFault& f) {
      r.gpr[ESP] = esp0;
      if (vec == kDF)
        stop_now(StopReason::triple_fault,
                 "triple fault: vector " + std::to_string(f.vector) + " while delivering #DF");
    }
    try {
      deliver(kDF);
    } catch (const CpuFault& f) {
      r.gpr[ESP] = esp0;
      stop_now(StopReason::triple_fault,
               "triple fault: vector " + std::to_string(f.vector) + " while delivering #DF");
    }
  }

  // ---------------------------------------------------------------- flags and ALU
  bool cond(unsigned c) const {
    u32 f = r.eflags;
    bool v;
    switch (c >> 1) {
      case 0: v = f & OF; break;
      case 1: v = f & CF; break;
      case 2: v = f & ZF; break;
      case 3: v = f & (CF | ZF); break;
      case 4: v = f & SF; break;
      case 5: v = f & PF; break;
      case 6: v = bool(f & SF) != bool(f & OF); break;
      default: v = (f & ZF) || (bool(f & SF) != bool(f & OF)); break;
    }
    return v ^ (c & 1);
  }
  template <unsigned W>
  GPUINIT_HOT u32 add_op(u32 a, u32 b, u32 cin) {
    constexpr u32 M = mask_of<W>();
    u64 sum = u64(a) + b + cin;
    u32 res = u32(sum) & M;
    u32 f = szp<W>(res) | ((sum >> (8 * W)) & 1) | ((a ^ b ^ res) & AF) |
            ((((a ^ res) & (b ^ res)) & sign_of<W>()) ? OF : 0);
    set_flags(kArith, f);
    return res;
  }
  template <unsigned W>
  GPUINIT_HOT u32 sub_op(u32 a, u32 b, u32 cin) {
    constexpr u32 M = mask_of<W>();
    u32 res = (a - b - cin) & M;
    u32 f = szp<W>(res) | (u64(a) < u64(b) + cin ? CF : 0) | ((a ^ b ^ res) & AF) |
            ((((a ^ b) & (a ^ res)) & sign_of<W>()) ? OF : 0);
    set_flags(kArith, f);
    return res;
  }
  template <unsigned W>
  u32 logic_flags(u32 res) {
    set_flags(kArith, szp<W>(res));
    return res;
  }
  // op: 0 ADD 1 OR 2 ADC 3 SBB 4 AND 5 SUB 6 XOR 7 CMP; returns the result (CMP: unused).
  template <unsigned W>
  GPUINIT_HOT u32 alu(unsigned op, u32 a, u32 b) {
    switch (op) {
      case 0: return add_op<W>(a, b, 0);
      case 1: return logic_flags<W>((a | b) & mask_of<W>());
      case 2: return add_op<W>(a, b, r.eflags & CF);
      case 3: return sub_op<W>(a, b, r.eflags & CF);
      case 4: return logic_flags<W>((a & b) & mask_of<W>());
      case 6: return logic_flags<W>((a ^ b) & mask_of<W>());
      default:
        if (op == 7 && compare_hints) [[unlikely]]
          bus.compare_hint(a & mask_of<W>(), b & mask_of<W>(), W);
        return sub_op<W>(a, b, 0);
    }
  }
  template <unsigned W>
  u32 inc_dec(u32 a, bool dec) {
    u32 cf = r.eflags & CF;
    u32 res = dec ? sub_op<W>(a, 1, 0) : add_op<W>(a, 1, 0);
    set_flags(CF, cf);
    return res;
  }

  // Shifts and rotates: op = ModRM reg field (0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL 7
  // SAR); the count is masked to 5 bits; a masked count of 0 changes nothing.
  template <unsigned W>
  u32 shift(unsigned op, u32 v, unsigned count) {
    constexpr unsigned B = 8 * W;
    constexpr u32 M = mask_of<W>();
    constexpr u32 S = sign_of<W>();
    count &= 31;
    v &= M;
    if (count == 0) return v;
    u32 res = v, f = r.eflags;
    switch (op) {
      case 0: {  // ROL
        unsigned c = count % B;
        res = c ? ((v << c) | (v >> (B - c))) & M : v;
        u32 cf = res & 1;
        f = (f & ~(CF | OF)) | cf | ((((res & S) ? 1u : 0u) ^ cf) ? OF : 0);
        break;
      }
      case 1: {  // ROR
        unsigned c = count % B;
        res = c ? ((v >> c) | (v << (B - c))) & M : v;
        u32 cf = (res & S) ? 1 : 0;
        u32 of = ((res >> (B - 1)) ^ (res >> (B - 2))) & 1;
        f = (f & ~(CF | OF)) | cf | (of ? OF : 0);
        break;
      }
      case 2: {  // RCL through CF: a (B+1)-bit rotation
        unsigned c = count % (B + 1);
        if (c == 0) return v;
        u64 x = (u64(f & CF) << B) | v;
        x = ((x << c) | (x >> (B + 1 - c))) & ((u64(1) << (B + 1)) - 1);
        res = u32(x) & M;
        u32 cf = u32(x >> B) & 1;
        f = (f & ~(CF | OF)) | cf | ((((res & S) ? 1u : 0u) ^ cf) ? OF : 0);
        break;
      }
      case 3: {  // RCR
        unsigned c = count % (B + 1);
        if (c == 0) return v;
        u64 x = (u64(f & CF) << B) | v;
        x = ((x >> c) | (x << (B + 1 - c))) & ((u64(1) << (B + 1)) - 1);
        res = u32(x) & M;
        u32 cf = u32(x >> B) & 1;
        u32 of = ((res >> (B - 1)) ^ (res >> (B - 2))) & 1;
        f = (f & ~(CF | OF)) | cf | (of ? OF : 0);
        break;
      }
      case 4:
      case 6: {  // SHL/SAL
        u64 x = u64(v) << count;
        res = u32(x) & M;
        u32 cf = u32(x >> B) & 1;
        f = (f & ~kArith) | szp<W>(res) | cf | ((((res & S) ? 1u : 0u) ^ cf) ? OF : 0);
        break;
      }
      case 5: {  // SHR
        res = count >= B ? 0 : v >> count;
        u32 cf = count > B ? 0 : (v >> (count - 1)) & 1;
        f = (f & ~kArith) | szp<W>(res) | cf | ((count == 1 && (v & S)) ? OF : 0);
        break;
      }
      default: {  // SAR
        i64 sv = sext<W>(v);
        res = u32(sv >> count) & M;
        u32 cf = u32(sv >> (count - 1)) & 1;
        f = (f & ~kArith) | szp<W>(res) | cf;
        break;
      }
    }
    r.eflags = f | 2;
    return res;
  }
  template <unsigned W>
  u32 shld(u32 dst, u32 src, unsigned count, bool left) {
    count &= 31;
    constexpr u32 M = mask_of<W>();
    constexpr u32 S = sign_of<W>();
    if (count == 0) return dst;
    u32 res, cf;
    if constexpr (W == 4) {
      if (left) {
        res = (dst << count) | (count == 32 ? 0 : (src >> (32 - count)));
        cf = (dst >> (32 - count)) & 1;
      } else {
        res = (dst >> count) | (src << (32 - count));
        cf = (dst >> (count - 1)) & 1;
      }
    } else {
      // 16-bit with a count above 16 is undefined; this is the dst:src:dst pattern.
      if (left) {
        u64 x = (u64(dst & M) << 32) | (u64(src & M) << 16) | (dst & M);
        res = u32((x << count) >> 32) & M;
        cf = u32((x << (count - 1)) >> 47) & 1;
      } else {
        u64 x = (u64(dst & M) << 32) | (u64(src & M) << 16) | (dst & M);
        res = u32(x >> count) & M;
        cf = u32(x >> (count - 1)) & 1;
      }
    }
    res &= M;
    u32 of = ((res ^ dst) & S) ? OF : 0;
    r.eflags = (r.eflags & ~kArith) | szp<W>(res) | cf | of | 2;
    return res;
  }

  // ---------------------------------------------------------------- group 3 (F6/F7)
  template <unsigned W>
  void grp3(const Ea& e) {
    constexpr u32 M = mask_of<W>();
    constexpr unsigned B = 8 * W;
    switch (e.regf) {
      case 0:
      case 1: {  // TEST
        u32 a = rd_ea<W>(e);
        u32 b = W == 4 ? fetch32() : W == 2 ? fetch16() : fetch8();
        logic_flags<W>(a & b);
        return;
      }
      case 2: wr_ea<W>(e, ~rd_ea<W>(e) & M); return;
      case 3: wr_ea<W>(e, sub_op<W>(0, rd_ea<W>(e), 0)); return;
      case 4: {  // MUL
        u64 a = rg<W>(EAX), b = rd_ea<W>(e);
        u64 p = a * b;
        u32 lo = u32(p) & M, hi = u32(p >> B) & M;
        set_result_wide<W>(lo, hi);
        u32 cf = hi ? (CF | OF) : 0;
        r.eflags = (r.eflags & ~kArith) | szp<W>(lo) | cf | 2;
        return;
      }
      case 5: {  // IMUL
        i64 a = sext<W>(rg<W>(EAX)), b = sext<W>(rd_ea<W>(e));
        i64 p = a * b;
        u32 lo = u32(p) & M, hi = u32(u64(p) >> B) & M;
        set_result_wide<W>(lo, hi);
        u32 cf = (p != i64(sext<W>(lo))) ? (CF | OF) : 0;
        r.eflags = (r.eflags & ~kArith) | szp<W>(lo) | cf | 2;
        return;
      }
      case 6: {  // DIV
        u64 d = rd_ea<W>(e);
        u64 n = W == 1 ? (r.gpr[EAX] & 0xFFFF) : (u64(rg<W>(EDX)) << B) | rg<W>(EAX);
        if (d == 0) fault(kDE);
        u64 q = n / d, rm = n % d;
        if (q > M) fault(kDE);
        put_divmod<W>(u32(q), u32(rm));
        return;
      }
      default: {  // IDIV
        i64 d = sext<W>(rd_ea<W>(e));
        i64 n;
        if constexpr (W == 1) n = i16(r.gpr[EAX] & 0xFFFF);
        else n = i64((u64(rg<W>(EDX)) << B) | rg<W>(EAX)) << (64 - 2 * B) >> (64 - 2 * B);
        if (d == 0) fault(kDE);
        if (d == -1 && n == std::numeric_limits<i64>::min()) fault(kDE);
        i64 q = n / d, rm = n % d;
        constexpr i64 lo = -(i64(1) << (B - 1)), hi = (i64(1) << (B - 1)) - 1;
        if (q < lo || q > hi) fault(kDE);
        put_divmod<W>(u32(q) & M, u32(rm) & M);
        return;
      }
    }
  }
  template <unsigned W>
  void set_result_wide(u32 lo, u32 hi) {
    if constexpr (W == 1) sg<2>(EAX, lo | (hi << 8));
    else {
      sg<W>(EAX, lo);
      sg<W>(EDX, hi);
    }
  }
  template <unsigned W>
  void put_divmod(u32 q, u32 rm) {
    if constexpr (W == 1) sg<2>(EAX, (q & 0xFF) | ((rm & 0xFF) << 8));
    else {
      sg<W>(EAX, q);
      sg<W>(EDX, rm);
    }
  }

  // ---------------------------------------------------------------- string instructions
  // One iteration per step: with a REP prefix and iterations left, EIP goes back to the
  // instruction, so each iteration counts against the budget and the run can stop and
  // resume between iterations, as a real CPU takes interrupts between them.
  u32 cnt() const { return a32 ? r.gpr[ECX] : r.gpr[ECX] & 0xFFFF; }
  void set_cnt(u32 v) {
    if (a32) r.gpr[ECX] = v;
    else r.gpr[ECX] = (r.gpr[ECX] & 0xFFFF0000u) | (v & 0xFFFF);
  }
  u32 idx(unsigned g) const { return a32 ? r.gpr[g] : r.gpr[g] & 0xFFFF; }
  void step_idx(unsigned g, unsigned w) {
    u32 d = (r.eflags & DF) ? u32(-i32(w)) : w;
    if (a32) r.gpr[g] += d;
    else r.gpr[g] = (r.gpr[g] & 0xFFFF0000u) | ((r.gpr[g] + d) & 0xFFFF);
  }
  // Returns false when a REP prefix says there is nothing to do.
  bool rep_begin() { return !rep || cnt() != 0; }
  // After an iteration: count down and decide whether to run again. `zf_cond`: for
  // CMPS/SCAS, REPE continues while ZF=1, REPNE while ZF=0.
  void rep_end(bool cmp) {
    if (!rep) return;
    u32 c = (cnt() - 1) & amask();
    set_cnt(c);
    if (c == 0) return;
    if (cmp) {
      bool zf = r.eflags & ZF;
      if (rep == 0xF3 && !zf) return;
      if (rep == 0xF2 && zf) return;
    }
    r.eip = start_eip;
  }
  unsigned src_seg() const { return sego >= 0 ? unsigned(sego) : DS; }
  template <unsigned W, u8 op>
  void string_op() {
    if (!rep_begin()) return;
    switch (op) {
      case 0xA4: {  // MOVS
        u32 v = rd<W>(src_seg(), idx(ESI));
        wr<W>(ES, idx(EDI), v);
        step_idx(ESI, W);
        step_idx(EDI, W);
        rep_end(false);
        return;
      }
      case 0xA6: {  // CMPS
        u32 a = rd<W>(src_seg(), idx(ESI));
        u32 b = rd<W>(ES, idx(EDI));
        sub_op<W>(a, b, 0);
        step_idx(ESI, W);
        step_idx(EDI, W);
        rep_end(true);
        return;
      }
      case 0xAA:  // STOS
        wr<W>(ES, idx(EDI), rg<W>(EAX));
        step_idx(EDI, W);
        rep_end(false);
        return;
      case 0xAC:  // LODS
        sg<W>(EAX, rd<W>(src_seg(), idx(ESI)));
        step_idx(ESI, W);
        rep_end(false);
        return;
      case 0xAE:  // SCAS
        sub_op<W>(rg<W>(EAX), rd<W>(ES, idx(EDI)), 0);
        step_idx(EDI, W);
        rep_end(true);
        return;
      case 0x6C: {  // INS: the destination is checked before the port is read
        u32 lin = lin_addr(ES, idx(EDI), W);
        u32 v = bus.io_read(u16(r.gpr[EDX]), W) & mask_of<W>();
        wl<W>(lin, v);
        step_idx(EDI, W);
        rep_end(false);
        return;
      }
      default: {  // 0x6E OUTS
        u32 v = rd<W>(src_seg(), idx(ESI));
        bus.io_write(u16(r.gpr[EDX]), W, v);
        step_idx(ESI, W);
        rep_end(false);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- BT family
  template <unsigned W>
  void bit_op(const Ea& e, u32 bitoff, bool imm, unsigned kind) {  // kind 0 BT 1 BTS 2 BTR 3 BTC
    constexpr unsigned B = 8 * W;
    u32 bit = bitoff & (B - 1);
    u32 v;
    u32 off = e.off;
    if (e.reg) v = rg<W>(e.rm);
    else {
      if (!imm) {
        i32 s = sext<W>(bitoff);
        i32 words = W == 2 ? (s >> 4) : (s >> 5);
        off = (off + u32(words) * W) & amask();
      }
      v = rd<W>(e.seg, off);
    }
    u32 cf = (v >> bit) & 1;
    r.eflags = (r.eflags & ~CF) | cf;
    if (kind == 0) return;
    u32 m = 1u << bit;
    u32 nv = kind == 1 ? (v | m) : kind == 2 ? (v & ~m) : (v ^ m);
    if (e.reg) sg<W>(e.rm, nv);
    else wr<W>(e.seg, off, nv);
  }

  // ---------------------------------------------------------------- execution
  void exec();
  void exec_byte(u8 op);
  void exec_0f();
  template <unsigned W>
  void exec_w(u8 op);
  template <unsigned W>
  void exec_0f_w(u8 op);
  void x87(u8 op);
  bool on_fault(u8 vector);
  bool ud_unhandled();
  bool vector_unhandled(u8 vector);
  StopReason run(u64 max);
};

// Operand-size dependent one-byte opcodes (W = 2 or 4 for "v" operands).
template <unsigned W>
GPUINIT_HOT void Cpu::Impl::exec_w(u8 op) {
  constexpr u32 M = mask_of<W>();
  Ea e;
  switch (op) {
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39: {
      modrm(e);
      u32 res = alu<W>(op >> 3, rd_ea<W>(e), rg<W>(e.regf));
      if ((op >> 3) != 7) wr_ea<W>(e, res);
      return;
    }
    case 0x03: case 0x0B: case 0x13: case 0x1B: case 0x23: case 0x2B: case 0x33: case 0x3B: {
      modrm(e);
      u32 res = alu<W>(op >> 3, rg<W>(e.regf), rd_ea<W>(e));
      if ((op >> 3) != 7) sg<W>(e.regf, res);
      return;
    }
    case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D: {
      u32 imm = W == 4 ? fetch32() : fetch16();
      u32 res = alu<W>(op >> 3, rg<W>(EAX), imm);
      if ((op >> 3) != 7) sg<W>(EAX, res);
      return;
    }
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
      sg<W>(op & 7, inc_dec<W>(rg<W>(op & 7), false));
      return;
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
      sg<W>(op & 7, inc_dec<W>(rg<W>(op & 7), true));
      return;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      push<W>(rg<W>(op & 7));  // PUSH SP pushes the value before the decrement
      return;
    case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F: {
      u32 v = pop<W>();
      sg<W>(op & 7, v);
      return;
    }
    case 0x60: {  // PUSHA
      u32 s = sp();
      u32 vals[8];
      for (unsigned i = 0; i < 8; ++i) vals[i] = rg<W>(i);
      for (unsigned i = 0; i < 8; ++i) {
        s = sp_add(s, -i32(W));
        wr<W>(SS, s, vals[i]);
      }
      set_sp(s);
      return;
    }
    case 0x61: {  // POPA
      u32 s = sp();
      u32 vals[8];
      for (unsigned i = 0; i < 8; ++i) {
        vals[7 - i] = rd<W>(SS, s);
        s = sp_add(s, W);
      }
      for (unsigned i = 0; i < 8; ++i)
        if (i != ESP) sg<W>(i, vals[i]);
      set_sp(s);
      return;
    }
    case 0x62: {  // BOUND
      modrm(e);
      need_mem(e);
      i32 lo = sext<W>(rd<W>(e.seg, e.off));
      i32 hi = sext<W>(rd<W>(e.seg, e.off + W));
      i32 v = sext<W>(rg<W>(e.regf));
      if (v < lo || v > hi) fault(kBR);
      return;
    }
    case 0x68: push<W>(W == 4 ? fetch32() : fetch16()); return;
    case 0x6A: push<W>(u32(i32(i8(fetch8()))) & M); return;
    case 0x69:
    case 0x6B: {
      modrm(e);
      i64 a = sext<W>(rd_ea<W>(e));
      i64 b = op == 0x6B ? i64(i8(fetch8())) : i64(sext<W>(W == 4 ? fetch32() : fetch16()));
      i64 p = a * b;
      u32 lo = u32(p) & M;
      sg<W>(e.regf, lo);
      u32 cf = (p != i64(sext<W>(lo))) ? (CF | OF) : 0;
      r.eflags = (r.eflags & ~kArith) | szp<W>(lo) | cf | 2;
      return;
    }
    case 0x6D: string_op<W, 0x6C>(); return;
    case 0x6F: string_op<W, 0x6E>(); return;
    case 0x81:
    case 0x83: {
      modrm(e);
      u32 a = rd_ea<W>(e);
      u32 imm = op == 0x83 ? u32(i32(i8(fetch8()))) & M : (W == 4 ? fetch32() : fetch16());
      u32 res = alu<W>(e.regf, a, imm);
      if (e.regf != 7) wr_ea<W>(e, res);
      return;
    }
    case 0x85: modrm(e); logic_flags<W>(rd_ea<W>(e) & rg<W>(e.regf)); return;
    case 0x87: {
      modrm(e);
      u32 a = rd_ea<W>(e);
      u32 b = rg<W>(e.regf);
      wr_ea<W>(e, b);
      sg<W>(e.regf, a);
      return;
    }
    case 0x89: modrm(e); wr_ea<W>(e, rg<W>(e.regf)); return;
    case 0x8B: modrm(e); sg<W>(e.regf, rd_ea<W>(e)); return;
    case 0x8C: {
      modrm(e);
      if (e.regf > 5) fault(kUD);
      u32 v = r.seg[e.regf].selector;
      if (e.reg) sg<W>(e.rm, v);  // zero-extended into a 32-bit register
      else wr<2>(e.seg, e.off, v);
      return;
    }
    case 0x8D:
      modrm(e);
      need_mem(e);
      sg<W>(e.regf, e.off & M);
      return;
    case 0x8F: {  // POP Ev: the address is computed after ESP is incremented
      u32 s = sp();
      u32 v = rd<W>(SS, s);
      set_sp(sp_add(s, W));
      modrm(e);
      wr_ea<W>(e, v);
      return;
    }
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      u32 a = rg<W>(EAX);
      sg<W>(EAX, rg<W>(op & 7));
      sg<W>(op & 7, a);
      return;
    }
    case 0x98:
      if constexpr (W == 2) sg<2>(EAX, u32(i32(i8(r.gpr[EAX]))) & 0xFFFF);
      else r.gpr[EAX] = u32(i32(i16(r.gpr[EAX])));
      return;
    case 0x99:
      sg<W>(EDX, (rg<W>(EAX) & sign_of<W>()) ? M : 0);
      return;
    case 0x9A: {  // CALL ptr16:16/32
      u32 off = W == 4 ? fetch32() : fetch16();
      u16 sel = u16(fetch16());
      u32 s = sp();
      u32 s1 = sp_add(s, -i32(W)), s2 = sp_add(s, -2 * i32(W));
      u32 ret = r.eip;
      u16 oldcs = r.seg[CS].selector;
      far_jump(sel, off);
      wr<W>(SS, s1, oldcs);
      wr<W>(SS, s2, ret);
      set_sp(s2);
      return;
    }
    case 0x9C: {  // PUSHF(D): VM and RF read as 0
      u32 f = r.eflags & ~0x30000u;
      push<W>(f & M);
      return;
    }
    case 0x9D: {
      u32 v = pop<W>();
      u32 m = W == 4 ? kPopfMask : (kPopfMask & 0xFFFF);
      r.eflags = (r.eflags & ~m) | (v & m) | 2;
      return;
    }
    case 0xA1: {
      u32 off = a32 ? fetch32() : fetch16();
      sg<W>(EAX, rd<W>(src_seg(), off));
      return;
    }
    case 0xA3: {
      u32 off = a32 ? fetch32() : fetch16();
      wr<W>(src_seg(), off, rg<W>(EAX));
      return;
    }
    case 0xA5: string_op<W, 0xA4>(); return;
    case 0xA7: string_op<W, 0xA6>(); return;
    case 0xA9: logic_flags<W>(rg<W>(EAX) & (W == 4 ? fetch32() : fetch16())); return;
    case 0xAB: string_op<W, 0xAA>(); return;
    case 0xAD: string_op<W, 0xAC>(); return;
    case 0xAF: string_op<W, 0xAE>(); return;
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF:
      sg<W>(op & 7, W == 4 ? fetch32() : fetch16());
      return;
    case 0xC1:
    case 0xD1:
    case 0xD3: {
      modrm(e);
      u32 v = rd_ea<W>(e);
      unsigned c = op == 0xC1 ? fetch8() : op == 0xD1 ? 1 : (r.gpr[ECX] & 0xFF);
      if ((c & 31) == 0) return;  // no write-back, no flags
      wr_ea<W>(e, shift<W>(e.regf, v, c));
      return;
    }
    case 0xC2:
    case 0xC3: {
      u32 n = op == 0xC2 ? fetch16() : 0;
      u32 s = sp();
      u32 ip = rd<W>(SS, s);
      if (ip > r.seg[CS].limit) fault(kGP);
      set_sp(sp_add(s, i32(W + n)));
      r.eip = ip;
      return;
    }
    case 0xC4:
    case 0xC5: {
      modrm(e);
      need_mem(e);
      u32 off = rd<W>(e.seg, e.off);
      u16 sel = u16(rd<2>(e.seg, e.off + W));
      load_seg(op == 0xC4 ? ES : DS, sel);
      sg<W>(e.regf, off);
      return;
    }
    case 0xC7: {
      modrm(e);
      u32 v = W == 4 ? fetch32() : fetch16();
      wr_ea<W>(e, v);
      return;
    }
    case 0xC8: {  // ENTER
      u32 size = fetch16();
      unsigned level = fetch8() & 31;
      u32 s = sp();
      s = sp_add(s, -i32(W));
      wr<W>(SS, s, rg<W>(EBP));
      u32 frame = s;
      if (level > 0) {
        u32 bp = ss32() ? r.gpr[EBP] : (r.gpr[EBP] & 0xFFFF);
        for (unsigned i = 1; i < level; ++i) {
          bp = sp_add(bp, -i32(W));
          u32 v = rd<W>(SS, bp);
          s = sp_add(s, -i32(W));
          wr<W>(SS, s, v);
        }
        s = sp_add(s, -i32(W));
        wr<W>(SS, s, frame);
      }
      s = sp_add(s, -i32(size));
      // Check the bottom of the new frame is addressable, as the CPU does.
      lin_addr(SS, s, 1);
      // The frame pointer is copied at the stack's width (BP on a 16-bit stack), as LEAVE
      // copies it back.
      if (ss32()) r.gpr[EBP] = frame;
      else sg<2>(EBP, frame);
      set_sp(s);
      return;
    }
    case 0xC9: {  // LEAVE
      u32 bp = ss32() ? r.gpr[EBP] : (r.gpr[EBP] & 0xFFFF);
      u32 v = rd<W>(SS, bp);
      set_sp(sp_add(bp, W));
      sg<W>(EBP, v);
      return;
    }
    case 0xCA:
    case 0xCB: {  // RETF
      u32 n = op == 0xCA ? fetch16() : 0;
      u32 s = sp();
      u32 ip = rd<W>(SS, s);
      u16 cs = u16(rd<W>(SS, sp_add(s, W)));
      far_jump(cs, ip);
      set_sp(sp_add(s, i32(2 * W + n)));
      return;
    }
    case 0xCF: {  // IRET(D)
      if (pe()) stop_now(StopReason::triple_fault, "IRET in protected mode (no IDT support)");
      u32 s = sp();
      u32 ip = rd<W>(SS, s);
      u16 cs = u16(rd<W>(SS, sp_add(s, W)));
      u32 fl = rd<W>(SS, sp_add(s, 2 * W));
      far_jump(cs, ip);
      u32 m = W == 4 ? kPopfMask : (kPopfMask & 0xFFFF);
      r.eflags = (r.eflags & ~m) | (fl & m) | 2;
      set_sp(sp_add(s, 3 * W));
      return;
    }
    case 0xE5: sg<W>(EAX, bus.io_read(fetch8(), W) & M); return;
    case 0xE7: bus.io_write(fetch8(), W, rg<W>(EAX)); return;
    case 0xED: sg<W>(EAX, bus.io_read(u16(r.gpr[EDX]), W) & M); return;
    case 0xEF: bus.io_write(u16(r.gpr[EDX]), W, rg<W>(EAX)); return;
    case 0xE8: {
      u32 d = W == 4 ? fetch32() : fetch16();
      u32 ret = r.eip;
      u32 t = (ret + d) & M;
      if (t > r.seg[CS].limit) fault(kGP);
      push<W>(ret);
      r.eip = t;
      return;
    }
    case 0xE9: {
      u32 d = W == 4 ? fetch32() : fetch16();
      u32 t = (r.eip + d) & M;
      if (t > r.seg[CS].limit) fault(kGP);
      r.eip = t;
      return;
    }
    case 0xEA: {
      u32 off = W == 4 ? fetch32() : fetch16();
      u16 sel = u16(fetch16());
      far_jump(sel, off);
      return;
    }
    case 0xF7: modrm(e); grp3<W>(e); return;
    case 0xFF: {
      modrm(e);
      switch (e.regf) {
        case 0: wr_ea<W>(e, inc_dec<W>(rd_ea<W>(e), false)); return;
        case 1: wr_ea<W>(e, inc_dec<W>(rd_ea<W>(e), true)); return;
        case 2: {  // CALL near indirect
          u32 t = rd_ea<W>(e);
          if (t > r.seg[CS].limit) fault(kGP);
          push<W>(r.eip);
          r.eip = t;
          return;
        }
        case 3: {  // CALL far indirect
          need_mem(e);
          u32 off = rd<W>(e.seg, e.off);
          u16 sel = u16(rd<2>(e.seg, e.off + W));
          u32 s = sp();
          u32 s1 = sp_add(s, -i32(W)), s2 = sp_add(s, -2 * i32(W));
          u32 ret = r.eip;
          u16 oldcs = r.seg[CS].selector;
          far_jump(sel, off);
          wr<W>(SS, s1, oldcs);
          wr<W>(SS, s2, ret);
          set_sp(s2);
          return;
        }
        case 4: {
          u32 t = rd_ea<W>(e);
          if (t > r.seg[CS].limit) fault(kGP);
          r.eip = t;
          return;
        }
        case 5: {
          need_mem(e);
          u32 off = rd<W>(e.seg, e.off);
          u16 sel = u16(rd<2>(e.seg, e.off + W));
          far_jump(sel, off);
          return;
        }
        case 6: push<W>(rd_ea<W>(e)); return;
        default: fault(kUD);
      }
    }
    default: fault(kUD);  // kWidthOp lists exactly the cases above
  }
}

template <unsigned W>
void Cpu::Impl::exec_0f_w(u8 op) {
  constexpr u32 M = mask_of<W>();
  Ea e;
  switch (op) {
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: {
      modrm(e);
      u32 v = rd_ea<W>(e);  // the source is read even when the condition is false
      if (cond(op & 15)) sg<W>(e.regf, v);
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
    case 0x88: case 0x89: case 0x8A: case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0x8F: {
      u32 d = W == 4 ? fetch32() : fetch16();
      if (cond(op & 15)) {
        u32 t = (r.eip + d) & M;
        if (t > r.seg[CS].limit) fault(kGP);
        r.eip = t;
      }
      return;
    }
    case 0xA3: modrm(e); bit_op<W>(e, rg<W>(e.regf), false, 0); return;
    case 0xAB: modrm(e); bit_op<W>(e, rg<W>(e.regf), false, 1); return;
    case 0xB3: modrm(e); bit_op<W>(e, rg<W>(e.regf), false, 2); return;
    case 0xBB: modrm(e); bit_op<W>(e, rg<W>(e.regf), false, 3); return;
    case 0xBA: {
      modrm(e);
      if (e.regf < 4) fault(kUD);
      u32 imm = fetch8();
      bit_op<W>(e, imm, true, e.regf - 4);
      return;
    }
    case 0xA4:
    case 0xA5:
    case 0xAC:
    case 0xAD: {
      modrm(e);
      u32 d = rd_ea<W>(e);
      unsigned c = (op & 1) ? (r.gpr[ECX] & 0xFF) : fetch8();
      if ((c & 31) == 0) return;
      wr_ea<W>(e, shld<W>(d, rg<W>(e.regf), c, op < 0xA8));
      return;
    }
    case 0xAF: {
      modrm(e);
      i64 p = i64(sext<W>(rg<W>(e.regf))) * i64(sext<W>(rd_ea<W>(e)));
      u32 lo = u32(p) & M;
      sg<W>(e.regf, lo);
      u32 cf = (p != i64(sext<W>(lo))) ? (CF | OF) : 0;
      r.eflags = (r.eflags & ~kArith) | szp<W>(lo) | cf | 2;
      return;
    }
    case 0xB1: {  // CMPXCHG: the destination is written in both cases (locked RMW)
      modrm(e);
      u32 d = rd_ea<W>(e);
      u32 acc = rg<W>(EAX);
      sub_op<W>(acc, d, 0);
      if (acc == d) wr_ea<W>(e, rg<W>(e.regf));
      else {
        wr_ea<W>(e, d);
        sg<W>(EAX, d);
      }
      return;
    }
    case 0xB2:
    case 0xB4:
    case 0xB5: {
      modrm(e);
      need_mem(e);
      u32 off = rd<W>(e.seg, e.off);
      u16 sel = u16(rd<2>(e.seg, e.off + W));
      load_seg(op == 0xB2 ? SS : op == 0xB4 ? FS : GS, sel);
      sg<W>(e.regf, off);
      return;
    }
    case 0xB6: modrm(e); sg<W>(e.regf, rd_ea<1>(e)); return;
    case 0xB7: modrm(e); sg<W>(e.regf, rd_ea<2>(e)); return;
    case 0xBE: modrm(e); sg<W>(e.regf, u32(i32(i8(rd_ea<1>(e)))) & M); return;
    case 0xBF: modrm(e); sg<W>(e.regf, u32(i32(i16(rd_ea<2>(e)))) & M); return;
    case 0xBC:
    case 0xBD: {  // BSF/BSR: a zero source sets ZF and leaves the destination alone
      modrm(e);
      u32 v = rd_ea<W>(e);
      if (v == 0) {
        r.eflags |= ZF;
        return;
      }
      unsigned n = op == 0xBC ? unsigned(__builtin_ctz(v)) : 31u - unsigned(__builtin_clz(v));
      r.eflags &= ~ZF;
      sg<W>(e.regf, n);
      return;
    }
    case 0xC1: {  // XADD
      modrm(e);
      u32 d = rd_ea<W>(e);
      u32 s = rg<W>(e.regf);
      u32 sum = add_op<W>(d, s, 0);
      sg<W>(e.regf, d);
      wr_ea<W>(e, sum);
      return;
    }
    case 0xA0: push<W>(r.seg[FS].selector); return;
    case 0xA8: push<W>(r.seg[GS].selector); return;
    case 0xA1:
    case 0xA9: {
      u32 s = sp();
      u16 v = u16(rd<W>(SS, s));
      load_seg(op == 0xA1 ? FS : GS, v);
      set_sp(sp_add(s, W));
      return;
    }
    default: fault(kUD);
  }
}

void Cpu::Impl::x87(u8 op) {
  // No FPU: every escape opcode is decoded (ModRM and displacement) and does nothing,
  // except FNSTSW AX (DF E0), which answers 0xFFFF like an empty socket's floating bus so
  // that "FNINIT; FNSTSW" probes find no FPU. Memory forms write nothing.
  Ea e;
  modrm(e);
  if (op == 0xDF && e.reg && e.regf == 4 && e.rm == 0) sg<2>(EAX, 0xFFFF);
}

void Cpu::Impl::exec_0f() {
  u8 op = fetch8();
  Ea e;
  switch (op) {
    case 0x01: {
      modrm(e);
      switch (e.regf) {
        case 0:
        case 1: {  // SGDT / SIDT
          need_mem(e);
          u16 lim = e.regf == 0 ? r.gdtr_limit : r.idtr_limit;
          u32 base = e.regf == 0 ? r.gdtr_base : r.idtr_base;
          if (!o32) base &= 0xFFFFFF;
          wr<2>(e.seg, e.off, lim);
          wr<4>(e.seg, e.off + 2, base);
          return;
        }
        case 2:
        case 3: {  // LGDT / LIDT
          need_mem(e);
          u16 lim = u16(rd<2>(e.seg, e.off));
          u32 base = rd<4>(e.seg, e.off + 2);
          if (!o32) base &= 0xFFFFFF;
          if (e.regf == 2) {
            r.gdtr_limit = lim;
            r.gdtr_base = base;
          } else {
            r.idtr_limit = lim;
            r.idtr_base = base;
          }
          return;
        }
        case 4:  // SMSW
          if (e.reg && o32) sg<4>(e.rm, r.cr0);
          else wr_ea<2>(e, r.cr0 & 0xFFFF);
          return;
        case 6: {  // LMSW: PE can be set, not cleared
          u32 v = rd_ea<2>(e) & 0xF;
          r.cr0 = (r.cr0 & ~0xEu) | (v & 0xE) | (r.cr0 & 1) | (v & 1);
          return;
        }
        case 7:  // INVLPG: no TLB
          need_mem(e);
          return;
        default: fault(kUD);
      }
    }
    case 0x06: r.cr0 &= ~8u; return;  // CLTS
    case 0x08:
    case 0x09: return;  // INVD, WBINVD: no cache
    case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
      modrm(e);  // hint NOPs (Pentium Pro), harmless here
      return;
    case 0x20:
    case 0x22: {  // MOV r32, CRn / MOV CRn, r32 (the mod field is ignored)
      u8 m = fetch8();
      unsigned cr = (m >> 3) & 7, rm = m & 7;
      if (cr == 1 || cr > 4) fault(kUD);
      if (op == 0x20) {
        r.gpr[rm] = cr == 0 ? r.cr0 : cr == 2 ? cr2 : cr == 3 ? cr3 : cr4;
        return;
      }
      u32 v = r.gpr[rm];
      if (cr == 0) {
        if ((v & 0x80000000u) && !(v & 1)) fault(kGP);
        if (v & 0x80000000u)
          stop_now(StopReason::triple_fault, "CR0.PG set: paging is not supported");
        r.cr0 = v | 0x10;  // ET is hardwired on a 486
      } else if (cr == 2) cr2 = v;
      else if (cr == 3) cr3 = v;
      else cr4 = v;
      return;
    }
    case 0x21:
    case 0x23: {  // MOV DRn
      u8 m = fetch8();
      unsigned dn = (m >> 3) & 7, rm = m & 7;
      if (dn == 4 || dn == 5) dn += 2;
      if (op == 0x21) r.gpr[rm] = dr[dn];
      else dr[dn] = r.gpr[rm];
      return;
    }
    case 0x30: {  // WRMSR
      u64 v = (u64(r.gpr[EDX]) << 32) | r.gpr[EAX];
      if (!bus.wrmsr(r.gpr[ECX], v)) fault(kGP);
      return;
    }
    case 0x31: {
      u64 t = bus.rdtsc();
      r.gpr[EAX] = u32(t);
      r.gpr[EDX] = u32(t >> 32);
      return;
    }
    case 0x32: {
      u64 v = 0;
      if (!bus.rdmsr(r.gpr[ECX], v)) fault(kGP);
      r.gpr[EAX] = u32(v);
      r.gpr[EDX] = u32(v >> 32);
      return;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F:
      modrm(e);
      wr_ea<1>(e, cond(op & 15) ? 1 : 0);
      return;
    case 0xA2: {  // CPUID: a Pentium (family 5) without FPU; TSC, MSR, CX8
      u32 leaf = r.gpr[EAX];
      if (leaf == 0) {
        r.gpr[EAX] = 1;
        r.gpr[EBX] = 0x756E6547;  // "Genu"
        r.gpr[EDX] = 0x49656E69;  // "ineI"
        r.gpr[ECX] = 0x6C65746E;  // "ntel"
      } else if (leaf >= 0x80000000u) {
        r.gpr[EAX] = r.gpr[EBX] = r.gpr[ECX] = r.gpr[EDX] = 0;
      } else {
        r.gpr[EAX] = 0x0000052C;  // family 5, model 2, stepping 12
        r.gpr[EBX] = 0;
        r.gpr[ECX] = 0;
        r.gpr[EDX] = (1u << 4) | (1u << 5) | (1u << 8);
      }
      return;
    }
    case 0xB0: {  // CMPXCHG Eb, Gb
      modrm(e);
      u32 d = rd_ea<1>(e);
      u32 acc = rg<1>(EAX);
      sub_op<1>(acc, d, 0);
      if (acc == d) wr_ea<1>(e, rg<1>(e.regf));
      else {
        wr_ea<1>(e, d);
        sg<1>(EAX, d);
      }
      return;
    }
    case 0xC0: {  // XADD Eb, Gb
      modrm(e);
      u32 d = rd_ea<1>(e);
      u32 s = rg<1>(e.regf);
      u32 sum = add_op<1>(d, s, 0);
      sg<1>(e.regf, d);
      wr_ea<1>(e, sum);
      return;
    }
    case 0xC7: {  // CMPXCHG8B m64
      modrm(e);
      if (e.regf != 1 || e.reg) fault(kUD);
      u32 lo = rd<4>(e.seg, e.off), hi = rd<4>(e.seg, e.off + 4);
      if (lo == r.gpr[EAX] && hi == r.gpr[EDX]) {
        wr<4>(e.seg, e.off, r.gpr[EBX]);
        wr<4>(e.seg, e.off + 4, r.gpr[ECX]);
        r.eflags |= ZF;
      } else {
        wr<4>(e.seg, e.off, lo);
        wr<4>(e.seg, e.off + 4, hi);
        r.gpr[EAX] = lo;
        r.gpr[EDX] = hi;
        r.eflags &= ~ZF;
      }
      return;
    }
    case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCD: case 0xCE: case 0xCF:
      // BSWAP; with a 16-bit operand the result is undefined: this clears the register's
      // low word, as most CPUs do.
      if (o32) r.gpr[op & 7] = __builtin_bswap32(r.gpr[op & 7]);
      else sg<2>(op & 7, 0);
      return;
    case 0xFF: {  // hypercall 0F FF ib
      u8 id = fetch8();
      bus.hypercall(self, id);
      forget_code();  // the handler may have changed CS
      return;
    }
    default:
      if (o32) exec_0f_w<4>(op);
      else exec_0f_w<2>(op);
      return;
  }
}

GPUINIT_HOT void Cpu::Impl::exec() {
  const bool def32 = r.seg[CS].db;
  o32 = a32 = def32;
  sego = -1;
  rep = 0;
  u8 op = fetch8();
  while (u8 k = kPrefix[op]) {
    if (k <= 6) sego = k - 1;
    else if (k == 7) o32 = !def32;
    else if (k == 8) a32 = !def32;
    else if (k == 10) rep = op;
    // k == 9: LOCK, nothing to do on a single processor
    op = fetch8();
  }
  // Operand-size dependent opcodes go to exec_w(), the rest to exec_byte().
  if (!kWidthOp[op]) exec_byte(op);
  else if (o32) exec_w<4>(op);
  else exec_w<2>(op);
}

GPUINIT_HOT void Cpu::Impl::exec_byte(u8 op) {
  Ea e;
  switch (op) {
    case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38: {
      modrm(e);
      u32 res = alu<1>(op >> 3, rd_ea<1>(e), rg<1>(e.regf));
      if ((op >> 3) != 7) wr_ea<1>(e, res);
      return;
    }
    case 0x02: case 0x0A: case 0x12: case 0x1A: case 0x22: case 0x2A: case 0x32: case 0x3A: {
      modrm(e);
      u32 res = alu<1>(op >> 3, rg<1>(e.regf), rd_ea<1>(e));
      if ((op >> 3) != 7) sg<1>(e.regf, res);
      return;
    }
    case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C: {
      u32 imm = fetch8();
      u32 res = alu<1>(op >> 3, rg<1>(EAX), imm);
      if ((op >> 3) != 7) sg<1>(EAX, res);
      return;
    }
    case 0x06: pushv(r.seg[ES].selector); return;
    case 0x0E: pushv(r.seg[CS].selector); return;
    case 0x16: pushv(r.seg[SS].selector); return;
    case 0x1E: pushv(r.seg[DS].selector); return;
    case 0x07:
    case 0x17:
    case 0x1F: {
      u32 s = sp();
      u16 v = u16(o32 ? rd<4>(SS, s) : rd<2>(SS, s));
      load_seg(op == 0x07 ? ES : op == 0x17 ? SS : DS, v);
      // SS may have changed its B bit (protected mode): step the new stack pointer width.
      set_sp(sp_add(s, o32 ? 4 : 2));
      return;
    }
    case 0x0F: exec_0f(); return;
    case 0x27: case 0x2F: {  // DAA / DAS
      u32 al = r.gpr[EAX] & 0xFF, f = r.eflags;
      u32 old_al = al, old_cf = f & CF, cf = 0, af = 0;
      if ((al & 0xF) > 9 || (f & AF)) {
        if (op == 0x27) {
          cf = old_cf | (al + 6 > 0xFF);
          al = (al + 6) & 0xFF;
        } else {
          cf = old_cf | (al < 6);
          al = (al - 6) & 0xFF;
        }
        af = AF;
      }
      if (old_al > 0x99 || old_cf) {
        al = op == 0x27 ? (al + 0x60) & 0xFF : (al - 0x60) & 0xFF;
        cf = 1;
      } else {
        cf = 0;
      }
      sg<1>(EAX, al);
      // OF is undefined: cleared.
      r.eflags = (f & ~kArith) | szp<1>(al) | cf | af | 2;
      return;
    }
    case 0x37: case 0x3F: {  // AAA / AAS
      u32 ax = r.gpr[EAX] & 0xFFFF, f = r.eflags, cfaf = 0;
      if ((ax & 0xF) > 9 || (f & AF)) {
        if (op == 0x37) ax = ax + 0x106;
        else ax = (((ax - 6) & 0xFF) | (((ax >> 8) - 1 - ((ax & 0xFF) < 6 ? 1 : 0)) << 8));
        cfaf = CF | AF;
      }
      ax &= 0xFF0F;
      sg<2>(EAX, ax);
      // OF, SF, ZF, PF are undefined: computed from AL.
      r.eflags = (f & ~kArith) | szp<1>(ax & 0xFF) | cfaf | 2;
      return;
    }
    case 0x63: fault(kUD);  // ARPL: protected mode only
    case 0x6C: string_op<1, 0x6C>(); return;
    case 0x6E: string_op<1, 0x6E>(); return;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F: {
      u32 d = u32(i32(i8(fetch8())));
      if (cond(op & 15)) {
        u32 t = o32 ? r.eip + d : (r.eip + d) & 0xFFFF;
        if (t > r.seg[CS].limit) fault(kGP);
        r.eip = t;
      }
      return;
    }
    case 0x80:
    case 0x82: {
      modrm(e);
      u32 a = rd_ea<1>(e);
      u32 res = alu<1>(e.regf, a, fetch8());
      if (e.regf != 7) wr_ea<1>(e, res);
      return;
    }
    case 0x84: modrm(e); logic_flags<1>(rd_ea<1>(e) & rg<1>(e.regf)); return;
    case 0x86: {
      modrm(e);
      u32 a = rd_ea<1>(e);
      u32 b = rg<1>(e.regf);
      wr_ea<1>(e, b);
      sg<1>(e.regf, a);
      return;
    }
    case 0x88: modrm(e); wr_ea<1>(e, rg<1>(e.regf)); return;
    case 0x8A: modrm(e); sg<1>(e.regf, rd_ea<1>(e)); return;
    case 0x8E: {
      modrm(e);
      if (e.regf == CS || e.regf > 5) fault(kUD);
      load_seg(e.regf, u16(rd_ea<2>(e)));
      return;
    }
    case 0x90: return;  // NOP, PAUSE
    case 0x9B: return;  // WAIT: no FPU, nothing pending
    case 0x9E: set_flags(SF | ZF | AF | PF | CF, r.gpr[EAX] >> 8); return;
    case 0x9F: sg<1>(4, (r.eflags & 0xD5) | 2); return;
    case 0xA0: {
      u32 off = a32 ? fetch32() : fetch16();
      sg<1>(EAX, rd<1>(src_seg(), off));
      return;
    }
    case 0xA2: {
      u32 off = a32 ? fetch32() : fetch16();
      wr<1>(src_seg(), off, rg<1>(EAX));
      return;
    }
    case 0xA4: string_op<1, 0xA4>(); return;
    case 0xA6: string_op<1, 0xA6>(); return;
    case 0xA8: logic_flags<1>(rg<1>(EAX) & fetch8()); return;
    case 0xAA: string_op<1, 0xAA>(); return;
    case 0xAC: string_op<1, 0xAC>(); return;
    case 0xAE: string_op<1, 0xAE>(); return;
    case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7:
      sg<1>(op & 7, fetch8());
      return;
    case 0xC0:
    case 0xD0:
    case 0xD2: {
      modrm(e);
      u32 v = rd_ea<1>(e);
      unsigned c = op == 0xC0 ? fetch8() : op == 0xD0 ? 1 : (r.gpr[ECX] & 0xFF);
      if ((c & 31) == 0) return;
      wr_ea<1>(e, shift<1>(e.regf, v, c));
      return;
    }
    case 0xC6: {
      modrm(e);
      u32 v = fetch8();
      wr_ea<1>(e, v);
      return;
    }
    case 0xCC: deliver(kBP); return;
    case 0xCD: deliver(fetch8()); return;
    case 0xCE:
      if (r.eflags & OF) deliver(kOFv);
      return;
    case 0xF1: deliver(kDB); return;  // ICEBP
    case 0xD4: {  // AAM
      u32 base = fetch8();
      if (base == 0) fault(kDE);
      u32 al = r.gpr[EAX] & 0xFF;
      u32 ah = al / base;
      al %= base;
      sg<2>(EAX, al | (ah << 8));
      r.eflags = (r.eflags & ~kArith) | szp<1>(al) | 2;
      return;
    }
    case 0xD5: {  // AAD
      u32 base = fetch8();
      u32 al = ((r.gpr[EAX] & 0xFF) + ((r.gpr[EAX] >> 8) & 0xFF) * base) & 0xFF;
      sg<2>(EAX, al);
      r.eflags = (r.eflags & ~kArith) | szp<1>(al) | 2;
      return;
    }
    case 0xD6: sg<1>(EAX, (r.eflags & CF) ? 0xFF : 0); return;  // SALC
    case 0xD7: {  // XLAT
      u32 off = (r.gpr[EBX] + (r.gpr[EAX] & 0xFF)) & amask();
      sg<1>(EAX, rd<1>(src_seg(), off));
      return;
    }
    case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF:
      x87(op);
      return;
    case 0xE0:
    case 0xE1:
    case 0xE2:
    case 0xE3: {  // LOOPNE LOOPE LOOP JCXZ: the counter is CX or ECX by address size
      u32 d = u32(i32(i8(fetch8())));
      bool take;
      if (op == 0xE3) take = cnt() == 0;
      else {
        u32 c = (cnt() - 1) & amask();
        set_cnt(c);
        take = c != 0;
        if (op == 0xE0) take = take && !(r.eflags & ZF);
        if (op == 0xE1) take = take && (r.eflags & ZF);
      }
      if (take) {
        u32 t = o32 ? r.eip + d : (r.eip + d) & 0xFFFF;
        if (t > r.seg[CS].limit) fault(kGP);
        r.eip = t;
      }
      return;
    }
    case 0xE4: sg<1>(EAX, bus.io_read(fetch8(), 1) & 0xFF); return;
    case 0xE6: bus.io_write(fetch8(), 1, r.gpr[EAX] & 0xFF); return;
    case 0xEC: sg<1>(EAX, bus.io_read(u16(r.gpr[EDX]), 1) & 0xFF); return;
    case 0xEE: bus.io_write(u16(r.gpr[EDX]), 1, r.gpr[EAX] & 0xFF); return;
    case 0xEB: {
      u32 d = u32(i32(i8(fetch8())));
      u32 t = o32 ? r.eip + d : (r.eip + d) & 0xFFFF;
      if (t > r.seg[CS].limit) fault(kGP);
      r.eip = t;
      return;
    }
    case 0xF4:
      ++icount;  // HLT retires; a later run() continues after it
      stop_now(StopReason::halted, (r.eflags & IF)
                                       ? "HLT with interrupts enabled (no interrupt source)"
                                       : "HLT with interrupts disabled");
    case 0xF5: r.eflags ^= CF; return;
    case 0xF6: modrm(e); grp3<1>(e); return;
    case 0xF8: r.eflags &= ~CF; return;
    case 0xF9: r.eflags |= CF; return;
    case 0xFA: r.eflags &= ~IF; return;
    case 0xFB: r.eflags |= IF; return;
    case 0xFC: r.eflags &= ~DF; return;
    case 0xFD: r.eflags |= DF; return;
    case 0xFE:
      modrm(e);
      if (e.regf > 1) fault(kUD);
      wr_ea<1>(e, inc_dec<1>(rd_ea<1>(e), e.regf == 1));
      return;
    default: fault(kUD);
  }
}

// True when #UD has nowhere to go but the stop: no default vector was named, or vector 6
// still holds it (or cannot be read).
bool Cpu::Impl::ud_unhandled() { return vector_unhandled(kUD); }

bool Cpu::Impl::vector_unhandled(u8 vector) {
  if (!ud_default_set) return true;
  if (u32(vector) * 4 + 3 > r.idtr_limit) return true;
  try {
    const u32 ent = rl<4>(r.idtr_base + u32(vector) * 4);
    return ent == ud_default;  // IP in the low word, CS in the high word
  } catch (const CpuFault&) {
    return true;
  }
}

// A fault of the instruction that started at start_eip: restore EIP/ESP/CS and deliver
// it (or stop for #UD). Returns false when the run must stop.
bool Cpu::Impl::on_fault(u8 vector) {
  r.eip = start_eip;
  r.gpr[ESP] = start_esp;
  if (cs_saved) r.seg[CS] = saved_cs;
  forget_code();
  if (vector == kUD && stop_on_ud && ud_unhandled()) {
    stop = StopReason::invalid_opcode;
    end = 0;
    fault_csip = insn_cs_ip();
    error = "invalid opcode";
    return false;
  }
  // Any other fault whose vector still holds the default handler: that handler returns
  // to the faulting instruction, which faults again, forever (a real machine hangs).
  if (vector != kUD && stop_on_ud && ud_default_set && vector_unhandled(vector)) {
    stop = StopReason::unhandled_fault;
    end = 0;
    fault_csip = insn_cs_ip();
    error = "exception " + std::to_string(vector) + " with no handler installed";
    return false;
  }
  ++icount;  // the faulting instruction counts: a fault loop still uses the budget up
  try {
    deliver_exception(vector);
  } catch (const CpuStop&) {
    return false;
  }
  return true;
}

StopReason Cpu::Impl::run(u64 max) {
  if (stop_requested) {
    stop_requested = false;
    return StopReason::requested;
  }
  stop = StopReason::none;
  forget_code();  // registers may have been changed between runs
  end = max > ~0ull - icount ? ~0ull : icount + max;
  // The try block sits outside the instruction loop; a fault leaves the loop, is
  // delivered, and the loop is entered again.
  for (bool more = true; more;) {
    more = false;
    try {
      while (icount < end) {
        if (u64(r.eip) == stop_ip && r.seg[CS].selector == stop_cs) [[unlikely]] {
          stop = StopReason::stop_address;
          break;
        }
        start_eip = r.eip;
        start_esp = r.gpr[ESP];
        start_cs_sel = r.seg[CS].selector;
        cs_saved = false;
        // TF as the instruction starts decides the single-step trap after it. One copy
        // of the (inlined) interpreter serves both cases.
        const bool trap = r.eflags & TF;
        begin_fetch();
        exec();
        ++icount;
        if (trap) [[unlikely]] deliver_exception(kDB);
      }
    } catch (const CpuFault& f) {
      more = on_fault(f.vector);
    } catch (const CpuStop&) {
    }
  }
  StopReason s = stop;
  if (s == StopReason::none) {
    s = (u64(r.eip) == stop_ip && r.seg[CS].selector == stop_cs) ? StopReason::stop_address
                                                                 : StopReason::budget;
  }
  stop_requested = false;  // a request made during this run ended it (or lost the race)
  stop = StopReason::none;
  return s;
}

// ------------------------------------------------------------------ public API

Cpu::Cpu(Bus& bus) : impl_(new Impl(*this, bus)) {
  impl_->r.seg[CS].selector = 0;
}
Cpu::~Cpu() { delete impl_; }

Registers& Cpu::regs() noexcept { return impl_->r; }
const Registers& Cpu::regs() const noexcept { return impl_->r; }

void Cpu::load_segment_real(SegIndex s, std::uint16_t selector) noexcept {
  impl_->r.seg[s].selector = selector;
  impl_->r.seg[s].base = u32(selector) << 4;
}

StopReason Cpu::run(std::uint64_t max_instructions) { return impl_->run(max_instructions); }

void Cpu::set_stop_at(std::uint16_t cs, std::uint16_t ip) noexcept {
  impl_->stop_ip = ip;
  impl_->stop_cs = cs;
}

void Cpu::request_stop() noexcept {
  impl_->stop_requested = true;
  impl_->stop = StopReason::requested;
  impl_->end = 0;
}

std::uint64_t Cpu::icount() const noexcept { return impl_->icount; }
std::uint32_t Cpu::insn_cs_ip() const noexcept { return impl_->insn_cs_ip(); }
std::uint32_t Cpu::fault_cs_ip() const noexcept { return impl_->fault_csip; }

std::string Cpu::last_error() const {
  if (impl_->error.empty()) return {};
  char where[16];
  std::snprintf(where, sizeof where, "%04x:%04x", impl_->fault_csip >> 16,
                impl_->fault_csip & 0xFFFF);
  return impl_->error + " at " + where;
}

void Cpu::flush_page_cache() noexcept { impl_->flush(); }

void Cpu::interrupt(std::uint8_t vector) {
  try {
    try {
      impl_->deliver(vector);
    } catch (const CpuFault& f) {
      impl_->deliver_exception(f.vector);
    }
  } catch (const CpuStop&) {
  }
}

void Cpu::set_compare_hints(bool on) noexcept { impl_->compare_hints = on; }
void Cpu::set_stop_on_ud(bool stop) noexcept { impl_->stop_on_ud = stop; }
void Cpu::set_unhandled_ud_vector(std::uint16_t cs, std::uint16_t ip) noexcept {
  impl_->ud_default_set = true;
  impl_->ud_default = u32(cs) << 16 | ip;
}

std::uint32_t Cpu::control_register(unsigned n) const noexcept {
  switch (n) {
    case 0: return impl_->r.cr0;
    case 2: return impl_->cr2;
    case 3: return impl_->cr3;
    case 4: return impl_->cr4;
    default: return 0;
  }
}

}  // namespace gpuinit::x86

// The virtual PC around the interpreter. One Machine object per run holds all state.
#include "gpuinit/x86/pc.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <sys/mman.h>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/spin_breaker.hpp"
#include "gpuinit/format/hash.hpp"
#include "gpuinit/version.hpp"
#include "gpuinit/x86/bus.hpp"
#include "gpuinit/x86/cpu.hpp"

namespace gpuinit::x86 {
namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr u32 kRomBase = 0xC0000;
constexpr u32 kRomWindow = 0x20000;  // C0000-DFFFF: room for the largest legacy image
constexpr u32 kBiosSeg = 0xF000;
constexpr u32 kBiosBase = 0xF0000;
constexpr u64 kPitHz = 1193182;
constexpr u64 kRefreshHalfPeriodNs = 15085;  // port 0x61 bit 4 toggles at ~66 kHz
constexpr u32 kTimerPollStreak = 32;          // timer accesses in a row that make a timer poll
constexpr u16 kDelayPort = 0x80;  // POST codes written; reads are the classic I/O delay
constexpr u64 kLegacyIoReadNs = 1000;         // a read of the PIT or port 0x61 (ISA timing)
constexpr const char* kTimerPollService = "timer_poll";
constexpr u64 kTickNs = 54925439;            // INT 1Ah / BDA timer tick (18.2 Hz)
constexpr u64 kSliceInstructions = 1 << 20;  // wall clock is checked between slices
// Trace events reserved up front: a SeaVGABIOS init makes a few hundred to ~10,000, and
// growing a vector of events moves every event each time (the storage is only touched
// as it fills).
constexpr std::size_t kTraceReserve = 1 << 14;
constexpr std::size_t kLowMemBytes = 0x100000;

// Conventional memory, zero-filled, from an anonymous mapping: the kernel supplies zero
// pages as they are first touched, so a run pays only for the few dozen pages a ROM uses
// instead of clearing and faulting in the whole megabyte.
class LowMemory {
 public:
  LowMemory() {
    void* p = mmap(nullptr, kLowMemBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    p_ = static_cast<u8*>(p);
  }
  LowMemory(const LowMemory&) = delete;
  LowMemory& operator=(const LowMemory&) = delete;
  ~LowMemory() { munmap(p_, kLowMemBytes); }
  u8& operator[](std::size_t i) noexcept { return p_[i]; }
  const u8& operator[](std::size_t i) const noexcept { return p_[i]; }

 private:
  u8* p_ = nullptr;
};

// Hypercall ids of the BIOS stubs.
enum Hc : u8 {
  kHcIret = 0x00,  // default vector: nothing to do
  kHcInt10 = 0x10, kHcInt11 = 0x11, kHcInt12 = 0x12, kHcInt13 = 0x13, kHcInt15 = 0x15,
  kHcInt16 = 0x16, kHcInt18 = 0x18, kHcInt19 = 0x19, kHcInt1A = 0x1A,
  kHcPmm = 0xF0, kHcPnp = 0xF1, kHcReturn = 0xFE,
};

// IBM PC fixed entry points (SeaBIOS keeps them): a ROM that prints or chains an old
// vector sees the address a real BIOS has.
struct FixedVector {
  u8 vector;
  u16 ip;
  u8 hc;
};
constexpr FixedVector kFixedVectors[] = {
    {0x08, 0xFEA5, kHcIret}, {0x09, 0xE987, kHcIret}, {0x0E, 0xEF57, kHcIret},
    {0x10, 0xF065, kHcInt10}, {0x11, 0xF84D, kHcInt11}, {0x12, 0xF841, kHcInt12},
    {0x13, 0xE3FE, kHcInt13}, {0x14, 0xE739, kHcIret}, {0x15, 0xF859, kHcInt15},
    {0x16, 0xE82E, kHcInt16}, {0x17, 0xEFD2, kHcIret}, {0x18, 0x8E00, kHcInt18},
    {0x19, 0xE6F2, kHcInt19}, {0x1A, 0xFE6E, kHcInt1A}, {0x1C, 0xFF53, kHcIret},
};
constexpr u16 kDefaultIretIp = 0xFF53;
constexpr u16 kPmmEntryIp = 0xD0B1;
constexpr u16 kPmmStructIp = 0xD0C0;  // "$PMM", 16-byte aligned
constexpr u16 kPnpStructIp = 0x6060;
constexpr u16 kPnpEntryIp = 0xD0A0;
constexpr u16 kConfigTableIp = 0xE6F5;  // INT 15h C0h system configuration table

struct Range {
  u64 base = 0, size = 0;
  Space space = Space::mmio;
  u8 bar = 0;
};

struct PitChannel {
  u32 reload = 0x10000;
  u8 mode = 0, access = 3;
  bool write_hi_next = false, read_hi_next = false;
  bool latched = false;
  u16 latch = 0;
  u64 start_tick = 0;
  u16 partial = 0;
};

class Machine final : public Bus {
 public:
  Machine(std::span<const u8> image, const PcConfig& cfg, DeviceModel& model)
      : cfg_(cfg), model_(model), cpu_(*this), max_events_(cfg.max_events ? cfg.max_events : kMaxTraceEvents) {
    trace_.reserve(kTraceReserve);
    const std::size_t n = std::min<std::size_t>(image.size(), kRomWindow);
    std::memcpy(&low_[kRomBase], image.data(), n);
    build_device(image);
    build_bios();
    place_bars();
    rebuild_ranges();
  }

  PcResult run();

  // ------------------------------------------------------------------ Bus
  u8* page(u32 base, bool) override {
    if (base < 0xA0000 || (base >= 0xC0000 && base < 0x100000)) {
      return &low_[base];
    }
    if (base < 0x100000) return nullptr;  // legacy VGA window
    if (base >= kRamTop) return nullptr;
    for (const auto& r : ranges_)
      if (r.space == Space::mmio && r.base < u64(base) + 0x1000 && u64(base) < r.base + r.size) return nullptr;
    auto& p = high_[base >> 12];
    if (!p) p = std::make_unique<std::array<u8, 0x1000>>();  // bounded by kRamTop
    return p->data();
  }

  u32 mem_read(u32 lin, unsigned bytes) override {
    const Range* r = find(lin, false);
    if (!r) return u32(width_mask(8 * bytes));  // nothing decodes it: floating bus
    Access a = access_for(*r, lin, bytes);
    Access m = a;
    nv_vga_window(m);
    const u32 v = device_read(m, bytes);
    record(a, Dir::read, v);
    return v;
  }
  void mem_write(u32 lin, unsigned bytes, u32 value) override {
    const Range* r = find(lin, false);
    if (!r) return;
    Access a = access_for(*r, lin, bytes);
    nv_register_write(a, bytes, value);
    Access m = a;
    nv_vga_window(m);
    record(a, Dir::write, value);
    model_.write(m, value, now());
  }
  u32 io_read(u16 port, unsigned bytes) override;
  void io_write(u16 port, unsigned bytes, u32 value) override;
  void hypercall(Cpu& cpu, u8 id) override;
  u64 rdtsc() override { return now(); }
  bool rdmsr(u32 msr, u64& value) override {
    if (msr != 0x10) return false;
    value = now();
    return true;
  }
  bool wrmsr(u32, u64) override { return false; }
  void compare_hint(u32 a, u32 b, unsigned bytes) override { model_.compare_hint(a, b, bytes); }

 private:
  // ------------------------------------------------------------------ set-up
  void build_device(std::span<const u8> image);
  void build_bios();
  void place_bars();
  void rebuild_ranges();
  void put16(u32 lin, u16 v) {
    low_[lin] = u8(v);
    low_[lin + 1] = u8(v >> 8);
  }
  void put32(u32 lin, u32 v) {
    put16(lin, u16(v));
    put16(lin + 2, u16(v >> 16));
  }
  u16 get16(u32 lin) const { return u16(low_[lin & 0xFFFFF] | low_[(lin + 1) & 0xFFFFF] << 8); }
  void stub(u16 ip, u8 hc, u8 ret_opcode) {
    const u32 at = kBiosBase + ip;
    low_[at] = kHypercallOpcode0;
    low_[at + 1] = kHypercallOpcode1;
    low_[at + 2] = hc;
    low_[at + 3] = ret_opcode;
  }

  // ------------------------------------------------------------------ time and trace
  [[nodiscard]] u64 now() const { return cpu_.icount() * cfg_.ns_per_instruction + extra_ns_; }
  // The event budget: the run stops at the instruction boundary after the last event kept.
  [[nodiscard]] bool event_budget_left() {
    if (trace_.size() < max_events_) return true;
    if (!truncated_) {
      truncated_ = true;
      cpu_.request_stop();
    }
    return false;
  }
  // The BIOS data area's timer tick count (0:046C), which the BIOS's IRQ 0 handler keeps on
  // a real machine: the virtual PC delivers no interrupts, so it follows virtual time here,
  // brought up to date at every device access, BIOS service and run slice.
  void sync_bda_ticks() { put32(0x46C, u32(now() / kTickNs)); }
  void record(const Access& a, Dir d, u64 value) {
    // The model may want the operands of the compares that follow this access.
    cpu_.set_compare_hints(model_.wants_compare_hints());
    sync_bda_ticks();
    // Consecutive accesses to the PC's timers (PIT, port 0x61) or reads of the I/O delay
    // port 0x80, with nothing else between.
    if ((a.space == Space::port && (is_timer_port(a.offset) || (a.offset == kDelayPort && d == Dir::read))) ||
        nv_timer_access(a, d, value)) {
      if (timer_streak_ < ~u32{0}) ++timer_streak_;
      // Past the first accesses of a timer poll, one `timer_poll` service event stands for
      // the rest: its wait_ns grows to the time the poll took (the reducer makes it a DELAY).
      if (timer_streak_ > kTimerPollStreak) {
        if (!trace_.empty() && trace_.back().kind == EventKind::service && trace_.back().service == kTimerPollService) {
          trace_.back().wait_ns = now() - trace_.back().t_ns;
          return;
        }
        record_service(kTimerPollService, 0);
        return;
      }
    } else {
      timer_streak_ = 0;
      nv_timer_step_ = kLegacyIoReadNs;
    }
    if (!event_budget_left()) return;
    TraceEvent& e = trace_.emplace_back();
    e.seq = trace_.size() - 1;
    e.t_ns = now();
    e.space = a.space;
    e.bar = a.bar;
    e.width = a.width;
    e.offset = a.offset;
    e.dir = d;
    e.value = value & width_mask(a.width);
    e.cs_ip = cpu_.insn_cs_ip();
    if (cfg_.record_icount) e.icount = cpu_.icount();
    // The model chose this value to end a spin loop (the reducer makes it a POLL target).
    if (d == Dir::read) e.loop_exit = model_.take_loop_exit();
  }
  void record_service(const char* name, u64 wait_ns) {
    if (!event_budget_left()) return;
    TraceEvent& e = trace_.emplace_back();
    e.seq = trace_.size() - 1;
    e.t_ns = now();
    e.kind = EventKind::service;
    e.service = name;
    e.wait_ns = wait_ns;
    e.cs_ip = cpu_.insn_cs_ip();
    if (cfg_.record_icount) e.icount = cpu_.icount();
  }
  // VGA I/O address select: a card decodes its CRTC and input status 1 at 0x3Bx in
  // monochrome addressing and at 0x3Dx in colour addressing, never both; the other range
  // belongs to another adapter, if any (ROMs probe it to find a second display).
  [[nodiscard]] bool vga_port_unclaimed(const Range& r, u16 port) const {
    if (r.space != Space::vga_io || vga_color_ < 0) return false;
    const bool mono_port = port == 0x3B4 || port == 0x3B5 || port == 0x3BA;
    const bool color_port = port == 0x3D4 || port == 0x3D5 || port == 0x3DA;
    return vga_color_ ? mono_port : color_port;
  }
  const Range* find(u64 addr, bool io) const {
    for (const auto& r : ranges_) {
      const bool r_io = r.space == Space::io || r.space == Space::vga_io;
      if (r_io == io && addr >= r.base && addr - r.base < r.size) return &r;
    }
    return nullptr;
  }
  static Access access_for(const Range& r, u64 addr, unsigned bytes) {
    Access a;
    a.space = r.space;
    a.bar = r.bar;
    a.width = u8(8 * bytes);
    a.offset = (r.space == Space::vga_io) ? addr : addr - r.base;
    return a;
  }

  // NVIDIA's PTIMER: TIME_0 (0x9400) and TIME_1 (0x9410) count nanoseconds; here virtual
  // time. ROMs wait on it (read until the difference reaches the delay). Past the first
  // reads of such a poll, each read moves time on by a step that doubles (from 1 us, up to
  // a quarter BIOS tick): a wait of T ends after about log2(T / 1 us) more reads, at most
  // twice T (or a quarter tick) late.
  static bool nv_timer_register(u64 off) { return off == 0x9400 || off == 0x9410; }
  bool nv_bar0(const Access& a) const { return nv_card_ && a.space == Space::mmio && a.bar == 0; }
  bool nv_ptimer_read(const Access& a, unsigned bytes, u32& v) {
    if (bytes != 4 || !nv_timer_access(a, Dir::read, 0)) return false;
    if (timer_streak_ >= kTimerPollStreak) {
      extra_ns_ += nv_timer_step_;
      nv_timer_step_ = std::min<u64>(nv_timer_step_ * 2, kTickNs / 4);
    }
    v = a.offset == 0x9400 ? u32(now()) : u32(now() >> 32);
    return true;
  }
  // The accesses of a PTIMER poll: its reads, and through the I/O BAR window, the writes of
  // its address.
  bool nv_timer_access(const Access& a, Dir d, u64 value) const {
    if (!nv_card_) return false;
    if (nv_bar0(a)) return d == Dir::read && nv_timer_register(a.offset);
    return a.space == Space::io && a.bar == nv_io_bar_ && a.offset == 8 && d == Dir::write &&
           nv_timer_register(value & 0x00FFFFFCu);
  }
  // NVIDIA's PROM: BAR0 0x300000-0x3FFFFF reads the ROM chip (PcConfig::rom_chip, else the
  // image); erased flash (0xFF) past its end. Its ROMs copy code and tables from there.
  bool nv_prom_read(const Access& a, unsigned bytes, u32& v) {
    if (!nv_bar0(a) || a.offset < kNvProm || a.offset + bytes > kNvProm + kNvPromSize) return false;
    const u64 at = a.offset - kNvProm;
    if (at + bytes > rom_chip_.size() && !rom_read_past_end_) rom_read_past_end_ = std::max<u64>(at, rom_chip_.size());
    v = 0;
    for (unsigned i = 0; i < bytes; ++i) v |= u32(at + i < rom_chip_.size() ? rom_chip_[at + i] : 0xFF) << (8 * i);
    return true;
  }
  // NVIDIA's legacy-window redirect, as their ROMs use it to read the PROM: register
  // 0x1A40 holds a 64 KiB-aligned BAR0 address, bit 0 enabling it; the first 64 KiB of the
  // VGA memory window (A0000) then read and write BAR0 from that address. The trace
  // records the VGA memory access; the model is given the register access. True when it
  // was one.
  bool nv_vga_window(Access& a) const {
    if (!(nv_vga_window_ & 1) || a.space != Space::vga_mem || a.offset + a.width / 8 > 0x10000) return false;
    a.space = Space::mmio;
    a.bar = 0;
    a.offset += nv_vga_window_ & 0xFFFF0000u;
    return true;
  }
  // A read of the card as the code's access `m` reaches it: the registers the PC answers
  // itself (NVIDIA's PTIMER and PROM), else the model.
  u32 device_read(const Access& m, unsigned bytes) {
    u32 v;
    if (nv_ptimer_read(m, bytes, v) || nv_prom_read(m, bytes, v)) return v;
    return u32(model_.read(m, now()) & width_mask(8 * bytes));
  }
  void nv_register_write(const Access& a, unsigned bytes, u32 value) {
    if (nv_bar0(a)) latch_write(nv_vga_window_, 0x1A40, a.offset, bytes, value);
  }
  // NVIDIA G80 and later: I/O BAR offset 8 holds a register address and offset 12 is the
  // data port of the register it names (BAR0). A data-port access is recorded and modelled
  // as that register access, so each register keeps its own value. True when it was one.
  bool nv_window(Access& a) const {
    if (nv_io_bar_ < 0 || a.space != Space::io || a.bar != nv_io_bar_ || a.offset < 12 || a.offset > 15) return false;
    a.space = Space::mmio;
    a.bar = 0;
    a.offset = (nv_addr_ & 0x00FFFFFCu) + (a.offset - 12);
    return true;
  }

  // The register window in the I/O BAR of ATI/AMD and Intel cards (PcConfig::io_window):
  // offset 0 is an index (MMIO_INDEX / MM_INDEX), offset 4 the data port of the register
  // it names in the register BAR. ATI's I/O BAR also mirrors the first 256 bytes of the
  // registers, and an index with bit 31 set names the frame buffer at
  // (MM_INDEX_HI (offset 0x18) << 31 | index[30:0]). The trace records the I/O access the
  // code made; the model is given the register or frame-buffer access it makes, so each
  // register keeps its own value. True when it was one.
  bool io_window(Access& a) const {
    if (win_io_bar_ < 0 || a.space != Space::io || a.bar != win_io_bar_) return false;
    if (a.offset >= 4 && a.offset < 8) {
      a.space = Space::mmio;
      if (win_fb_bar_ >= 0 && (win_index_ & 0x80000000u)) {
        a.bar = u8(win_fb_bar_);
        a.offset = ((u64(win_index_hi_) << 31) | (win_index_ & 0x7FFFFFFFu)) + (a.offset - 4);
      } else {
        a.bar = u8(win_reg_bar_);
        a.offset = win_index_ + (a.offset - 4);
      }
      return true;
    }
    if (dev_.vendor != 0x1002) return false;  // Intel: the index itself stays an I/O register
    a.space = Space::mmio;
    a.bar = u8(win_reg_bar_);
    return true;
  }
  // A window's address register (4 bytes at `reg_off` of the I/O BAR) takes the bytes of a
  // `bytes`-wide write at `off` that fall on it.
  static void latch_write(u32& reg, u64 reg_off, u64 off, unsigned bytes, u32 value) {
    for (unsigned i = 0; i < bytes; ++i)
      if (const u64 o = off + i; o >= reg_off && o < reg_off + 4) {
        const unsigned sh = unsigned(8 * (o - reg_off));
        reg = (reg & ~(0xFFu << sh)) | (((value >> (8 * i)) & 0xFFu) << sh);
      }
  }

  // At least 48 of the 64 bytes from the next instruction on are zeros (below our BIOS
  // segment): empty memory, or a data table, not code.
  [[nodiscard]] bool executing_blank_memory() const {
    const u32 at = cpu_.insn_cs_ip();
    const u32 lin = ((at >> 16) << 4) + (at & 0xFFFF);
    if (lin + 64 > kBiosBase) return false;  // our BIOS: its IRET stubs sit among zeros
    unsigned zeros = 0;
    for (u32 i = 0; i < 64; ++i) zeros += low_[lin + i] == 0;
    return zeros >= 48;
  }

  // ------------------------------------------------------------------ PCI config
  [[nodiscard]] bool cf8_hits_us() const {
    return (cf8_ & 0x80000000u) && ((cf8_ >> 16) & 0xFF) == cfg_.bus && ((cf8_ >> 8) & 0xFF) == cfg_.devfn;
  }
  u32 config_read(unsigned off, unsigned bytes);
  void config_write(unsigned off, unsigned bytes, u32 value);
  u32 header_read(unsigned off, unsigned bytes) const {
    u32 v = 0;
    for (unsigned i = 0; i < bytes; ++i) v |= u32(cfgspace_[(off + i) & 0xFF]) << (8 * i);
    return v;
  }
  void header_write_byte(unsigned off, u8 v);

  // ------------------------------------------------------------------ chipset
  u32 pit_read(unsigned ch);
  void fast_forward_timer_poll(unsigned what);
  [[nodiscard]] u32 io_bar_high_byte(u32 otherwise) const;
  void pit_write(unsigned ch, u8 v);
  void pit_control(u8 v);
  [[nodiscard]] u64 pit_ticks() const { return now() / 1000 * kPitHz / 1000000 + (now() % 1000) * kPitHz / 1000000000; }
  [[nodiscard]] u32 pit_count(const PitChannel& c) const;
  [[nodiscard]] bool pit_out(const PitChannel& c) const;

  // ------------------------------------------------------------------ BIOS services
  void set_cf(bool on) {  // in the FLAGS image the stub's IRET will pop
    const auto& r = cpu_.regs();
    const u32 at = (r.seg[SS].base + ((r.gpr[ESP] + 4) & 0xFFFF)) & 0xFFFFF;
    u16 f = get16(at);
    f = on ? u16(f | 1) : u16(f & ~1u);
    put16(at, f);
  }
  void set_zf(bool on) {
    const auto& r = cpu_.regs();
    const u32 at = (r.seg[SS].base + ((r.gpr[ESP] + 4) & 0xFFFF)) & 0xFFFFF;
    u16 f = get16(at);
    f = on ? u16(f | 0x40) : u16(f & ~0x40u);
    put16(at, f);
  }
  void set_ah(u8 v) { cpu_.regs().gpr[EAX] = (cpu_.regs().gpr[EAX] & ~0xFF00u) | u32(v) << 8; }
  void int15();
  void int1a();
  void pci_bios();
  void pmm();
  u32 pmm_alloc(u32 bytes, bool conventional);

  PcConfig cfg_;
  DeviceModel& model_;
  Cpu cpu_;
  LowMemory low_;  // 0-FFFFF
  std::map<u32, std::unique_ptr<std::array<u8, 0x1000>>> high_;
  std::vector<Range> ranges_;
  std::vector<TraceEvent> trace_;
  bool truncated_ = false;
  std::size_t max_events_ = kMaxTraceEvents;
  std::string debug_;
  u64 extra_ns_ = 0;  // waits of INT 15h/86h, timer-poll fast-forward
  u32 timer_streak_ = 0;
  static constexpr u64 kNvProm = 0x300000, kNvPromSize = 0x100000;
  bool nv_card_ = false;
  u32 nv_vga_window_ = 0;                 // register 0x1A40 (nv_vga_window())
  u64 nv_timer_step_ = kLegacyIoReadNs;  // nv_ptimer_read()
  std::optional<u64> rom_read_past_end_;  // PcResult::rom_read_past_end
  std::span<const u8> rom_chip_;
  int nv_io_bar_ = -1;  // NVIDIA's register window in the I/O BAR (nv_window()), -1: none
  u32 nv_addr_ = 0;
  int win_io_bar_ = -1, win_reg_bar_ = -1, win_fb_bar_ = -1;  // io_window(); -1: none
  u32 win_index_ = 0, win_index_hi_ = 0;
  // The VGA miscellaneous output register's I/O address select (bit 0), once the ROM has
  // written it (0x3C2): -1 until then, and both CRTC ranges decode.
  int vga_color_ = -1;

  // PCI
  DeviceInfo dev_;
  std::array<u8, 256> cfgspace_{};
  std::array<u32, 7> bar_mask_{};  // size masks; index 6 = expansion ROM
  std::array<bool, 6> bar_is_io_{}, bar_is_upper_{};
  u32 cf8_ = 0;
  // chipset
  std::array<PitChannel, 3> pit_{};
  u8 port61_ = 0;
  u32 pmm_low_ = 0, pmm_high_ = 0;
  PcStop service_stop_ = PcStop::completed;
  bool service_stopped_ = false;
};

// -------------------------------------------------------------------- set-up

void Machine::build_device(std::span<const u8> image) {
  dev_ = presented_device(image, cfg_);
  nv_card_ = dev_.vendor == 0x10DE || dev_.vendor == 0x12D2;
  rom_chip_ = cfg_.rom_chip.empty() ? image : cfg_.rom_chip;
  if (dev_.vendor == 0x10DE)
    for (const Bar& b : dev_.bars)
      if (b.kind == BarKind::io && b.index == 5) nv_io_bar_ = 5;
  if ((dev_.vendor == 0x1002 || dev_.vendor == 0x8086) && cfg_.io_window) {
    int io = -1, reg = -1, fb = -1;
    for (const Bar& b : dev_.bars) {
      if (b.kind == BarKind::io && io < 0) io = b.index;
      else if (b.kind != BarKind::io && b.prefetchable && fb < 0) fb = b.index;
      else if (b.kind != BarKind::io && !b.prefetchable && reg < 0) reg = b.index;
    }
    if (io >= 0 && reg >= 0) win_io_bar_ = io, win_reg_bar_ = reg;
    if (dev_.vendor == 0x1002) win_fb_bar_ = fb;
  }
  auto& c = cfgspace_;
  auto set16 = [&](unsigned o, u16 v) { c[o] = u8(v), c[o + 1] = u8(v >> 8); };
  auto set32 = [&](unsigned o, u32 v) { set16(o, u16(v)), set16(o + 2, u16(v >> 16)); };
  set16(0x00, dev_.vendor);
  set16(0x02, dev_.device);
  set16(0x04, 0x0003);  // I/O and memory decode on, as the BIOS leaves it
  c[0x09] = u8(dev_.class_code);
  c[0x0A] = u8(dev_.class_code >> 8);
  c[0x0B] = u8(dev_.class_code >> 16);
  set16(0x2C, dev_.subsystem_vendor.value_or(0));
  set16(0x2E, dev_.subsystem_device.value_or(0));
  c[0x3D] = 1;  // INTA#
  c[0x3C] = 11;
  for (const auto& b : dev_.bars) {
    if (b.index > 5) continue;
    u64 size = b.size < 16 ? 16 : b.size;
    if (b.kind == BarKind::io) {
      size = std::min<u64>(std::max<u64>(b.size, 4), 256);
      bar_mask_[b.index] = ~u32(size - 1) | 1;
      bar_is_io_[b.index] = true;
      set32(0x10 + 4 * b.index, 1);
    } else {
      const u32 flags = (b.kind == BarKind::mem64 ? 4 : 0) | (b.prefetchable ? 8 : 0);
      bar_mask_[b.index] = u32(~(size - 1)) | flags;
      set32(0x10 + 4 * b.index, flags);
      if (b.kind == BarKind::mem64 && b.index < 5) {
        bar_mask_[b.index + 1] = u32(~(size - 1) >> 32);
        bar_is_upper_[b.index + 1] = true;
      }
    }
  }
  // Expansion ROM BAR: sized for the image, disabled (the BIOS has copied it already).
  u32 rom_size = 0x800;
  while (rom_size < image.size() && rom_size < (1u << 24)) rom_size <<= 1;
  bar_mask_[6] = ~(rom_size - 1) | 1;
}

void Machine::place_bars() {
  // SeaBIOS-like placement for this one function: per region, entries sorted by size
  // (largest first, BAR index breaking ties) and packed upwards from a base aligned to
  // the largest; the non-prefetchable region ends at 0xFEC00000, the prefetchable one
  // below it; I/O from io_window_base up.
  struct Entry {
    int index;  // 6 = ROM
    u64 size;
  };
  std::vector<Entry> io, mem, pref;
  for (const auto& b : dev_.bars) {
    if (b.index > 5 || cfg_.bar_bases.count(b.index)) continue;
    if (b.kind == BarKind::io) io.push_back({b.index, std::min<u64>(std::max<u64>(b.size, 4), 256)});
    else (b.prefetchable ? pref : mem).push_back({b.index, std::max<u64>(b.size, 16)});
  }
  if (!cfg_.bar_bases.count(6)) mem.push_back({6, u64(~(bar_mask_[6] & ~1u)) + 1});
  auto sort = [](std::vector<Entry>& v) {
    std::stable_sort(v.begin(), v.end(), [](const Entry& a, const Entry& b) { return a.size > b.size; });
  };
  std::map<int, u64> base;
  auto pack_down = [&](std::vector<Entry>& v, u64 end) -> u64 {
    sort(v);
    if (v.empty()) return end;
    u64 sum = 0;
    for (auto& e : v) sum += e.size;
    const u64 align = v.front().size;
    u64 start = (end - sum) & ~(align - 1);
    for (auto& e : v) base[e.index] = start, start += e.size;
    return (end - sum) & ~(align - 1);
  };
  const u64 mem_start = pack_down(mem, 0xFEC00000ull);
  pack_down(pref, mem_start);
  sort(io);
  u64 io_at = cfg_.io_window_base;
  for (auto& e : io) {
    io_at = (io_at + e.size - 1) & ~(e.size - 1);
    base[e.index] = io_at;
    io_at += e.size;
  }
  for (const auto& [i, b] : cfg_.bar_bases) base[int(i)] = b;
  auto set32 = [&](unsigned o, u32 v) {
    for (unsigned k = 0; k < 4; ++k) cfgspace_[o + k] = u8(v >> (8 * k));
  };
  for (const auto& [i, b] : base) {
    if (i == 6) {
      set32(0x30, u32(b) & bar_mask_[6] & ~1u);
      continue;
    }
    if (i < 0 || i > 5 || bar_mask_[i] == 0) continue;
    const u32 low_flags = bar_is_io_[i] ? 1 : (bar_mask_[i] & 0xF);
    set32(0x10 + 4 * i, (u32(b) & bar_mask_[i] & ~0xFu) | low_flags);
    if (i < 5 && bar_is_upper_[i + 1]) set32(0x14 + 4 * i, u32(b >> 32));
  }
}

void Machine::rebuild_ranges() {
  ranges_.clear();
  const u16 cmd = u16(cfgspace_[4] | cfgspace_[5] << 8);
  auto rd32 = [&](unsigned o) { return header_read(o, 4); };
  for (unsigned i = 0; i < 6; ++i) {
    if (bar_mask_[i] == 0 || bar_is_upper_[i]) continue;
    const u32 v = rd32(0x10 + 4 * i);
    if (bar_is_io_[i]) {
      if (!(cmd & 1)) continue;
      const u64 size = u64(~(bar_mask_[i] & ~3u) & 0xFFFF) + 1;
      const u64 base = v & ~3u & 0xFFFF;
      if (base) ranges_.push_back({base, size, Space::io, u8(i)});
    } else {
      if (!(cmd & 2)) continue;
      u64 base = v & ~0xFu;
      u64 mask = bar_mask_[i] & ~0xFu;
      if (i < 5 && bar_is_upper_[i + 1]) {
        base |= u64(rd32(0x14 + 4 * i)) << 32;
        mask |= u64(bar_mask_[i + 1]) << 32;
      } else {
        mask |= 0xFFFFFFFF00000000ull;
      }
      const u64 size = ~mask + 1;
      // A BAR being sized (all ones) or left at 0 decodes nothing.
      if (base != 0 && (base & 0xFFFFFFFFull) != (mask & 0xFFFFFFFFull) && base < (1ull << 32))
        ranges_.push_back({base, size, Space::mmio, u8(i)});
    }
  }
  if (dev_.vga_decode) {
    if (cmd & 1) ranges_.push_back({0x3B0, 0x30, Space::vga_io, 0});
    if (cmd & 2) ranges_.push_back({0xA0000, 0x20000, Space::vga_mem, 0});
  }
  cpu_.flush_page_cache();
}

void Machine::build_bios() {
  // F000 segment: stubs, then tables. Everything else in it stays zero.
  for (unsigned v = 0; v < 256; ++v) {
    put16(v * 4, kDefaultIretIp);
    put16(v * 4 + 2, u16(kBiosSeg));
  }
  low_[kBiosBase + kDefaultIretIp] = 0xCF;  // IRET
  for (const auto& f : kFixedVectors) {
    put16(f.vector * 4, f.ip);
    if (f.hc != kHcIret) stub(f.ip, f.hc, 0xCF);
    else low_[kBiosBase + f.ip] = 0xCF;
  }
  // Data pointers: video parameter table (1Dh), diskette parameters (1Eh), no fonts.
  put16(0x1D * 4, 0xF0A4);
  put16(0x1E * 4, 0xEFC7);
  put16(0x1F * 4, 0);
  put16(0x1F * 4 + 2, 0);
  put16(0x43 * 4, 0);
  put16(0x43 * 4 + 2, 0);
  // INT 15h C0h configuration table: length 8, model FC, submodel 1, revision 0, features.
  const u8 table[] = {8, 0, 0xFC, 0x01, 0x00, 0x70, 0x40, 0x00, 0x00, 0x00};
  std::memcpy(&low_[kBiosBase + kConfigTableIp], table, sizeof table);
  // Return address of the init call and the hypercall that marks it.
  stub(cfg_.entry.return_ip, kHcReturn, 0xF4);
  // $PMM (PMM spec 1.01): signature, revision 1.0, length 0x20, checksum, entry point.
  {
    const u32 at = kBiosBase + kPmmStructIp;
    std::memcpy(&low_[at], "$PMM", 4);
    low_[at + 4] = 0x01;
    low_[at + 5] = 0x20;
    put16(at + 7, kPmmEntryIp);
    put16(at + 9, u16(kBiosSeg));
    u8 sum = 0;
    for (unsigned i = 0; i < 0x20; ++i) sum = u8(sum + low_[at + i]);
    low_[at + 6] = u8(-sum);
    stub(kPmmEntryIp, kHcPmm, 0xCB);  // far called: RETF
  }
  // $PnP installation structure (PnP BIOS 1.0a), pointed at by ES:DI at entry.
  {
    const u32 at = kBiosBase + kPnpStructIp;
    std::memcpy(&low_[at], "$PnP", 4);
    low_[at + 4] = 0x10;  // version 1.0
    low_[at + 5] = 0x21;  // length
    put16(at + 0x0D, kPnpEntryIp);
    put16(at + 0x0F, u16(kBiosSeg));
    put16(at + 0x1B, u16(kBiosSeg));
    put32(at + 0x1D, kBiosBase);
    u8 sum = 0;
    for (unsigned i = 0; i < 0x21; ++i) sum = u8(sum + low_[at + i]);
    low_[at + 8] = u8(-sum);
    stub(kPnpEntryIp, kHcPnp, 0xCB);
  }
  // BIOS data area.
  put16(0x40E, 0x9FC0);  // EBDA segment
  put16(0x410, 0x0021);  // equipment: 80x25 colour, no floppies... (bit 0: none)
  put16(0x413, 639);     // KiB of conventional memory below the EBDA
  low_[0x449] = 0x03;    // video mode
  put16(0x44A, 80);
  put16(0x463, 0x3D4);   // CRTC base
  low_[0x484] = 24;
  low_[0x9FC00] = 1;     // EBDA size in KiB
  // The stack SeaBIOS leaves: the far return address at SS:SP.
  const auto& e = cfg_.entry;
  const u32 sp_lin = (u32(e.ss) << 4) + e.sp;
  put16(sp_lin & 0xFFFFF, e.return_ip);
  put16((sp_lin + 2) & 0xFFFFF, e.return_cs);
  pmm_low_ = cfg_.pmm_low_top;
  pmm_high_ = cfg_.pmm_high_top;
}

// -------------------------------------------------------------------- PCI config

u32 Machine::config_read(unsigned off, unsigned bytes) {
  Access a;
  a.space = Space::config;
  a.width = u8(8 * bytes);
  a.offset = off;
  u32 v;
  if (off < 0x40) v = header_read(off, bytes);
  else v = u32(model_.read(a, now()) & width_mask(8 * bytes));
  record(a, Dir::read, v);
  return v;
}

void Machine::header_write_byte(unsigned off, u8 v) {
  if (off >= 0x10 && off < 0x28) {
    const unsigned i = (off - 0x10) / 4, k = off & 3;
    if (bar_mask_[i] == 0) return;  // unimplemented BAR: reads 0
    const u8 m = u8(bar_mask_[i] >> (8 * k));
    const u8 ro = k == 0 ? (bar_is_io_[i] ? 0x03 : (bar_is_upper_[i] ? 0x00 : 0x0F)) : 0x00;
    cfgspace_[off] = u8((v & m & ~ro) | (cfgspace_[off] & ro));
    return;
  }
  if (off >= 0x30 && off < 0x34) {
    const u8 m = u8(bar_mask_[6] >> (8 * (off & 3)));
    cfgspace_[off] = u8(v & m);
    return;
  }
  switch (off) {
    case 0x04: cfgspace_[off] = u8(v & 0x47); return;  // I/O, memory, master, parity, ...
    case 0x05: cfgspace_[off] = u8(v & 0x05); return;
    case 0x0C: case 0x0D: case 0x3C: cfgspace_[off] = v; return;
    default: return;  // identity and read-only registers
  }
}

void Machine::config_write(unsigned off, unsigned bytes, u32 value) {
  Access a;
  a.space = Space::config;
  a.width = u8(8 * bytes);
  a.offset = off;
  record(a, Dir::write, value);
  if (off >= 0x40) {
    model_.write(a, value, now());
    return;
  }
  for (unsigned i = 0; i < bytes && off + i < 0x40; ++i) header_write_byte(off + i, u8(value >> (8 * i)));
  if ((off < 0x28 && off + bytes > 0x04) || (off < 0x34 && off + bytes > 0x30)) rebuild_ranges();
}

// -------------------------------------------------------------------- I/O ports

u32 Machine::io_read(u16 port, unsigned bytes) {
  const u32 mask = u32(width_mask(8 * bytes));
  if (port == 0xCF8 && bytes == 4) return cf8_;
  if (port >= 0xCFC && port <= 0xCFF && (cf8_ & 0x80000000u)) {
    if (!cf8_hits_us()) return mask;  // no other function on the bus
    return config_read((cf8_ & 0xFC) + (port & 3), bytes);
  }
  const Range* r = find(port, true);
  if (r && vga_port_unclaimed(*r, port)) return mask;  // nothing answers: floating bus
  if (r) {
    Access a = access_for(*r, port, bytes);
    if (nv_window(a) && a.offset >= 0x88000 && a.offset + bytes <= 0x88100) {
      // NV_PBUS_PCI_NV_*: the card's config space, mirrored into its registers.
      const unsigned off = unsigned(a.offset - 0x88000);
      Access c = a;
      c.space = Space::config;
      c.bar = 0;
      c.offset = off;
      const u32 v = off < 0x40 ? header_read(off, bytes) : u32(model_.read(c, now()) & mask);
      record(a, Dir::read, v);
      return v;
    }
    Access m = a;
    io_window(m);
    u32 v = device_read(m, bytes);
    // ATI cards answer a read of 0x3C3 (VGA enable) with the upper byte of their I/O BAR:
    // their ROMs find the BAR that way (`in al, 0x3C3; mov dh, al`).
    if (port == 0x3C3 && bytes == 1 && a.space == Space::vga_io && dev_.vendor == 0x1002) v = io_bar_high_byte(v);
    record(a, Dir::read, v);
    return v;
  }
  Access a;
  a.space = Space::port;
  a.width = u8(8 * bytes);
  a.offset = port;
  u32 v;
  if (is_timer_port(port)) fast_forward_timer_poll(port == 0x61 ? 3 : port == 0x40 || port == 0x41 ? port - 0x40 : 2);
  if (port == kDelayPort) fast_forward_timer_poll(4);
  if (port >= 0x40 && port <= 0x42) {
    v = pit_read(port - 0x40);
  } else if (port == 0x43) {
    v = 0xFF;
  } else if (port == 0x61) {
    const bool refresh = (now() / kRefreshHalfPeriodNs) & 1;
    v = (port61_ & 0x0F) | (refresh ? 0x10 : 0) | (pit_out(pit_[2]) && (port61_ & 1) ? 0x20 : 0);
  } else if (port == 0x402) {
    v = 0xE9;  // the Bochs/QEMU debug port reads back its id
  } else {
    v = u32(model_.read(a, now()));
  }
  v &= mask;
  record(a, Dir::read, v);
  return v;
}

void Machine::io_write(u16 port, unsigned bytes, u32 value) {
  if (port == 0xCF8 && bytes == 4) {
    cf8_ = value;
    return;
  }
  if (port >= 0xCFC && port <= 0xCFF && (cf8_ & 0x80000000u)) {
    if (cf8_hits_us()) config_write((cf8_ & 0xFC) + (port & 3), bytes, value);
    return;
  }
  const Range* r = find(port, true);
  if (r && vga_port_unclaimed(*r, port)) return;  // another adapter's port
  if (r) {
    Access a = access_for(*r, port, bytes);
    if (a.space == Space::vga_io && a.offset == 0x3C2) vga_color_ = int(value & 1);
    if (a.space == Space::io && a.bar == nv_io_bar_ && a.offset >= 8) latch_write(nv_addr_, 8, a.offset, bytes, value);
    if (nv_window(a)) nv_register_write(a, bytes, value);
    if (a.space == Space::io && a.bar == win_io_bar_) {  // MM_INDEX / MMIO_INDEX, ATI's MM_INDEX_HI
      latch_write(win_index_, 0, a.offset, bytes, value);
      latch_write(win_index_hi_, 0x18, a.offset, bytes, value);
    }
    Access m = a;
    io_window(m);
    record(a, Dir::write, value);
    // PTIMER is the PC's (nv_ptimer_read()): the window address writes of a timer poll, like
    // the PIT's ports, do not reach the model (a delay inside a status poll would otherwise
    // make the poll's cycle too long for the spin breaker to see).
    if (!nv_timer_access(a, Dir::write, value)) model_.write(m, value, now());
    return;
  }
  Access a;
  a.space = Space::port;
  a.width = u8(8 * bytes);
  a.offset = port;
  record(a, Dir::write, value);
  if (port >= 0x40 && port <= 0x42) {
    pit_write(port - 0x40, u8(value));
  } else if (port == 0x43) {
    pit_control(u8(value));
  } else if (port == 0x61) {
    if ((value & 1) && !(port61_ & 1)) pit_[2].start_tick = pit_ticks();  // gate rises: restart
    port61_ = u8(value);
  } else if (port == 0x402) {
    for (unsigned i = 0; i < bytes && debug_.size() < kMaxDebugText; ++i) debug_.push_back(char(value >> (8 * i)));
  } else {
    model_.write(a, value, now());
  }
}

// -------------------------------------------------------------------- PIT

// Each read of the PIT or port 0x61 takes kLegacyIoReadNs of virtual time. A ROM that waits
// by polling the PIT or port 0x61 (`out 0x43, 0x80; in al, 0x42; in al,
// 0x42; cmp; jc`) runs thousands of instructions per counter tick at our virtual clock. Once
// kTimerPollStreak timer accesses came in a row (no device access between), each further
// timer read first advances virtual time by a quarter of the shortest period the code could
// be watching (the channel's period, or the refresh half-period of port 0x61), so no wrap
// or toggle is missed while the wait costs a few iterations per period. Deterministic; the
// trace's times show the wait as long as the ROM meant it.
void Machine::fast_forward_timer_poll(unsigned what) {
  // A read of the PC's timers is an ISA-speed cycle on real machines, about a microsecond:
  // two reads in a row see the counter move, as ROMs expect.
  if (timer_streak_ < kTimerPollStreak) {
    extra_ns_ += kLegacyIoReadNs;
    return;
  }
  auto period_ns = [&](const PitChannel& c) {
    const u64 ticks = c.mode == 3 ? std::max<u64>(c.reload / 2, 1) : std::max<u64>(c.reload, 1);
    return u64(ticks * 1000000000ull / kPitHz);
  };
  u64 step;
  if (what == 4) {  // port 0x80 reads: an I/O delay, in loops that watch the BDA tick count
    step = kTickNs / 4;
  } else if (what == 3) {
    step = kRefreshHalfPeriodNs / 4;
    if (port61_ & 1) step = std::min<u64>(step, period_ns(pit_[2]) / 4);
  } else {
    step = period_ns(pit_[what]) / 4;
  }
  extra_ns_ += std::max<u64>(step, kLegacyIoReadNs);
}

u32 Machine::io_bar_high_byte(u32 otherwise) const {
  for (unsigned i = 0; i < 6; ++i)
    if (bar_is_io_[i] && bar_mask_[i]) return u32(cfgspace_[0x10 + 4 * i + 1]);
  return otherwise;
}


u32 Machine::pit_count(const PitChannel& c) const {
  const u64 el = pit_ticks() - c.start_tick;
  const u64 period = c.reload;
  switch (c.mode) {
    case 2: return u32(period - el % period) & 0xFFFF;
    case 3: return u32((period - (2 * el) % period)) & 0xFFFE;
    default: return el < period ? u32(period - el) & 0xFFFF : u32(0x10000 - (el - period) % 0x10000) & 0xFFFF;
  }
}

bool Machine::pit_out(const PitChannel& c) const {
  const u64 el = pit_ticks() - c.start_tick;
  const u64 period = c.reload;
  switch (c.mode) {
    case 2: return el % period != period - 1;
    case 3: return el % period < (period + 1) / 2;
    default: return el >= period;
  }
}

u32 Machine::pit_read(unsigned ch) {
  PitChannel& c = pit_[ch];
  const u16 v = c.latched ? c.latch : u16(pit_count(c));
  u8 out;
  switch (c.access) {
    case 1: out = u8(v); c.latched = false; break;
    case 2: out = u8(v >> 8); c.latched = false; break;
    default:
      out = c.read_hi_next ? u8(v >> 8) : u8(v);
      if (c.read_hi_next) c.latched = false;
      c.read_hi_next = !c.read_hi_next;
  }
  return out;
}

void Machine::pit_write(unsigned ch, u8 v) {
  PitChannel& c = pit_[ch];
  auto load = [&](u32 r) {
    c.reload = r == 0 ? 0x10000 : r;
    c.start_tick = pit_ticks();
  };
  switch (c.access) {
    case 1: load(v); break;
    case 2: load(u32(v) << 8); break;
    default:
      if (!c.write_hi_next) c.partial = v;
      else load(c.partial | u32(v) << 8);
      c.write_hi_next = !c.write_hi_next;
  }
}

void Machine::pit_control(u8 v) {
  const unsigned ch = v >> 6;
  if (ch == 3) return;  // read-back command: not modelled
  PitChannel& c = pit_[ch];
  const u8 access = (v >> 4) & 3;
  if (access == 0) {  // counter latch
    if (!c.latched) c.latch = u16(pit_count(c)), c.latched = true;
    return;
  }
  c.access = access;
  c.mode = (v >> 1) & 7;
  if (c.mode > 5) c.mode &= 3;
  c.write_hi_next = c.read_hi_next = false;
  c.latched = false;
}

// -------------------------------------------------------------------- BIOS services

void Machine::hypercall(Cpu& cpu, u8 id) {
  sync_bda_ticks();
  auto& r = cpu.regs();
  const u8 ah = u8(r.gpr[EAX] >> 8);
  switch (id) {
    case kHcInt10:  // no video BIOS yet: nothing to do
      record_service("int10", 0);
      return;
    case kHcInt11: r.gpr[EAX] = (r.gpr[EAX] & ~0xFFFFu) | get16(0x410); return;
    case kHcInt12: r.gpr[EAX] = (r.gpr[EAX] & ~0xFFFFu) | get16(0x413); return;
    case kHcInt13:  // no disks
      set_ah(ah == 0 ? 0 : 1);
      set_cf(ah != 0);
      return;
    case kHcInt16:  // no keystrokes
      if (ah == 1 || ah == 0x11) set_zf(true);
      else r.gpr[EAX] &= ~0xFFFFu;
      return;
    case kHcInt15: int15(); return;
    case kHcInt1A: int1a(); return;
    case kHcInt18:
    case kHcInt19:
      service_stop_ = PcStop::boot_request;
      service_stopped_ = true;
      cpu.request_stop();
      return;
    case kHcPmm: pmm(); return;
    case kHcPnp: r.gpr[EAX] = (r.gpr[EAX] & ~0xFFFFu) | 0x82; return;  // function not supported
    case kHcReturn: return;  // the run loop stops here (set_stop_at)
    default: return;
  }
}

void Machine::int15() {
  auto& r = cpu_.regs();
  const u8 ah = u8(r.gpr[EAX] >> 8);
  switch (ah) {
    case 0x86: {  // wait CX:DX microseconds on virtual time
      const u64 us = (u64(r.gpr[ECX] & 0xFFFF) << 16) | (r.gpr[EDX] & 0xFFFF);
      extra_ns_ += us * 1000;
      record_service("int15_86", us * 1000);
      set_cf(false);
      return;
    }
    case 0x88:  // extended memory in KiB (max 63 MiB here)
      r.gpr[EAX] = (r.gpr[EAX] & ~0xFFFFu) | u16(std::min<u32>((kRamTop - 0x100000) >> 10, 0xFC00));
      set_cf(false);
      return;
    case 0xC0:
      r.seg[ES].selector = u16(kBiosSeg);
      r.seg[ES].base = kBiosBase;
      r.gpr[EBX] = (r.gpr[EBX] & ~0xFFFFu) | kConfigTableIp;
      set_ah(0);
      set_cf(false);
      return;
    default:
      record_service("int15", 0);
      set_ah(0x86);  // unsupported function
      set_cf(true);
      return;
  }
}

void Machine::int1a() {
  auto& r = cpu_.regs();
  const u8 ah = u8(r.gpr[EAX] >> 8);
  if (ah == 0xB1) {
    pci_bios();
    return;
  }
  if (ah == 0x00) {
    const u64 ticks = now() / kTickNs;
    r.gpr[ECX] = (r.gpr[ECX] & ~0xFFFFu) | u16(ticks >> 16);
    r.gpr[EDX] = (r.gpr[EDX] & ~0xFFFFu) | u16(ticks);
    r.gpr[EAX] &= ~0xFFu;
    set_cf(false);
    return;
  }
  record_service("int1a", 0);
  set_cf(true);
}

void Machine::pci_bios() {
  auto& r = cpu_.regs();
  const u8 al = u8(r.gpr[EAX]);
  const u16 our_bdf = u16(cfg_.bus << 8 | cfg_.devfn);
  auto ok = [&] {
    set_ah(0);
    set_cf(false);
  };
  auto fail = [&](u8 code) {
    set_ah(code);
    set_cf(true);
  };
  record_service("int1a_b1xx", 0);
  switch (al) {
    case 0x01:  // installation check
      r.gpr[EDX] = 0x20494350;  // "PCI "
      r.gpr[EAX] = (r.gpr[EAX] & ~0xFFFFu) | 0x0001;  // AH=0 present, AL=mechanism #1
      r.gpr[EBX] = (r.gpr[EBX] & ~0xFFFFu) | 0x0210;  // version 2.10
      r.gpr[ECX] = (r.gpr[ECX] & ~0xFFu) | cfg_.bus;  // last bus
      r.gpr[EDI] = kBiosBase;                          // protected-mode entry (unused)
      set_cf(false);
      return;
    case 0x02:  // find device CX, vendor DX, index SI
      if (u16(r.gpr[ECX]) == dev_.device && u16(r.gpr[EDX]) == dev_.vendor && u16(r.gpr[ESI]) == 0) {
        r.gpr[EBX] = (r.gpr[EBX] & ~0xFFFFu) | our_bdf;
        ok();
      } else {
        fail(0x86);
      }
      return;
    case 0x03:  // find class ECX (24 bits), index SI
      if ((r.gpr[ECX] & 0xFFFFFF) == dev_.class_code && u16(r.gpr[ESI]) == 0) {
        r.gpr[EBX] = (r.gpr[EBX] & ~0xFFFFu) | our_bdf;
        ok();
      } else {
        fail(0x86);
      }
      return;
    case 0x08: case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: {
      const unsigned bytes = (al == 0x08 || al == 0x0B) ? 1 : (al == 0x09 || al == 0x0C) ? 2 : 4;
      const unsigned reg = u16(r.gpr[EDI]);
      if (u16(r.gpr[EBX]) != our_bdf) {
        if (al <= 0x0A) r.gpr[ECX] = bytes == 4 ? 0xFFFFFFFFu : (r.gpr[ECX] | u32(width_mask(8 * bytes)));
        ok();  // an absent function reads all ones
        return;
      }
      if (reg > 0xFF || (reg & (bytes - 1))) {
        fail(0x87);  // bad register number
        return;
      }
      if (al <= 0x0A) {
        const u32 v = config_read(reg, bytes);
        const u32 keep = bytes == 4 ? 0 : ~u32(width_mask(8 * bytes));
        r.gpr[ECX] = (r.gpr[ECX] & keep) | v;
      } else {
        config_write(reg, bytes, r.gpr[ECX] & u32(width_mask(8 * bytes)));
      }
      ok();
      return;
    }
    default: fail(0x81); return;  // function not supported
  }
}

u32 Machine::pmm_alloc(u32 bytes, bool conventional) {
  u32& top = conventional ? pmm_low_ : pmm_high_;
  const u32 floor = conventional ? 0xE0000u : 0x100000u;
  const u32 need = (bytes + 15) & ~15u;
  if (need == 0 || need > top - floor) return 0;
  top -= need;
  if (conventional) std::memset(&low_[top], 0, need);
  return top;
}

void Machine::pmm() {
  // Far-called with the arguments on the stack: [SP+4] function, then its parameters.
  auto& r = cpu_.regs();
  const u32 sp = (r.seg[SS].base + (r.gpr[ESP] & 0xFFFF)) & 0xFFFFF;
  const u16 fn = get16(sp + 4);
  u32 result = 0;
  if (fn == 0) {  // allocate: length (paragraphs, dword), handle (dword), flags (word)
    const u32 paras = u32(get16(sp + 6)) | u32(get16(sp + 8)) << 16;
    const u16 flags = get16(sp + 14);
    if (paras == 0) {
      result = 0;  // "largest free block" queries: report none
    } else if (paras < (1u << 24)) {
      const bool conv = (flags & 3) != 2;
      result = pmm_alloc(paras * 16, conv);
      if (result == 0 && (flags & 3) == 3) result = pmm_alloc(paras * 16, false);
    }
  } else if (fn == 2) {
    result = 0;  // deallocate: success
  } else {
    result = 0;  // find handle: nothing registered
  }
  r.gpr[EAX] = (r.gpr[EAX] & ~0xFFFFu) | u16(result);
  r.gpr[EDX] = (r.gpr[EDX] & ~0xFFFFu) | u16(result >> 16);
}

// -------------------------------------------------------------------- run

PcResult Machine::run() {
  PcResult res;
  auto& r = cpu_.regs();
  const auto& e = cfg_.entry;
  r.gpr[EAX] = u32(cfg_.bus) << 8 | cfg_.devfn;
  r.gpr[EBX] = e.ebx;
  r.gpr[ECX] = e.ecx;
  r.gpr[EDX] = e.edx;
  r.gpr[ESI] = e.esi;
  r.gpr[EDI] = e.edi;
  r.gpr[EBP] = e.ebp;
  r.gpr[ESP] = e.sp;
  r.eflags = e.eflags | 0x2;
  r.eip = 3;
  const std::pair<SegIndex, u16> segs[] = {{ES, e.es}, {CS, u16(kRomBase >> 4)}, {SS, e.ss},
                                           {DS, e.ds}, {FS, e.fs},              {GS, e.gs}};
  for (auto [s, sel] : segs) {
    cpu_.load_segment_real(s, sel);
    r.seg[s].limit = s == CS ? 0xFFFF : 0xFFFFFFFF;  // big real mode, as SeaBIOS enters ROMs
  }
  cpu_.set_stop_at(e.return_cs, e.return_ip);
  // #UD stops while vector 6 is the BIOS default (an IRET back to the fault, forever); a
  // handler the ROM installs gets the exception.
  cpu_.set_unhandled_ud_vector(u16(kBiosSeg), kDefaultIretIp);

  const auto t0 = std::chrono::steady_clock::now();
  StopReason why = StopReason::none;
  u64 left = cfg_.max_instructions;
  bool timed_out = false, runaway = false;
  unsigned blank_slices = 0;
  while (true) {
    const u64 slice = std::min(left, kSliceInstructions);
    const u64 before = cpu_.icount();
    why = cpu_.run(slice);
    sync_bda_ticks();
    const u64 done = cpu_.icount() - before;
    left -= std::min(left, done);
    if (why != StopReason::budget) break;
    if (left == 0) break;
    // Three slice ends in a row in mostly zero-filled memory: the code ran off into
    // nothing or into a data table (`add [bx+si], al` ...), after a wild jump or return;
    // no real loop looks like that.
    blank_slices = executing_blank_memory() ? blank_slices + 1 : 0;
    if (blank_slices >= 3) {
      runaway = true;
      break;
    }
    if (cfg_.timeout_s > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > cfg_.timeout_s) {
      timed_out = true;
      break;
    }
  }
  char where[16];
  const u32 at = cpu_.fault_cs_ip() ? cpu_.fault_cs_ip() : cpu_.insn_cs_ip();
  std::snprintf(where, sizeof where, "%04x:%04x", at >> 16, at & 0xFFFF);
  res.instructions = cpu_.icount();
  if (runaway) {
    res.stop = PcStop::runaway;
    res.message = "execution ran into mostly zero-filled memory (no code) at " + std::string(where) + " after " +
                  std::to_string(res.instructions) + " instructions (a wild jump or return)";
  } else if (timed_out) {
    res.stop = PcStop::timeout;
    res.message = "wall-clock limit of " + std::to_string(cfg_.timeout_s) + " s reached after " +
                  std::to_string(res.instructions) + " instructions";
  } else {
    switch (why) {
      case StopReason::stop_address:
        res.stop = PcStop::completed;
        res.message = "init returned after " + std::to_string(res.instructions) + " instructions";
        break;
      case StopReason::budget:
        res.stop = PcStop::budget;
        res.message = "instruction budget of " + std::to_string(cfg_.max_instructions) + " used up at " + std::string(where);
        break;
      case StopReason::halted:
        res.stop = PcStop::halted;
        res.message = cpu_.last_error();
        break;
      case StopReason::invalid_opcode:
        res.stop = PcStop::invalid_opcode;
        res.message = "invalid opcode at " + std::string(where);
        break;
      case StopReason::unhandled_fault:
        res.stop = PcStop::unhandled_fault;
        res.message = cpu_.last_error() +
                      ": the default handler returns to the faulting instruction (a real machine hangs)";
        break;
      case StopReason::triple_fault:
        res.stop = PcStop::triple_fault;
        res.message = "triple fault: " + cpu_.last_error();
        break;
      case StopReason::requested:
        if (truncated_ && !service_stopped_) {
          res.stop = PcStop::budget;
          res.message = "event budget of " + std::to_string(max_events_) + " trace events used up at " + std::string(where);
          break;
        }
        [[fallthrough]];
      case StopReason::none:
        res.stop = service_stopped_ ? service_stop_ : PcStop::timeout;
        res.message = service_stopped_ ? std::string("the ROM asked to boot (INT 18h/19h) at ") + where
                                       : std::string("stopped at ") + where;
        break;
    }
  }
  res.t_ns = now();
  res.debug_text = std::move(debug_);
  res.truncated = truncated_;
  res.rom_read_past_end = rom_read_past_end_;
  if (rom_read_past_end_ && res.stop != PcStop::completed) {
    char off[24];
    std::snprintf(off, sizeof off, "0x%llx", static_cast<unsigned long long>(*rom_read_past_end_));
    res.message += "; it read its ROM chip past the end of the dump (offset " + std::string(off) +
                   "): the dump lacks what the code looked for there";
  }
  res.trace.events = std::move(trace_);
  res.trace.header.device = dev_;
  res.trace.header.tool_version = kToolVersion;
  return res;
}

}  // namespace

const char* pc_stop_name(PcStop s) noexcept {
  switch (s) {
    case PcStop::completed: return "completed";
    case PcStop::budget: return "budget";
    case PcStop::timeout: return "timeout";
    case PcStop::halted: return "halted";
    case PcStop::invalid_opcode: return "invalid_opcode";
    case PcStop::triple_fault: return "triple_fault";
    case PcStop::runaway: return "runaway";
    case PcStop::unhandled_fault: return "unhandled_fault";
    case PcStop::boot_request: return "boot_request";
    case PcStop::bad_image: return "bad_image";
  }
  return "?";
}

std::optional<PcirIds> read_pcir(std::span<const std::uint8_t> image) noexcept {
  if (image.size() < 0x1C || image[0] != 0x55 || image[1] != 0xAA) return std::nullopt;
  const std::size_t p = image[0x18] | image[0x19] << 8;
  if (p > image.size() || image.size() - p < 0x10) return std::nullopt;
  if (std::memcmp(&image[p], "PCIR", 4) != 0) return std::nullopt;
  PcirIds ids;
  ids.vendor = u16(image[p + 4] | image[p + 5] << 8);
  ids.device = u16(image[p + 6] | image[p + 7] << 8);
  ids.class_code = u32(image[p + 0xD]) | u32(image[p + 0xE]) << 8 | u32(image[p + 0xF]) << 16;
  return ids;
}

std::vector<ChainImage> walk_images(std::span<const std::uint8_t> rom) {
  std::vector<ChainImage> out;
  std::size_t at = 0;
  while (out.size() < kMaxChainImages && at < rom.size() && rom.size() - at >= 3) {
    const auto img = rom.subspan(at);
    if (img[0] != 0x55 || img[1] != 0xAA) break;
    ChainImage ci;
    ci.offset = at;
    ci.length = std::size_t(img[2]) * 512;
    bool last = true;
    if (img.size() >= 0x1A) {
      const std::size_t p = img[0x18] | img[0x19] << 8;
      if (p <= img.size() && img.size() - p >= 0x18 && std::memcmp(&img[p], "PCIR", 4) == 0) {
        ci.code_type = img[p + 0x14];
        ci.length = std::size_t(img[p + 0x10] | img[p + 0x11] << 8) * 512;
        last = (img[p + 0x15] & 0x80) != 0;
      }
    }
    if (ci.length == 0 || ci.length > img.size()) ci.length = img.size();  // truncated: keep what there is
    out.push_back(ci);
    if (last) break;
    at += ci.length;
  }
  return out;
}

DeviceInfo presented_device(std::span<const std::uint8_t> image, const PcConfig& cfg) {
  DeviceInfo d = cfg.device;
  if (d.vendor == 0) {
    if (auto ids = read_pcir(image)) {
      d.vendor = ids->vendor;
      d.device = ids->device;
      d.class_code = ids->class_code;
    } else {
      d.vendor = 0x1234;  // an ISA-style image: a placeholder display function
      d.device = 0x1111;
      d.class_code = 0x030000;
    }
  }
  if (d.class_code >> 8 == 0x0300) d.vga_decode = d.vga_decode || cfg.device.vendor == 0;
  if (d.bars.empty() && cfg.default_bars) d.bars = default_bars(d.vendor, d.device);
  return d;
}

// ROMs find their registers by BAR index, so a family's ROM only works with its own layout.
// ATI cards keep the R100 layout (I/O at BAR1) for every generation: the R5xx+ layout
// (I/O at BAR4) takes their ROMs deeper into init paths that poll registers the generic
// model cannot answer (37 ATI images: 27 complete with BAR1, 12 with BAR4; docs/corpus.md).
std::vector<Bar> default_bars(std::uint16_t vendor, std::uint16_t device) {
  constexpr std::uint64_t MiB = 1u << 20, KiB = 1u << 10;
  if (vendor == 0x10DE || vendor == 0x12D2) {
    // NVIDIA: registers at BAR0 (16 MiB), frame buffer at BAR1; from G80 (0x0190) on the frame
    // buffer and the instance memory are 64-bit BARs 1 and 3, and I/O is BAR5.
    if (vendor == 0x10DE && device >= 0x0190)
      return {Bar{0, BarKind::mem32, 16 * MiB, false}, Bar{1, BarKind::mem64, 256 * MiB, true},
              Bar{3, BarKind::mem64, 32 * MiB, true}, Bar{5, BarKind::io, 128, false}};
    return {Bar{0, BarKind::mem32, 16 * MiB, false}, Bar{1, BarKind::mem32, 128 * MiB, true}};
  } else if (vendor == 0x8086) {
    // Intel graphics: registers and GTT at BAR0, aperture at BAR2, I/O at BAR4.
    return {Bar{0, BarKind::mem64, 16 * MiB, false}, Bar{2, BarKind::mem64, 256 * MiB, true}, Bar{4, BarKind::io, 64, false}};
  }
  return {Bar{0, BarKind::mem32, 16 * MiB, true}, Bar{1, BarKind::io, 256, false}, Bar{2, BarKind::mem32, 64 * KiB, false}};
}

std::unique_ptr<DeviceModel> vendor_rom_model(std::span<const std::uint8_t> image, PcConfig& cfg) {
  cfg.io_window = true;
  return std::make_unique<SpinBreaker>(std::make_unique<GenericModel>(generic_options_for(presented_device(image, cfg))));
}

PcResult run_option_rom(std::span<const std::uint8_t> image, const PcConfig& cfg, DeviceModel& model) {
  if (image.size() < 4 || image[0] != 0x55 || image[1] != 0xAA) {
    PcResult res;
    res.stop = PcStop::bad_image;
    res.message = "offset 0x0: no 0x55AA option ROM signature";
    return res;
  }
  auto m = std::make_unique<Machine>(image, cfg, model);
  PcResult res = m->run();
  res.trace.header.rom_sha256 = sha256_hex(image);
  return res;
}

}  // namespace gpuinit::x86

// Arbitrary traces into the reducer: no crash, no hang; the output loads and reducing it
// again changes nothing (a difference traps, so the fuzzer reports it).
//
// Input: byte 0 picks the register map (none, or a small one with a quiet, a side-effect,
// a read-sensitive register and an index/data pair); then 12 bytes per event.
#include <cstddef>
#include <cstdint>

#include "gpuinit/format/json_io.hpp"
#include "gpuinit/reduce/reduce.hpp"

using namespace gpuinit;
namespace rd = gpuinit::reduce;

namespace {

const RegisterMap& small_map() {
  static const RegisterMap m = [] {
    RegisterMap r;
    r.name = "fuzz";
    auto reg = [&](std::uint64_t off, bool side, bool sens, AccessPolicy a) {
      Register x;
      x.name = "R" + std::to_string(off);
      x.offset = off;
      x.width = 32;
      x.write_side_effect = side;
      x.read_sensitive = sens;
      x.access = a;
      r.registers.push_back(x);
    };
    reg(0x10, false, false, AccessPolicy::rw);
    reg(0x14, true, false, AccessPolicy::rw);
    reg(0x18, false, true, AccessPolicy::rw);
    reg(0x1C, false, false, AccessPolicy::w1c);
    IndexedSpace s;
    s.name = "pair";
    s.index = {Space::io, 1, 0x10, 8};
    s.data = {Space::io, 1, 0x14, 32};
    r.indexed_spaces.push_back(s);
    return r;
  }();
  return m;
}

// Ports and offsets worth hitting: VGA ports, the PIT, 0x61, the debug ports, the pair.
constexpr std::uint16_t kPorts[] = {0x3C0, 0x3C1, 0x3C2, 0x3C4, 0x3C5, 0x3C7, 0x3C8, 0x3C9, 0x3CE, 0x3CF,
                                    0x3D4, 0x3D5, 0x3B4, 0x3B5, 0x3DA, 0x3BA, 0x40,  0x43,  0x61,  0x402,
                                    0x80,  0x10,  0x14,  0x18,  0x1C,  0x20,  0x3CC, 0xE9};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  rd::Options opt;
  opt.map = (data[0] & 1) ? &small_map() : nullptr;
  Trace t;
  std::uint64_t now = 0;
  static const Space spaces[] = {Space::mmio, Space::io, Space::config, Space::vga_io, Space::vga_mem,
                                 Space::port, Space::vga_seq, Space::vga_attr, Space::vga_dac};
  static const std::uint8_t widths[] = {8, 16, 32, 64};
  for (std::size_t p = 1; p + 12 <= size && t.events.size() < 4096; p += 12) {
    const std::uint8_t* b = data + p;
    TraceEvent e;
    e.seq = t.events.size();
    now += std::uint64_t(b[1]) << (b[2] & 15);  // gaps up to ~8 ms
    e.t_ns = (b[2] & 0x80) ? now / 2 : now;     // sometimes out of order
    if ((b[0] & 0x1F) == 0x1F) {
      e.kind = EventKind::service;
      e.service = (b[0] & 0x20) ? "int15_86" : "int1a";
      e.wait_ns = std::uint64_t(b[3]) << (b[4] & 31);
    } else {
      e.space = spaces[b[0] % std::size(spaces)];
      e.width = widths[(b[0] >> 4) & 3];
      e.dir = (b[0] & 0x40) ? Dir::write : Dir::read;
      e.offset = (b[3] & 0x80) ? std::uint64_t(b[3] | (b[4] << 8)) : kPorts[b[4] % std::size(kPorts)];
      e.bar = b[5] & 7;
      e.value = std::uint64_t(b[6]) | std::uint64_t(b[7]) << 8 | std::uint64_t(b[8]) << 16 |
                std::uint64_t(b[9]) << 24 | std::uint64_t(b[10]) << 56;
      e.loop_exit = b[11] & 1;
      // The reducer's contract is a trace that loads: every access inside its space (an
      // indexed VGA register below 0x100, a VGA port in 0x3B0-0x3DF, ...) and BAR 0-5.
      e.bar %= 6;
      std::uint64_t lo = 0, end = 0;
      switch (e.space) {
        case Space::vga_seq: case Space::vga_attr: case Space::vga_dac: end = 0x100; break;
        case Space::vga_io: lo = 0x3B0, end = 0x3E0; break;
        case Space::vga_mem: end = 0x20000; break;
        case Space::config: end = 0x1000; break;
        case Space::port: end = 0x10000; break;
        default: break;
      }
      if (end) {
        const std::uint64_t room = end - lo - e.width / 8u + 1;
        if (e.offset < lo || e.offset + e.width / 8u > end) e.offset = lo + (e.offset - lo) % room;
      }
    }
    if (b[11] & 2) e.cs_ip = 0xC0000000u | b[10];
    t.events.push_back(std::move(e));
  }
  const auto r = rd::reduce_trace(t, opt);
  if (!load_sequence(write_sequence(r.sequence)).ok()) __builtin_trap();
  const auto again = rd::reduce_sequence(r.sequence, opt);
  if (!(again.sequence == r.sequence)) __builtin_trap();
  (void)rd::explain(r.sequence, t);
  return 0;
}

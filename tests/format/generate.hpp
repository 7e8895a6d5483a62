// Seeded generators of valid documents for property tests and benchmarks. Every value
// generated is canonical (fields a kind does not write are left at their defaults), so
// from_json(to_json(x)) == x must hold exactly, and semantically valid (values fit their
// width and mask, offsets are aligned and inside their BAR), so the loaders accept it.
#pragma once
#include <cstdint>
#include <random>
#include <string>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit::gen {

using Rng = std::mt19937_64;

inline std::uint64_t below(Rng& r, std::uint64_t n) { return n ? r() % n : 0; }
inline bool coin(Rng& r) { return r() & 1; }
inline unsigned width(Rng& r) { return 8u << below(r, 4); }
// Mostly small values, sometimes the extremes of the width.
inline std::uint64_t value(Rng& r, unsigned w) {
  switch (below(r, 4)) {
    case 0: return 0;
    case 1: return width_mask(w);
    default: return r() & width_mask(w);
  }
}

inline DeviceInfo device(Rng& r) {
  DeviceInfo d;
  d.vendor = static_cast<std::uint16_t>(r());
  d.device = static_cast<std::uint16_t>(r());
  if (coin(r)) {
    d.subsystem_vendor = static_cast<std::uint16_t>(r());
    d.subsystem_device = static_cast<std::uint16_t>(r());
  }
  d.class_code = static_cast<std::uint32_t>(r() & 0xFFFFFF);
  d.bars.push_back({0, BarKind::mem32, std::uint64_t{1} << (12 + below(r, 16)), coin(r)});
  d.bars.push_back({2, BarKind::mem64, std::uint64_t{1} << (12 + below(r, 24)), coin(r)});
  d.bars.push_back({4, BarKind::io, std::uint64_t{1} << (4 + below(r, 4)), false});
  d.vga_decode = coin(r);
  return d;
}

inline Src src(Rng& r) {
  Src s;
  if (coin(r)) s.rom_offset = static_cast<std::uint32_t>(below(r, 0x20000));
  if (coin(r)) s.cs_ip = static_cast<std::uint32_t>(r());
  const auto n = below(r, 3);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto a = below(r, 1u << 20);
    s.seq.emplace_back(a, coin(r) ? a : a + below(r, 100));
  }
  return s;
}

// A location op (WRITE RMW READ POLL) at a valid, aligned place.
inline void locate(Rng& r, const DeviceInfo& d, Op& op) {
  op.width = static_cast<std::uint8_t>(width(r));
  const unsigned bytes = op.width / 8;
  switch (below(r, 8)) {
    case 0: {
      op.space = Space::mmio;
      const Bar& b = d.bars[below(r, 2)];
      op.bar = b.index;
      op.offset = below(r, b.size / bytes) * bytes;
      break;
    }
    case 1: {
      op.space = Space::io;
      op.bar = 4;
      op.width = static_cast<std::uint8_t>(8u << below(r, 3));
      op.offset = below(r, d.bars[2].size - op.width / 8 + 1);
      break;
    }
    case 2: op.space = Space::config; op.offset = below(r, 0x1000 / bytes) * bytes; break;
    case 3: op.space = Space::vga_io; op.width = 8; op.offset = 0x3B0 + below(r, 0x30); break;
    case 4: op.space = Space::vga_mem; op.offset = below(r, 0x20000 / bytes) * bytes; break;
    case 5: op.space = Space::port; op.width = 8; op.offset = below(r, 0x10000); break;
    case 6: op.space = static_cast<Space>(static_cast<unsigned>(Space::vga_seq) + below(r, 5)); op.width = 8; op.offset = below(r, 256); break;
    default: op.space = Space::named; op.space_name = coin(r) ? "ref_pll" : "mc_ind"; op.offset = below(r, 256); break;
  }
}

inline Op op(Rng& r, const DeviceInfo& d) {
  Op o;
  o.kind = static_cast<OpKind>(below(r, 5));  // END only at the end
  switch (o.kind) {
    case OpKind::write: locate(r, d, o); o.value = value(r, o.width); break;
    case OpKind::rmw:
    case OpKind::poll:
      locate(r, d, o);
      o.mask = value(r, o.width);
      o.value = value(r, o.width) & o.mask;
      if (o.kind == OpKind::poll) {
        o.interval_us = below(r, 1000);
        o.timeout_us = below(r, 1000000);
        o.on_timeout = coin(r) ? OnTimeout::fail : OnTimeout::continue_;
      }
      break;
    case OpKind::read:
      locate(r, d, o);
      if (coin(r)) {
        o.has_expect = true;
        o.expect_mask = value(r, o.width);
        o.expect_value = value(r, o.width) & o.expect_mask;
      }
      break;
    case OpKind::delay: o.us = below(r, 100000); break;
    case OpKind::fill:
    case OpKind::end: break;
  }
  if (below(r, 16) == 0) {  // a FILL of the legacy window (1.1)
    o = Op{};
    o.kind = OpKind::fill;
    o.space = Space::vga_mem;
    o.width = static_cast<std::uint8_t>(width(r));
    const unsigned bytes = o.width / 8;
    o.count = 1 + below(r, 64);
    o.offset = below(r, 0x20000 / bytes - o.count + 1) * bytes;
    o.value = value(r, o.width);
  }
  if (below(r, 4) == 0) o.src = src(r);
  if (below(r, 8) == 0) o.comment = "step " + std::to_string(below(r, 1000)) + " \"quoted\" \xc3\xa9";
  return o;
}

inline InitSequence sequence(Rng& r, std::size_t n_ops) {
  InitSequence s;
  s.metadata.source_rom_sha1 = coin(r) ? "unknown" : std::string(40, "0123456789abcdef"[below(r, 16)]);
  s.metadata.source_rom_sha256 = coin(r) ? "" : std::string(64, 'a');
  s.metadata.generated = "2025-01-16T13:00:00Z";
  s.metadata.pipeline_version = "0.1.0";
  s.metadata.method = coin(r) ? "x86-emulation" : "";
  if (coin(r)) s.metadata.counters["instructions"] = r() >> 1;
  s.device = device(r);
  s.ops.reserve(n_ops + 1);
  for (std::size_t i = 0; i < n_ops; ++i) s.ops.push_back(op(r, s.device));
  s.ops.push_back(Op{});  // END
  return s;
}

inline Trace trace(Rng& r, std::size_t n_events) {
  Trace t;
  t.header.source = "extract:test.rom";
  if (coin(r)) t.header.device = device(r);
  if (coin(r)) t.header.rom_sha256 = std::string(64, 'f');
  if (coin(r)) t.header.tool_version = "0.1.0";
  const DeviceInfo d = t.header.device ? *t.header.device : device(r);
  std::uint64_t seq = below(r, 10), t_ns = 0;
  for (std::size_t i = 0; i < n_events; ++i) {
    TraceEvent e;
    e.seq = seq;
    seq += 1 + below(r, 2);
    t_ns += below(r, 3) * 100;
    e.t_ns = t_ns;
    if (below(r, 10) == 0) {
      e.kind = EventKind::service;
      e.service = coin(r) ? "int15_86" : "int1a_b1xx";
      e.wait_ns = below(r, 2000000);
    } else {
      Op loc;
      locate(r, d, loc);
      if (!t.header.device && space_has_bar(loc.space)) loc.bar = static_cast<std::uint8_t>(below(r, 6));
      e.space = loc.space;
      e.space_name = loc.space_name;
      e.bar = loc.bar;
      e.width = loc.width;
      e.offset = loc.offset;
      e.dir = coin(r) ? Dir::read : Dir::write;
      e.value = value(r, e.width);
      e.loop_exit = below(r, 20) == 0;
    }
    if (coin(r)) e.cs_ip = static_cast<std::uint32_t>(r());
    if (coin(r)) e.icount = r() >> 8;
    if (below(r, 5) == 0) e.op = below(r, 1000);
    if (below(r, 5) == 0) e.rom_offset = static_cast<std::uint32_t>(below(r, 0x10000));
    t.events.push_back(std::move(e));
  }
  return t;
}

inline RegisterMap regmap(Rng& r, std::size_t n_regs) {
  RegisterMap m;
  m.name = "card-" + std::to_string(below(r, 100));
  if (coin(r)) m.description = "generated";
  m.device = device(r);
  m.vga = coin(r);
  IndexedSpace is;
  is.name = "ref_pll";
  is.index = {Space::io, 4, 0, 8};
  is.data = {Space::io, 4, 4, 32};
  is.size = 256;
  m.indexed_spaces.push_back(is);
  // Registers at distinct, aligned offsets of BAR0 (mmio) and of the indexed space.
  for (std::size_t i = 0; i < n_regs; ++i) {
    Register g;
    g.name = "R" + std::to_string(i);
    g.width = static_cast<std::uint8_t>(coin(r) ? 32 : 8u << below(r, 4));
    if (i % 5 == 4 && i / 5 < 256) {
      g.space = Space::named;
      g.space_name = "ref_pll";
      g.offset = i / 5;
    } else {
      g.space = Space::mmio;
      g.bar = 0;
      g.offset = i * 8;
      if (g.offset + 8 > m.device.bars[0].size) m.device.bars[0].size = std::uint64_t{1} << 24;
    }
    g.reset = value(r, g.width);
    g.access = static_cast<AccessPolicy>(below(r, 5));
    unsigned bit = 0;
    while (bit < g.width && below(r, 3)) {
      RegField f;
      f.name = "F" + std::to_string(bit);
      f.lsb = static_cast<std::uint8_t>(bit);
      f.msb = static_cast<std::uint8_t>(bit + below(r, g.width - bit));
      if (coin(r)) f.access = static_cast<AccessPolicy>(below(r, 5));
      if (coin(r)) f.description = "field";
      bit = f.msb + 1u + static_cast<unsigned>(below(r, 3));
      g.fields.push_back(std::move(f));
    }
    g.write_side_effect = coin(r);
    g.read_sensitive = coin(r);
    if (coin(r)) g.description = "register " + std::to_string(i);
    m.registers.push_back(std::move(g));
  }
  for (std::size_t i = 0; n_regs && i < n_regs / 2; ++i) {
    Behaviour b;
    b.kind = static_cast<BehaviourKind>(below(r, 3));
    const Register& reg = m.registers[below(r, n_regs)];
    b.reg = reg.name;
    b.mask = value(r, reg.width);
    b.value = value(r, reg.width) & b.mask;
    if (b.kind == BehaviourKind::delayed_set) {
      const Register& trig = m.registers[below(r, n_regs)];
      b.trigger = trig.name;
      b.trigger_mask = value(r, trig.width);
      b.trigger_value = value(r, trig.width) & b.trigger_mask;
      b.delay_ns = below(r, 1000000);
    }
    if (b.kind == BehaviourKind::readback) {
      b.when_mask = r();
      b.when_value = r() & b.when_mask;
      b.else_value = value(r, reg.width) & b.mask;
    }
    if (coin(r)) b.description = "behaviour";
    m.behaviours.push_back(std::move(b));
  }
  return m;
}

}  // namespace gpuinit::gen

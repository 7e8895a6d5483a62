#include "gpuinit/sim/decoder.hpp"

#include <cstdio>

#include "gpuinit/sim/block.hpp"

namespace gpuinit::sim {
namespace {

int region_of(Space s, unsigned bar) {
  switch (s) {
    case Space::mmio:
    case Space::io: return bar <= 5 ? int(kRegionBar0 + bar) : -1;
    case Space::config: return int(kRegionConfig);
    case Space::vga_io: return int(kRegionVgaIo);
    case Space::port: return int(kRegionPort);
    case Space::vga_mem: return int(kRegionVgaMem);
    default: return -1;
  }
}

RegLocation vga_port(std::uint64_t port) {
  RegLocation l;
  l.space = Space::vga_io;
  l.offset = port;
  l.width = 8;
  return l;
}

}  // namespace

std::string describe(const Access& a) {
  char buf[96];
  const std::string sp = a.space == Space::named ? std::string(a.space_name) : std::string(space_name(a.space));
  if (space_has_bar(a.space))
    std::snprintf(buf, sizeof buf, "%s bar %u offset 0x%llx width %u", sp.c_str(), unsigned(a.bar),
                  static_cast<unsigned long long>(a.offset), unsigned(a.width));
  else
    std::snprintf(buf, sizeof buf, "%s offset 0x%llx width %u", sp.c_str(), static_cast<unsigned long long>(a.offset),
                  unsigned(a.width));
  return buf;
}

bool Decoder::flat_step(const Access& a, bool write, std::uint64_t value, BusStep& out) const {
  const int region = region_of(a.space, a.bar);
  if (region < 0) {
    if (space_has_bar(a.space)) throw std::runtime_error("access " + describe(a) + ": BAR index beyond 5");
    return false;
  }
  const unsigned bytes = a.width / 8u;
  if (!valid_width(a.width) || a.offset >= kOffsetLimit || (a.offset % 8) + bytes > 8)
    throw std::runtime_error("access " + describe(a) +
                             " cannot be expressed on the register bus (crosses a 64-bit word or beyond 32-bit offset)");
  const unsigned lane = unsigned(a.offset % 8);
  out.word = bus_word(unsigned(region), a.offset);
  out.shift = lane * 8;
  out.be = std::uint8_t(((1u << bytes) - 1u) << lane);
  out.wr = write;
  out.rd = !write;
  out.wdata = write ? (value & width_mask(a.width)) << out.shift : 0;
  return true;
}

bool Decoder::split_steps(const Access& a, bool write, std::uint64_t value, BusStep& first, BusStep& second) const {
  const int region = region_of(a.space, a.bar);
  const unsigned bytes = a.width / 8u;
  if (region < 0 || !valid_width(a.width) || (a.offset % 8) + bytes <= 8) return false;
  if (a.offset >= kOffsetLimit || a.offset + bytes > kOffsetLimit)
    throw std::runtime_error("access " + describe(a) + " cannot be expressed on the register bus (beyond 32-bit offset)");
  const unsigned lane = unsigned(a.offset % 8), n1 = 8 - lane;
  const std::uint64_t v = write ? value & width_mask(a.width) : 0;
  first = BusStep{};
  first.word = bus_word(unsigned(region), a.offset);
  first.shift = lane * 8;
  first.be = std::uint8_t(0xFFu << lane);
  first.wr = write;
  first.rd = !write;
  first.wdata = v << first.shift;
  second = BusStep{};
  second.word = bus_word(unsigned(region), a.offset + n1);
  second.be = std::uint8_t((1u << (bytes - n1)) - 1u);
  second.wr = write;
  second.rd = !write;
  second.wdata = v >> (8 * n1);
  second.seq = true;
  return true;
}

Decoder::Pair Decoder::pair_of(const Access& a) const {
  Pair p;
  const bool vga_space = a.space == Space::vga_seq || a.space == Space::vga_crtc || a.space == Space::vga_gfx ||
                         a.space == Space::vga_attr || a.space == Space::vga_dac;
  if (vga_space && !map_.vga) throw std::runtime_error("access " + describe(a) + ": the map has no VGA register file");
  if (vga_space && a.offset > 0xFF) throw std::runtime_error("access " + describe(a) + ": VGA index beyond 0xFF");
  switch (a.space) {
    case Space::vga_seq: p.index = vga_port(0x3C4); p.data = vga_port(0x3C5); return p;
    case Space::vga_gfx: p.index = vga_port(0x3CE); p.data = vga_port(0x3CF); return p;
    case Space::vga_crtc:
      p.index = vga_port(0x3B4);  // mono unless misc output bit 0 says colour
      p.data = vga_port(0x3B5);
      p.crtc = true;
      return p;
    case Space::vga_attr: p.attr = true; return p;
    case Space::named:
      for (const auto& is : map_.indexed_spaces)
        if (is.name == a.space_name) {
          p.index = is.index;
          p.data = is.data;
          // Beyond the space: no register answers (reads 0), as for an unknown register;
          // the index register is not disturbed.
          p.none = a.offset >= is.size;
          return p;
        }
      throw std::runtime_error("access " + describe(a) + ": the map has no indexed space of that name");
    default: break;
  }
  throw std::runtime_error("access " + describe(a) + ": space not supported by the register bus");
}

}  // namespace gpuinit::sim

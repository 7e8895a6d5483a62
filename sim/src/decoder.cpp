#include "gpuinit/sim/decoder.hpp"

#include <cstdio>
#include <stdexcept>

#include "gpuinit/sim/block.hpp"

namespace gpuinit::sim {
namespace {

// Standard VGA index/data ports (the generated VGA register file decodes these).
constexpr std::uint64_t kSeqIndex = 0x3C4, kCrtcIndex = 0x3D4, kGfxIndex = 0x3CE;
constexpr std::uint64_t kAttrPort = 0x3C0, kAttrRead = 0x3C1, kInputStatus1 = 0x3DA;
// Attribute index written with the palette-address-source bit set, as BIOSes do when
// they leave the display on.
constexpr std::uint64_t kAttrPas = 0x20;

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

Decoder::Decoder(const RegisterMap& map) : map_(map) {}

bool Decoder::flat_step(const Access& a, bool write, std::uint64_t value, BusStep& out) const {
  const int region = region_of(a.space, a.bar);
  if (region < 0) return false;
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
  out.result = true;
  return true;
}

std::vector<BusStep> Decoder::steps(const Access& a, bool write, std::uint64_t value) const {
  BusStep s;
  if (flat_step(a, write, value, s)) return {s};

  auto port = [&](Space sp, std::uint8_t bar, std::uint64_t off, std::uint8_t width, bool wr, std::uint64_t v) {
    Access p;
    p.space = sp;
    p.bar = bar;
    p.offset = off;
    p.width = width;
    BusStep st;
    if (!flat_step(p, wr, v, st)) throw std::runtime_error("indexed space of " + describe(a) + " has a port in an indexed space");
    return st;
  };
  std::vector<BusStep> out;
  auto data = [&](BusStep st) {
    st.result = true;
    out.push_back(st);
  };
  switch (a.space) {
    case Space::vga_seq:
    case Space::vga_crtc:
    case Space::vga_gfx: {
      if (!map_.vga) throw std::runtime_error("access " + describe(a) + ": the map has no VGA register file");
      const std::uint64_t ix = a.space == Space::vga_seq ? kSeqIndex : a.space == Space::vga_crtc ? kCrtcIndex : kGfxIndex;
      auto iw = port(Space::vga_io, 0, ix, 8, true, a.offset);
      iw.result = false;
      out.push_back(iw);
      data(port(Space::vga_io, 0, ix + 1, 8, write, value));
      return out;
    }
    case Space::vga_attr: {
      if (!map_.vga) throw std::runtime_error("access " + describe(a) + ": the map has no VGA register file");
      auto rs = port(Space::vga_io, 0, kInputStatus1, 8, false, 0);  // flip-flop to "index"
      rs.result = false;
      out.push_back(rs);
      auto iw = port(Space::vga_io, 0, kAttrPort, 8, true, (a.offset & 0x1F) | kAttrPas);
      iw.result = false;
      out.push_back(iw);
      data(write ? port(Space::vga_io, 0, kAttrPort, 8, true, value) : port(Space::vga_io, 0, kAttrRead, 8, false, 0));
      if (!write) {
        // A data read leaves the flip-flop at "data": reset it to "index" again.
        auto r2 = port(Space::vga_io, 0, kInputStatus1, 8, false, 0);
        r2.result = false;
        out.push_back(r2);
      }
      return out;
    }
    case Space::named: {
      for (const auto& is : map_.indexed_spaces) {
        if (is.name != a.space_name) continue;
        auto iw = port(is.index.space, is.index.bar, is.index.offset, is.index.width, true, a.offset);
        iw.result = false;
        out.push_back(iw);
        data(port(is.data.space, is.data.bar, is.data.offset, is.data.width, write, value));
        return out;
      }
      throw std::runtime_error("access " + describe(a) + ": the map has no indexed space of that name");
    }
    default: break;
  }
  throw std::runtime_error("access " + describe(a) + ": space not supported by the register bus");
}

}  // namespace gpuinit::sim

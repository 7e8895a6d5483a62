#include "gpuinit/devices/register_namer.hpp"

#include <cstdio>

#include "gpuinit/devices/map_check.hpp"

namespace gpuinit {

namespace {

std::string hexs(std::uint64_t v, int digits = 0) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return b;
}

const char* vga_port_name(std::uint64_t p) {
  switch (p) {
    case 0x3B4: return "VGA_CRTC_INDEX_MONO";
    case 0x3B5: return "VGA_CRTC_DATA_MONO";
    case 0x3BA: return "VGA_STATUS1_MONO";
    case 0x3C0: return "VGA_ATTR_INDEX";
    case 0x3C1: return "VGA_ATTR_DATA_READ";
    case 0x3C2: return "VGA_MISC_WRITE";
    case 0x3C4: return "VGA_SEQ_INDEX";
    case 0x3C5: return "VGA_SEQ_DATA";
    case 0x3C6: return "VGA_DAC_MASK";
    case 0x3C7: return "VGA_DAC_READ_INDEX";
    case 0x3C8: return "VGA_DAC_WRITE_INDEX";
    case 0x3C9: return "VGA_DAC_DATA";
    case 0x3CA: return "VGA_FEATURE_READ";
    case 0x3CC: return "VGA_MISC_READ";
    case 0x3CE: return "VGA_GFX_INDEX";
    case 0x3CF: return "VGA_GFX_DATA";
    case 0x3D4: return "VGA_CRTC_INDEX";
    case 0x3D5: return "VGA_CRTC_DATA";
    case 0x3DA: return "VGA_STATUS1";
    default: return nullptr;
  }
}

}  // namespace

RegisterNamer::RegisterNamer(const RegisterMap& map) : vga_(map.vga) {
  for (const auto& r : map.registers)
    regs_[{int(r.space), r.space == Space::named ? r.space_name : std::string(),
           space_has_bar(r.space) ? int(r.bar) : 0, r.offset}] = {r.name, valid_width(r.width) ? r.width / 8u : 1u};
  for (const auto& s : map.indexed_spaces) {
    exact_[{int(s.index.space), std::string(), space_has_bar(s.index.space) ? int(s.index.bar) : 0, s.index.offset}] =
        s.name + ".index";
    exact_[{int(s.data.space), std::string(), space_has_bar(s.data.space) ? int(s.data.bar) : 0, s.data.offset}] =
        s.name + ".data";
  }
  for (const auto& b : map.blocks)  // a byte inside a mapped data block: EDID+16
    if (b.mapped && b.size > 0)
      regs_[{int(b.space), std::string(), space_has_bar(b.space) ? int(b.bar) : 0, b.offset}] = {b.name, unsigned(b.size)};
}

std::string RegisterNamer::neutral(Space space, std::string_view space_name_v, std::uint8_t bar,
                                   std::uint64_t offset) {
  switch (space) {
    case Space::vga_seq: return "SEQ[" + hexs(offset, 2) + "]";
    case Space::vga_crtc: return "CRTC[" + hexs(offset, 2) + "]";
    case Space::vga_gfx: return "GFX[" + hexs(offset, 2) + "]";
    case Space::vga_attr: return "ATTR[" + hexs(offset, 2) + "]";
    case Space::vga_dac: {
      static constexpr char kRgb[] = {'r', 'g', 'b'};
      return "DAC[" + hexs(offset / 3, 2) + "]." + kRgb[offset % 3];
    }
    case Space::named: return std::string(space_name_v) + "[" + hexs(offset, 2) + "]";
    default: break;
  }
  std::string s(space_name(space));
  if (space_has_bar(space)) s += std::to_string(bar);
  return s + ":" + hexs(offset);
}

std::string RegisterNamer::name(Space space, std::string_view sname, std::uint8_t bar, std::uint64_t offset) const {
  const std::string ns = space == Space::named ? std::string(sname) : std::string();
  const int b = space_has_bar(space) ? int(bar) : 0;
  const Key k{int(space), ns, b, offset};
  if (auto it = exact_.find(k); it != exact_.end()) return it->second;
  if (space_is_indexed(space)) {
    if (auto it = regs_.find(k); it != regs_.end()) return it->second.first;
  } else {
    auto it = regs_.upper_bound(k);
    if (it != regs_.begin()) {
      --it;
      const auto& [ks, kn, kb, ko] = it->first;
      if (ks == int(space) && kn == ns && kb == b && offset - ko < it->second.second)
        return offset == ko ? it->second.first : it->second.first + "+" + std::to_string(offset - ko);
    }
    if (vga_ && space == Space::vga_io)
      if (const char* n = vga_port_name(offset)) return n;
  }
  return neutral(space, sname, bar, offset);
}

}  // namespace gpuinit

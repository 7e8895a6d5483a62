#include "gpuinit/devices/map_check.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "gpuinit/format/json_io.hpp"

namespace gpuinit {

namespace {

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string where_reg(std::size_t i) { return "/registers/" + std::to_string(i); }

std::string loc_text(Space s, const std::string& name, std::uint8_t bar, std::uint64_t off) {
  std::string t = s == Space::named ? name : std::string(space_name(s));
  if (space_has_bar(s)) t += " bar " + std::to_string(bar);
  return t + " offset " + hex(off);
}

}  // namespace

bool is_builtin_vga_port(std::uint64_t p) noexcept {
  switch (p) {
    case 0x3B4: case 0x3B5: case 0x3BA:
    case 0x3C0: case 0x3C1: case 0x3C2: case 0x3C4: case 0x3C5: case 0x3C6: case 0x3C7:
    case 0x3C8: case 0x3C9: case 0x3CA: case 0x3CC: case 0x3CE: case 0x3CF:
    case 0x3D4: case 0x3D5: case 0x3DA:
      return true;
    default:
      return false;
  }
}

std::uint32_t builtin_indexed_size(Space s) noexcept {
  switch (s) {
    case Space::vga_seq: case Space::vga_crtc: case Space::vga_gfx: case Space::vga_attr:
      return 256;
    case Space::vga_dac:
      return 768;
    default:
      return 0;
  }
}

std::vector<Problem> check_regmap_rules(const RegisterMap& m) {
  std::vector<Problem> out;
  auto add = [&](std::string where, std::string msg) { out.push_back({std::move(where), std::move(msg)}); };

  if (m.registers.size() > kMaxMapRegisters) {
    add("/registers", "more than " + std::to_string(kMaxMapRegisters) + " registers");
    return out;
  }
  if (m.behaviours.size() > kMaxMapBehaviours) {
    add("/behaviours", "more than " + std::to_string(kMaxMapBehaviours) + " behaviours");
    return out;
  }

  // Indexed spaces first: registers refer to them.
  std::map<std::string, std::uint32_t> named;
  // Occupied bytes of direct spaces: (space, bar, byte) -> owner description.
  std::map<std::tuple<int, int, std::uint64_t>, std::string> bytes;
  auto claim = [&](Space s, std::uint8_t bar, std::uint64_t off, unsigned n, const std::string& owner,
                   const std::string& where) {
    for (unsigned i = 0; i < n; ++i) {
      auto [it, fresh] = bytes.emplace(std::tuple{int(s), space_has_bar(s) ? int(bar) : 0, off + i}, owner);
      if (!fresh) {
        add(where, owner + " overlaps " + it->second + " at " + loc_text(s, "", bar, off + i));
        return;
      }
    }
  };
  auto check_bar = [&](Space s, std::uint8_t bar, std::uint64_t off, unsigned width, const std::string& who,
                       const std::string& where) {
    if (!space_has_bar(s)) return;
    const Bar* b = m.device.bar(bar);
    if (!b) {
      add(where, who + ": BAR " + std::to_string(bar) + " is not declared in device.bars");
      return;
    }
    if ((s == Space::io) != (b->kind == BarKind::io))
      add(where, who + ": space " + std::string(space_name(s)) + " does not match the kind of BAR " +
                     std::to_string(bar));
    if (off > b->size || width / 8 > b->size - off)
      add(where, who + ": offset " + hex(off) + " + " + std::to_string(width / 8) + " bytes lies outside BAR " +
                     std::to_string(bar) + " (" + hex(b->size) + " bytes)");
  };

  for (std::size_t i = 0; i < m.indexed_spaces.size(); ++i) {
    const auto& s = m.indexed_spaces[i];
    const std::string where = "/indexed_spaces/" + std::to_string(i);
    const auto sp = parse_space(s.name);
    if (!sp || *sp != Space::named) {
      add(where, "indexed space '" + s.name + "': name must be a new identifier, not a built-in space");
      continue;
    }
    if (!named.emplace(s.name, s.size).second) add(where, "indexed space '" + s.name + "' is declared twice");
    if (s.size == 0 || s.size > kMaxIndexedSpaceSize)
      add(where, "indexed space '" + s.name + "': size must be 1.." + std::to_string(kMaxIndexedSpaceSize));
    for (const auto* l : {&s.index, &s.data}) {
      const std::string who = "indexed space '" + s.name + "' " + (l == &s.index ? "index" : "data");
      if (space_is_indexed(l->space) || l->space == Space::named) {
        add(where, who + ": location must be in a direct space");
        continue;
      }
      if (!valid_width(l->width)) add(where, who + ": width " + std::to_string(l->width) + " is not 8/16/32/64");
      check_bar(l->space, l->bar, l->offset, l->width, who, where);
      if (m.vga && l->space == Space::vga_io && is_builtin_vga_port(l->offset))
        add(where, who + ": port " + hex(l->offset) + " is a built-in VGA port");
      // Index and data claim their first byte: a wide index may span the data port
      // (Bochs DISPI: 16-bit index at 0x1CE, data at 0x1CF).
      claim(l->space, l->bar, l->offset, 1, who, where);
    }
  }

  if (m.blocks.size() > kMaxMapBlocks) {
    add("/blocks", "more than " + std::to_string(kMaxMapBlocks) + " data blocks");
    return out;
  }
  std::set<std::string> block_names;
  for (std::size_t i = 0; i < m.blocks.size(); ++i) {
    const auto& b = m.blocks[i];
    const std::string where = "/blocks/" + std::to_string(i);
    const std::string who = "block '" + b.name + "'";
    if (b.name.empty()) add(where, "block #" + std::to_string(i) + " has no name");
    else if (!block_names.insert(b.name).second) add(where, who + ": name used twice");
    if (b.size > kMaxBlockBytes || b.data.size() > b.size) {
      add(where, who + ": " + std::to_string(b.data.size()) + " data bytes, size " + std::to_string(b.size) +
                     " (at most " + std::to_string(kMaxBlockBytes) + ", data no longer than size)");
      continue;
    }
    if (!b.mapped) continue;
    if (space_is_indexed(b.space) || b.space == Space::named || b.space == Space::config) {
      add(where, who + ": a block must lie in a direct space");
      continue;
    }
    check_bar(b.space, b.bar, b.offset, 0, who, where);
    if (space_has_bar(b.space))
      if (const Bar* bar = m.device.bar(b.bar); bar && b.size > bar->size - std::min(bar->size, b.offset))
        add(where, who + ": " + std::to_string(b.size) + " bytes from " + hex(b.offset) + " lie outside BAR " +
                       std::to_string(b.bar));
    if (m.vga && b.space == Space::vga_io)
      for (std::uint64_t k = 0; k < b.size; ++k)
        if (is_builtin_vga_port(b.offset + k)) {
          add(where, who + ": port " + hex(b.offset + k) + " is a built-in VGA port");
          break;
        }
    for (std::uint64_t k = 0; k < b.size; ++k) claim(b.space, b.bar, b.offset + k, 1, who, where);
  }

  std::set<std::string> names;
  std::map<std::tuple<int, std::string, std::uint64_t>, std::string> indices;
  for (std::size_t i = 0; i < m.registers.size(); ++i) {
    const auto& r = m.registers[i];
    const std::string where = where_reg(i);
    const std::string who = r.name.empty() ? "register #" + std::to_string(i) : r.name;
    if (r.name.empty()) add(where, "register #" + std::to_string(i) + " has no name");
    else if (!names.insert(r.name).second) add(where, who + ": name used twice");
    if (!valid_width(r.width)) {
      add(where, who + ": width " + std::to_string(r.width) + " is not 8/16/32/64");
      continue;
    }
    if (r.reset & ~width_mask(r.width))
      add(where, who + ": reset " + hex(r.reset) + " does not fit in " + std::to_string(r.width) + " bits");
    // Fields.
    std::uint64_t used = 0;
    std::set<std::string> fnames;
    for (std::size_t f = 0; f < r.fields.size(); ++f) {
      const auto& fd = r.fields[f];
      const std::string fw = where + "/fields/" + std::to_string(f);
      if (fd.lsb > fd.msb || fd.msb >= r.width) {
        add(fw, who + "." + fd.name + ": bits " + std::to_string(fd.msb) + ":" + std::to_string(fd.lsb) +
                    " lie outside the register's " + std::to_string(r.width) + " bits");
        continue;
      }
      if (!fnames.insert(fd.name).second) add(fw, who + "." + fd.name + ": field name used twice");
      if (used & fd.mask()) add(fw, who + "." + fd.name + ": overlaps another field");
      used |= fd.mask();
    }
    // Location.
    if (space_is_indexed(r.space)) {
      std::uint32_t size = 0;
      if (r.space == Space::named) {
        auto it = named.find(r.space_name);
        if (it == named.end()) {
          add(where, who + ": indexed space '" + r.space_name + "' is not declared in indexed_spaces");
          continue;
        }
        size = it->second;
      } else {
        if (!m.vga) add(where, who + ": space " + std::string(space_name(r.space)) + " needs \"vga\": true");
        size = builtin_indexed_size(r.space);
      }
      if (r.offset >= size) {
        add(where, who + ": index " + hex(r.offset) + " is past the space's " + std::to_string(size) + " indices");
        continue;
      }
      auto [it, fresh] = indices.emplace(std::tuple{int(r.space), r.space_name, r.offset}, who);
      if (!fresh)
        add(where, who + " overlaps " + it->second + " at " + loc_text(r.space, r.space_name, 0, r.offset));
    } else {
      check_bar(r.space, r.bar, r.offset, r.width, who, where);
      if (r.space == Space::vga_io) {
        if (r.offset < 0x3B0 || r.offset + r.width / 8 > 0x3E0)
          add(where, who + ": vga_io offset " + hex(r.offset) + " is outside 0x3b0-0x3df");
        if (m.vga)
          for (unsigned b = 0; b < r.width / 8u; ++b)
            if (is_builtin_vga_port(r.offset + b))
              add(where, who + ": port " + hex(r.offset + b) + " is a built-in VGA port");
      }
      if (r.space == Space::port && r.offset + r.width / 8 > 0x10000)
        add(where, who + ": port " + hex(r.offset) + " is outside the 64 KiB I/O space");
      claim(r.space, r.bar, r.offset, r.width / 8u, who, where);
    }
  }

  for (std::size_t i = 0; i < m.behaviours.size(); ++i) {
    const auto& b = m.behaviours[i];
    const std::string where = "/behaviours/" + std::to_string(i);
    const Register* r = m.find(b.reg);
    if (!r) {
      add(where, "behaviour on unknown register '" + b.reg + "'");
      continue;
    }
    if (!valid_width(r->width)) continue;
    const std::uint64_t wm = width_mask(r->width);
    if (b.mask == 0 || (b.mask & ~wm))
      add(where, b.reg + ": behaviour mask " + hex(b.mask) + " is empty or wider than the register");
    if (b.value & ~b.mask) add(where, b.reg + ": behaviour value " + hex(b.value) + " has bits outside its mask");
    if (b.kind == BehaviourKind::delayed_set) {
      const Register* t = m.find(b.trigger);
      if (!t) add(where, b.reg + ": trigger '" + b.trigger + "' is not a register of the map");
      else if (valid_width(t->width) && (b.trigger_mask == 0 || (b.trigger_mask & ~width_mask(t->width)) ||
                                         (b.trigger_value & ~b.trigger_mask)))
        add(where, b.reg + ": trigger mask/value do not fit trigger register " + b.trigger);
    }
    if (b.kind == BehaviourKind::constant && !b.trigger.empty()) {
      const Register* t = m.find(b.trigger);
      if (!t) add(where, b.reg + ": condition register '" + b.trigger + "' is not a register of the map");
      else if (valid_width(t->width) && (b.trigger_mask == 0 || (b.trigger_mask & ~width_mask(t->width)) ||
                                         (b.trigger_value & ~b.trigger_mask)))
        add(where, b.reg + ": condition mask/value do not fit register " + b.trigger);
    }
    if (b.kind == BehaviourKind::i2c_gpio) {
      const auto& l = b.i2c;
      bool bits_ok = true;
      for (const unsigned bit : {l.scl_out, l.sda_out, l.scl_oe, l.sda_oe, l.scl_in, l.sda_in})
        if (bit >= r->width) {
          add(where, b.reg + ": i2c line bit " + std::to_string(bit) + " lies outside the register's " +
                         std::to_string(r->width) + " bits");
          bits_ok = false;
          break;
        }
      if (l.address > 0x7F) add(where, b.reg + ": i2c address " + hex(l.address) + " is not 7-bit");
      if (!m.find_block(l.block)) add(where, b.reg + ": i2c block '" + l.block + "' is not a block of the map");
      if ((b.when_mask & ~wm) || (b.when_value & ~b.when_mask))
        add(where, b.reg + ": i2c when_mask/when_value do not fit the register");
      if (bits_ok && (!(b.mask >> l.scl_in & 1) || !(b.mask >> l.sda_in & 1)))
        add(where, b.reg + ": i2c mask " + hex(b.mask) + " must contain the scl_in and sda_in bits");
    }
    if (b.kind == BehaviourKind::readback && (b.else_value & ~b.mask))
      add(where, b.reg + ": readback else_value " + hex(b.else_value) + " has bits outside its mask");
  }
  return out;
}

Loaded<RegisterMap> load_checked_regmap(std::string_view text) {
  auto r = load_regmap(text);
  if (!r.ok()) return r;
  r.problems = check_regmap_rules(*r.value);
  if (!r.problems.empty()) r.value.reset();
  return r;
}

}  // namespace gpuinit

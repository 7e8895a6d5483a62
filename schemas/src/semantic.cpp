// Semantic checks: rules about values in relation to each other, which JSON Schema cannot
// state. Input here has passed the schema, so types and enumerations are known good; the
// checks still never assume a relation they test (no shift by a width they did not check).
#include "gpuinit/format/semantic_check.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "check_detail.hpp"

namespace gpuinit {
namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string ptr(const std::string& base, std::string_view key) { return base + "/" + detail::pointer_token(key); }
std::string ptr(const std::string& base, std::size_t index) { return base + "/" + std::to_string(index); }

bool is_pow2(std::uint64_t v) { return v && !(v & (v - 1)); }

// The exclusive end of the offsets an access of `width` bits at `offset` covers, or nullopt
// when it wraps around 2^64.
std::optional<std::uint64_t> access_end(std::uint64_t offset, unsigned width) {
  const std::uint64_t bytes = width / 8;
  if (offset > ~std::uint64_t{0} - bytes) return std::nullopt;
  return offset + bytes;
}

// Size in offset units of the fixed spaces (0 = no fixed bound).
std::uint64_t fixed_space_end(Space s) {
  switch (s) {
    case Space::config: return 0x1000;     // PCIe extended config space
    case Space::vga_io: return 0x3E0;      // ports 0x3B0-0x3DF
    case Space::vga_mem: return 0x20000;   // 0xA0000-0xBFFFF
    case Space::port: return 0x10000;      // x86 I/O port space
    case Space::vga_seq:
    case Space::vga_crtc:
    case Space::vga_gfx:
    case Space::vga_attr: return 0x100;    // 8-bit index
    case Space::vga_dac: return 0x300;     // palette bytes: entry * 3 + component
    default: return 0;
  }
}

bool needs_alignment(Space s) { return s == Space::mmio || s == Space::config || s == Space::vga_mem; }

// Shared by sequence ops, trace events, registers and index/data locations: the location
// lies in its space (and in its BAR when the device lists BARs) and is aligned where the
// bus requires it.
void check_location(const DeviceInfo& dev, Space space, unsigned bar, std::uint64_t offset, unsigned width,
                    const std::string& where, std::vector<Problem>& out) {
  const std::string off_at = ptr(where, "offset");
  if (!valid_width(width)) return;  // the schema has already said so
  const auto end = access_end(offset, width);
  if (!end) {
    out.push_back({off_at, hex(offset) + " + " + std::to_string(width / 8) + " bytes wraps around"});
    return;
  }
  if (needs_alignment(space) && offset % (width / 8) != 0)
    out.push_back({off_at, hex(offset) + " is not aligned to its " + std::to_string(width) + "-bit width"});
  if (space == Space::vga_io && offset < 0x3B0)
    out.push_back({off_at, hex(offset) + " is below the VGA port range 0x3b0-0x3df"});
  if (const auto limit = fixed_space_end(space); limit && *end > limit)
    out.push_back({off_at, hex(offset) + " + " + std::to_string(width / 8) + " bytes is outside " +
                               std::string(space_name(space)) + " (ends at " + hex(limit) + ")"});
  if (space_has_bar(space) && !dev.bars.empty()) {
    const Bar* b = dev.bar(bar);
    if (!b) {
      out.push_back({ptr(where, "bar"), "BAR " + std::to_string(bar) + " is not among the device's BARs"});
      return;
    }
    const bool io_bar = b->kind == BarKind::io;
    if (io_bar != (space == Space::io))
      out.push_back({ptr(where, "bar"), "space " + std::string(space_name(space)) + " but BAR " + std::to_string(bar) +
                                            " is " + (io_bar ? "an I/O BAR" : "a memory BAR")});
    if (*end > b->size)
      out.push_back({off_at, hex(offset) + " + " + std::to_string(width / 8) + " bytes is outside BAR" +
                                 std::to_string(bar) + " (size " + hex(b->size) + ")"});
  }
}

void check_fits(std::uint64_t v, unsigned width, const std::string& where, std::vector<Problem>& out) {
  if (valid_width(width) && (v & ~width_mask(width)))
    out.push_back({where, hex(v) + " is wider than " + std::to_string(width) + " bits"});
}

void check_inside_mask(std::uint64_t v, std::uint64_t mask, const std::string& where, std::vector<Problem>& out) {
  if (v & ~mask) out.push_back({where, hex(v) + " has bits outside mask " + hex(mask) + ": " + hex(v & ~mask)});
}

}  // namespace

std::vector<Problem> check_device_semantics(const DeviceInfo& d, const std::string& where) {
  std::vector<Problem> out;
  std::set<unsigned> seen;
  for (std::size_t i = 0; i < d.bars.size(); ++i) {
    const Bar& b = d.bars[i];
    const std::string at = ptr(ptr(where, "bars"), i);
    if (!seen.insert(b.index).second)
      out.push_back({ptr(at, "index"), "BAR " + std::to_string(b.index) + " is listed twice"});
    if (!is_pow2(b.size)) out.push_back({ptr(at, "size"), hex(b.size) + " is not a power of two"});
    if (b.kind == BarKind::io && b.prefetchable)
      out.push_back({ptr(at, "prefetchable"), "an I/O BAR cannot be prefetchable"});
    if (b.kind == BarKind::io && b.size > 0x10000)
      out.push_back({ptr(at, "size"), hex(b.size) + " is larger than the I/O space"});
    if (b.kind == BarKind::mem32 && b.size > 0x100000000ull)
      out.push_back({ptr(at, "size"), hex(b.size) + " does not fit a 32-bit BAR"});
    if (b.kind == BarKind::mem64 && (b.index >= 5 || d.bar(b.index + 1u)))
      out.push_back({ptr(at, "index"), "a 64-bit BAR at " + std::to_string(b.index) +
                                           " needs BAR " + std::to_string(b.index + 1) + " for its upper half"});
  }
  return out;
}

std::vector<Problem> check_sequence_semantics(const InitSequence& s) {
  std::vector<Problem> out = check_device_semantics(s.device, "/device");
  const std::string base = "/init_sequence";
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    const Op& op = s.ops[i];
    const std::string at = ptr(base, i);
    switch (op.kind) {
      case OpKind::write:
      case OpKind::rmw:
      case OpKind::read:
      case OpKind::poll:
        check_location(s.device, op.space, op.bar, op.offset, op.width, at, out);
        break;
      case OpKind::fill: {
        if (op.space != Space::mmio && op.space != Space::vga_mem) {
          out.push_back({ptr(at, "space"), "FILL is for memory (mmio or vga_mem), not " +
                                               (op.space == Space::named ? op.space_name : std::string(space_name(op.space)))});
          break;
        }
        check_location(s.device, op.space, op.bar, op.offset, op.width, at, out);
        if (op.count == 0 || op.count > kMaxFillCount || !valid_width(op.width)) {
          if (op.count == 0 || op.count > kMaxFillCount)
            out.push_back({ptr(at, "count"), std::to_string(op.count) + " is not 1.." + std::to_string(kMaxFillCount)});
          break;
        }
        // The last store must lie inside the space and BAR too.
        const std::uint64_t step = op.width / 8u, span = (op.count - 1) * step;
        if (op.offset > ~std::uint64_t{0} - span) {
          out.push_back({ptr(at, "count"), "offset " + hex(op.offset) + " + " + std::to_string(op.count) + " stores wraps around"});
          break;
        }
        std::vector<Problem> last;
        check_location(s.device, op.space, op.bar, op.offset + span, op.width, at, last);
        for (auto& p : last)
          out.push_back({ptr(at, "count"), "the last of " + std::to_string(op.count) + " stores, at " +
                                               hex(op.offset + span) + ": " + p.message});
        break;
      }
      case OpKind::delay:
      case OpKind::end:
        break;
    }
    switch (op.kind) {
      case OpKind::write:
      case OpKind::fill: check_fits(op.value, op.width, ptr(at, "value"), out); break;
      case OpKind::rmw:
      case OpKind::poll:
        check_fits(op.mask, op.width, ptr(at, "mask"), out);
        check_fits(op.value, op.width, ptr(at, "value"), out);
        check_inside_mask(op.value, op.mask, ptr(at, "value"), out);
        break;
      case OpKind::read:
        if (op.has_expect) {
          check_fits(op.expect_mask, op.width, ptr(ptr(at, "expect"), "mask"), out);
          check_fits(op.expect_value, op.width, ptr(ptr(at, "expect"), "value"), out);
          check_inside_mask(op.expect_value, op.expect_mask, ptr(ptr(at, "expect"), "value"), out);
        }
        break;
      case OpKind::delay:
      case OpKind::end:
        break;
    }
    if (op.kind == OpKind::end && i + 1 < s.ops.size())
      out.push_back({at, "END is not the last op: " + std::to_string(s.ops.size() - i - 1) + " ops follow it"});
    for (const auto& [a, b] : op.src.seq)
      if (a > b) out.push_back({ptr(at, "src"), "seq range [" + std::to_string(a) + ", " + std::to_string(b) + "] is reversed"});
  }
  if (s.ops.empty()) out.push_back({base, "the sequence is empty: it must end with END"});
  else if (s.ops.back().kind != OpKind::end)
    out.push_back({ptr(base, s.ops.size() - 1), "the sequence does not end with END"});
  return out;
}

std::vector<Problem> check_trace_semantics(const Trace& t, std::span<const std::size_t> line_of_event) {
  std::vector<Problem> out;
  if (t.header.device) {
    for (auto& p : check_device_semantics(*t.header.device, "/device")) out.push_back({"line 1" + p.where, p.message});
  }
  const DeviceInfo no_device;
  const DeviceInfo& dev = t.header.device ? *t.header.device : no_device;
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    const TraceEvent& e = t.events[i];
    const std::string line = "line " + std::to_string(i < line_of_event.size() ? line_of_event[i] : i + 2);
    if (i > 0) {
      const TraceEvent& prev = t.events[i - 1];
      if (e.seq <= prev.seq)
        out.push_back({line + "/seq", std::to_string(e.seq) + " does not follow " + std::to_string(prev.seq) +
                                          " (seq must increase)"});
      if (e.t_ns < prev.t_ns)
        out.push_back({line + "/t_ns", std::to_string(e.t_ns) + " is earlier than the previous event's " +
                                           std::to_string(prev.t_ns) + " (time must not go back)"});
    }
    if (e.kind == EventKind::access) {
      check_fits(e.value, e.width, line + "/value", out);
      std::vector<Problem> loc;
      check_location(dev, e.space, e.bar, e.offset, e.width, line, loc);
      // An emulator records what the code did, aligned or not; only bounds are errors here.
      for (auto& p : loc)
        if (p.message.find("not aligned") == std::string::npos) out.push_back(std::move(p));
    }
  }
  return out;
}

std::vector<Problem> check_regmap_semantics(const RegisterMap& m) {
  std::vector<Problem> out = check_device_semantics(m.device, "/device");
  std::map<std::string, std::size_t> by_name;
  std::map<std::string, std::size_t> spaces;  // indexed space name -> index in indexed_spaces
  for (std::size_t k = 0; k < m.indexed_spaces.size(); ++k) {
    const auto& is = m.indexed_spaces[k];
    const std::string at = ptr("/indexed_spaces", k);
    const auto sp = parse_space(is.name);
    if (sp && *sp != Space::named)
      out.push_back({ptr(at, "name"), "\"" + is.name + "\" is a built-in space, not a card's own"});
    if (!spaces.emplace(is.name, k).second)
      out.push_back({ptr(at, "name"), "indexed space \"" + is.name + "\" is defined twice"});
    check_location(m.device, is.index.space, is.index.bar, is.index.offset, is.index.width, ptr(at, "index"), out);
    check_location(m.device, is.data.space, is.data.bar, is.data.offset, is.data.width, ptr(at, "data"), out);
    if (is.index == is.data) out.push_back({ptr(at, "data"), "the data port is the index port"});
    if (valid_width(is.index.width) && is.index.width < 64 && is.size > (std::uint64_t{1} << is.index.width))
      out.push_back({ptr(at, "size"), std::to_string(is.size) + " indices do not fit a " +
                                          std::to_string(is.index.width) + "-bit index"});
  }

  struct Span {
    Space space;
    std::string space_name;
    unsigned bar;
    std::uint64_t begin, end;
    std::size_t reg;
  };
  std::vector<Span> spans;
  for (std::size_t i = 0; i < m.registers.size(); ++i) {
    const Register& r = m.registers[i];
    const std::string at = ptr("/registers", i);
    if (const auto [it, fresh] = by_name.emplace(r.name, i); !fresh)
      out.push_back({ptr(at, "name"), "\"" + r.name + "\" is also the name of /registers/" + std::to_string(it->second)});
    check_fits(r.reset, r.width, ptr(at, "reset"), out);
    if (r.space == Space::named) {
      const auto sp = spaces.find(r.space_name);
      if (sp == spaces.end())
        out.push_back({ptr(at, "space"), "\"" + r.space_name + "\" is not one of the map's indexed_spaces"});
      else if (r.offset >= m.indexed_spaces[sp->second].size)
        out.push_back({ptr(at, "offset"), hex(r.offset) + " is outside indexed space \"" + r.space_name + "\" (size " +
                                              std::to_string(m.indexed_spaces[sp->second].size) + ")"});
    } else {
      check_location(m.device, r.space, r.bar, r.offset, r.width, at, out);
    }
    // Indexed spaces address one register per index; the others are byte-addressed.
    const std::uint64_t units = space_is_indexed(r.space) ? 1 : (valid_width(r.width) ? r.width / 8 : 1);
    if (r.offset <= ~std::uint64_t{0} - units)
      spans.push_back({r.space, r.space_name, space_has_bar(r.space) ? r.bar : 0u, r.offset, r.offset + units, i});

    std::map<std::string, std::size_t> field_names;
    std::uint64_t used = 0;
    for (std::size_t f = 0; f < r.fields.size(); ++f) {
      const RegField& fd = r.fields[f];
      const std::string fat = ptr(ptr(at, "fields"), f);
      if (!field_names.emplace(fd.name, f).second)
        out.push_back({ptr(fat, "name"), "field \"" + fd.name + "\" appears twice in " + r.name});
      if (fd.msb < fd.lsb) {
        out.push_back({ptr(fat, "msb"), "msb " + std::to_string(fd.msb) + " is below lsb " + std::to_string(fd.lsb)});
        continue;
      }
      if (fd.msb >= r.width) {
        out.push_back({ptr(fat, "msb"), "bit " + std::to_string(fd.msb) + " is past the register's " +
                                            std::to_string(r.width) + " bits"});
        continue;
      }
      if (used & fd.mask())
        out.push_back({fat, "field \"" + fd.name + "\" overlaps another field of " + r.name + " (bits " +
                                hex(used & fd.mask()) + ")"});
      used |= fd.mask();
    }
  }
  // Overlaps: sort by location, then each register can only overlap its neighbours'
  // running maximum end (O(n log n) for maps of any size).
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return std::tie(a.space, a.space_name, a.bar, a.begin, a.reg) < std::tie(b.space, b.space_name, b.bar, b.begin, b.reg);
  });
  for (std::size_t k = 1, run = 0; k < spans.size(); ++k) {
    const Span& a = spans[run];
    const Span& b = spans[k];
    const bool same = a.space == b.space && a.space_name == b.space_name && a.bar == b.bar;
    if (same && b.begin < a.end) {
      const auto& ra = m.registers[a.reg];
      const auto& rb = m.registers[b.reg];
      out.push_back({ptr("/registers", b.reg), rb.name + " at " + hex(rb.offset) + " overlaps " + ra.name + " at " +
                                                   hex(ra.offset) + " (/registers/" + std::to_string(a.reg) + ")"});
    }
    if (!same || b.end > a.end) run = k;
  }
  // Index and data ports belong to their pair: no register may sit on them.
  for (std::size_t k = 0; k < m.indexed_spaces.size(); ++k) {
    const auto& is = m.indexed_spaces[k];
    for (const auto& [which, loc] : {std::pair{"index", is.index}, std::pair{"data", is.data}}) {
      if (!valid_width(loc.width)) continue;
      const std::uint64_t lb = loc.offset, le = loc.offset + loc.width / 8;
      for (const auto& sp : spans)
        if (sp.space == loc.space && sp.bar == (space_has_bar(loc.space) ? loc.bar : 0u) && sp.begin < le &&
            lb < sp.end)
          out.push_back({ptr(ptr("/indexed_spaces", k), which),
                         std::string("the ") + which + " port of \"" + is.name + "\" is also register " +
                             m.registers[sp.reg].name + " (/registers/" + std::to_string(sp.reg) + ")"});
    }
  }

  for (std::size_t i = 0; i < m.behaviours.size(); ++i) {
    const Behaviour& b = m.behaviours[i];
    const std::string at = ptr("/behaviours", i);
    const Register* r = m.find(b.reg);
    if (!r) {
      out.push_back({ptr(at, "register"), "no register is named \"" + b.reg + "\""});
    } else {
      // The default mask (all ones) means "the whole register".
      const std::uint64_t mask = b.mask == ~std::uint64_t{0} ? width_mask(r->width) : b.mask;
      if (b.mask != ~std::uint64_t{0}) check_fits(b.mask, r->width, ptr(at, "mask"), out);
      check_fits(b.value, r->width, ptr(at, "value"), out);
      check_inside_mask(b.value, mask, ptr(at, "value"), out);
      if (b.kind == BehaviourKind::readback) check_inside_mask(b.else_value, mask, ptr(at, "else_value"), out);
    }
    if (b.kind == BehaviourKind::delayed_set) {
      const Register* t = m.find(b.trigger);
      if (!t) out.push_back({ptr(at, "trigger"), "no register is named \"" + b.trigger + "\""});
      else {
        check_fits(b.trigger_mask, t->width, ptr(at, "trigger_mask"), out);
        check_inside_mask(b.trigger_value, b.trigger_mask, ptr(at, "trigger_value"), out);
      }
    }
    if (b.kind == BehaviourKind::readback) check_inside_mask(b.when_value, b.when_mask, ptr(at, "when_value"), out);
  }
  return out;
}

}  // namespace gpuinit

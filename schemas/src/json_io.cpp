// JSON conversion of the three formats. Field order on output is fixed here so that files
// diff cleanly; loaders turn every exception into a Problem.
#include "gpuinit/format/json_io.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "gpuinit/format/schema_check.hpp"
#include "gpuinit/format/semantic_check.hpp"

namespace gpuinit {
using nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string format_cs_ip(std::uint32_t cs_ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", unsigned(cs_ip >> 16), unsigned(cs_ip & 0xFFFF));
  return buf;
}

std::optional<std::uint32_t> parse_cs_ip(std::string_view s) noexcept {
  if (s.size() != 9 || s[4] != ':') return std::nullopt;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 4) continue;
    const char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = unsigned(c - '0');
    else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
    else return std::nullopt;
    v = (v << 4) | d;
  }
  return v;
}

namespace {

const char* bar_kind_name(BarKind k) {
  switch (k) {
    case BarKind::mem32: return "mem32";
    case BarKind::mem64: return "mem64";
    case BarKind::io: return "io";
  }
  return "?";
}

BarKind parse_bar_kind(const std::string& s) {
  if (s == "mem32") return BarKind::mem32;
  if (s == "mem64") return BarKind::mem64;
  if (s == "io") return BarKind::io;
  throw std::invalid_argument("unknown BAR kind '" + s + "'");
}

Space space_from(const json& j, std::string& name_out) {
  const auto s = j.get<std::string>();
  const auto sp = parse_space(s);
  if (!sp) throw std::invalid_argument("unknown space '" + s + "'");
  name_out = (*sp == Space::named) ? s : std::string();
  return *sp;
}

std::string space_text(Space s, const std::string& name) {
  return s == Space::named ? name : std::string(space_name(s));
}

ojson device_json(const DeviceInfo& d) {
  ojson j;
  j["vendor"] = d.vendor;
  j["device"] = d.device;
  if (d.subsystem_vendor) j["subsystem_vendor"] = *d.subsystem_vendor;
  if (d.subsystem_device) j["subsystem_device"] = *d.subsystem_device;
  j["class"] = d.class_code;
  ojson bars = ojson::array();
  for (const auto& b : d.bars)
    bars.push_back(ojson{{"index", b.index}, {"kind", bar_kind_name(b.kind)}, {"size", b.size},
                         {"prefetchable", b.prefetchable}});
  j["bars"] = std::move(bars);
  j["vga_decode"] = d.vga_decode;
  return j;
}

ojson src_json(const Src& s) {
  ojson j = ojson::object();
  if (s.rom_offset) j["rom_offset"] = *s.rom_offset;
  if (s.cs_ip) j["cs_ip"] = format_cs_ip(*s.cs_ip);
  if (!s.seq.empty()) {
    ojson seq = ojson::array();
    for (auto [a, b] : s.seq) {
      if (a == b) seq.push_back(a);
      else seq.push_back(ojson::array({a, b}));
    }
    j["seq"] = std::move(seq);
  }
  return j;
}

void src_from(const json& j, Src& s) {
  if (j.contains("rom_offset")) s.rom_offset = j.at("rom_offset").get<std::uint32_t>();
  if (j.contains("cs_ip")) {
    auto v = parse_cs_ip(j.at("cs_ip").get<std::string>());
    if (!v) throw std::invalid_argument("cs_ip is not of the form ssss:oooo");
    s.cs_ip = *v;
  }
  if (j.contains("seq"))
    for (const auto& e : j.at("seq")) {
      if (e.is_array()) s.seq.emplace_back(e.at(0).get<std::uint64_t>(), e.at(1).get<std::uint64_t>());
      else s.seq.emplace_back(e.get<std::uint64_t>(), e.get<std::uint64_t>());
    }
}

ojson op_json(const Op& op) {
  ojson j;
  j["op"] = op_name(op.kind);
  switch (op.kind) {
    case OpKind::write:
    case OpKind::fill:
    case OpKind::rmw:
    case OpKind::read:
    case OpKind::poll:
      j["space"] = space_text(op.space, op.space_name);
      if (space_has_bar(op.space)) j["bar"] = op.bar;
      j["offset"] = op.offset;
      j["width"] = op.width;
      break;
    case OpKind::delay:
    case OpKind::end:
      break;
  }
  switch (op.kind) {
    case OpKind::write:
      j["value"] = op.value;
      break;
    case OpKind::fill:
      j["value"] = op.value;
      j["count"] = op.count;
      break;
    case OpKind::rmw:
      j["mask"] = op.mask;
      j["value"] = op.value;
      break;
    case OpKind::read:
      if (op.has_expect) j["expect"] = ojson{{"mask", op.expect_mask}, {"value", op.expect_value}};
      break;
    case OpKind::poll:
      j["mask"] = op.mask;
      j["value"] = op.value;
      j["interval_us"] = op.interval_us;
      j["timeout_us"] = op.timeout_us;
      j["on_timeout"] = op.on_timeout == OnTimeout::fail ? "fail" : "continue";
      break;
    case OpKind::delay:
      j["us"] = op.us;
      break;
    case OpKind::end:
      break;
  }
  if (!op.src.empty()) j["src"] = src_json(op.src);
  if (!op.comment.empty()) j["comment"] = op.comment;
  return j;
}

ojson metadata_json(const Metadata& m) {
  ojson j;
  j["source_rom_sha1"] = m.source_rom_sha1;
  j["source_rom_sha256"] = m.source_rom_sha256;
  j["generated"] = m.generated;
  j["pipeline_version"] = m.pipeline_version;
  j["method"] = m.method;
  ojson c = ojson::object();
  for (const auto& [k, v] : m.counters) c[k] = v;
  j["counters"] = std::move(c);
  return j;
}

ojson event_json(const TraceEvent& e) {
  ojson j;
  j["seq"] = e.seq;
  j["t_ns"] = e.t_ns;
  if (e.kind == EventKind::service) {
    j["service"] = e.service;
    if (e.wait_ns) j["wait_ns"] = e.wait_ns;
  } else {
    j["space"] = space_text(e.space, e.space_name);
    if (space_has_bar(e.space)) j["bar"] = e.bar;
    j["offset"] = e.offset;
    j["width"] = e.width;
    j["dir"] = e.dir == Dir::read ? "r" : "w";
    j["value"] = e.value;
    if (e.loop_exit) j["loop_exit"] = true;
  }
  if (e.cs_ip) j["cs_ip"] = format_cs_ip(*e.cs_ip);
  if (e.icount) j["icount"] = *e.icount;
  if (e.op) j["op"] = *e.op;
  if (e.rom_offset) j["rom_offset"] = *e.rom_offset;
  return j;
}

ojson header_json(const TraceHeader& h) {
  ojson j;
  j["trace_version"] = kTraceVersion;
  j["source"] = h.source;
  if (h.device) j["device"] = device_json(*h.device);
  if (!h.rom_sha256.empty()) j["rom_sha256"] = h.rom_sha256;
  if (!h.tool_version.empty()) j["tool_version"] = h.tool_version;
  return j;
}

ojson location_json(const RegLocation& l) {
  ojson j;
  j["space"] = std::string(space_name(l.space));
  if (space_has_bar(l.space)) j["bar"] = l.bar;
  j["offset"] = l.offset;
  j["width"] = l.width;
  return j;
}

void location_from(const json& j, RegLocation& l) {
  std::string ignored;
  l.space = space_from(j.at("space"), ignored);
  l.bar = j.value("bar", std::uint8_t{0});
  l.offset = j.at("offset").get<std::uint64_t>();
  l.width = j.value("width", std::uint8_t{8});
}

const char* behaviour_name(BehaviourKind k) {
  switch (k) {
#define GPUINIT_X(e, n) \
  case BehaviourKind::e: return n;
    GPUINIT_BEHAVIOURS(GPUINIT_X)
#undef GPUINIT_X
  }
  return "?";
}

BehaviourKind parse_behaviour(const std::string& s) {
#define GPUINIT_X(e, n) \
  if (s == n) return BehaviourKind::e;
  GPUINIT_BEHAVIOURS(GPUINIT_X)
#undef GPUINIT_X
  throw std::invalid_argument("unknown behaviour '" + s + "'");
}

ojson regmap_json(const RegisterMap& m) {
  ojson j;
  j["regmap_version"] = kRegmapVersion;
  j["name"] = m.name;
  if (!m.description.empty()) j["description"] = m.description;
  j["device"] = device_json(m.device);
  j["vga"] = m.vga;
  ojson regs = ojson::array();
  for (const auto& r : m.registers) {
    ojson rj;
    rj["name"] = r.name;
    rj["space"] = space_text(r.space, r.space_name);
    if (space_has_bar(r.space)) rj["bar"] = r.bar;
    rj["offset"] = r.offset;
    rj["width"] = r.width;
    rj["reset"] = r.reset;
    rj["access"] = access_policy_name(r.access);
    if (r.write_side_effect) rj["write_side_effect"] = true;
    if (r.read_sensitive) rj["read_sensitive"] = true;
    if (!r.description.empty()) rj["description"] = r.description;
    if (!r.fields.empty()) {
      ojson fs = ojson::array();
      for (const auto& f : r.fields) {
        ojson fj;
        fj["name"] = f.name;
        fj["lsb"] = f.lsb;
        fj["msb"] = f.msb;
        if (f.access) fj["access"] = access_policy_name(*f.access);
        if (!f.description.empty()) fj["description"] = f.description;
        fs.push_back(std::move(fj));
      }
      rj["fields"] = std::move(fs);
    }
    regs.push_back(std::move(rj));
  }
  j["registers"] = std::move(regs);
  ojson spaces = ojson::array();
  for (const auto& s : m.indexed_spaces)
    spaces.push_back(ojson{{"name", s.name}, {"index", location_json(s.index)}, {"data", location_json(s.data)},
                           {"size", s.size}});
  j["indexed_spaces"] = std::move(spaces);
  ojson beh = ojson::array();
  for (const auto& b : m.behaviours) {
    ojson bj;
    bj["kind"] = behaviour_name(b.kind);
    bj["register"] = b.reg;
    bj["mask"] = b.mask;
    bj["value"] = b.value;
    if (b.kind == BehaviourKind::delayed_set || (b.kind == BehaviourKind::constant && !b.trigger.empty())) {
      bj["trigger"] = b.trigger;
      bj["trigger_mask"] = b.trigger_mask;
      bj["trigger_value"] = b.trigger_value;
      if (b.kind == BehaviourKind::delayed_set) bj["delay_ns"] = b.delay_ns;
    }
    if (b.kind == BehaviourKind::i2c_gpio) {
      bj["when_mask"] = b.when_mask;
      bj["when_value"] = b.when_value;
      bj["i2c"] = ojson{{"scl_out", b.i2c.scl_out}, {"sda_out", b.i2c.sda_out}, {"scl_oe", b.i2c.scl_oe},
                        {"sda_oe", b.i2c.sda_oe},   {"scl_in", b.i2c.scl_in},   {"sda_in", b.i2c.sda_in},
                        {"address", b.i2c.address}, {"block", b.i2c.block}};
    }
    if (b.kind == BehaviourKind::readback) {
      bj["when_mask"] = b.when_mask;
      bj["when_value"] = b.when_value;
      bj["else_value"] = b.else_value;
    }
    if (!b.description.empty()) bj["description"] = b.description;
    beh.push_back(std::move(bj));
  }
  j["behaviours"] = std::move(beh);
  if (!m.blocks.empty()) {
    ojson blocks = ojson::array();
    for (const auto& b : m.blocks) {
      ojson bj;
      bj["name"] = b.name;
      if (b.mapped) {
        bj["space"] = std::string(space_name(b.space));
        if (space_has_bar(b.space)) bj["bar"] = b.bar;
        bj["offset"] = b.offset;
      }
      bj["size"] = b.size;
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      hex.reserve(b.data.size() * 2);
      for (const auto byte : b.data) {
        hex += kHex[byte >> 4];
        hex += kHex[byte & 15];
      }
      bj["data"] = std::move(hex);
      if (!b.description.empty()) bj["description"] = b.description;
      blocks.push_back(std::move(bj));
    }
    j["blocks"] = std::move(blocks);
  }
  return j;
}

template <class Fn>
void catching(std::vector<Problem>& problems, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    problems.push_back({"", e.what()});
  }
}

}  // namespace

void to_json(json& j, const DeviceInfo& d) { j = json::parse(device_json(d).dump()); }
void from_json(const json& j, DeviceInfo& d) {
  d = DeviceInfo{};
  d.vendor = j.at("vendor").get<std::uint16_t>();
  d.device = j.at("device").get<std::uint16_t>();
  if (j.contains("subsystem_vendor")) d.subsystem_vendor = j.at("subsystem_vendor").get<std::uint16_t>();
  if (j.contains("subsystem_device")) d.subsystem_device = j.at("subsystem_device").get<std::uint16_t>();
  d.class_code = j.value("class", std::uint32_t{0});
  if (j.contains("bars"))
    for (const auto& b : j.at("bars")) {
      Bar bar;
      bar.index = b.at("index").get<std::uint8_t>();
      bar.kind = parse_bar_kind(b.at("kind").get<std::string>());
      bar.size = b.at("size").get<std::uint64_t>();
      bar.prefetchable = b.value("prefetchable", false);
      d.bars.push_back(bar);
    }
  d.vga_decode = j.value("vga_decode", false);
}

void to_json(json& j, const Op& op) { j = json::parse(op_json(op).dump()); }
void from_json(const json& j, Op& op) {
  op = Op{};
  const auto name = j.at("op").get<std::string>();
  const auto kind = parse_op(name);
  if (!kind) throw std::invalid_argument("unknown op '" + name + "'");
  op.kind = *kind;
  if (j.contains("space")) op.space = space_from(j.at("space"), op.space_name);
  op.bar = j.value("bar", std::uint8_t{0});
  op.offset = j.value("offset", std::uint64_t{0});
  op.width = j.value("width", std::uint8_t{0});
  op.value = j.value("value", std::uint64_t{0});
  op.mask = j.value("mask", std::uint64_t{0});
  op.count = j.value("count", std::uint64_t{0});
  if (j.contains("expect")) {
    op.has_expect = true;
    op.expect_mask = j.at("expect").at("mask").get<std::uint64_t>();
    op.expect_value = j.at("expect").at("value").get<std::uint64_t>();
  }
  op.interval_us = j.value("interval_us", std::uint64_t{0});
  op.timeout_us = j.value("timeout_us", std::uint64_t{0});
  op.on_timeout = j.value("on_timeout", std::string("fail")) == "continue" ? OnTimeout::continue_ : OnTimeout::fail;
  op.us = j.value("us", std::uint64_t{0});
  if (j.contains("src")) src_from(j.at("src"), op.src);
  op.comment = j.value("comment", std::string());
}

void to_json(json& j, const InitSequence& s) { j = json::parse(write_sequence(s)); }
void from_json(const json& j, InitSequence& s) {
  s = InitSequence{};
  if (j.contains("_metadata")) {
    const auto& m = j.at("_metadata");
    s.metadata.source_rom_sha1 = m.value("source_rom_sha1", std::string("unknown"));
    s.metadata.source_rom_sha256 = m.value("source_rom_sha256", std::string());
    s.metadata.generated = m.value("generated", std::string());
    s.metadata.pipeline_version = m.value("pipeline_version", std::string());
    s.metadata.method = m.value("method", std::string());
    if (m.contains("counters"))
      for (const auto& [k, v] : m.at("counters").items()) s.metadata.counters[k] = v.get<std::uint64_t>();
  }
  if (j.contains("device")) from_json(j.at("device"), s.device);
  for (const auto& o : j.at("init_sequence")) {
    Op op;
    from_json(o, op);
    s.ops.push_back(std::move(op));
  }
}

void to_json(json& j, const TraceEvent& e) { j = json::parse(event_json(e).dump()); }
void from_json(const json& j, TraceEvent& e) {
  e = TraceEvent{};
  e.seq = j.at("seq").get<std::uint64_t>();
  e.t_ns = j.value("t_ns", std::uint64_t{0});
  if (j.contains("service")) {
    e.kind = EventKind::service;
    e.service = j.at("service").get<std::string>();
    e.wait_ns = j.value("wait_ns", std::uint64_t{0});
  } else {
    e.kind = EventKind::access;
    e.space = space_from(j.at("space"), e.space_name);
    e.bar = j.value("bar", std::uint8_t{0});
    e.offset = j.at("offset").get<std::uint64_t>();
    e.width = j.at("width").get<std::uint8_t>();
    const auto d = j.at("dir").get<std::string>();
    if (d != "r" && d != "w") throw std::invalid_argument("dir must be \"r\" or \"w\"");
    e.dir = d == "r" ? Dir::read : Dir::write;
    e.value = j.at("value").get<std::uint64_t>();
    e.loop_exit = j.value("loop_exit", false);
  }
  if (j.contains("cs_ip")) {
    auto v = parse_cs_ip(j.at("cs_ip").get<std::string>());
    if (!v) throw std::invalid_argument("cs_ip is not of the form ssss:oooo");
    e.cs_ip = *v;
  }
  if (j.contains("icount")) e.icount = j.at("icount").get<std::uint64_t>();
  if (j.contains("op")) e.op = j.at("op").get<std::uint64_t>();
  if (j.contains("rom_offset")) e.rom_offset = j.at("rom_offset").get<std::uint32_t>();
}

void to_json(json& j, const TraceHeader& h) { j = json::parse(header_json(h).dump()); }
void from_json(const json& j, TraceHeader& h) {
  h = TraceHeader{};
  h.source = j.value("source", std::string());
  if (j.contains("device")) {
    DeviceInfo d;
    from_json(j.at("device"), d);
    h.device = d;
  }
  h.rom_sha256 = j.value("rom_sha256", std::string());
  h.tool_version = j.value("tool_version", std::string());
}

void to_json(json& j, const RegisterMap& m) { j = json::parse(regmap_json(m).dump()); }
void from_json(const json& j, RegisterMap& m) {
  m = RegisterMap{};
  m.name = j.at("name").get<std::string>();
  m.description = j.value("description", std::string());
  from_json(j.at("device"), m.device);
  m.vga = j.value("vga", false);
  for (const auto& rj : j.at("registers")) {
    Register r;
    r.name = rj.at("name").get<std::string>();
    r.space = space_from(rj.at("space"), r.space_name);
    r.bar = rj.value("bar", std::uint8_t{0});
    r.offset = rj.at("offset").get<std::uint64_t>();
    r.width = rj.value("width", std::uint8_t{32});
    r.reset = rj.value("reset", std::uint64_t{0});
    const auto acc = rj.value("access", std::string("rw"));
    const auto a = parse_access_policy(acc);
    if (!a) throw std::invalid_argument("unknown access policy '" + acc + "'");
    r.access = *a;
    r.write_side_effect = rj.value("write_side_effect", false);
    r.read_sensitive = rj.value("read_sensitive", false);
    r.description = rj.value("description", std::string());
    if (rj.contains("fields"))
      for (const auto& fj : rj.at("fields")) {
        RegField f;
        f.name = fj.at("name").get<std::string>();
        f.lsb = fj.at("lsb").get<std::uint8_t>();
        f.msb = fj.at("msb").get<std::uint8_t>();
        if (fj.contains("access")) {
          const auto fa = parse_access_policy(fj.at("access").get<std::string>());
          if (!fa) throw std::invalid_argument("unknown field access policy");
          f.access = *fa;
        }
        f.description = fj.value("description", std::string());
        r.fields.push_back(std::move(f));
      }
    m.registers.push_back(std::move(r));
  }
  if (j.contains("indexed_spaces"))
    for (const auto& sj : j.at("indexed_spaces")) {
      IndexedSpace s;
      s.name = sj.at("name").get<std::string>();
      location_from(sj.at("index"), s.index);
      location_from(sj.at("data"), s.data);
      s.size = sj.value("size", std::uint32_t{256});
      m.indexed_spaces.push_back(std::move(s));
    }
  if (j.contains("behaviours"))
    for (const auto& bj : j.at("behaviours")) {
      Behaviour b;
      b.kind = parse_behaviour(bj.at("kind").get<std::string>());
      b.reg = bj.at("register").get<std::string>();
      b.mask = bj.value("mask", ~std::uint64_t{0});
      b.value = bj.value("value", std::uint64_t{0});
      b.trigger = bj.value("trigger", std::string());
      b.trigger_mask = bj.value("trigger_mask", std::uint64_t{0});
      b.trigger_value = bj.value("trigger_value", std::uint64_t{0});
      b.delay_ns = bj.value("delay_ns", std::uint64_t{0});
      b.when_mask = bj.value("when_mask", std::uint64_t{0});
      b.when_value = bj.value("when_value", std::uint64_t{0});
      b.else_value = bj.value("else_value", std::uint64_t{0});
      if (bj.contains("i2c")) {
        const auto& ij = bj.at("i2c");
        b.i2c.scl_out = ij.at("scl_out").get<std::uint8_t>();
        b.i2c.sda_out = ij.at("sda_out").get<std::uint8_t>();
        b.i2c.scl_oe = ij.at("scl_oe").get<std::uint8_t>();
        b.i2c.sda_oe = ij.at("sda_oe").get<std::uint8_t>();
        b.i2c.scl_in = ij.at("scl_in").get<std::uint8_t>();
        b.i2c.sda_in = ij.at("sda_in").get<std::uint8_t>();
        b.i2c.address = ij.value("address", std::uint8_t{0x50});
        b.i2c.block = ij.at("block").get<std::string>();
      } else if (b.kind == BehaviourKind::i2c_gpio) {
        throw std::invalid_argument("behaviour '" + b.reg + "': i2c_gpio needs an \"i2c\" object");
      }
      b.description = bj.value("description", std::string());
      m.behaviours.push_back(std::move(b));
    }
  if (j.contains("blocks"))
    for (std::size_t i = 0; i < j.at("blocks").size(); ++i) {
      const auto& bj = j.at("blocks").at(i);
      DataBlock b;
      b.name = bj.at("name").get<std::string>();
      if (bj.contains("space")) {
        std::string ignored;
        b.mapped = true;
        b.space = space_from(bj.at("space"), ignored);
        b.bar = bj.value("bar", std::uint8_t{0});
        b.offset = bj.at("offset").get<std::uint64_t>();
      }
      const auto hex = bj.value("data", std::string());
      if (hex.size() % 2)
        throw std::invalid_argument("/blocks/" + std::to_string(i) + "/data: odd number of hex digits");
      const auto nibble = [&](char c, std::size_t at) -> unsigned {
        if (c >= '0' && c <= '9') return unsigned(c - '0');
        if (c >= 'a' && c <= 'f') return unsigned(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return unsigned(c - 'A' + 10);
        throw std::invalid_argument("/blocks/" + std::to_string(i) + "/data: character " + std::to_string(at) +
                                    " is not a hex digit");
      };
      b.data.reserve(hex.size() / 2);
      for (std::size_t k = 0; k + 1 < hex.size(); k += 2)
        b.data.push_back(std::uint8_t(nibble(hex[k], k) << 4 | nibble(hex[k + 1], k + 1)));
      b.size = bj.value("size", std::uint64_t(b.data.size()));
      b.description = bj.value("description", std::string());
      m.blocks.push_back(std::move(b));
    }
}

std::string write_sequence(const InitSequence& s) {
  // Top level pretty-printed, one op per line: stable and diffable.
  std::string out = "{\n";
  // 1.0 unless an op needs 1.1: what 1.0 readers can read stays readable by them.
  const bool v11 = std::any_of(s.ops.begin(), s.ops.end(), [](const Op& o) { return o.kind == OpKind::fill; });
  out += std::string("  \"schema_version\": \"") + (v11 ? "1.1" : "1.0") + "\",\n";
  out += "  \"_metadata\": " + metadata_json(s.metadata).dump() + ",\n";
  out += "  \"device\": " + device_json(s.device).dump() + ",\n";
  out += "  \"init_sequence\": [";
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    out += i ? ",\n    " : "\n    ";
    out += op_json(s.ops[i]).dump();
  }
  out += s.ops.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string write_trace_header(const TraceHeader& h) { return header_json(h).dump() + "\n"; }
std::string write_trace_event(const TraceEvent& e) { return event_json(e).dump() + "\n"; }

std::string write_trace(const Trace& t) {
  std::string out = write_trace_header(t.header);
  for (const auto& e : t.events) out += write_trace_event(e);
  return out;
}

std::string write_regmap(const RegisterMap& m) { return regmap_json(m).dump(2) + "\n"; }

namespace {

// Deepest nesting our formats need is 5 (trace header > device > bars > bar); anything
// much deeper is hostile and would recurse deep in the serializer that quotes values.
constexpr std::size_t kMaxJsonDepth = 64;

// Scans brackets outside strings; reports the byte where nesting passes the limit.
std::optional<std::size_t> too_deep_at(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false, escape = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth) {
      --depth;
    }
  }
  return std::nullopt;
}

// Parses one JSON document; on failure adds a problem that says where and returns false.
bool parse_document(std::string_view text, const std::string& where, json& out, std::vector<Problem>& problems) {
  if (const auto at = too_deep_at(text)) {
    problems.push_back({where, "not valid here: nesting deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels at byte " + std::to_string(*at)});
    return false;
  }
  try {
    out = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    std::string what = e.what();
    if (const auto p = what.find("] "); what.rfind("[json.exception", 0) == 0 && p != std::string::npos)
      what = what.substr(p + 2);
    problems.push_back({where, "not valid JSON: " + what});
    return false;
  }
  return true;
}

void cap_problems(std::vector<Problem>& problems) {
  if (problems.size() <= kMaxProblems) return;
  const std::size_t more = problems.size() - kMaxProblems;
  problems.resize(kMaxProblems);
  problems.push_back({"", "... and " + std::to_string(more) + " more problems"});
}

// "M.m" with digits only; nullopt for anything else (the schema then reports the value).
std::optional<std::pair<unsigned, unsigned>> parse_version(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  const auto dot = s.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == s.size() || s.size() > 12) return std::nullopt;
  unsigned major = 0, minor = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == dot) continue;
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    unsigned& part = i < dot ? major : minor;
    part = part * 10 + unsigned(s[i] - '0');
  }
  return std::pair{major, minor};
}

// Drops the properties a newer minor version added, which this version's schema does not
// know: everywhere the schema says additionalProperties false. Returns how many it dropped.
std::size_t prune_unknown(json& doc, const json& schema, const json& root, int depth) {
  if (depth > 16 || !schema.is_object()) return 0;
  std::size_t dropped = 0;
  if (const auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
    const auto& r = ref->get_ref<const std::string&>();
    if (r.rfind("#/definitions/", 0) == 0 && root.contains("definitions") && root["definitions"].contains(r.substr(14)))
      dropped += prune_unknown(doc, root["definitions"][r.substr(14)], root, depth + 1);
    return dropped;
  }
  if (doc.is_object()) {
    const auto props = schema.find("properties");
    const auto add = schema.find("additionalProperties");
    if (props != schema.end() && add != schema.end() && add->is_boolean() && !add->get<bool>()) {
      for (auto it = doc.begin(); it != doc.end();) {
        if (!props->contains(it.key())) {
          it = doc.erase(it);
          ++dropped;
        } else {
          ++it;
        }
      }
    }
    if (props != schema.end())
      for (auto& [k, v] : doc.items())
        if (props->contains(k)) dropped += prune_unknown(v, (*props)[k], root, depth + 1);
  } else if (doc.is_array()) {
    if (const auto items = schema.find("items"); items != schema.end() && items->is_object())
      for (auto& e : doc) dropped += prune_unknown(e, *items, root, depth + 1);
  }
  return dropped;
}

// Brings a sequence document to 1.0 in place. Returns false when it must be refused.
bool migrate_sequence(json& j, Loaded<InitSequence>& r) {
  if (!j.is_object()) return true;
  const auto v = j.find("schema_version");
  std::optional<std::pair<unsigned, unsigned>> version;
  if (v != j.end()) {
    version = parse_version(*v);
    if (!version) return true;  // the schema check says what is wrong with it
    if (version->first > 1) {
      r.problems.push_back({"/schema_version", "schema version \"" + v->get<std::string>() +
                                                   "\" is newer than this gpu-init reads (1.x): use a newer gpu-init"});
      return false;
    }
    if (version->first == 1) {
      if (version->second > kSequenceSchemaMinor) {
        const json schema = json::parse(schema_text(SchemaId::sequence));
        j["schema_version"] = kSequenceSchemaVersion;
        const std::size_t dropped = prune_unknown(j, schema, schema, 0);
        r.warnings.push_back("schema_version \"1." + std::to_string(version->second) + "\" is newer than " +
                             kSequenceSchemaVersion + ": read as " + kSequenceSchemaVersion +
                             (dropped ? ", ignoring " + std::to_string(dropped) + " properties " +
                                            kSequenceSchemaVersion + " does not know"
                                      : ""));
      }
      return true;
    }
  }
  // No version (or 0.x): the pre-1.0 form, an object with init_sequence and nothing else
  // required. Add what 1.0 requires and say so.
  if (!j.contains("init_sequence")) return true;
  std::string added = "added schema_version 1.0";
  j["schema_version"] = "1.0";
  if (!j.contains("_metadata")) {
    j["_metadata"] = json{{"source_rom_sha1", "unknown"}, {"generated", "1970-01-01T00:00:00Z"},
                          {"pipeline_version", "pre-1.0"}};
    added += ", _metadata with source_rom_sha1 \"unknown\"";
  }
  if (!j.contains("device")) {
    j["device"] = json{{"vendor", 0}, {"device", 0}};
    added += ", an unknown device 0000:0000";
  }
  auto& ops = j["init_sequence"];
  // Nothing is validated yet: look at the last op without assuming its types.
  const auto is_end = [](const json& op) {
    if (!op.is_object()) return false;
    const auto kind = op.find("op");
    return kind != op.end() && kind->is_string() && kind->get_ref<const std::string&>() == "END";
  };
  if (ops.is_array() && (ops.empty() || !is_end(ops.back()))) {
    ops.push_back(json{{"op", "END"}});
    added += ", a final END";
  }
  r.warnings.push_back("no schema_version: read as the pre-1.0 form and migrated (" + added + ")");
  return true;
}

// Refuses a newer major version of a one-number version field ("trace_version": "2").
bool newer_major(const json& j, const char* key, unsigned current, const std::string& where, std::vector<Problem>& out) {
  if (!j.is_object()) return false;
  const auto v = j.find(key);
  if (v == j.end() || !v->is_string()) return false;
  const auto& s = v->get_ref<const std::string&>();
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  if (std::stoul(s) <= current) return false;
  out.push_back({where + "/" + key, std::string(key) + " \"" + s + "\" is newer than this gpu-init reads (" +
                                        std::to_string(current) + "): use a newer gpu-init"});
  return true;
}

}  // namespace

Loaded<InitSequence> load_sequence(std::string_view text) {
  Loaded<InitSequence> r;
  json j;
  if (!parse_document(text, "", j, r.problems)) return r;
  if (!migrate_sequence(j, r)) return r;
  r.problems = check_schema(SchemaId::sequence, j);
  if (!r.problems.empty()) {
    cap_problems(r.problems);
    return r;
  }
  InitSequence s;
  catching(r.problems, [&] { from_json(j, s); });
  if (!r.problems.empty()) return r;
  j = json();  // release the document before the semantic pass on large inputs
  r.problems = check_sequence_semantics(s);
  cap_problems(r.problems);
  if (r.problems.empty()) r.value = std::move(s);
  return r;
}

Loaded<Trace> load_trace(std::string_view text) {
  Loaded<Trace> r;
  Trace t;
  std::vector<std::size_t> lines;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool have_header = false;
  while (pos < text.size()) {
    if (r.problems.size() >= kMaxProblems) {
      r.problems.push_back({"line " + std::to_string(line_no), "too many problems: stopped reading here"});
      return r;
    }
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = "line " + std::to_string(line_no);
    const bool is_header = !have_header;
    have_header = true;
    json j;
    if (!parse_document(line, where, j, r.problems)) continue;
    if (is_header && newer_major(j, "trace_version", 1, where, r.problems)) return r;
    if (is_header && j.is_object() && !j.contains("trace_version")) {
      r.problems.push_back({where, "the first line is not a trace header: it has no \"trace_version\""});
      return r;
    }
    const std::size_t before = r.problems.size();
    for (auto& p : check_schema(is_header ? SchemaId::trace_header : SchemaId::trace_event, j))
      r.problems.push_back({where + p.where, p.message});
    if (r.problems.size() != before) continue;
    catching(r.problems, [&] {
      if (is_header) from_json(j, t.header);
      else {
        t.events.emplace_back(j.get<TraceEvent>());
        lines.push_back(line_no);
      }
    });
    if (r.problems.size() != before) r.problems.back().where = where;
  }
  if (!have_header) {
    r.problems.push_back({"line 1", "empty trace: no header line"});
    return r;
  }
  if (!r.problems.empty()) return r;
  r.problems = check_trace_semantics(t, lines);
  cap_problems(r.problems);
  if (r.problems.empty()) r.value = std::move(t);
  return r;
}

Loaded<RegisterMap> load_regmap(std::string_view text) {
  Loaded<RegisterMap> r;
  json j;
  if (!parse_document(text, "", j, r.problems)) return r;
  if (newer_major(j, "regmap_version", 1, "", r.problems)) return r;
  r.problems = check_schema(SchemaId::regmap, j);
  if (!r.problems.empty()) {
    cap_problems(r.problems);
    return r;
  }
  RegisterMap m;
  catching(r.problems, [&] { from_json(j, m); });
  if (!r.problems.empty()) return r;
  r.problems = check_regmap_semantics(m);
  cap_problems(r.problems);
  if (r.problems.empty()) r.value = std::move(m);
  return r;
}

namespace {
// Looks at the top-level keys only and stops at the first that names a format.
struct KindSniffer : nlohmann::json_sax<json> {
  DocumentKind kind = DocumentKind::unknown;
  int depth = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth <= int(kMaxJsonDepth); }
  bool end_object() override { --depth; return true; }
  bool start_array(std::size_t) override { return ++depth <= int(kMaxJsonDepth); }
  bool end_array() override { --depth; return true; }
  bool key(string_t& k) override {
    if (depth != 1) return true;
    if (k == "init_sequence" || k == "schema_version") kind = DocumentKind::sequence;
    else if (k == "regmap_version" || k == "registers") kind = DocumentKind::regmap;
    else if (k == "trace_version") kind = DocumentKind::trace;
    return kind == DocumentKind::unknown;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};
}  // namespace

DocumentKind detect_kind(std::string_view text) {
  // A trace's first line is a whole JSON object with trace_version.
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return DocumentKind::unknown;
  std::size_t nl = text.find('\n', first);
  if (nl == std::string_view::npos) nl = text.size();
  {
    KindSniffer line;
    json::sax_parse(text.substr(first, nl - first), &line, json::input_format_t::json, false);
    if (line.kind == DocumentKind::trace) return line.kind;
  }
  KindSniffer doc;
  json::sax_parse(text, &doc, json::input_format_t::json, false);
  return doc.kind == DocumentKind::trace ? DocumentKind::unknown : doc.kind;
}

const char* document_kind_name(DocumentKind k) noexcept {
  switch (k) {
    case DocumentKind::sequence: return "sequence";
    case DocumentKind::trace: return "trace";
    case DocumentKind::regmap: return "regmap";
    case DocumentKind::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace gpuinit

// Hand-written checks equivalent to two definitions of our schemas — an init-sequence op
// and a trace event — for documents with millions of them, and the wording every schema
// problem is reported in. Each check here mirrors one keyword of the schema file named in
// its comment; tests/format/test_schema_equivalence.cpp compares them with valijson.
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "gpuinit/format/sequence.hpp"
#include "check_detail.hpp"

namespace gpuinit::detail {
using nlohmann::json;

std::string pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxShownValue) s = s.substr(0, kMaxShownValue) + "...";
  return s;
}

std::string json_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a value";
  }
}

std::string msg_type(const json& v, std::string_view expected) {
  const bool vowel = !expected.empty() && std::string_view("aeiou").find(expected[0]) != std::string_view::npos;
  return show(v) + " is not " + (vowel ? "an " : "a ") + std::string(expected);
}
std::string msg_enum(const json& v, const json& allowed) { return show(v) + " is not one of " + allowed.dump(); }
std::string msg_const(const json& v, const json& expected) { return show(v) + " is not " + expected.dump(); }
std::string msg_required(std::string_view property) {
  return "missing required property \"" + std::string(property) + "\"";
}
std::string msg_unknown(std::string_view property) { return "unknown property \"" + std::string(property) + "\""; }
std::string msg_forbidden(std::string_view property) {
  return "property \"" + std::string(property) + "\" is not allowed here";
}
std::string msg_minimum(const json& v, const json& minimum) {
  return show(v) + " is less than the minimum " + minimum.dump();
}
std::string msg_maximum(const json& v, const json& maximum) {
  return show(v) + " is greater than the maximum " + maximum.dump();
}
std::string msg_pattern(const json& v, std::string_view pattern) {
  return show(v) + " does not match " + std::string(pattern);
}
std::string msg_any_of() { return "matches none of the allowed forms"; }
std::string msg_min_items(std::size_t n) { return "has fewer than " + std::to_string(n) + " items"; }
std::string msg_max_items(std::size_t n) { return "has more than " + std::to_string(n) + " items"; }

namespace {

// A JSON pointer built only when a problem needs it: a million valid ops must not cost a
// million string allocations.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  bool raw = false;  // key is already a pointer (the caller's `where`)
  [[nodiscard]] std::string str() const {
    std::string s = parent ? parent->str() : std::string();
    if (raw) s += key;
    else s += "/" + pointer_token(key);
    return s;
  }
};

struct Ctx {
  const Path& where;
  std::vector<Problem>& out;
  void add(const Path& at, std::string message) { out.push_back({at.str(), std::move(message)}); }
};

// additionalProperties: false. Like valijson, only the first unknown property (in key
// order) of an object is reported.
struct UnknownOnce {
  bool said = false;
  void operator()(Ctx& c, const Path& p, const std::string& key) {
    if (!said) c.add(p, msg_unknown(key));
    said = true;
  }
};

Path at(const Path& where, std::string_view key) { return Path{&where, key}; }

bool is_integer(const json& v) { return v.is_number_integer(); }

// {"type": "integer", "minimum": lo, "maximum": hi} (hi < 0: no maximum). Like valijson,
// a non-integer number fails the type and is still compared with the bounds.
void check_int(Ctx& c, const json& v, const Path& p, std::int64_t lo, std::int64_t hi) {
  if (!is_integer(v)) {
    c.add(p, msg_type(v, "integer"));
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d < double(lo)) c.add(p, msg_minimum(v, json(lo)));
      if (hi >= 0 && d > double(hi)) c.add(p, msg_maximum(v, json(hi)));
    }
    return;
  }
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (hi >= 0 && u > std::uint64_t(hi)) c.add(p, msg_maximum(v, json(hi)));
    if (lo > 0 && u < std::uint64_t(lo)) c.add(p, msg_minimum(v, json(lo)));
    return;
  }
  const auto s = v.get<std::int64_t>();
  if (s < lo) c.add(p, msg_minimum(v, json(lo)));
  if (hi >= 0 && s > hi) c.add(p, msg_maximum(v, json(hi)));
}
void check_u64(Ctx& c, const json& v, const Path& p) { check_int(c, v, p, 0, -1); }
void check_u32(Ctx& c, const json& v, const Path& p) { check_int(c, v, p, 0, 4294967295); }

void check_string(Ctx& c, const json& v, const Path& p) {
  if (!v.is_string()) c.add(p, msg_type(v, "string"));
}

template <std::size_t N>
void check_enum(Ctx& c, const json& v, const Path& p, const std::array<const char*, N>& names) {
  if (v.is_string())
    for (const char* n : names)
      if (v.get_ref<const std::string&>() == n) return;
  json allowed = json::array();
  for (const char* n : names) allowed.push_back(n);
  c.add(p, msg_enum(v, allowed));
}

// {"enum": [8, 16, 32, 64]}: JSON Schema compares numbers by value, so 8.0 is allowed.
void check_width(Ctx& c, const json& v, const Path& p) {
  if (v.is_number()) {
    const double w = v.get<double>();
    if (w == 8 || w == 16 || w == 32 || w == 64) return;
  }
  c.add(p, msg_enum(v, json::array({8, 16, 32, 64})));
}

// "^(?!named$)[a-z][a-z0-9_]{0,63}$"
constexpr const char* kSpacePattern = "^(?!named$)[a-z][a-z0-9_]{0,63}$";
bool space_pattern_ok(const std::string& s) {
  if (s.empty() || s.size() > 64 || s == "named" || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return true;
}
void check_space(Ctx& c, const json& v, const Path& p) {
  if (!v.is_string()) return c.add(p, msg_type(v, "string"));
  if (!space_pattern_ok(v.get_ref<const std::string&>())) c.add(p, msg_pattern(v, kSpacePattern));
}

// "^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$"
constexpr const char* kCsIpPattern = "^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$";
void check_cs_ip(Ctx& c, const json& v, const Path& p) {
  if (!v.is_string()) return c.add(p, msg_type(v, "string"));
  const auto& s = v.get_ref<const std::string&>();
  bool ok = s.size() == 9 && s[4] == ':';
  for (std::size_t i = 0; ok && i < s.size(); ++i)
    if (i != 4) ok = std::isxdigit(static_cast<unsigned char>(s[i])) != 0;
  if (!ok) c.add(p, msg_pattern(v, kCsIpPattern));
}

bool u64_ok(const json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0); }

// "#/definitions/src" of init-sequence-v1.0.json
void check_src(Ctx& c, const json& v, const Path& p) {
  if (!v.is_object()) return c.add(p, msg_type(v, "object"));
  UnknownOnce unknown;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const auto& k = it.key();
    const Path kp = at(p, k);
    if (k == "rom_offset") check_u32(c, *it, kp);
    else if (k == "cs_ip") check_cs_ip(c, *it, kp);
    else if (k == "seq") {
      if (!it->is_array()) {
        c.add(kp, msg_type(*it, "array"));
        continue;
      }
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& e = (*it)[i];
        const bool pair = e.is_array() && e.size() == 2 && u64_ok(e[0]) && u64_ok(e[1]);
        if (u64_ok(e) || pair) continue;
        // anyOf [u64, [u64, u64]]: like valijson, each branch's problems, then the verdict.
        const std::string index = std::to_string(i);
        const Path ep{&kp, index};
        check_u64(c, e, ep);
        if (!e.is_array()) {
          c.add(ep, msg_type(e, "array"));
        } else {
          if (e.size() < 2) c.add(ep, msg_min_items(2));
          if (e.size() > 2) c.add(ep, msg_max_items(2));
          for (std::size_t k = 0; k < e.size(); ++k) {
            const std::string item = std::to_string(k);
            check_u64(c, e[k], Path{&ep, item});
          }
        }
        c.add(ep, msg_any_of());
      }
    } else unknown(c, kp, k);
  }
}

// "#/definitions/expect" of the op schema
void check_expect(Ctx& c, const json& v, const Path& p) {
  if (!v.is_object()) return c.add(p, msg_type(v, "object"));
  UnknownOnce unknown;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() == "mask" || it.key() == "value") check_u64(c, *it, at(p, it.key()));
    else unknown(c, at(p, it.key()), it.key());
  }
  for (const char* k : {"mask", "value"})
    if (!v.contains(k)) c.add(p, msg_required(k));
}

// Bit per op property, for the per-kind required/forbidden lists.
enum OpProp : unsigned {
  kOp = 1u << 0, kSpace = 1u << 1, kBar = 1u << 2, kOffset = 1u << 3, kWidth = 1u << 4, kValue = 1u << 5,
  kMask = 1u << 6, kExpect = 1u << 7, kInterval = 1u << 8, kTimeout = 1u << 9, kOnTimeout = 1u << 10,
  kUs = 1u << 11, kSrc = 1u << 12, kComment = 1u << 13, kCount = 1u << 14,
};
constexpr std::array<std::pair<const char*, unsigned>, 15> kOpProps = {{
    {"op", kOp}, {"space", kSpace}, {"bar", kBar}, {"offset", kOffset}, {"width", kWidth},
    {"value", kValue}, {"mask", kMask}, {"count", kCount}, {"expect", kExpect}, {"interval_us", kInterval},
    {"timeout_us", kTimeout}, {"on_timeout", kOnTimeout}, {"us", kUs}, {"src", kSrc}, {"comment", kComment},
}};

struct KindRule {
  const char* name;
  unsigned required;
  unsigned forbidden;
};
// The allOf if/then list of "#/definitions/op".
constexpr std::array<KindRule, 7> kKindRules = {{
    {"WRITE", kSpace | kOffset | kWidth | kValue, kMask | kExpect | kInterval | kTimeout | kOnTimeout | kUs | kCount},
    {"FILL", kSpace | kOffset | kWidth | kValue | kCount, kMask | kExpect | kInterval | kTimeout | kOnTimeout | kUs},
    {"RMW", kSpace | kOffset | kWidth | kMask | kValue, kExpect | kInterval | kTimeout | kOnTimeout | kUs | kCount},
    {"READ", kSpace | kOffset | kWidth, kValue | kMask | kInterval | kTimeout | kOnTimeout | kUs | kCount},
    {"POLL", kSpace | kOffset | kWidth | kMask | kValue | kInterval | kTimeout | kOnTimeout, kExpect | kUs | kCount},
    {"DELAY", kUs, kSpace | kBar | kOffset | kWidth | kValue | kMask | kExpect | kInterval | kTimeout | kOnTimeout | kCount},
    {"END", 0, kSpace | kBar | kOffset | kWidth | kValue | kMask | kExpect | kInterval | kTimeout | kOnTimeout | kUs | kCount},
}};

void required_forbidden(Ctx& c, unsigned present, unsigned required, unsigned forbidden) {
  for (const auto& [name, bit] : kOpProps) {
    if ((required & bit) && !(present & bit)) c.add(c.where, msg_required(name));
    if ((forbidden & bit) && (present & bit)) c.add(at(c.where, name), msg_forbidden(name));
  }
}

bool bar_space(const json& op) {
  const auto sp = op.find("space");
  return sp != op.end() && sp->is_string() &&
         (sp->get_ref<const std::string&>() == "mmio" || sp->get_ref<const std::string&>() == "io");
}

void check_op_at(const json& op, const Path& where, std::vector<Problem>& out);
}  // namespace

void check_op_schema(const json& op, const std::string& where_text, std::vector<Problem>& out) {
  const Path root{nullptr, where_text, true};
  check_op_at(op, root, out);
}

void check_op_schema(const json& op, std::string_view array_pointer, std::size_t index, std::vector<Problem>& out) {
  char digits[24];
  const auto n = std::snprintf(digits, sizeof digits, "%zu", index);
  const Path array{nullptr, array_pointer, true};
  const Path root{&array, std::string_view(digits, static_cast<std::size_t>(n))};
  check_op_at(op, root, out);
}

namespace {
void check_op_at(const json& op, const Path& where, std::vector<Problem>& out) {
  Ctx c{where, out};
  if (!op.is_object()) return c.add(where, msg_type(op, "object"));
  UnknownOnce unknown;
  unsigned present = 0;
  for (auto it = op.begin(); it != op.end(); ++it) {
    const auto& k = it.key();
    const json& v = *it;
    const Path p = at(where, k);
    unsigned bit = 0;
    for (const auto& [name, b] : kOpProps)
      if (k == name) bit = b;
    present |= bit;
    switch (bit) {
      case kOp: check_enum(c, v, p, std::array{"WRITE", "FILL", "RMW", "READ", "POLL", "DELAY", "END"}); break;
      case kCount: check_int(c, v, p, 1, std::int64_t(kMaxFillCount)); break;
      case kSpace: check_space(c, v, p); break;
      case kBar: check_int(c, v, p, 0, 5); break;
      case kWidth: check_width(c, v, p); break;
      case kOffset: case kValue: case kMask: case kInterval: case kTimeout: case kUs: check_u64(c, v, p); break;
      case kExpect: check_expect(c, v, p); break;
      case kOnTimeout: check_enum(c, v, p, std::array{"fail", "continue"}); break;
      case kSrc: check_src(c, v, p); break;
      case kComment: check_string(c, v, p); break;
      default: unknown(c, p, k); break;
    }
  }
  if (!(present & kOp)) c.add(where, msg_required("op"));
  if (const auto kind = op.find("op"); kind != op.end() && kind->is_string())
    for (const auto& rule : kKindRules)
      if (kind->get_ref<const std::string&>() == rule.name) required_forbidden(c, present, rule.required, rule.forbidden);
  if (bar_space(op)) required_forbidden(c, present, kBar, 0);
  else required_forbidden(c, present, 0, kBar);
}
}  // namespace

namespace {
enum EventProp : unsigned {
  eSeq = 1u << 0, eTns = 1u << 1, eSpace = 1u << 2, eBar = 1u << 3, eOffset = 1u << 4, eWidth = 1u << 5,
  eDir = 1u << 6, eValue = 1u << 7, eLoopExit = 1u << 8, eService = 1u << 9, eWait = 1u << 10,
  eCsIp = 1u << 11, eIcount = 1u << 12, eOpIndex = 1u << 13, eRomOffset = 1u << 14,
};
constexpr std::array<std::pair<const char*, unsigned>, 15> kEventProps = {{
    {"seq", eSeq}, {"t_ns", eTns}, {"space", eSpace}, {"bar", eBar}, {"offset", eOffset}, {"width", eWidth},
    {"dir", eDir}, {"value", eValue}, {"loop_exit", eLoopExit}, {"service", eService}, {"wait_ns", eWait},
    {"cs_ip", eCsIp}, {"icount", eIcount}, {"op", eOpIndex}, {"rom_offset", eRomOffset},
}};
void event_required_forbidden(Ctx& c, unsigned present, unsigned required, unsigned forbidden) {
  for (const auto& [name, bit] : kEventProps) {
    if ((required & bit) && !(present & bit)) c.add(c.where, msg_required(name));
    if ((forbidden & bit) && (present & bit)) c.add(at(c.where, name), msg_forbidden(name));
  }
}
constexpr const char* kServicePattern = "^[a-z0-9_]{1,64}$";
}  // namespace

void check_event_schema(const json& ev, const std::string& where_text, std::vector<Problem>& out) {
  const Path where{nullptr, where_text, true};
  Ctx c{where, out};
  if (!ev.is_object()) return c.add(where, msg_type(ev, "object"));
  UnknownOnce unknown;
  unsigned present = 0;
  for (auto it = ev.begin(); it != ev.end(); ++it) {
    const auto& k = it.key();
    const json& v = *it;
    const Path p = at(where, k);
    unsigned bit = 0;
    for (const auto& [name, b] : kEventProps)
      if (k == name) bit = b;
    present |= bit;
    switch (bit) {
      case eSeq: case eTns: case eOffset: case eValue: case eWait: case eIcount: case eOpIndex: check_u64(c, v, p); break;
      case eSpace: check_space(c, v, p); break;
      case eBar: check_int(c, v, p, 0, 5); break;
      case eWidth: check_width(c, v, p); break;
      case eDir: check_enum(c, v, p, std::array{"r", "w"}); break;
      case eLoopExit:
        if (!(v.is_boolean() && v.get<bool>())) c.add(p, msg_const(v, json(true)));
        break;
      case eService: {
        if (!v.is_string()) {
          c.add(p, msg_type(v, "string"));
          break;
        }
        const auto& s = v.get_ref<const std::string&>();
        bool ok = !s.empty() && s.size() <= 64;
        for (char ch : s) ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
        if (!ok) c.add(p, msg_pattern(v, kServicePattern));
        break;
      }
      case eCsIp: check_cs_ip(c, v, p); break;
      case eRomOffset: check_u32(c, v, p); break;
      default: unknown(c, p, k); break;
    }
  }
  event_required_forbidden(c, present, eSeq | eTns, 0);
  if (present & eService)
    event_required_forbidden(c, present, 0, eSpace | eBar | eOffset | eWidth | eDir | eValue | eLoopExit);
  else event_required_forbidden(c, present, eSpace | eOffset | eWidth | eDir | eValue, eWait);
  if (bar_space(ev)) event_required_forbidden(c, present, eBar, 0);
  else event_required_forbidden(c, present, 0, eBar);
}

}  // namespace gpuinit::detail

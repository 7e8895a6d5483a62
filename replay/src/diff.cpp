// Diff: items are borrowed pointers into the documents (no copies of events or ops), keyed
// by a 64-bit hash of their identity; a matched pair re-checks the identity itself, so a
// hash collision shows as a deletion plus an insertion, never as a false match.
#include "gpuinit/replay/diff.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/replay/engine.hpp"

namespace gpuinit::replay {

namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}
std::uint64_t mix(std::uint64_t h, std::string_view s) {
  std::uint64_t x = 1469598103934665603ull;
  for (unsigned char c : s) x = (x ^ c) * 1099511628211ull;
  return mix(h, x);
}

struct Item {
  std::uint64_t index = 0;
  const TraceEvent* e = nullptr;
  const Op* op = nullptr;
};

struct Loc {
  Space space;
  std::string_view name;
  unsigned bar;
  std::uint64_t offset;
  unsigned width;
};

Loc loc_of(const Item& it) {
  if (it.e) return {it.e->space, it.e->space_name, space_has_bar(it.e->space) ? it.e->bar : 0u, it.e->offset, it.e->width};
  return {it.op->space, it.op->space_name, space_has_bar(it.op->space) ? it.op->bar : 0u, it.op->offset, it.op->width};
}

bool has_loc(const Item& it) {
  if (it.e) return it.e->kind == EventKind::access;
  return it.op->kind != OpKind::delay && it.op->kind != OpKind::end;
}

bool same_loc(const Loc& x, const Loc& y) {
  return x.space == y.space && x.name == y.name && x.bar == y.bar && x.offset == y.offset && x.width == y.width;
}

std::uint64_t loc_hash(const Loc& l) {
  std::uint64_t h = mix(0x51ED, std::uint64_t(l.space) | std::uint64_t(l.bar) << 8 | std::uint64_t(l.width) << 16);
  if (!l.name.empty()) h = mix(h, l.name);
  return mix(h, l.offset);
}

// Identity: what must be equal for two items to be aligned.
std::uint64_t identity(const Item& it, DiffMode mode) {
  if (mode == DiffMode::writes) return loc_hash(loc_of(it));
  if (it.e) {
    if (it.e->kind == EventKind::service) return mix(mix(0x5E, 1), it.e->service);
    return mix(loc_hash(loc_of(it)), it.e->dir == Dir::write ? 0x77 : 0x72);
  }
  if (!has_loc(it)) return mix(0xDE1A, std::uint64_t(it.op->kind));
  return mix(loc_hash(loc_of(it)), 0x100 + std::uint64_t(it.op->kind));
}

bool same_identity(const Item& x, const Item& y, DiffMode mode) {
  if (mode == DiffMode::writes) return same_loc(loc_of(x), loc_of(y));
  if (x.e) {
    if (x.e->kind != y.e->kind) return false;
    if (x.e->kind == EventKind::service) return x.e->service == y.e->service;
    return x.e->dir == y.e->dir && same_loc(loc_of(x), loc_of(y));
  }
  if (x.op->kind != y.op->kind) return false;
  return !has_loc(x) || same_loc(loc_of(x), loc_of(y));
}

// Value and bits that matter of a write item (writes mode).
std::pair<std::uint64_t, std::uint64_t> written(const Item& it) {
  const std::uint64_t wm = width_mask(loc_of(it).width);
  if (it.e) return {it.e->value, wm};
  if (it.op->kind == OpKind::rmw) return {it.op->value & it.op->mask, it.op->mask & wm};
  return {it.op->value, wm};
}

struct Filter {
  const DiffOptions& opt;
  bool keep(const Item& it, DiffMode mode) const {
    if (it.e && mode == DiffMode::writes && !(it.e->kind == EventKind::access && it.e->dir == Dir::write)) return false;
    if (it.op) {
      if (it.op->kind == OpKind::end) return false;
      if (mode == DiffMode::writes && it.op->kind != OpKind::write && it.op->kind != OpKind::rmw) return false;
      if (opt.ignore_timing && it.op->kind == OpKind::delay) return false;
    }
    if (!has_loc(it)) return true;
    const Loc l = loc_of(it);
    const std::string_view sname = l.space == Space::named ? l.name : space_name(l.space);
    for (const auto& s : opt.ignore_spaces)
      if (s == sname) return false;
    if (l.space == Space::port || l.space == Space::vga_io)
      for (auto p : opt.ignore_ports)
        if (p == l.offset) return false;
    return true;
  }
};

std::vector<Item> items_of(DocView d, DiffMode mode, const Filter& f) {
  std::vector<Item> out;
  if (d.trace) {
    out.reserve(d.trace->events.size());
    for (std::size_t i = 0; i < d.trace->events.size(); ++i) {
      Item it{i, &d.trace->events[i], nullptr};
      if (f.keep(it, mode)) out.push_back(it);
    }
  } else {
    out.reserve(d.sequence->ops.size());
    for (std::size_t i = 0; i < d.sequence->ops.size(); ++i) {
      Item it{i, nullptr, &d.sequence->ops[i]};
      if (f.keep(it, mode)) out.push_back(it);
    }
  }
  return out;
}

std::string reg_name(const DiffOptions& opt, const Item& it) {
  if (!opt.namer || !has_loc(it)) return {};
  const Loc l = loc_of(it);
  return map_name(opt.namer, l.space, l.name, l.bar, l.offset);
}

std::string describe(const Item& it, const DiffOptions& opt) {
  std::string s;
  if (it.e) {
    const TraceEvent& e = *it.e;
    s = "event " + std::to_string(it.index) + ": ";
    if (e.kind == EventKind::service) {
      s += "service " + e.service;
      if (e.wait_ns) s += " wait " + std::to_string(e.wait_ns) + " ns";
    } else {
      s += std::string(e.dir == Dir::write ? "w " : "r ") + describe_location(e.space, e.space_name, e.bar, e.offset) +
           " w" + std::to_string(e.width) + " " + hex(e.value);
    }
    s += " @" + std::to_string(e.t_ns) + "ns";
    if (e.op) s += " op " + std::to_string(*e.op);
    if (e.cs_ip) s += " " + format_cs_ip(*e.cs_ip);
  } else {
    const Op& op = *it.op;
    s = "op " + std::to_string(it.index) + ": " + op_name(op.kind);
    if (op.kind == OpKind::delay) {
      s += " " + std::to_string(op.us) + " us";
    } else if (op.kind != OpKind::end) {
      s += " " + describe_location(op.space, op.space_name, op.bar, op.offset) + " w" + std::to_string(op.width);
      switch (op.kind) {
        case OpKind::write: s += " " + hex(op.value); break;
        case OpKind::fill: s += " x " + std::to_string(op.count) + " " + hex(op.value); break;
        case OpKind::rmw: s += " mask " + hex(op.mask) + " value " + hex(op.value); break;
        case OpKind::read:
          if (op.has_expect) s += " expect " + hex(op.expect_value) + " under " + hex(op.expect_mask);
          break;
        case OpKind::poll:
          s += " until &" + hex(op.mask) + " == " + hex(op.value) + " every " + std::to_string(op.interval_us) +
               " us for " + std::to_string(op.timeout_us) + " us, on timeout " +
               (op.on_timeout == OnTimeout::fail ? "fail" : "continue");
          break;
        default: break;
      }
    }
  }
  const std::string n = reg_name(opt, it);
  if (!n.empty()) s += " (" + n + ")";
  return s;
}

// Compares a matched pair: appends "field x != y" parts to `value` or `timing`.
void compare(const Item& x, const Item& y, DiffMode mode, const DiffOptions& opt, std::string& value,
             std::string& timing) {
  auto add = [](std::string& to, const std::string& what, const std::string& l, const std::string& r) {
    to += (to.empty() ? "" : ", ") + what + " " + l + " != " + r;
  };
  auto num = [&](std::string& to, const char* what, std::uint64_t l, std::uint64_t r, bool as_hex) {
    if (l != r) add(to, what, as_hex ? hex(l) : std::to_string(l), as_hex ? hex(r) : std::to_string(r));
  };
  if (mode == DiffMode::writes) {
    const auto [vx, mx] = written(x);
    const auto [vy, my] = written(y);
    const std::uint64_t m = mx & my;
    if ((vx ^ vy) & m) add(value, "value", hex(vx), hex(vy));
    if (x.op && y.op && mx != my) add(value, "mask", hex(mx), hex(my));
    return;
  }
  if (x.e) {
    const TraceEvent& a = *x.e;
    const TraceEvent& b = *y.e;
    if (a.kind == EventKind::access && !(a.dir == Dir::read && opt.ignore_reads)) num(value, "value", a.value, b.value, true);
    if (opt.ignore_timing) return;
    num(timing, "t_ns", a.t_ns, b.t_ns, false);
    num(timing, "wait_ns", a.wait_ns, b.wait_ns, false);
    if (a.icount && b.icount) num(timing, "icount", *a.icount, *b.icount, false);
    if (a.cs_ip && b.cs_ip && *a.cs_ip != *b.cs_ip) add(timing, "cs_ip", format_cs_ip(*a.cs_ip), format_cs_ip(*b.cs_ip));
    if (a.op && b.op) num(timing, "op", *a.op, *b.op, false);
    if (a.rom_offset && b.rom_offset) num(timing, "rom_offset", *a.rom_offset, *b.rom_offset, true);
    return;
  }
  const Op& a = *x.op;
  const Op& b = *y.op;
  switch (a.kind) {
    case OpKind::write: num(value, "value", a.value, b.value, true); break;
    case OpKind::fill:
      num(value, "value", a.value, b.value, true);
      num(value, "count", a.count, b.count, false);
      break;
    case OpKind::rmw:
      num(value, "mask", a.mask, b.mask, true);
      num(value, "value", a.value, b.value, true);
      break;
    case OpKind::read:
      if (opt.ignore_reads) break;
      if (a.has_expect != b.has_expect) add(value, "expect", a.has_expect ? "set" : "none", b.has_expect ? "set" : "none");
      else if (a.has_expect) {
        num(value, "expect mask", a.expect_mask, b.expect_mask, true);
        num(value, "expect value", a.expect_value, b.expect_value, true);
      }
      break;
    case OpKind::poll:
      num(value, "mask", a.mask, b.mask, true);
      num(value, "value", a.value, b.value, true);
      if (a.on_timeout != b.on_timeout)
        add(value, "on_timeout", a.on_timeout == OnTimeout::fail ? "fail" : "continue",
            b.on_timeout == OnTimeout::fail ? "fail" : "continue");
      if (!opt.ignore_timing) {
        num(timing, "interval_us", a.interval_us, b.interval_us, false);
        num(timing, "timeout_us", a.timeout_us, b.timeout_us, false);
      }
      break;
    case OpKind::delay:
      if (!opt.ignore_timing) num(timing, "us", a.us, b.us, false);
      break;
    case OpKind::end: break;
  }
}

// Final state of one side: location -> (value, bits known).
using StateKey = std::tuple<unsigned, std::string, unsigned, std::uint64_t, unsigned>;
struct StateVal {
  std::uint64_t value = 0, known = 0;
};

std::map<StateKey, StateVal> final_state(const std::vector<Item>& items, DiffMode mode, const DiffOptions& opt) {
  std::map<StateKey, StateVal> st;
  for (const Item& it : items) {
    if (!has_loc(it)) continue;
    std::uint64_t v = 0, m = 0;
    if (it.e) {
      if (it.e->dir == Dir::read && (opt.ignore_reads || mode == DiffMode::writes)) continue;
      v = it.e->value;
      m = width_mask(it.e->width);
    } else if (it.op->kind == OpKind::write || it.op->kind == OpKind::rmw) {
      std::tie(v, m) = written(it);
    } else {
      continue;
    }
    const Loc l = loc_of(it);
    auto& s = st[StateKey{unsigned(l.space), std::string(l.name), l.bar, l.offset, l.width}];
    s.value = (s.value & ~m) | (v & m);
    s.known |= m;
  }
  return st;
}

}  // namespace

Loaded<Document> load_document(const std::filesystem::path& p) {
  Loaded<Document> r;
  std::string text;
  try {
    text = read_file_text(p);
  } catch (const std::exception& e) {
    r.problems.push_back({"", e.what()});
    return r;
  }
  const std::string_view first_line = std::string_view(text).substr(0, text.find('\n'));
  Document d;
  if (first_line.find("\"trace_version\"") != std::string_view::npos) {
    auto t = load_trace(text);
    r.problems = std::move(t.problems);
    r.warnings = std::move(t.warnings);
    if (t.value && r.problems.empty()) d.trace = std::move(t.value);
  } else {
    auto s = load_sequence(text);
    r.problems = std::move(s.problems);
    r.warnings = std::move(s.warnings);
    if (s.value && r.problems.empty()) d.sequence = std::move(s.value);
  }
  if (r.problems.empty()) r.value = std::move(d);
  return r;
}

namespace {
// A sequence with FILL ops as the WRITEs they make, so that it lines up with a trace and
// with a sequence that spells the stores out. Ops past kMaxDiffFillExpansion stores stay FILL.
constexpr std::uint64_t kMaxDiffFillExpansion = std::uint64_t{1} << 22;
std::optional<InitSequence> expand_fills(DocView d) {
  if (!d.sequence || std::none_of(d.sequence->ops.begin(), d.sequence->ops.end(),
                                  [](const Op& o) { return o.kind == OpKind::fill; }))
    return std::nullopt;
  InitSequence x;
  x.metadata = d.sequence->metadata;
  x.device = d.sequence->device;
  std::uint64_t budget = kMaxDiffFillExpansion;
  for (const Op& op : d.sequence->ops) {
    if (op.kind != OpKind::fill || op.count > budget || !valid_width(op.width)) {
      x.ops.push_back(op);
      continue;
    }
    budget -= op.count;
    Op w = op;
    w.kind = OpKind::write;
    w.count = 0;
    for (std::uint64_t k = 0; k < op.count; ++k, w.offset += op.width / 8u) x.ops.push_back(w);
  }
  return x;
}
}  // namespace

DiffResult diff(DocView a_in, DocView b_in, const DiffOptions& opt) {
  const std::optional<InitSequence> xa = expand_fills(a_in), xb = expand_fills(b_in);
  const DocView a = xa ? view(*xa) : a_in, b = xb ? view(*xb) : b_in;
  DiffResult r;
  if (opt.writes_only || bool(a.trace) != bool(b.trace)) r.mode = DiffMode::writes;
  else r.mode = a.trace ? DiffMode::traces : DiffMode::sequences;
  const Filter f{opt};
  const std::vector<Item> ia = items_of(a, r.mode, f);
  const std::vector<Item> ib = items_of(b, r.mode, f);
  r.items_a = ia.size();
  r.items_b = ib.size();
  std::vector<std::uint64_t> ka(ia.size()), kb(ib.size());
  for (std::size_t i = 0; i < ia.size(); ++i) ka[i] = identity(ia[i], r.mode);
  for (std::size_t i = 0; i < ib.size(); ++i) kb[i] = identity(ib[i], r.mode);
  const std::vector<AlignPair> al = align(ka, kb, opt.max_work, &r.exact_alignment);
  ka = {};
  kb = {};

  std::deque<std::size_t> recent;  // alignment positions of the last matches
  // The neighbour shown beside a one-sided item: the next item of the other side.
  auto next_other = [&](std::size_t pos, bool want_b) -> std::string {
    for (std::size_t p = pos + 1; p < al.size(); ++p) {
      const std::int64_t k = want_b ? al[p].b : al[p].a;
      if (k >= 0) return "next: " + describe(want_b ? ib[std::size_t(k)] : ia[std::size_t(k)], opt);
      if (p - pos > 64) break;
    }
    return "(end)";
  };
  auto push = [&](Difference&& d, std::size_t pos) {
    if (!r.first) {
      r.first = d;
      if (d.kind == DiffKind::only_a) r.first->b = next_other(pos, true);
      if (d.kind == DiffKind::only_b) r.first->a = next_other(pos, false);
      for (std::size_t p : recent) r.context.push_back(describe(ia[std::size_t(al[p].a)], opt));
    }
    if (r.differences.size() < opt.max_listed) r.differences.push_back(std::move(d));
    else r.differences_truncated = true;
  };
  for (std::size_t p = 0; p < al.size(); ++p) {
    const AlignPair& pr = al[p];
    if (pr.a >= 0 && pr.b >= 0) {
      const Item& x = ia[std::size_t(pr.a)];
      const Item& y = ib[std::size_t(pr.b)];
      if (!same_identity(x, y, r.mode)) {  // a hash collision: a deletion and an insertion
        ++r.only_a;
        ++r.only_b;
        push({DiffKind::only_a, x.index, std::nullopt, describe(x, opt), "", reg_name(opt, x), "only in A"}, p);
        push({DiffKind::only_b, std::nullopt, y.index, "", describe(y, opt), reg_name(opt, y), "only in B"}, p);
        continue;
      }
      std::string value, timing;
      compare(x, y, r.mode, opt, value, timing);
      if (value.empty() && timing.empty()) {
        ++r.matched;
        if (!r.first && opt.context) {
          recent.push_back(p);
          if (recent.size() > opt.context) recent.pop_front();
        }
        continue;
      }
      ++r.matched;
      const bool is_value = !value.empty();
      (is_value ? r.value_diffs : r.timing_diffs)++;
      std::string detail = value;
      if (!timing.empty()) detail += (detail.empty() ? "" : "; ") + timing;
      push({is_value ? DiffKind::value : DiffKind::timing, x.index, y.index, describe(x, opt), describe(y, opt),
            reg_name(opt, x), detail},
           p);
    } else if (pr.a >= 0) {
      const Item& x = ia[std::size_t(pr.a)];
      ++r.only_a;
      push({DiffKind::only_a, x.index, std::nullopt, describe(x, opt), "", reg_name(opt, x), "only in A"}, p);
    } else {
      const Item& y = ib[std::size_t(pr.b)];
      ++r.only_b;
      push({DiffKind::only_b, std::nullopt, y.index, "", describe(y, opt), reg_name(opt, y), "only in B"}, p);
    }
  }

  const auto sa = final_state(ia, r.mode, opt);
  const auto sb = final_state(ib, r.mode, opt);
  auto state_diff = [&](const StateKey& k, std::optional<std::uint64_t> va, std::optional<std::uint64_t> vb) {
    StateDifference d;
    const auto& [sp, nm, bar, off, w] = k;
    d.location = describe_location(Space(sp), nm, bar, off) + " w" + std::to_string(w);
    d.register_name = map_name(opt.namer, Space(sp), nm, bar, off);
    d.a = va;
    d.b = vb;
    r.state.push_back(std::move(d));
  };
  auto ita = sa.begin();
  auto itb = sb.begin();
  while (ita != sa.end() || itb != sb.end()) {
    if (itb == sb.end() || (ita != sa.end() && ita->first < itb->first)) {
      state_diff(ita->first, ita->second.value, std::nullopt);
      ++ita;
    } else if (ita == sa.end() || itb->first < ita->first) {
      state_diff(itb->first, std::nullopt, itb->second.value);
      ++itb;
    } else {
      const std::uint64_t common = ita->second.known & itb->second.known;
      if ((ita->second.value ^ itb->second.value) & common) state_diff(ita->first, ita->second.value, itb->second.value);
      ++ita;
      ++itb;
    }
  }
  return r;
}

namespace {
const char* kind_name(DiffKind k) {
  switch (k) {
    case DiffKind::only_a: return "only_a";
    case DiffKind::only_b: return "only_b";
    case DiffKind::value: return "value";
    case DiffKind::timing: return "timing";
  }
  return "?";
}
const char* mode_name(DiffMode m) {
  switch (m) {
    case DiffMode::traces: return "traces";
    case DiffMode::sequences: return "sequences";
    case DiffMode::writes: return "writes";
  }
  return "?";
}
std::string opt_hex(const std::optional<std::uint64_t>& v) { return v ? hex(*v) : std::string("-"); }
}  // namespace

std::string diff_text(const DiffResult& r, std::string_view label_a, std::string_view label_b) {
  std::string out;
  out += "A: " + std::string(label_a) + " (" + std::to_string(r.items_a) + " items)\n";
  out += "B: " + std::string(label_b) + " (" + std::to_string(r.items_b) + " items)\n";
  out += "compared: " + std::string(mode_name(r.mode)) + (r.exact_alignment ? "" : " (alignment budget spent: the rest aligned by position)") + "\n";
  if (r.equal()) {
    out += "equal\n";
    return out;
  }
  if (r.first) {
    const Difference& d = *r.first;
    out += "first divergence (" + d.detail + "):\n";
    for (const auto& c : r.context) out += "    " + c + "\n";
    out += "  A " + (d.a.empty() ? std::string("(nothing)") : d.a) + "\n";
    out += "  B " + (d.b.empty() ? std::string("(nothing)") : d.b) + "\n";
  }
  out += "summary: " + std::to_string(r.matched) + " aligned, " + std::to_string(r.only_a) + " only in A, " +
         std::to_string(r.only_b) + " only in B, " + std::to_string(r.value_diffs) + " value differences, " +
         std::to_string(r.timing_diffs) + " timing differences\n";
  if (!r.differences.empty()) {
    out += "differences:\n";
    for (const auto& d : r.differences) {
      out += "  " + std::string(kind_name(d.kind)) + ": ";
      if (d.kind == DiffKind::only_b) out += d.b;
      else out += d.a;
      if (d.kind == DiffKind::value || d.kind == DiffKind::timing) out += "  |  " + d.b + "  [" + d.detail + "]";
      out += "\n";
    }
    if (r.differences_truncated) out += "  ... (list truncated)\n";
  }
  if (!r.state.empty()) {
    out += "final state differences (" + std::to_string(r.state.size()) + "):\n";
    for (const auto& s : r.state) {
      out += "  " + s.location + (s.register_name.empty() ? "" : " (" + s.register_name + ")") + ": A " + opt_hex(s.a) +
             ", B " + opt_hex(s.b) + "\n";
    }
  }
  return out;
}

std::string diff_json(const DiffResult& r, std::string_view label_a, std::string_view label_b) {
  using ojson = nlohmann::ordered_json;
  auto diff_obj = [](const Difference& d) {
    ojson j;
    j["kind"] = kind_name(d.kind);
    if (d.index_a) j["index_a"] = *d.index_a;
    if (d.index_b) j["index_b"] = *d.index_b;
    j["a"] = d.a;
    j["b"] = d.b;
    if (!d.register_name.empty()) j["register"] = d.register_name;
    j["detail"] = d.detail;
    return j;
  };
  ojson j;
  j["a"] = std::string(label_a);
  j["b"] = std::string(label_b);
  j["mode"] = mode_name(r.mode);
  j["equal"] = r.equal();
  j["exact_alignment"] = r.exact_alignment;
  j["items_a"] = r.items_a;
  j["items_b"] = r.items_b;
  j["summary"] = ojson{{"aligned", r.matched},          {"only_a", r.only_a},
                       {"only_b", r.only_b},            {"value_differences", r.value_diffs},
                       {"timing_differences", r.timing_diffs}, {"state_differences", r.state.size()}};
  j["first"] = r.first ? diff_obj(*r.first) : ojson();
  j["context"] = r.context;
  ojson ds = ojson::array();
  for (const auto& d : r.differences) ds.push_back(diff_obj(d));
  j["differences"] = std::move(ds);
  j["differences_truncated"] = r.differences_truncated;
  ojson st = ojson::array();
  for (const auto& s : r.state) {
    ojson e;
    e["location"] = s.location;
    if (!s.register_name.empty()) e["register"] = s.register_name;
    e["a"] = s.a ? ojson(*s.a) : ojson();
    e["b"] = s.b ? ojson(*s.b) : ojson();
    st.push_back(std::move(e));
  }
  j["state"] = std::move(st);
  return j.dump(2) + "\n";
}

}  // namespace gpuinit::replay

#include "harness.hpp"

#include <cstdio>
#include <map>
#include <stdexcept>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/replay/engine.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::test {

std::string to_string(const RegAccess& a) {
  char b[160];
  std::snprintf(b, sizeof b, "%s %s%s bar%u +0x%llx /%u = 0x%llx", a.write ? "W" : "R",
                std::string(space_name(a.space)).c_str(), a.name.empty() ? "" : (":" + a.name).c_str(),
                unsigned(a.bar), (unsigned long long)a.offset, unsigned(a.width), (unsigned long long)a.value);
  return b;
}

// ---- recorder -----------------------------------------------------------------------

void Recorder::vga_port(std::uint64_t p, bool wr, std::uint8_t v) {
  if (p >= 0x3B0 && p <= 0x3BF && (misc_ & 1)) return;
  if (p >= 0x3D0 && p <= 0x3DF && !(misc_ & 1)) return;
  auto log = [&](Space s, std::uint64_t off) { log_.push_back({true, s, "", 0, off, 8, v}); };
  if (!wr) {
    if (p == 0x3DA || p == 0x3BA) ff_ = false;
    if (p == 0x3C9 && ++dac_sub_ == 3) dac_sub_ = 0;
    return;
  }
  switch (p) {
    case 0x3C0:
      if (!ff_) idx_[3] = v & 0x3F;
      else log(Space::vga_attr, idx_[3] & 0x1F);
      ff_ = !ff_;
      return;
    case 0x3C4: idx_[0] = v; return;
    case 0x3C5: log(Space::vga_seq, idx_[0]); return;
    case 0x3CE: idx_[2] = v; return;
    case 0x3CF: log(Space::vga_gfx, idx_[2]); return;
    case 0x3B4:
    case 0x3D4: idx_[1] = v; return;
    case 0x3B5:
    case 0x3D5: log(Space::vga_crtc, idx_[1]); return;
    case 0x3C7: dac_sub_ = 0; return;
    case 0x3C8: dac_w_ = v; dac_sub_ = 0; return;
    case 0x3C9:
      cache_[dac_sub_] = v;
      if (++dac_sub_ == 3) {
        for (unsigned i = 0; i < 3; ++i) log_.push_back({true, Space::vga_dac, "", 0, dac_w_ * 3u + i, 8, cache_[i]});
        dac_sub_ = 0;
        ++dac_w_;
      }
      return;
    case 0x3C2: misc_ = v; log(Space::vga_io, p); return;
    default: log(Space::vga_io, p); return;
  }
}

namespace {
bool at(const RegLocation& l, const Access& a) {
  return a.space == l.space && a.offset == l.offset && a.width == l.width && (!space_has_bar(l.space) || a.bar == l.bar);
}
}  // namespace

namespace {
// The platform's ports (timer, speaker gate, debug console, POST codes), not the card's.
bool platform_port(const Access& a) {
  if (a.space != Space::port) return false;
  const std::uint64_t p = a.offset;
  return (p >= 0x40 && p <= 0x43) || p == 0x61 || p == 0x80 || p == 0x402 || p == 0xE9;
}
}  // namespace

std::uint64_t Recorder::read(const Access& a, std::uint64_t now_ns) {
  if (platform_port(a)) return 0;
  const std::uint64_t v = inner_.read(a, now_ns);
  if (pair_idx_.size() != map_.indexed_spaces.size()) pair_idx_.assign(map_.indexed_spaces.size(), 0);
  if (a.space == Space::vga_io) {
    for (unsigned i = 0; i < a.width / 8u; ++i) vga_port(a.offset + i, false, std::uint8_t(v >> (8 * i)));
    return v;
  }
  for (std::size_t i = 0; i < map_.indexed_spaces.size(); ++i)
    if (at(map_.indexed_spaces[i].data, a)) {
      log_.push_back({false, Space::named, map_.indexed_spaces[i].name, 0, pair_idx_[i], a.width, v});
      return v;
    }
  log_.push_back({false, a.space, std::string(a.space_name), a.bar, a.offset, a.width, v});
  return v;
}

void Recorder::write(const Access& a, std::uint64_t value, std::uint64_t now_ns) {
  if (platform_port(a)) return;
  inner_.write(a, value, now_ns);
  if (pair_idx_.size() != map_.indexed_spaces.size()) pair_idx_.assign(map_.indexed_spaces.size(), 0);
  if (a.space == Space::vga_io) {
    for (unsigned i = 0; i < a.width / 8u; ++i) vga_port(a.offset + i, true, std::uint8_t(value >> (8 * i)));
    return;
  }
  for (std::size_t i = 0; i < map_.indexed_spaces.size(); ++i) {
    if (at(map_.indexed_spaces[i].index, a)) {
      pair_idx_[i] = value;
      return;
    }
    if (at(map_.indexed_spaces[i].data, a)) {
      log_.push_back({true, Space::named, map_.indexed_spaces[i].name, 0, pair_idx_[i], a.width, value});
      return;
    }
  }
  log_.push_back({true, a.space, std::string(a.space_name), space_has_bar(a.space) ? a.bar : std::uint8_t(0),
                  a.offset, a.width, value});
}

// ---- observable writes --------------------------------------------------------------

namespace {
const Register* find_reg(const RegisterMap& map, const RegAccess& a) {
  for (const auto& r : map.registers)
    if (r.space == a.space && r.offset == a.offset && r.width == a.width &&
        (a.space != Space::named || r.space_name == a.name) && (!space_has_bar(a.space) || r.bar == a.bar))
      return &r;
  return nullptr;
}
// Side-effect free, and a write stores its value (not w1c/w1s bits).
bool replaces(const Register* r) {
  if (!r || r->write_side_effect || r->access == AccessPolicy::w1c || r->access == AccessPolicy::w1s) return false;
  for (const auto& f : r->fields)
    if (f.access && (*f.access == AccessPolicy::w1c || *f.access == AccessPolicy::w1s)) return false;
  return true;
}
bool same_reg(const RegAccess& a, const RegAccess& b) {
  return a.space == b.space && a.name == b.name && a.bar == b.bar && a.offset == b.offset && a.width == b.width;
}
}  // namespace

std::vector<RegAccess> observable_writes(const std::vector<RegAccess>& log, const RegisterMap& map) {
  std::vector<RegAccess> out;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const RegAccess& w = log[i];
    if (!w.write) continue;
    const Register* r = find_reg(map, w);
    bool dead = false;
    if (replaces(r)) {
      for (std::size_t j = i + 1; j < log.size(); ++j) {
        const RegAccess& n = log[j];
        const Register* nr = find_reg(map, n);
        if (n.write) {
          if (same_reg(n, w)) {
            dead = true;
            break;
          }
          if (!replaces(nr)) break;
        } else if (nr && nr->read_sensitive && same_reg(n, w)) {
          break;
        }
      }
    }
    if (!dead) out.push_back(w);
  }
  return out;
}

// ---- replays ------------------------------------------------------------------------

namespace {
constexpr std::uint64_t kSettleNs = 1'000'000'000;  // time for delayed behaviours to finish

std::unique_ptr<MapModel> make_model(const RegisterMap& map) {
  std::vector<Problem> problems;
  auto m = MapModel::create(map, {}, problems);
  if (!m) throw std::runtime_error("map rejected: " + (problems.empty() ? std::string() : problems[0].str()));
  return m;
}
}  // namespace

ReplayResult replay_trace(const Trace& t, const RegisterMap& map) {
  auto model = make_model(map);
  Recorder rec(*model, map);
  std::uint64_t now = 0;
  for (const auto& e : t.events) {
    now = std::max(now, e.t_ns);
    if (e.kind != EventKind::access) continue;
    Access a{e.space, e.bar, e.width, e.offset, e.space_name};
    if (e.dir == Dir::read) (void)rec.read(a, now);
    else rec.write(a, e.value, now);
  }
  return {rec.log(), model->final_state(now + kSettleNs), ""};
}

ReplayResult replay_sequence(const InitSequence& s, const RegisterMap& map) {
  auto model = make_model(map);
  Recorder rec(*model, map);
  ReplayResult r;
  std::uint64_t now = 0;
  for (std::size_t i = 0; i < s.ops.size() && r.error.empty(); ++i) {
    const Op& op = s.ops[i];
    Access a{op.space, op.bar, op.width, op.offset, op.space_name};
    switch (op.kind) {
      case OpKind::write: rec.write(a, op.value, now); now += 1000; break;
      case OpKind::fill:
        for (std::uint64_t k = 0; k < op.count; ++k, a.offset += op.width / 8u) rec.write(a, op.value, now);
        now += 1000;
        break;
      case OpKind::read: (void)rec.read(a, now); now += 1000; break;
      case OpKind::rmw: {
        const std::uint64_t cur = rec.read(a, now);
        rec.write(a, (cur & ~op.mask) | (op.value & op.mask), now);
        now += 1000;
        break;
      }
      case OpKind::poll: {
        const std::uint64_t start = now;
        for (;;) {
          const std::uint64_t v = rec.read(a, now);
          if ((v & op.mask) == op.value) break;
          if (now - start > op.timeout_us * 1000) {
            r.error = "POLL #" + std::to_string(i) + " timed out";
            break;
          }
          now += std::max<std::uint64_t>(1, op.interval_us) * 1000;
        }
        now += 1000;
        break;
      }
      case OpKind::delay: now += op.us * 1000; break;
      case OpKind::end: i = s.ops.size(); break;
    }
  }
  r.log = rec.log();
  r.state = model->final_state(now + kSettleNs);
  return r;
}

ReplayResult replay_sequence_engine(const InitSequence& s, const RegisterMap& map) {
  auto model = make_model(map);
  MapModel* m = model.get();
  auto rec = std::make_unique<Recorder>(std::move(model), map);
  Recorder* r = rec.get();
  replay::ModelTarget target(std::move(rec), {}, true);
  const auto report = replay::run_sequence(s, target);
  ReplayResult out;
  if (report.refused) out.error = "engine refused the sequence: " + (report.problems.empty() ? "" : report.problems[0].str());
  else if (!report.failures.empty()) out.error = "engine: " + report.failures[0].message;
  out.log = r->log();
  out.state = m->final_state(target.now_ns() + kSettleNs);
  return out;
}

std::string compare_states(const std::vector<RegisterValue>& a, const std::vector<RegisterValue>& b,
                           const RegisterMap& map) {
  std::map<std::string, std::uint64_t> ma, mb;
  for (const auto& x : a) ma[x.name] = x.value;
  for (const auto& x : b) mb[x.name] = x.value;
  auto one_sided = [&](const std::string& name, std::uint64_t v, const char* side) -> std::string {
    // Touched by one replay only (a read the reduction dropped): it must still hold its
    // reset value; read-only registers follow the card's behaviours, not the sequence.
    const Register* r = map.find(name);
    if (r && r->access == AccessPolicy::ro) return "";
    const std::uint64_t reset = r ? r->reset : 0;
    if (v == reset) return "";
    return name + " = " + std::to_string(v) + " only in the " + side + " replay (reset " + std::to_string(reset) + ")";
  };
  for (const auto& [k, v] : ma) {
    auto it = mb.find(k);
    if (it == mb.end()) {
      if (auto e = one_sided(k, v, "raw"); !e.empty()) return e;
    } else if (it->second != v) {
      return k + ": raw " + std::to_string(v) + ", reduced " + std::to_string(it->second);
    }
  }
  for (const auto& [k, v] : mb)
    if (!ma.count(k))
      if (auto e = one_sided(k, v, "reduced"); !e.empty()) return e;
  return "";
}

std::string compare_logs(const std::vector<RegAccess>& a, const std::vector<RegAccess>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (!(a[i] == b[i])) return "write #" + std::to_string(i) + ": raw " + to_string(a[i]) + ", reduced " + to_string(b[i]);
  if (a.size() != b.size())
    return "raw has " + std::to_string(a.size()) + " observable writes, reduced " + std::to_string(b.size());
  return "";
}

// ---- generator ----------------------------------------------------------------------

namespace {

class Gen {
 public:
  Gen(std::mt19937_64& rng, const RegisterMap& map) : rng_(rng), map_(map), model_(make_model(map)) {}

  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool coin(unsigned pct = 50) { return pick(100) < pct; }

  std::uint64_t access(Space s, std::uint8_t bar, std::uint64_t off, std::uint8_t width, bool wr, std::uint64_t v = 0,
                       const char* name = "") {
    TraceEvent e;
    e.seq = t_.events.size();
    e.t_ns = now_;
    e.space = s;
    e.space_name = name;
    e.bar = bar;
    e.offset = off;
    e.width = width;
    e.dir = wr ? Dir::write : Dir::read;
    e.cs_ip = 0xC0000000u | std::uint32_t(pick(0x8000));
    Access a{s, bar, width, off, e.space_name};
    if (s == Space::port) {
      e.value = wr ? v : pit_value(off);
    } else if (wr) {
      e.value = v & width_mask(width);
      model_->write(a, e.value, now_);
    } else {
      e.value = model_->read(a, now_);
    }
    t_.events.push_back(e);
    now_ += 200 + pick(1800);
    return t_.events.back().value;
  }
  std::uint64_t pit_value(std::uint64_t port) {
    if (port == 0x61) return (now_ / 15000) & 1 ? 0x10 : 0x00;  // refresh toggle, 15 us
    return 0xFFFF - ((now_ / 838) & 0xFFFF);
  }
  void service(const char* name, std::uint64_t wait_ns) {
    TraceEvent e;
    e.seq = t_.events.size();
    e.t_ns = now_;
    e.kind = EventKind::service;
    e.service = name;
    e.wait_ns = wait_ns;
    t_.events.push_back(e);
    now_ += wait_ns + 100;
  }
  void vga(std::uint64_t port, bool wr, std::uint64_t v = 0, std::uint8_t width = 8) {
    access(Space::vga_io, 0, port, width, wr, v);
  }
  std::uint64_t pll(std::uint64_t index, bool wr, std::uint64_t v = 0) {
    access(Space::io, 1, 16, 8, true, index);
    return access(Space::io, 1, 20, 32, wr, v);
  }
  std::uint64_t rnd_value() { return coin(30) ? pick(4) : rng_(); }

  void step() {
    static const std::uint64_t quiet[] = {12, 16, 36, 48, 52};  // SCRATCH0/1, INT_ENABLE, DISPLAY_CTRL, FB_BASE
    switch (pick(20)) {
      case 0: {  // writes to side-effect-free registers, often overwritten
        const std::uint64_t r = quiet[pick(5)];
        for (std::uint64_t n = 1 + pick(3); n-- > 0;) access(Space::mmio, 0, r, 32, true, rnd_value());
        break;
      }
      case 1: access(Space::mmio, 0, 8, 32, true, rnd_value()); break;  // SOFT_RESET: side effect
      case 2: access(Space::mmio, 0, coin() ? 32 : 40, 32, true, rnd_value()); break;  // w1c, w1s
      case 3: {  // read-modify-write
        const std::uint64_t r = coin(70) ? quiet[pick(5)] : 32;
        const std::uint64_t v = access(Space::mmio, 0, r, 32, false);
        access(Space::mmio, 0, r, 32, true, coin(80) ? v ^ (std::uint64_t{1} << pick(32)) : v);
        break;
      }
      case 4: {  // reads nobody consumes, and read-sensitive ones
        static const std::uint64_t regs[] = {0, 4, 12, 16, 0x40, 0x44};
        for (std::uint64_t n = 1 + pick(3); n-- > 0;) access(Space::mmio, 0, regs[pick(6)], 32, false);
        break;
      }
      case 5: vga(0x3C2, true, coin(70) ? 0x67 : 0x66); break;  // misc: colour or mono decode
      case 6:
        if (coin(20)) vga(0x3C4, true, pick(5) | (pick(256) << 8), 16);
        else {
          vga(0x3C4, true, pick(5));
          if (coin(90)) vga(0x3C5, coin(80), pick(256));
        }
        break;
      case 7: {
        const std::uint64_t base = coin(75) ? 0x3D4 : 0x3B4;
        if (coin(20)) vga(base, true, pick(0x19) | (pick(256) << 8), 16);
        else {
          if (coin(90)) vga(base, true, coin(10) ? 0x11 : pick(0x19));
          vga(base + 1, coin(80), coin(10) ? 0x80 * pick(2) : pick(256));
        }
        break;
      }
      case 8:
        vga(0x3CE, true, pick(9));
        vga(0x3CF, coin(80), pick(256));
        break;
      case 9: {  // attribute controller
        if (coin(70)) vga(coin(80) ? 0x3DA : 0x3BA, false);
        for (std::uint64_t n = pick(4); n-- > 0;) {
          vga(0x3C0, true, pick(0x15) | (coin(20) ? 0x20 : 0));
          if (coin(10)) vga(0x3C1, false);
          if (coin(90)) vga(0x3C0, true, pick(256));
        }
        if (coin(40)) vga(0x3C0, true, 0x20);
        break;
      }
      case 10: {  // DAC
        // Writes that complete an entry after reads moved the DAC's shared component
        // counter store leftover bytes the reducer does not reproduce (docs/reduce.md,
        // limits): after reads, a program selects the write entry first.
        if (coin(80) || dac_read_) vga(0x3C8, true, pick(256));
        dac_read_ = false;
        for (std::uint64_t n = pick(8); n-- > 0;) vga(0x3C9, true, pick(64));
        if (coin(15)) {
          vga(0x3C7, true, pick(256));
          for (std::uint64_t n = pick(4); n-- > 0;) vga(0x3C9, false);
          dac_read_ = true;
        }
        break;
      }
      case 11: {  // PLL: program, enable, wait for lock
        pll(1, true, rnd_value());
        if (coin(30)) pll(1, true, rnd_value());
        pll(0, true, coin(80) ? 1 : 0);
        access(Space::io, 1, 16, 8, true, 2);
        for (int i = 0; i < 100000; ++i) {
          const std::uint64_t v = access(Space::io, 1, 20, 32, false);
          if (v & 1) {
            if (coin(30)) t_.events.back().loop_exit = true;
            break;
          }
          if (i > 300) break;  // PLL disabled: the code gives up
        }
        break;
      }
      case 12: {  // PIT delay loop
        access(Space::port, 0, 0x43, 8, true, 0);
        const std::uint64_t end = now_ + 1000 * (1 + pick(200));
        while (now_ < end) {
          access(Space::port, 0, 0x40, 8, false);
          access(Space::port, 0, 0x40, 8, false);
        }
        break;
      }
      case 13: {  // port 0x61 refresh toggles
        const std::uint64_t n = 1 + pick(20);
        for (std::uint64_t i = 0; i < n * 8; ++i) access(Space::port, 0, 0x61, 8, false);
        break;
      }
      case 14: service(coin(80) ? "int15_86" : "int1a_b101", 1000 * pick(5000)); break;
      case 15: {
        const char* text = coin() ? "init\n" : "ok";
        for (const char* c = text; *c; ++c) access(Space::port, 0, 0x402, 8, true, std::uint8_t(*c));
        if (coin(20)) access(Space::port, 0, 0x80, 8, true, pick(256));
        break;
      }
      case 16: access(Space::mmio, 0, 0x200 + 4 * pick(4), 32, coin(), rnd_value()); break;  // unknown registers
      case 17:
        for (std::uint64_t n = 1 + pick(6); n-- > 0;) vga(0x3DA, false);
        break;
      case 18: {  // memory training
        pll(9, true, rnd_value());
        pll(8, true, coin(85) ? 1 : 0);
        access(Space::io, 1, 16, 8, true, 10);
        for (int i = 0; i < 2000; ++i)
          if (access(Space::io, 1, 20, 32, false) & 1) break;
        if (coin(30)) pll(8, true, 0);
        break;
      }
      default:
        if (coin()) access(Space::vga_mem, 0, pick(0x100), 8, true, pick(256));
        else access(Space::config, 0, 4, 16, coin(), 7);
        break;
    }
  }

  Trace take() { return std::move(t_); }

 private:
  std::mt19937_64& rng_;
  const RegisterMap& map_;
  std::unique_ptr<MapModel> model_;
  Trace t_;
  std::uint64_t now_ = 1000;
  bool dac_read_ = false;
};

}  // namespace

Trace generate_trace(std::mt19937_64& rng, const RegisterMap& map, std::size_t steps) {
  Gen g(rng, map);
  for (std::size_t i = 0; i < steps; ++i) g.step();
  Trace t = g.take();
  t.header.source = "generated";
  t.header.device = map.device;
  return t;
}

RegisterMap load_ref_map() {
  auto m = load_regmap(read_file_text(std::string(GPUINIT_SOURCE_DIR) + "/devices/maps/gpuinit-ref.json"));
  if (!m.ok()) throw std::runtime_error("gpuinit-ref.json does not load");
  RegisterMap map = *m.value;
  Register fifo;
  fifo.name = "TEST_FIFO";
  fifo.space = Space::mmio;
  fifo.offset = 0x40;
  fifo.width = 32;
  fifo.read_sensitive = true;
  map.registers.push_back(fifo);
  return map;
}

}  // namespace gpuinit::test

// Differential test: the same sequences on the C++ register-map model and on the generated
// RTL (direct driver and SystemC TLM) give the same value for every read and the same final
// register state. Sequences: a hand-written one per map and random ones (fixed seeds) over
// every register, policy, index/data pair (overlapping ports and ports crossing a bus word
// included), mapped data block, triggered constant and timed behaviour of the map, and
// bit-banged I2C transactions on every i2c_gpio register (a DDC EEPROM read included).
#include <catch2/catch.hpp>
#include <algorithm>
#include <random>
#include <sstream>

#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/sim/sim.hpp"

namespace {

using gpuinit::Access;
using gpuinit::Space;

// The model on a virtual clock where accesses take no time (the replay "model" target).
class ModelTarget final : public gpuinit::replay::Target {
 public:
  explicit ModelTarget(const gpuinit::RegisterMap& m) {
    std::vector<gpuinit::Problem> problems;
    gpuinit::MapModelOptions o;
    o.unknown = gpuinit::UnknownPolicy::zero;  // the RTL stores nothing at unknown locations
    model_ = gpuinit::MapModel::create(m, o, problems);
    REQUIRE(model_ != nullptr);
  }
  gpuinit::replay::Capabilities capabilities() const override { return {}; }
  std::uint64_t read(const Access& a) override { return model_->read(a, now_) & gpuinit::width_mask(a.width); }
  void write(const Access& a, std::uint64_t v) override { model_->write(a, v, now_); }
  std::uint64_t now_ns() const override { return now_; }
  void advance(std::uint64_t ns) override { now_ += ns; }
  std::string name() const override { return "model"; }

 private:
  std::unique_ptr<gpuinit::MapModel> model_;
  std::uint64_t now_ = 0;
};

struct Step {
  enum Kind { write, read, delay, poll } kind = read;
  Access a;
  std::string space_name;
  std::uint64_t value = 0, mask = 0;
};

struct Event {
  std::size_t step;
  char dir;
  std::uint64_t t_ns, value;
  bool operator==(const Event&) const = default;
};

std::vector<Event> run(gpuinit::replay::Target& t, std::vector<Step>& steps) {
  std::vector<Event> out;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto& s = steps[i];
    s.a.space_name = s.space_name;
    switch (s.kind) {
      case Step::write:
        out.push_back({i, 'w', t.now_ns(), s.value});
        t.write(s.a, s.value);
        break;
      case Step::read: out.push_back({i, 'r', t.now_ns(), t.read(s.a)}); break;
      case Step::delay: t.advance(s.value); break;
      case Step::poll:
        for (int n = 0; n < 100; ++n) {  // interval 10 us, timeout 1 ms
          const auto v = t.read(s.a);
          out.push_back({i, 'r', t.now_ns(), v});
          if ((v & s.mask) == s.value) break;
          t.advance(10'000);
        }
        break;
    }
  }
  return out;
}

Access loc(Space s, std::uint64_t off, unsigned width, unsigned bar = 0) {
  Access a;
  a.space = s;
  a.offset = off;
  a.width = std::uint8_t(width);
  a.bar = std::uint8_t(bar);
  return a;
}

// Reads of every readable register of the map (and the standard VGA registers), in map
// order: the final state as the bus sees it.
std::vector<Step> state_reads(const gpuinit::RegisterMap& m) {
  std::vector<Step> out;
  for (const auto& r : m.registers) {
    Step s;
    s.kind = Step::read;
    s.a = loc(r.space, r.offset, r.width, r.bar);
    s.space_name = r.space_name;
    out.push_back(s);
  }
  if (m.vga) {
    const std::pair<Space, unsigned> std_regs[] = {
        {Space::vga_seq, 5}, {Space::vga_crtc, 0x19}, {Space::vga_gfx, 9}, {Space::vga_attr, 0x15}};
    for (auto [sp, n] : std_regs)
      for (unsigned i = 0; i < n; ++i) out.push_back({Step::read, loc(sp, i, 8), {}, 0, 0});
  }
  return out;
}

Access loc_of(const gpuinit::RegLocation& l, std::int64_t delta, unsigned width) {
  return loc(l.space, std::uint64_t(std::int64_t(l.offset) + delta), width, l.bar);
}

// Accesses of every width around the ports of the indexed spaces and inside and around the
// mapped data blocks: accesses that start before a port, inside it, on an overlapping port,
// and that cross a 64-bit bus word.
Step near_step(const gpuinit::RegisterMap& m, std::mt19937_64& rng) {
  auto pick = [&](std::size_t k) { return std::size_t(rng() % k); };
  const unsigned widths[] = {8, 16, 32, 64};
  const unsigned width = widths[pick(4)];
  Step s;
  std::vector<const gpuinit::DataBlock*> blocks;
  for (const auto& b : m.blocks)
    if (b.mapped) blocks.push_back(&b);
  if (!blocks.empty() && (m.indexed_spaces.empty() || pick(2))) {
    const auto& b = *blocks[pick(blocks.size())];
    const std::uint64_t lo = b.offset >= 4 ? b.offset - 4 : 0;
    s.a = loc(b.space, lo + pick(b.size + 8), width, b.bar);
  } else if (!m.indexed_spaces.empty()) {
    const auto& is = m.indexed_spaces[pick(m.indexed_spaces.size())];
    const auto& l = pick(2) ? is.index : is.data;
    std::int64_t delta = std::int64_t(pick(7)) - 3;
    if (std::int64_t(l.offset) + delta < 0) delta = 0;
    s.a = loc_of(l, delta, width);
  } else {
    s.a = loc(Space::mmio, 0x8000 + pick(64), width, 0);
  }
  s.kind = pick(2) ? Step::write : Step::read;
  s.value = rng() & gpuinit::width_mask(width);
  return s;
}

// Bit-banging an i2c_gpio register as a DDC driver does: each write sets the two lines
// (driven low, released, or now and then driven high), each line change is followed by a
// read of the register (the levels, SDA from the responder included).
struct I2cBanger {
  const gpuinit::Behaviour& b;
  const gpuinit::Register& r;
  std::vector<Step>& out;
  std::mt19937_64* rng = nullptr;  // null: no noise
  bool scl = true, sda = true;

  std::uint64_t bits(bool scl_v, bool sda_v) {
    const auto& l = b.i2c;
    std::uint64_t v = b.when_value;
    auto line = [&](bool level, unsigned out_bit, unsigned oe_bit) {
      if (!level) v |= std::uint64_t{1} << oe_bit;  // drive low
      else if (rng && (*rng)() % 4 == 0) v |= (std::uint64_t{1} << oe_bit) | (std::uint64_t{1} << out_bit);
      (void)out_bit;
    };
    line(scl_v, l.scl_out, l.scl_oe);
    line(sda_v, l.sda_out, l.sda_oe);
    if (rng) {  // other bits: noise, and now and then a write that does not clock the bus
      const std::uint64_t mine = (std::uint64_t{1} << l.scl_out) | (std::uint64_t{1} << l.sda_out) |
                                 (std::uint64_t{1} << l.scl_oe) | (std::uint64_t{1} << l.sda_oe) | b.when_mask;
      v |= (*rng)() & ~mine;
      if ((*rng)() % 16 == 0) v ^= b.when_mask;
    }
    return v & gpuinit::width_mask(r.width);
  }
  void set(bool scl_v, bool sda_v) {
    Step w{Step::write, loc(r.space, r.offset, r.width, r.bar), r.space_name, bits(scl_v, sda_v), 0};
    out.push_back(w);
    Step rd{Step::read, loc(r.space, r.offset, r.width, r.bar), r.space_name, 0, 0};
    out.push_back(rd);
    scl = scl_v;
    sda = sda_v;
  }
  void start() { set(scl, true); set(true, true); set(true, false); set(false, false); }
  void stop() { set(false, false); set(true, false); set(true, true); }
  void bit(bool v) { set(false, v); set(true, v); set(false, v); }
  void byte_out(unsigned v) {
    for (int i = 7; i >= 0; --i) bit(((v >> i) & 1) != 0);
    bit(true);  // released for the responder's ACK
  }
  void byte_in(bool ack) {
    for (int i = 0; i < 8; ++i) bit(true);
    bit(!ack);
  }
  // Sets the pointer, then reads n bytes from it (a DDC EDID read).
  void read_at(unsigned address, unsigned offset, unsigned n) {
    start();
    byte_out(address << 1);
    byte_out(offset);
    start();
    byte_out(address << 1 | 1);
    for (unsigned i = 0; i < n; ++i) byte_in(i + 1 < n);
    stop();
  }
};

const gpuinit::Register& reg_of(const gpuinit::RegisterMap& m, const gpuinit::Behaviour& b) { return *m.find(b.reg); }

// Random I2C traffic: transfers to the responder's address and to others, current-address
// and pointer reads, NACKs, stray writes, glitches and writes that do not clock the bus.
std::vector<Step> i2c_sequence(const gpuinit::RegisterMap& m, const gpuinit::Behaviour& b, std::uint32_t seed,
                               unsigned transfers) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t k) { return std::size_t(rng() % k); };
  std::vector<Step> out;
  I2cBanger bus{b, reg_of(m, b), out, &rng};
  for (unsigned t = 0; t < transfers; ++t) {
    const unsigned addr = pick(4) ? b.i2c.address : unsigned(pick(128));
    switch (pick(5)) {
      case 0: bus.read_at(addr, unsigned(pick(256)), 1 + unsigned(pick(3))); break;
      case 1:  // current-address read
        bus.start();
        bus.byte_out(addr << 1 | 1);
        for (unsigned i = 0, n = 1 + unsigned(pick(3)); i < n; ++i) bus.byte_in(i + 1 < n);
        bus.stop();
        break;
      case 2:  // a write of several bytes (the first sets the pointer)
        bus.start();
        bus.byte_out(addr << 1);
        for (unsigned i = 0, n = 1 + unsigned(pick(3)); i < n; ++i) bus.byte_out(unsigned(pick(256)));
        if (pick(2)) bus.stop();
        break;
      case 3:  // glitches: random line levels
        for (unsigned i = 0, n = 1 + unsigned(pick(12)); i < n; ++i) bus.set(pick(2) != 0, pick(2) != 0);
        break;
      default: {  // a read that the master ends early (NACK, or a STOP in the middle)
        bus.read_at(addr, unsigned(pick(256)), 1);
        bus.start();
        bus.byte_out(addr << 1 | 1);
        for (int i = 0, n = int(pick(9)); i < n; ++i) bus.bit(true);
        bus.stop();
        break;
      }
    }
  }
  return out;
}

std::vector<Step> random_sequence(const gpuinit::RegisterMap& m, std::uint32_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t k) { return std::size_t(rng() % k); };
  std::vector<Step> out;
  std::vector<std::uint64_t> interesting = {0, ~std::uint64_t{0}};
  for (const auto& b : m.behaviours) {
    interesting.push_back(b.trigger_value);
    interesting.push_back(b.when_value);
    interesting.push_back(b.trigger_value | (rng() & ~b.trigger_mask));
  }
  std::vector<Access> vga_ports;
  if (m.vga)
    for (std::uint64_t p : {0x3C2, 0x3C4, 0x3C5, 0x3C6, 0x3C7, 0x3C8, 0x3C9, 0x3CA, 0x3CC, 0x3CE, 0x3CF, 0x3B4,
                            0x3B5, 0x3BA, 0x3D4, 0x3D5, 0x3DA, 0x3C1})
      vga_ports.push_back(loc(Space::vga_io, p, 8));
  for (std::size_t i = 0; i < n; ++i) {
    Step s;
    const auto what = pick(112);
    if (what >= 100) {  // around ports and data blocks
      out.push_back(near_step(m, rng));
      continue;
    }
    if (what < 60 && !m.registers.empty()) {
      const auto& r = m.registers[pick(m.registers.size())];
      s.a = loc(r.space, r.offset, r.width, r.bar);
      s.space_name = r.space_name;
      // Sub-word accesses of flat registers (a byte or half inside the register).
      if (!gpuinit::space_is_indexed(r.space) && r.width > 8 && pick(4) == 0) {
        const unsigned w = r.width == 64 && pick(2) ? 32 : (pick(2) ? 16 : 8);
        s.a.width = std::uint8_t(std::min<unsigned>(w, r.width));
        s.a.offset = r.offset + (pick(r.width / s.a.width) * s.a.width) / 8;
      }
    } else if (what < 70 && !m.indexed_spaces.empty()) {
      const auto& is = m.indexed_spaces[pick(m.indexed_spaces.size())];
      if (pick(2)) {  // raw index port write then data port access
        s.kind = Step::write;
        s.a = loc(is.index.space, is.index.offset, is.index.width, is.index.bar);
        s.value = pick(is.size + 2);
        out.push_back(s);
        s.a = loc(is.data.space, is.data.offset, is.data.width, is.data.bar);
      } else {
        s.a = loc(Space::named, pick(is.size + 2), is.data.width);
        s.space_name = is.name;
      }
    } else if (what < 82 && m.vga) {
      if (pick(2)) {
        s.a = vga_ports[pick(vga_ports.size())];
      } else {
        const Space sp[] = {Space::vga_seq, Space::vga_crtc, Space::vga_gfx, Space::vga_attr};
        s.a = loc(sp[pick(4)], pick(0x20), 8);
      }
    } else if (what < 90) {
      s.kind = Step::delay;
      s.value = pick(4) ? pick(300) * 1000 : pick(50) * 10;
      out.push_back(s);
      continue;
    } else if (what < 95 && !m.behaviours.empty()) {
      const auto& b = m.behaviours[pick(m.behaviours.size())];
      const auto* r = m.find(b.reg);
      s.kind = Step::poll;
      s.a = loc(r->space, r->offset, r->width, r->bar);
      s.space_name = r->space_name;
      s.mask = b.mask;
      s.value = b.value & b.mask;
      out.push_back(s);
      continue;
    } else {  // unmapped locations read zero and keep nothing
      s.a = loc(Space::mmio, 0x8000 + 8 * pick(16), 32, 0);
    }
    if (pick(2)) {
      s.kind = Step::write;
      s.value = pick(3) ? rng() : interesting[pick(interesting.size())];
      s.value &= gpuinit::width_mask(s.a.width);
    } else {
      s.kind = Step::read;
    }
    out.push_back(s);
  }
  return out;
}

std::string first_divergence(const std::vector<Event>& a, const std::vector<Event>& b, const std::vector<Step>& steps) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    if (!(a[i] == b[i])) {
      std::ostringstream os;
      const auto& s = steps[a[i].step];
      os << "event " << i << " (step " << a[i].step << ", " << gpuinit::space_name(s.a.space) << " "
         << s.space_name << " offset 0x" << std::hex << s.a.offset << " width " << std::dec << unsigned(s.a.width)
         << "): model " << a[i].dir << " 0x" << std::hex << a[i].value << " at " << std::dec << a[i].t_ns
         << " ns, sim " << b[i].dir << " 0x" << std::hex << b[i].value << " at " << std::dec << b[i].t_ns << " ns";
      return os.str();
    }
  if (a.size() != b.size()) return "event counts differ: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  return {};
}

void differential(const gpuinit::sim::BlockInfo& b, bool systemc, std::vector<Step> steps) {
  const auto m = gpuinit::sim::block_map(b);
  for (auto& s : state_reads(m)) steps.push_back(s);
  ModelTarget model(m);
  gpuinit::sim::SimOptions o;
  o.systemc = systemc;
  auto sim = gpuinit::sim::make_target(b, o);
  auto steps_sim = steps;
  const auto em = run(model, steps);
  const auto es = run(*sim, steps_sim);
  INFO("map " << b.map_name << ", " << steps.size() << " steps, " << em.size() << " events");
  CHECK(first_divergence(em, es, steps) == "");
  CHECK(model.now_ns() == sim->now_ns());
}

// A sequence like an init: enable the PLL-style triggers and poll their status.
std::vector<Step> init_like(const gpuinit::RegisterMap& m) {
  std::vector<Step> out;
  for (const auto& b : m.behaviours) {
    if (b.kind != gpuinit::BehaviourKind::delayed_set) continue;
    const auto* t = m.find(b.trigger);
    const auto* r = m.find(b.reg);
    Step w{Step::write, loc(t->space, t->offset, t->width, t->bar), t->space_name, b.trigger_value, 0};
    Step p{Step::poll, loc(r->space, r->offset, r->width, r->bar), r->space_name, b.value & b.mask, b.mask};
    out.push_back(w);
    out.push_back(p);
  }
  return out;
}

// Calls f(block, map, behaviour) for each i2c_gpio register of every block with RTL;
// returns how many there were.
template <class F>
std::size_t for_each_i2c_bus(F&& f) {
  std::size_t buses = 0;
  for (const auto& b : gpuinit::sim::blocks()) {
    const auto m = gpuinit::sim::block_map(b);
    for (const auto& beh : m.behaviours) {
      if (beh.kind != gpuinit::BehaviourKind::i2c_gpio) continue;
      ++buses;
      f(b, m, beh);
    }
  }
  return buses;
}

}  // namespace

TEST_CASE("differential: model and RTL (direct driver) agree on every map with RTL") {
  for (const auto& b : gpuinit::sim::blocks()) {
    const auto m = gpuinit::sim::block_map(b);
    differential(b, false, init_like(m));
    for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u})
      differential(b, false, random_sequence(m, seed * 7919u + 17u, 400));
  }
}

TEST_CASE("differential: bit-banged I2C on every i2c_gpio register agrees with the model") {
  const std::size_t buses = for_each_i2c_bus([](const auto& b, const auto& m, const auto& beh) {
    for (std::uint32_t seed : {11u, 12u, 13u, 14u}) differential(b, false, i2c_sequence(m, beh, seed, 24));
  });
  CHECK(buses >= 2);  // the two ATI cards' DDC buses
}

TEST_CASE("differential: a DDC EDID read over i2c_gpio returns the EEPROM on model and RTL") {
  const std::size_t buses = for_each_i2c_bus([](const auto& b, const auto& m, const auto& beh) {
    const auto* blk = m.find_block(beh.i2c.block);
    REQUIRE(blk != nullptr);
    std::vector<Step> steps;
    I2cBanger bus{beh, reg_of(m, beh), steps};
    bus.read_at(beh.i2c.address, 0, 128);
    // The RTL's answer, bit by bit: SDA sampled after each rising SCL of a data bit.
    gpuinit::sim::SimOptions o;
    o.systemc = false;
    auto sim = gpuinit::sim::make_target(b, o);
    auto sim_steps = steps;
    const auto ev = run(*sim, sim_steps);
    std::vector<int> sda;  // SDA level read after each write with SCL high
    for (std::size_t i = 0; i + 1 < ev.size(); ++i)
      if (ev[i].dir == 'w' && ((ev[i].value >> beh.i2c.scl_oe) & 1) == 0 && ev[i + 1].dir == 'r')
        sda.push_back(int((ev[i + 1].value >> beh.i2c.sda_in) & 1));
    // Writes with SCL high: the first START (3), two bytes out with their ACKs (18), the
    // repeated START (2), the address and its ACK (9), then 128 bytes of 9 bits.
    std::vector<std::uint8_t> got;
    const std::size_t first = 3 + 18 + 2 + 9;
    for (std::size_t k = 0; k < 128 && first + k * 9 + 8 <= sda.size(); ++k) {
      unsigned v = 0;
      for (std::size_t i = 0; i < 8; ++i) v = v << 1 | unsigned(sda[first + k * 9 + i]);
      got.push_back(std::uint8_t(v));
    }
    REQUIRE(got.size() == 128);
    INFO("map " << b.map_name);
    CHECK(std::equal(got.begin(), got.end(), blk->data.begin()));
    CHECK(got[0] == 0x00);
    CHECK(got[1] == 0xFF);  // the EDID header
    differential(b, false, steps);
  });
  CHECK(buses >= 2);
}

TEST_CASE("differential: model and RTL through SystemC TLM agree on the reference card") {
  const auto* b = gpuinit::sim::find_block("gpuinit-ref");
  REQUIRE(b != nullptr);
  auto m = gpuinit::sim::block_map(*b);
  auto steps = init_like(m);
  for (auto& s : random_sequence(m, 4242u, 1500)) steps.push_back(s);
  differential(*b, true, steps);
}

TEST_CASE("differential: model and RTL through SystemC TLM agree on overlapping ports and a port crossing a bus word") {
  // VMware SVGA: index/value ports at I/O offsets 0 and 1, Bochs DISPI data port at 0x1CF
  // (its second cycle is a TLM transaction marked as the continuation).
  const auto* b = gpuinit::sim::find_block("qemu-vmware-svga");
  REQUIRE(b != nullptr);
  auto m = gpuinit::sim::block_map(*b);
  differential(*b, true, random_sequence(m, 777u, 1500));
}

TEST_CASE("differential: a wrong RTL answer is caught") {
  // The comparison itself must be able to fail: a model with another reset value differs.
  const auto* b = gpuinit::sim::find_block("sim-mini");
  REQUIRE(b != nullptr);
  auto m = gpuinit::sim::block_map(*b);
  ModelTarget model(m);
  gpuinit::sim::SimOptions o;
  o.systemc = false;
  auto sim = gpuinit::sim::make_target(*b, o);
  std::vector<Step> steps = state_reads(m);
  auto s2 = steps;
  auto em = run(model, steps);
  auto es = run(*sim, s2);
  REQUIRE(first_divergence(em, es, steps).empty());
  es[0].value ^= 1;
  CHECK_FALSE(first_divergence(em, es, steps).empty());
}

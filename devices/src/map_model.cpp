// The register-map model. A map is compiled once into flat tables: registers in a vector,
// every byte of every register (and every index/data location) in an open-addressing hash
// keyed by (space code, bar, offset), behaviours attached to the registers they read or
// are triggered by. The common access (a whole register of the map) is one hash probe.
#include "gpuinit/devices/map_model.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <cstdio>
#include <tuple>

#include "gpuinit/devices/map_check.hpp"

namespace gpuinit {

namespace {

constexpr std::uint64_t kOffMask = (std::uint64_t{1} << 48) - 1;
constexpr unsigned kNamedBase = 16;     // space codes: built-in enumerators, then named spaces
constexpr unsigned kMaxNamedCodes = 200;  // named spaces of the map plus unknown ones seen
constexpr std::uint64_t kVgaMemSize = 0x20000;

constexpr std::uint64_t make_key(unsigned code, unsigned bar, std::uint64_t off) noexcept {
  return (std::uint64_t(code) << 56) | (std::uint64_t(bar & 0xFF) << 48) | (off & kOffMask);
}

constexpr std::uint64_t lane_mask(unsigned bits) noexcept {
  return bits >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << bits) - 1);
}

// Space properties as inline tables: space_has_bar()/space_is_indexed() live in another
// translation unit, and the access path calls them on every access.
constexpr bool kHasBar[] = {
#define GPUINIT_X(e, n, b, i) b,
    GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
    false};
constexpr bool kIndexed[] = {
#define GPUINIT_X(e, n, b, i) i,
    GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
    true};
inline bool fast_has_bar(Space s) noexcept { return std::size_t(s) < std::size(kHasBar) && kHasBar[std::size_t(s)]; }
inline bool fast_indexed(Space s) noexcept { return std::size_t(s) >= std::size(kIndexed) || kIndexed[std::size_t(s)]; }

enum Kind : std::uint8_t { kNone, kReg, kIndex, kData, kBlock };

struct Entry {
  Kind kind = kNone;
  std::uint8_t byte = 0;  // byte lane of the register this key is
  std::uint32_t id = 0;
};

// Open addressing, linear probing, power-of-two capacity, never deleted from.
class Table {
 public:
  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, Entry{});
    shift_ = 64;
    for (std::size_t c = cap; c > 1; c >>= 1) --shift_;
  }
  void insert(std::uint64_t key, Entry e) {
    std::size_t i = slot(key);
    while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & (keys_.size() - 1);
    keys_[i] = key;
    vals_[i] = e;
  }
  [[nodiscard]] const Entry* find(std::uint64_t key) const noexcept {
    std::size_t i = slot(key);
    while (true) {
      const std::uint64_t k = keys_[i];
      if (k == key) return &vals_[i];
      if (k == kEmpty) return nullptr;
      i = (i + 1) & (keys_.size() - 1);
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  [[nodiscard]] std::size_t slot(std::uint64_t key) const noexcept {
    return std::size_t((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::vector<std::uint64_t> keys_;
  std::vector<Entry> vals_;
  unsigned shift_ = 60;
};

enum : std::uint8_t { kReadHook = 1, kWriteHook = 2 };

struct Reg {
  std::uint64_t value = 0;
  std::uint64_t reset = 0;
  std::uint64_t wmask = 0;  // bits a write replaces (rw, wo)
  std::uint64_t w1c = 0;
  std::uint64_t w1s = 0;
  std::uint64_t wo = 0;     // bits that read as 0
  std::uint64_t wm = 0;     // width mask
  std::uint8_t width = 8;
  std::uint8_t bytes = 1;
  std::uint8_t hooks = 0;
  bool touched = false;
  unsigned code = 0;
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint32_t src = 0;  // index in map.registers
};

// The responder side of a bit-banged I2C bus (i2c_gpio): a byte-addressed memory at one
// 7-bit address, as a DDC monitor EEPROM is. Levels are 1 when released (pulled up).
class I2cResponder {
 public:
  I2cResponder(std::uint8_t address, const std::vector<std::uint8_t>* data, std::uint64_t size)
      : address_(address), data_(data), size_(size) {}
  // Drives SCL then SDA as the master leaves them; returns the SDA level on the bus.
  bool clock(bool scl, bool sda) {
    set_scl(scl);
    return set_sda(sda);
  }

 private:
  enum class St : std::uint8_t { stopped, to_device, address_ack, from_device, master_ack, nacked };
  bool level() const { return dev_sda_ && sda_; }
  bool release() {
    dev_sda_ = true;
    return level();
  }
  std::uint8_t byte_at(std::uint64_t ptr) const {
    if (size_ == 0) return 0xFF;
    const std::uint64_t i = ptr % size_;
    return i < data_->size() ? (*data_)[i] : 0;
  }
  bool set_sda(bool v) {
    if (v == sda_) return level();
    sda_ = v;
    if (!scl_) return level();
    // SDA changing while SCL is high: START (falling) or STOP (rising).
    st_ = v ? St::stopped : St::to_device;
    bits_ = 0;
    have_addr_ = false;
    return release();
  }
  void set_scl(bool v) {
    if (v == scl_) return;
    scl_ = v;
    if (!v) {  // the responder lets SDA go after each clock pulse
      dev_sda_ = true;
      return;
    }
    switch (st_) {
      case St::stopped:
      case St::nacked:
        dev_sda_ = true;
        return;
      case St::to_device:
        shift_ = std::uint8_t(shift_ << 1 | (sda_ ? 1 : 0));
        if (++bits_ == 8) st_ = St::address_ack;
        dev_sda_ = true;
        return;
      case St::address_ack: {
        bits_ = 0;
        if (!have_addr_) {
          have_addr_ = true;
          reading_ = (shift_ & 1) != 0;
          if ((shift_ >> 1) != address_) {  // nobody answers: the transfer ends
            st_ = St::stopped;
            have_addr_ = false;
            dev_sda_ = true;
            return;
          }
          if (!reading_) first_byte_ = true;
        } else if (first_byte_) {
          ptr_ = shift_;
          first_byte_ = false;
        } else {
          ++ptr_;  // further written bytes are ignored
        }
        st_ = reading_ ? St::from_device : St::to_device;
        dev_sda_ = false;  // ACK
        return;
      }
      case St::from_device:
        if (bits_ == 0) out_ = byte_at(ptr_++);
        dev_sda_ = ((out_ >> (7 - bits_)) & 1) != 0;
        if (++bits_ == 8) {
          bits_ = 0;
          st_ = St::master_ack;
        }
        return;
      case St::master_ack:
        st_ = sda_ ? St::nacked : St::from_device;
        dev_sda_ = true;
        return;
    }
  }

  std::uint8_t address_;
  const std::vector<std::uint8_t>* data_;
  std::uint64_t size_;
  bool scl_ = true, sda_ = true, dev_sda_ = true;
  St st_ = St::stopped;
  unsigned bits_ = 0;
  std::uint8_t shift_ = 0, out_ = 0;
  bool have_addr_ = false, reading_ = false, first_byte_ = false;
  std::uint64_t ptr_ = 0;
};

struct Blk {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  const std::vector<std::uint8_t>* data = nullptr;
  std::uint8_t read(std::uint64_t p) const {
    const std::uint64_t i = p - offset;
    return i < data->size() ? (*data)[i] : 0;
  }
};

struct Beh {
  BehaviourKind kind = BehaviourKind::constant;
  std::uint32_t reg = 0;
  std::uint32_t trigger = 0;
  bool conditional = false;  // constant with a trigger condition
  std::uint64_t mask = 0, value = 0, tmask = 0, tvalue = 0, delay = 0;
  std::uint64_t when_mask = 0, when_value = 0, else_value = 0;
  bool armed = false;
  std::uint64_t armed_at = 0;
  int readback = -1;  // -1: no write yet; 0: else_value; 1: value
  I2cLines lines;
  std::uint32_t i2c = 0;  // index in Impl::i2c
};

struct IdxSpace {
  std::string name;
  unsigned code = 0;
  std::uint32_t size = 0;
  RegLocation index, data;
  std::uint64_t selected = 0;
};

// Standard register counts: indices below are the VGA's own registers.
constexpr std::array<unsigned, 4> kVgaStdCount = {5, 0x19, 9, 0x15};  // seq, crtc, gfx, attr

int vga_array(unsigned code) noexcept {
  switch (Space(code)) {
    case Space::vga_seq: return 0;
    case Space::vga_crtc: return 1;
    case Space::vga_gfx: return 2;
    case Space::vga_attr: return 3;
    default: return -1;
  }
}

struct Block {
  std::uint64_t data = 0;
  std::uint8_t valid = 0;
};

}  // namespace

struct MapModel::Impl {
  RegisterMap map;
  MapModelOptions opt;
  RegisterNamer namer;
  MapStats stats;
  Table table;
  std::vector<Reg> regs;
  std::vector<Beh> behs;
  std::vector<Blk> blocks;
  std::vector<I2cResponder> i2c;
  std::vector<std::vector<std::uint32_t>> read_behs, write_behs;
  std::vector<IdxSpace> spaces;         // the map's indexed spaces, code = kNamedBase + i
  std::vector<std::string> named;       // names by code - kNamedBase (map's, then unknown)
  std::vector<std::uint32_t> named_size;
  bool vga = false;

  // VGA state.
  struct Vga {
    std::uint8_t idx[4] = {};  // seq, crtc, gfx, attr
    bool attr_ff = false;      // false: next 0x3C0 write is an index
    std::uint8_t dac_r = 0, dac_w = 0, dac_sub = 0, dac_state = 0;
    std::uint8_t cache[3] = {};
    std::uint8_t misc = 0, feature = 0, st00 = 0, st01 = 0, pel_mask = 0xFF;
    std::uint8_t arr[4][256] = {};
    bool touched[4][256] = {};
    std::uint8_t dac[768] = {};
    bool dac_touched[768] = {};
  } v;
  std::vector<std::uint8_t> vga_mem;

  // Unknown locations.
  std::unordered_map<std::uint64_t, Block> unk_bytes;         // direct spaces, per 8-byte block
  std::unordered_map<std::uint64_t, std::uint64_t> unk_idx;   // indexed spaces
  std::unordered_map<std::uint64_t, std::uint32_t> unk_seen;  // key -> unknowns index
  std::vector<UnknownRegister> unknowns;

  // --- codes ---------------------------------------------------------------------------
  unsigned named_code(std::string_view n) {
    for (std::size_t i = 0; i < named.size(); ++i)
      if (named[i] == n) return kNamedBase + unsigned(i);
    if (named.size() >= kMaxNamedCodes) return kNamedBase + kMaxNamedCodes - 1;
    named.emplace_back(n);
    named_size.push_back(0);  // not declared by the map: every index is unknown
    return kNamedBase + unsigned(named.size() - 1);
  }
  Space code_space(unsigned code) const { return code >= kNamedBase ? Space::named : Space(code); }
  std::string code_name(unsigned code) const {
    return code >= kNamedBase && code - kNamedBase < named.size() ? named[code - kNamedBase] : std::string();
  }

  // --- unknown locations ---------------------------------------------------------------
  void note_unknown(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned width, bool is_read) {
    if (is_read) ++stats.unknown_reads;
    else ++stats.unknown_writes;
    const std::uint64_t key = make_key(code, bar, off);
    auto it = unk_seen.find(key);
    if (it != unk_seen.end()) {
      auto& u = unknowns[it->second];
      (is_read ? u.reads : u.writes)++;
      return;
    }
    if (unknowns.size() >= kMaxUnknownWarnings) {
      ++stats.unknown_dropped;
      return;
    }
    UnknownRegister u;
    u.space = code_space(code);
    u.space_name = code_name(code);
    u.bar = space_has_bar(u.space) ? bar : 0;
    u.offset = off;
    u.width = std::uint8_t(width);
    u.first_is_read = is_read;
    (is_read ? u.reads : u.writes) = 1;
    u.message = "unknown register " + RegisterNamer::neutral(u.space, u.space_name, u.bar, off) +
                " (first access: " + std::to_string(width) + "-bit " + (is_read ? "read" : "write") + ")";
    unk_seen.emplace(key, std::uint32_t(unknowns.size()));
    unknowns.push_back(std::move(u));
  }

  std::uint64_t unk_bytes_get(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned n) const {
    std::uint64_t val = 0;
    for (unsigned i = 0; i < n; ++i) {
      const std::uint64_t a = off + i;
      auto it = unk_bytes.find(make_key(code, bar, a >> 3));
      if (it != unk_bytes.end() && ((it->second.valid >> (a & 7)) & 1u))
        val |= ((it->second.data >> ((a & 7) * 8)) & 0xFF) << (8 * i);
    }
    return val;
  }
  void unk_bytes_set(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned n, std::uint64_t val) {
    for (unsigned i = 0; i < n; ++i) {
      const std::uint64_t a = off + i;
      Block& b = unk_bytes[make_key(code, bar, a >> 3)];
      const unsigned sh = unsigned(a & 7) * 8;
      b.data = (b.data & ~(std::uint64_t{0xFF} << sh)) | (((val >> (8 * i)) & 0xFF) << sh);
      b.valid = std::uint8_t(b.valid | (1u << (a & 7)));
    }
  }
  std::uint64_t unknown_direct_read(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned n) {
    note_unknown(code, bar, off, n * 8, true);
    return opt.unknown == UnknownPolicy::zero ? 0 : unk_bytes_get(code, bar, off, n);
  }
  void unknown_direct_write(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned n, std::uint64_t val) {
    note_unknown(code, bar, off, n * 8, false);
    unk_bytes_set(code, bar, off, n, val);
  }

  // --- registers -----------------------------------------------------------------------
  void apply_timed(Reg& r, std::uint32_t ri, std::uint64_t now) {
    for (std::uint32_t bi : read_behs[ri]) {
      Beh& b = behs[bi];
      if (b.kind == BehaviourKind::delayed_set && b.armed &&
          (now >= b.armed_at && now - b.armed_at >= b.delay))
        r.value = (r.value & ~b.mask) | b.value;
    }
  }
  std::uint64_t read_reg(std::uint32_t ri, std::uint64_t now) {
    Reg& r = regs[ri];
    r.touched = true;
    if (!(r.hooks & kReadHook)) return r.value & ~r.wo;
    apply_timed(r, ri, now);
    std::uint64_t val = r.value;
    for (std::uint32_t bi : read_behs[ri]) {
      const Beh& b = behs[bi];
      if (b.kind == BehaviourKind::constant) {
        if (!b.conditional || (regs[b.trigger].value & b.tmask) == b.tvalue) val = (val & ~b.mask) | b.value;
      }
      else if (b.kind == BehaviourKind::readback && b.readback >= 0)
        val = (val & ~b.mask) | ((b.readback ? b.value : b.else_value) & b.mask);
    }
    return val & ~r.wo;
  }
  void write_reg(std::uint32_t ri, std::uint64_t val, std::uint64_t lanes, std::uint64_t now) {
    Reg& r = regs[ri];
    r.touched = true;
    const std::uint64_t rw = r.wmask & lanes, c = r.w1c & lanes, s = r.w1s & lanes;
    if (!(rw | c | s)) ++stats.ro_writes;
    r.value = (((r.value & ~rw) | (val & rw)) & ~(val & c)) | (val & s);
    if (!(r.hooks & kWriteHook)) return;
    for (std::uint32_t bi : write_behs[ri]) {
      Beh& b = behs[bi];
      if (b.kind == BehaviourKind::readback) {
        b.readback = (val & b.when_mask) == b.when_value ? 1 : 0;
      } else if (b.kind == BehaviourKind::i2c_gpio) {
        if ((r.value & b.when_mask) != b.when_value) continue;
        const auto bit = [&](unsigned n) { return ((r.value >> n) & 1) != 0; };
        const bool scl = bit(b.lines.scl_oe) ? bit(b.lines.scl_out) : true;
        const bool sda = bit(b.lines.sda_oe) ? bit(b.lines.sda_out) : true;
        const bool level = i2c[b.i2c].clock(scl, sda);
        r.value = (r.value & ~b.mask) | (std::uint64_t(scl) << b.lines.scl_in) |
                  (std::uint64_t(level) << b.lines.sda_in);
      } else if (b.kind == BehaviourKind::delayed_set) {
        const bool cond = (r.value & b.tmask) == b.tvalue;
        if (cond && !b.armed) {
          b.armed = true;
          b.armed_at = now;
        } else if (!cond && b.armed) {
          b.armed = false;
          Reg& t = regs[b.reg];
          t.value = (t.value & ~b.mask) | (t.reset & b.mask);
        }
      }
    }
  }

  // --- indexed spaces ------------------------------------------------------------------
  bool vga_known_index(unsigned code, std::uint64_t index) const {
    const int a = vga_array(code);
    if (a >= 0) return index < kVgaStdCount[std::size_t(a)];
    return code == unsigned(Space::vga_dac) && index < 768;
  }
  std::uint64_t read_indexed(unsigned code, std::uint64_t index, unsigned width, std::uint64_t now) {
    const std::uint64_t wm = lane_mask(width);
    if (index <= kOffMask)
      if (const Entry* e = table.find(make_key(code, 0, index)); e && e->kind == kReg)
        return read_reg(e->id, now) & wm;
    if (vga && code < kNamedBase) {
      const int a = vga_array(code);
      if (a >= 0 && index < 256) {
        v.touched[a][index] = true;
        if (!vga_known_index(code, index)) {
          note_unknown(code, 0, index, width, true);
          if (opt.unknown == UnknownPolicy::zero) return 0;
        }
        return v.arr[a][index] & wm;
      }
      if (code == unsigned(Space::vga_dac) && index < 768) {
        v.dac_touched[index] = true;
        return v.dac[index] & wm;
      }
    }
    note_unknown(code, 0, index, width, true);
    if (opt.unknown == UnknownPolicy::zero) return 0;
    auto it = unk_idx.find(make_key(code, 0, index));
    return it == unk_idx.end() ? 0 : it->second & wm;
  }
  void write_indexed(unsigned code, std::uint64_t index, unsigned width, std::uint64_t val, std::uint64_t now) {
    const std::uint64_t wm = lane_mask(width);
    val &= wm;
    if (code == unsigned(Space::vga_crtc) && vga && index <= 7 && crtc_locked()) {
      if (index != 7) return;  // CR0-CR6 locked by CR11 bit 7; CR7 keeps only bit 4 writable
      const std::uint64_t cur = read_indexed_raw(code, 7);
      val = (cur & ~0x10ull) | (val & 0x10);
    }
    if (index <= kOffMask)
      if (const Entry* e = table.find(make_key(code, 0, index)); e && e->kind == kReg) {
        write_reg(e->id, val, wm & regs[e->id].wm, now);
        return;
      }
    if (vga && code < kNamedBase) {
      const int a = vga_array(code);
      if (a >= 0 && index < 256) {
        v.touched[a][index] = true;
        if (!vga_known_index(code, index)) note_unknown(code, 0, index, width, false);
        v.arr[a][index] = std::uint8_t(val);
        return;
      }
      if (code == unsigned(Space::vga_dac) && index < 768) {
        v.dac_touched[index] = true;
        v.dac[index] = std::uint8_t(val);
        return;
      }
    }
    note_unknown(code, 0, index, width, false);
    unk_idx[make_key(code, 0, index)] = val;
  }
  // Current stored value of an indexed register without side effects (CR7 protection).
  std::uint64_t read_indexed_raw(unsigned code, std::uint64_t index) const {
    if (const Entry* e = table.find(make_key(code, 0, index)); e && e->kind == kReg) return regs[e->id].value;
    const int a = vga_array(code);
    return a >= 0 && index < 256 ? v.arr[a][index] : 0;
  }
  bool crtc_locked() const { return (read_indexed_raw(unsigned(Space::vga_crtc), 0x11) & 0x80) != 0; }

  // --- VGA ports -----------------------------------------------------------------------
  bool vga_port_disabled(std::uint64_t p) const {
    // Misc output bit 0 (I/O address select) picks 0x3Dx (colour) or 0x3Bx (mono).
    if (p >= 0x3B0 && p <= 0x3BF) return (v.misc & 1) != 0;
    if (p >= 0x3D0 && p <= 0x3DF) return (v.misc & 1) == 0;
    return false;
  }
  std::uint8_t vga_read_port(std::uint64_t p, std::uint64_t now) {
    if (vga_port_disabled(p)) return 0xFF;
    switch (p) {
      case 0x3C0: return v.idx[3];
      case 0x3C1: return std::uint8_t(read_indexed(unsigned(Space::vga_attr), v.idx[3] & 0x1Fu, 8, now));
      case 0x3C2: return v.st00;
      case 0x3C4: return v.idx[0];
      case 0x3C5: return std::uint8_t(read_indexed(unsigned(Space::vga_seq), v.idx[0], 8, now));
      case 0x3C6: return v.pel_mask;
      case 0x3C7: return v.dac_state;
      case 0x3C8: return v.dac_w;
      case 0x3C9: {
        const auto val = std::uint8_t(read_indexed(unsigned(Space::vga_dac), v.dac_r * 3u + v.dac_sub, 8, now));
        if (++v.dac_sub == 3) {
          v.dac_sub = 0;
          ++v.dac_r;
        }
        return val;
      }
      case 0x3CA: return v.feature;
      case 0x3CC: return v.misc;
      case 0x3CE: return v.idx[2];
      case 0x3CF: return std::uint8_t(read_indexed(unsigned(Space::vga_gfx), v.idx[2], 8, now));
      case 0x3B4: case 0x3D4: return v.idx[1];
      case 0x3B5: case 0x3D5: return std::uint8_t(read_indexed(unsigned(Space::vga_crtc), v.idx[1], 8, now));
      case 0x3BA: case 0x3DA:
        // Input status 1: the flip-flop resets; retrace and display-enable toggle on every
        // read so that wait-for-retrace loops end.
        v.attr_ff = false;
        v.st01 ^= 0x09;
        return v.st01;
      default: return 0xFF;
    }
  }
  void vga_write_port(std::uint64_t p, std::uint8_t val, std::uint64_t now) {
    if (vga_port_disabled(p)) return;
    switch (p) {
      case 0x3C0:
        if (!v.attr_ff) v.idx[3] = val & 0x3F;
        else write_indexed(unsigned(Space::vga_attr), v.idx[3] & 0x1Fu, 8, val, now);
        v.attr_ff = !v.attr_ff;
        return;
      case 0x3C2: v.misc = val; return;
      case 0x3C4: v.idx[0] = val; return;
      case 0x3C5: write_indexed(unsigned(Space::vga_seq), v.idx[0], 8, val, now); return;
      case 0x3C6: v.pel_mask = val; return;
      case 0x3C7: v.dac_r = val; v.dac_sub = 0; v.dac_state = 3; return;
      case 0x3C8: v.dac_w = val; v.dac_sub = 0; v.dac_state = 0; return;
      case 0x3C9:
        v.cache[v.dac_sub] = val;
        if (++v.dac_sub == 3) {
          for (unsigned i = 0; i < 3; ++i)
            write_indexed(unsigned(Space::vga_dac), v.dac_w * 3u + i, 8, v.cache[i], now);
          v.dac_sub = 0;
          ++v.dac_w;
        }
        return;
      case 0x3CE: v.idx[2] = val; return;
      case 0x3CF: write_indexed(unsigned(Space::vga_gfx), v.idx[2], 8, val, now); return;
      case 0x3B4: case 0x3D4: v.idx[1] = val; return;
      case 0x3B5: case 0x3D5: write_indexed(unsigned(Space::vga_crtc), v.idx[1], 8, val, now); return;
      case 0x3BA: case 0x3DA: v.feature = val; return;
      default: return;  // 0x3C1, 0x3CA, 0x3CC are read-only
    }
  }

  // --- direct spaces -------------------------------------------------------------------
  bool known_at(unsigned code, std::uint8_t bar, std::uint64_t p, bool vga_io) const {
    if (vga_io && is_builtin_vga_port(p)) return true;
    return table.find(make_key(code, bar, p)) != nullptr;
  }
  std::uint64_t read_direct(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned n, std::uint64_t now) {
    const bool vio = vga && code == unsigned(Space::vga_io);
    std::uint64_t out = 0;
    unsigned pos = 0;
    while (pos < n) {
      const std::uint64_t p = off + pos;
      if (vio && is_builtin_vga_port(p)) {
        out |= std::uint64_t(vga_read_port(p, now)) << (8 * pos);
        ++pos;
        continue;
      }
      const Entry* e = table.find(make_key(code, bar, p));
      if (!e) {
        unsigned q = pos + 1;
        while (q < n && !known_at(code, bar, off + q, vio)) ++q;
        out |= unknown_direct_read(code, bar, p, q - pos) << (8 * pos);
        pos = q;
        continue;
      }
      unsigned k;
      std::uint64_t part;
      if (e->kind == kBlock) {
        out |= std::uint64_t(blocks[e->id].read(p)) << (8 * pos);
        ++pos;
        continue;
      }
      if (e->kind == kReg) {
        const Reg& r = regs[e->id];
        k = std::min<unsigned>(r.bytes - e->byte, n - pos);
        part = (read_reg(e->id, now) >> (8 * e->byte)) & lane_mask(8 * k);
      } else {
        IdxSpace& s = spaces[e->id];
        const RegLocation& loc = e->kind == kIndex ? s.index : s.data;
        k = std::min<unsigned>(loc.width / 8u, n - pos);
        if (e->kind == kIndex) part = s.selected & lane_mask(8 * k);
        else if (s.selected < s.size) part = read_indexed(s.code, s.selected, 8 * k, now);
        else part = read_indexed(s.code, s.selected, 8 * k, now);
      }
      out |= part << (8 * pos);
      pos += k;
    }
    return out;
  }
  void write_direct(unsigned code, std::uint8_t bar, std::uint64_t off, unsigned n, std::uint64_t val,
                    std::uint64_t now) {
    const bool vio = vga && code == unsigned(Space::vga_io);
    unsigned pos = 0;
    while (pos < n) {
      const std::uint64_t p = off + pos;
      const std::uint64_t rest = val >> (8 * pos);
      if (vio && is_builtin_vga_port(p)) {
        vga_write_port(p, std::uint8_t(rest), now);
        ++pos;
        continue;
      }
      const Entry* e = table.find(make_key(code, bar, p));
      if (!e) {
        unsigned q = pos + 1;
        while (q < n && !known_at(code, bar, off + q, vio)) ++q;
        unknown_direct_write(code, bar, p, q - pos, rest & lane_mask(8 * (q - pos)));
        pos = q;
        continue;
      }
      if (e->kind == kBlock) {  // read-only bytes
        ++stats.ro_writes;
        ++pos;
        continue;
      }
      if (e->kind == kReg) {
        const Reg& r = regs[e->id];
        const unsigned k = std::min<unsigned>(r.bytes - e->byte, n - pos);
        const std::uint64_t lanes = lane_mask(8 * k) << (8 * e->byte);
        write_reg(e->id, (rest << (8 * e->byte)) & lanes, lanes & r.wm, now);
        pos += k;
      } else {
        IdxSpace& s = spaces[e->id];
        const RegLocation& loc = e->kind == kIndex ? s.index : s.data;
        const unsigned k = std::min<unsigned>(loc.width / 8u, n - pos);
        const std::uint64_t m = lane_mask(8 * k);
        if (e->kind == kIndex) s.selected = (s.selected & ~m) | (rest & m);
        else write_indexed(s.code, s.selected, 8 * k, rest & m, now);
        pos += k;
      }
    }
  }

  // --- build ---------------------------------------------------------------------------
  unsigned reg_code(const Register& r) {
    return r.space == Space::named ? named_code(r.space_name) : unsigned(r.space);
  }
  void build() {
    vga = map.vga;
    if (vga) vga_mem.assign(kVgaMemSize, 0);
    std::size_t keys = 0;
    for (const auto& s : map.indexed_spaces) {
      IdxSpace is;
      is.name = s.name;
      is.code = named_code(s.name);
      is.size = s.size;
      is.index = s.index;
      is.data = s.data;
      named_size[is.code - kNamedBase] = s.size;
      spaces.push_back(std::move(is));
      keys += 2;
    }
    for (const auto& r : map.registers) keys += space_is_indexed(r.space) ? 1 : r.width / 8u;
    for (const auto& b : map.blocks) keys += b.mapped ? b.size : 0;
    table.reserve(keys + 1);
    for (std::uint32_t i = 0; i < map.blocks.size(); ++i) {
      const DataBlock& mb = map.blocks[i];
      blocks.push_back(Blk{mb.offset, mb.size, &mb.data});
      if (!mb.mapped) continue;
      const std::uint8_t bar = space_has_bar(mb.space) ? mb.bar : 0;
      for (std::uint64_t k = 0; k < mb.size; ++k)
        table.insert(make_key(unsigned(mb.space), bar, mb.offset + k), Entry{kBlock, 0, i});
    }
    for (std::uint32_t i = 0; i < spaces.size(); ++i) {
      const auto& s = spaces[i];
      const auto bar_of = [](const RegLocation& l) { return space_has_bar(l.space) ? l.bar : std::uint8_t{0}; };
      table.insert(make_key(unsigned(s.index.space), bar_of(s.index), s.index.offset), Entry{kIndex, 0, i});
      table.insert(make_key(unsigned(s.data.space), bar_of(s.data), s.data.offset), Entry{kData, 0, i});
    }
    regs.reserve(map.registers.size());
    for (std::uint32_t i = 0; i < map.registers.size(); ++i) {
      const Register& mr = map.registers[i];
      Reg r;
      r.width = mr.width;
      r.bytes = std::uint8_t(mr.width / 8u);
      r.wm = width_mask(mr.width);
      r.reset = r.value = mr.reset;
      r.code = reg_code(mr);
      r.bar = space_has_bar(mr.space) ? mr.bar : 0;
      r.offset = mr.offset;
      r.src = i;
      std::uint64_t rest = r.wm;
      auto apply = [&](AccessPolicy a, std::uint64_t bits) {
        switch (a) {
          case AccessPolicy::rw: r.wmask |= bits; break;
          case AccessPolicy::ro: break;
          case AccessPolicy::wo: r.wmask |= bits; r.wo |= bits; break;
          case AccessPolicy::w1c: r.w1c |= bits; break;
          case AccessPolicy::w1s: r.w1s |= bits; break;
        }
      };
      for (const auto& f : mr.fields) {
        const std::uint64_t m = f.mask() & r.wm;
        apply(f.access.value_or(mr.access), m);
        rest &= ~m;
      }
      apply(mr.access, rest);
      regs.push_back(r);
      if (space_is_indexed(mr.space)) {
        table.insert(make_key(r.code, 0, mr.offset), Entry{kReg, 0, i});
      } else {
        // Register bytes never replace an index/data location (the rules forbid overlap).
        for (unsigned b = 0; b < r.bytes; ++b)
          if (!table.find(make_key(r.code, r.bar, mr.offset + b)))
            table.insert(make_key(r.code, r.bar, mr.offset + b), Entry{kReg, std::uint8_t(b), i});
      }
    }
    read_behs.assign(regs.size(), {});
    write_behs.assign(regs.size(), {});
    for (const auto& mb : map.behaviours) {
      Beh b;
      b.kind = mb.kind;
      b.reg = index_of(mb.reg);
      b.mask = mb.mask & regs[b.reg].wm;
      b.value = mb.value & b.mask;
      b.tmask = mb.trigger_mask;
      b.tvalue = mb.trigger_value;
      b.delay = mb.delay_ns;
      b.when_mask = mb.when_mask;
      b.when_value = mb.when_value;
      b.else_value = mb.else_value;
      const auto bi = std::uint32_t(behs.size());
      if (b.kind == BehaviourKind::i2c_gpio) {
        // Acts on writes only; the register keeps the line levels it computed.
        b.lines = mb.i2c;
        b.mask = mb.mask & regs[b.reg].wm;
        b.i2c = std::uint32_t(i2c.size());
        const DataBlock* blk = map.find_block(mb.i2c.block);
        i2c.emplace_back(mb.i2c.address, &blk->data, blk->size);
        write_behs[b.reg].push_back(bi);
        regs[b.reg].hooks |= kWriteHook;
        behs.push_back(b);
        continue;
      }
      read_behs[b.reg].push_back(bi);
      regs[b.reg].hooks |= kReadHook;
      if (b.kind == BehaviourKind::constant && !mb.trigger.empty()) {
        b.conditional = true;
        b.trigger = index_of(mb.trigger);
      }
      if (b.kind == BehaviourKind::readback) {
        write_behs[b.reg].push_back(bi);
        regs[b.reg].hooks |= kWriteHook;
      }
      if (b.kind == BehaviourKind::delayed_set) {
        b.trigger = index_of(mb.trigger);
        write_behs[b.trigger].push_back(bi);
        regs[b.trigger].hooks |= kWriteHook;
      }
      behs.push_back(b);
    }
  }
  std::uint32_t index_of(const std::string& n) const {
    for (std::uint32_t i = 0; i < map.registers.size(); ++i)
      if (map.registers[i].name == n) return i;
    return 0;  // unreachable: the rules checked every name
  }
};

std::unique_ptr<MapModel> MapModel::create(const RegisterMap& map, MapModelOptions opt,
                                           std::vector<Problem>& problems) {
  problems = check_regmap_rules(map);
  if (!problems.empty()) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->map = map;
  impl->opt = opt;
  impl->namer = RegisterNamer(map);
  impl->build();
  return std::unique_ptr<MapModel>(new MapModel(std::move(impl)));
}

MapModel::MapModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MapModel::~MapModel() = default;

std::string MapModel::name() const { return "map:" + impl_->map.name; }
const MapStats& MapModel::stats() const noexcept { return impl_->stats; }
const std::vector<UnknownRegister>& MapModel::unknown_registers() const noexcept { return impl_->unknowns; }
const RegisterMap& MapModel::map() const noexcept { return impl_->map; }
const RegisterNamer& MapModel::namer() const noexcept { return impl_->namer; }

std::uint64_t MapModel::read(const Access& a, std::uint64_t now_ns) {
  Impl& m = *impl_;
  ++m.stats.reads;
  const unsigned width = valid_width(a.width) ? a.width : 8u;
  if (fast_indexed(a.space)) {
    const unsigned code = a.space == Space::named ? m.named_code(a.space_name) : unsigned(a.space);
    if (code >= kNamedBase && a.offset >= m.named_size[code - kNamedBase]) {
      m.note_unknown(code, 0, a.offset, width, true);
      return 0;
    }
    return m.read_indexed(code, a.offset, width, now_ns);
  }
  const std::uint8_t bar = fast_has_bar(a.space) ? a.bar : 0;
  const unsigned code = unsigned(a.space);
  if (a.offset > kOffMask - 8) return m.unknown_direct_read(code, bar, a.offset & kOffMask, width / 8);
  if (a.space == Space::vga_mem && m.vga) {
    std::uint64_t val = 0;
    for (unsigned i = 0; i < width / 8u; ++i)
      val |= std::uint64_t(a.offset + i < kVgaMemSize ? m.vga_mem[a.offset + i] : 0xFF) << (8 * i);
    return val;
  }
  if (const Entry* e = m.table.find(make_key(code, bar, a.offset));
      e && e->kind == kReg && e->byte == 0 && m.regs[e->id].width == width)
    return m.read_reg(e->id, now_ns);
  return m.read_direct(code, bar, a.offset, width / 8u, now_ns);
}

void MapModel::write(const Access& a, std::uint64_t value, std::uint64_t now_ns) {
  Impl& m = *impl_;
  ++m.stats.writes;
  const unsigned width = valid_width(a.width) ? a.width : 8u;
  value &= width_mask(width);
  if (fast_indexed(a.space)) {
    const unsigned code = a.space == Space::named ? m.named_code(a.space_name) : unsigned(a.space);
    if (code >= kNamedBase && a.offset >= m.named_size[code - kNamedBase]) {
      m.note_unknown(code, 0, a.offset, width, false);
      return;
    }
    m.write_indexed(code, a.offset, width, value, now_ns);
    return;
  }
  const std::uint8_t bar = fast_has_bar(a.space) ? a.bar : 0;
  const unsigned code = unsigned(a.space);
  if (a.offset > kOffMask - 8) {
    m.unknown_direct_write(code, bar, a.offset & kOffMask, width / 8, value);
    return;
  }
  if (a.space == Space::vga_mem && m.vga) {
    for (unsigned i = 0; i < width / 8u; ++i)
      if (a.offset + i < kVgaMemSize) m.vga_mem[a.offset + i] = std::uint8_t(value >> (8 * i));
    return;
  }
  if (const Entry* e = m.table.find(make_key(code, bar, a.offset));
      e && e->kind == kReg && e->byte == 0 && m.regs[e->id].width == width) {
    m.write_reg(e->id, value, m.regs[e->id].wm, now_ns);
    return;
  }
  m.write_direct(code, bar, a.offset, width / 8u, value, now_ns);
}

std::vector<RegisterValue> MapModel::final_state(std::uint64_t now_ns) const {
  const Impl& m = *impl_;
  using Sort = std::tuple<unsigned, unsigned, std::uint64_t>;
  std::vector<std::pair<Sort, RegisterValue>> out;
  for (std::uint32_t i = 0; i < m.regs.size(); ++i) {
    const Reg& r = m.regs[i];
    if (!r.touched) continue;
    std::uint64_t val = r.value;
    for (std::uint32_t bi : m.read_behs[i]) {
      const Beh& b = m.behs[bi];
      if (b.kind == BehaviourKind::delayed_set && b.armed && now_ns >= b.armed_at && now_ns - b.armed_at >= b.delay)
        val = (val & ~b.mask) | b.value;
    }
    out.push_back({{r.code, r.bar, r.offset}, {m.map.registers[r.src].name, val}});
  }
  if (m.vga) {
    static constexpr Space kArr[4] = {Space::vga_seq, Space::vga_crtc, Space::vga_gfx, Space::vga_attr};
    for (unsigned a = 0; a < 4; ++a)
      for (unsigned i = 0; i < 256; ++i)
        if (m.v.touched[a][i]) {
          const unsigned code = unsigned(kArr[a]);
          if (const Entry* e = m.table.find(make_key(code, 0, i)); e && e->kind == kReg) continue;
          out.push_back({{code, 0, i}, {m.namer.name(kArr[a], {}, 0, i), m.v.arr[a][i]}});
        }
    for (unsigned i = 0; i < 768; ++i)
      if (m.v.dac_touched[i]) {
        const unsigned code = unsigned(Space::vga_dac);
        if (const Entry* e = m.table.find(make_key(code, 0, i)); e && e->kind == kReg) continue;
        out.push_back({{code, 0, i}, {m.namer.name(Space::vga_dac, {}, 0, i), m.v.dac[i]}});
      }
  }
  for (const auto& u : m.unknowns) {
    const unsigned code = u.space == Space::named ? [&] {
      for (std::size_t i = 0; i < m.named.size(); ++i)
        if (m.named[i] == u.space_name) return kNamedBase + unsigned(i);
      return 0u;
    }()
                                                  : unsigned(u.space);
    if (vga_array(code) >= 0 && m.vga && u.offset < 256) continue;  // listed above
    std::uint64_t val = 0;
    if (space_is_indexed(u.space)) {
      auto it = m.unk_idx.find(make_key(code, 0, u.offset));
      if (it == m.unk_idx.end()) continue;  // only read, never written: no state
      val = it->second;
    } else {
      val = m.unk_bytes_get(code, u.bar, u.offset, u.width / 8u);
    }
    out.push_back({{code, u.bar, u.offset}, {m.namer.name(u.space, u.space_name, u.bar, u.offset), val}});
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<RegisterValue> res;
  res.reserve(out.size());
  for (auto& p : out) res.push_back(std::move(p.second));
  return res;
}

}  // namespace gpuinit

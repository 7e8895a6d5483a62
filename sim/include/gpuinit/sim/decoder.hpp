// How an access of the replay vocabulary becomes cycles on a register block's bus.
//  - flat spaces (mmio, io, config, vga_io, vga_mem, port) map to a region and byte lanes:
//    one cycle, or two when the access crosses a 64-bit bus word (the second cycle carries
//    the bytes in the next word with bus_seq set, see docs/sim.md);
//  - indexed spaces go through their real index/data registers the way a careful driver
//    does: read the index register, write the index, access the data register, write the
//    old index back, so that the visible index state is what it was (vga_crtc first reads
//    misc output to find its ports; vga_attr goes through the attribute flip-flop, see
//    docs/sim.md). vga_dac is not supported.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/regmap.hpp"

namespace gpuinit::sim {

// One bus cycle; the access's data sits at bit `shift` of the 64-bit bus word.
struct BusStep {
  std::uint64_t word = 0;
  std::uint64_t wdata = 0;  // already shifted to its lanes
  std::uint8_t be = 0;
  bool wr = false;
  bool rd = false;
  unsigned shift = 0;
  bool seq = false;  // continues the previous cycle's access in the next word (bus_seq)
};

[[nodiscard]] std::string describe(const Access& a);

class Decoder {
 public:
  explicit Decoder(const RegisterMap& map) : map_(map) {}

  // The single cycle of a flat-space access; false for indexed spaces. Throws
  // std::runtime_error naming the access when the bus cannot express it (crossing a 64-bit
  // bus word, an offset beyond 32 bits).
  [[nodiscard]] bool flat_step(const Access& a, bool write, std::uint64_t value, BusStep& out) const;

  // The two cycles of a flat-space access that crosses a 64-bit bus word: the bytes in the
  // first word, then those in the next with `seq` set. False when the access is not a flat
  // access crossing a word; throws std::runtime_error beyond the 32-bit offset field.
  [[nodiscard]] bool split_steps(const Access& a, bool write, std::uint64_t value, BusStep& first,
                                 BusStep& second) const;
  // The value read by a split access from the data of its two cycles.
  [[nodiscard]] static std::uint64_t split_value(const Access& a, const BusStep& first, std::uint64_t r1,
                                                 std::uint64_t r2) noexcept {
    const unsigned low = 64 - first.shift;  // bits in the first word
    return ((r1 >> first.shift) | (r2 << low)) & width_mask(a.width);
  }

  // Executes the access through `cycle(const BusStep&) -> rdata` and returns the value read
  // (0 for a write). Throws std::runtime_error for an access the bus cannot express.
  template <class Cycle>
  std::uint64_t execute(const Access& a, bool write, std::uint64_t value, Cycle&& cycle) const {
    BusStep s, s2;
    if (split_steps(a, write, value, s, s2)) {
      const std::uint64_t r1 = cycle(s);
      return split_value(a, s, r1, cycle(s2));
    }
    if (flat_step(a, write, value, s)) return (cycle(s) >> s.shift) & width_mask(a.width);
    auto port = [&](Space sp, std::uint8_t bar, std::uint64_t off, std::uint8_t w, bool wr, std::uint64_t v) {
      Access p;
      p.space = sp;
      p.bar = bar;
      p.offset = off;
      p.width = w;
      BusStep st, st2;
      if (split_steps(p, wr, v, st, st2)) {
        const std::uint64_t r1 = cycle(st);
        return split_value(p, st, r1, cycle(st2));
      }
      (void)flat_step(p, wr, v, st);
      return (cycle(st) >> st.shift) & width_mask(w);
    };
    if (a.space == Space::vga_dac) {
      // Palette byte entry * 3 + component through the DAC ports: the read index (0x3C7)
      // and three data reads give the entry, the write index (0x3C8) and three data
      // writes store it with one component replaced.
      if (!map_.vga) throw std::runtime_error("access " + describe(a) + ": the map has no VGA register file");
      if (a.offset >= 0x300 || a.width != 8)
        throw std::runtime_error("access " + describe(a) + ": palette bytes are 8-bit, 0x0-0x2ff");
      const std::uint64_t entry = a.offset / 3, comp = a.offset % 3;
      std::uint64_t rgb[3];
      (void)port(Space::vga_io, 0, kDacReadIndex, 8, true, entry);
      for (auto& c : rgb) c = port(Space::vga_io, 0, kDacData, 8, false, 0);
      if (!write) return rgb[comp];
      rgb[comp] = value & 0xFF;
      (void)port(Space::vga_io, 0, kDacWriteIndex, 8, true, entry);
      for (auto c : rgb) (void)port(Space::vga_io, 0, kDacData, 8, true, c);
      return 0;
    }
    const Pair pr = pair_of(a);
    if (pr.none) return 0;
    if (pr.attr) {
      const bool colour = (port(Space::vga_io, 0, kMiscRead, 8, false, 0) & 1u) != 0;
      const std::uint64_t is1 = colour ? kStatus1Colour : kStatus1Mono;
      const std::uint64_t old = port(Space::vga_io, 0, kAttrPort, 8, false, 0);
      (void)port(Space::vga_io, 0, is1, 8, false, 0);                        // flip-flop: index
      (void)port(Space::vga_io, 0, kAttrPort, 8, true, (a.offset & 0x1F) | (old & 0x20));
      std::uint64_t result = 0;
      if (write) {
        (void)port(Space::vga_io, 0, kAttrPort, 8, true, value);             // flip-flop: index
      } else {
        result = port(Space::vga_io, 0, kAttrRead, 8, false, 0) & width_mask(a.width);
        (void)port(Space::vga_io, 0, kAttrPort, 8, true, result);            // same value back
      }
      (void)port(Space::vga_io, 0, kAttrPort, 8, true, old);                 // old index
      (void)port(Space::vga_io, 0, is1, 8, false, 0);                        // flip-flop: index
      return result;
    }
    RegLocation index = pr.index, data = pr.data;
    if (pr.crtc && (port(Space::vga_io, 0, kMiscRead, 8, false, 0) & 1u) != 0) {
      index.offset = kCrtcColour;
      data.offset = kCrtcColour + 1;
    }
    const std::uint64_t old = port(index.space, index.bar, index.offset, index.width, false, 0);
    (void)port(index.space, index.bar, index.offset, index.width, true, a.offset);
    const std::uint64_t r = port(data.space, data.bar, data.offset, data.width, write, value);
    (void)port(index.space, index.bar, index.offset, index.width, true, old);
    return write ? 0 : r & width_mask(a.width);
  }

  [[nodiscard]] const RegisterMap& map() const noexcept { return map_; }

 private:
  static constexpr std::uint64_t kMiscRead = 0x3CC, kAttrPort = 0x3C0, kAttrRead = 0x3C1;
  static constexpr std::uint64_t kDacReadIndex = 0x3C7, kDacWriteIndex = 0x3C8, kDacData = 0x3C9;
  static constexpr std::uint64_t kStatus1Mono = 0x3BA, kStatus1Colour = 0x3DA, kCrtcColour = 0x3D4;
  struct Pair {
    RegLocation index, data;
    bool crtc = false;
    bool attr = false;
    bool none = false;  // nothing at that index
  };
  // The index/data ports of an indexed access; throws for what the bus cannot do.
  [[nodiscard]] Pair pair_of(const Access& a) const;

  RegisterMap map_;
};

}  // namespace gpuinit::sim

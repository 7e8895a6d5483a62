// A Verilated register block (rtl/gen_regblock.py) driven at its pins, and the catalog of
// blocks built into this binary. The bus and address encoding are described in docs/sim.md.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace gpuinit::sim {

enum class Waveform : std::uint8_t { none, vcd, fst };

// Bus word address: {region[3:0], offset[31:3]} (33 bits). Regions:
inline constexpr unsigned kRegionConfig = 0;
inline constexpr unsigned kRegionBar0 = 1;  // BAR n (mmio or io): region 1 + n
inline constexpr unsigned kRegionVgaIo = 7;
inline constexpr unsigned kRegionPort = 8;
inline constexpr unsigned kRegionVgaMem = 9;
inline constexpr std::uint64_t kOffsetLimit = std::uint64_t{1} << 32;

[[nodiscard]] constexpr std::uint64_t bus_word(unsigned region, std::uint64_t offset) noexcept {
  return (std::uint64_t{region} << 29) | (offset >> 3);
}

// Contract:
//  - cycle() presents one access (or none: wr = rd = false) for one clock edge and returns
//    the registered read data of that edge (byte lanes outside `be` read zero); its edge
//    has `tick` low: bus cycles take no time of the block's timebase;
//  - idle(n) lets n periods of time pass: n edges with `tick` high and no access; while
//    no timed behaviour runs (busy low) the block cannot change state, so those edges are
//    counted, not simulated;
//  - step(due, ...) is idle(due - ticks()) when due > ticks(), then cycle(...): the
//    drivers' one call per bus cycle;
//  - cycles() counts edges since construction (reset() is two with rst_n low), ticks()
//    the periods idle() let pass;
//  - a waveform, when asked for at construction, is written to its file until destruction;
//  - one instance owns its own VerilatedContext: instances share nothing.
class Block {
 public:
  virtual ~Block() = default;
  virtual void reset() = 0;
  [[nodiscard]] virtual std::uint64_t cycle(std::uint64_t word, std::uint64_t wdata, std::uint8_t be, bool wr,
                                            bool rd) = 0;
  // The same with bus_seq high: the cycle carries the bytes, in the next word, of the
  // access the previous cycle began (an access crossing a 64-bit bus word, docs/sim.md).
  [[nodiscard]] virtual std::uint64_t cycle_seq(std::uint64_t word, std::uint64_t wdata, std::uint8_t be, bool wr,
                                                bool rd) = 0;
  virtual void idle(std::uint64_t n) = 0;
  [[nodiscard]] virtual std::uint64_t step(std::uint64_t due_ticks, std::uint64_t word, std::uint64_t wdata,
                                           std::uint8_t be, bool wr, bool rd) = 0;
  [[nodiscard]] virtual std::uint64_t cycles() const noexcept = 0;
  [[nodiscard]] virtual std::uint64_t ticks() const noexcept = 0;
  [[nodiscard]] virtual bool busy() const noexcept = 0;
  [[nodiscard]] virtual std::uint64_t period_ps() const noexcept = 0;
};

// One generated block: the map it came from (embedded, so a binary needs no map file) and
// how to make an instance. `fixture` marks maps that exist only for the tests.
struct BlockInfo {
  std::string_view map_name;
  std::string_view module;
  std::string_view map_json;
  std::uint64_t period_ps = 10000;
  bool fixture = false;
  // waveform_path is used when wave != none; throws std::runtime_error if it cannot open.
  std::unique_ptr<Block> (*make)(Waveform wave, const std::string& waveform_path) = nullptr;
};

[[nodiscard]] std::span<const BlockInfo> blocks() noexcept;
[[nodiscard]] const BlockInfo* find_block(std::string_view map_name) noexcept;

}  // namespace gpuinit::sim

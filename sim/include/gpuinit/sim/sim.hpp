// The simulation replay targets: a generated register block (Verilated RTL) driven either
// through a SystemC TLM-2.0 initiator/target socket pair ("sim") or directly from C++
// ("sim-fast"). Both implement replay::Target; virtual time is the block's clock.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/replay/target.hpp"
#include "gpuinit/sim/block.hpp"

namespace gpuinit::sim {

struct SimOptions {
  bool systemc = true;             // false: the direct C++ driver ("sim-fast")
  Waveform wave = Waveform::none;  // --vcd / --fst
  std::string waveform_path;
};

// The register map a block was generated from (parsed from the embedded copy).
[[nodiscard]] RegisterMap block_map(const BlockInfo& b);

// The block whose map has this name, or whose device matches vendor/device; nullptr if none.
[[nodiscard]] const BlockInfo* find_block_for_device(std::uint16_t vendor, std::uint16_t device);

// A target over a fresh instance of block `b`. Throws std::runtime_error when the waveform
// file cannot be opened, or when a SystemC target is asked for a second time in one
// process (SystemC allows one simulation per process; use systemc = false there).
[[nodiscard]] std::unique_ptr<replay::Target> make_target(const BlockInfo& b, const SimOptions& opt = {});

// Whether this process may still create a SystemC target.
[[nodiscard]] bool systemc_available() noexcept;

// Extra statistics of a simulation target (bus cycles run, cycles skipped while idle).
struct SimStats {
  std::uint64_t accesses = 0;
  std::uint64_t bus_cycles = 0;
  std::uint64_t ticks = 0;  // clock periods of elapsed virtual time delivered to the block
};
[[nodiscard]] SimStats stats(const replay::Target& t) noexcept;  // zeros for other targets

}  // namespace gpuinit::sim

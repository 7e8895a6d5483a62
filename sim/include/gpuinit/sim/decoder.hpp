// How an access of the replay vocabulary becomes cycles on a register block's bus: flat
// spaces map to a region and a byte lane; indexed spaces become a write of their index
// register followed by an access of their data register (see docs/sim.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/regmap.hpp"

namespace gpuinit::sim {

// One bus cycle. For a read, the access's value is (rdata >> shift) & width mask, taken
// from the cycle with `result` set.
struct BusStep {
  std::uint64_t word = 0;
  std::uint64_t wdata = 0;  // already shifted to its lanes
  std::uint8_t be = 0;
  bool wr = false;
  bool rd = false;
  bool result = false;  // this cycle carries the access's data
  unsigned shift = 0;   // bit position of the access's lowest lane
};

class Decoder {
 public:
  explicit Decoder(const RegisterMap& map);

  // Bus cycles for an access; a write places `value` in the data cycle. Throws
  // std::runtime_error naming the access if it cannot be expressed on the bus (an unknown
  // indexed space, an access crossing a 64-bit bus word, an offset beyond 32 bits).
  [[nodiscard]] std::vector<BusStep> steps(const Access& a, bool write, std::uint64_t value) const;

  // The same without allocating, for flat spaces only (the fast path): false when the
  // access needs more than one cycle.
  [[nodiscard]] bool flat_step(const Access& a, bool write, std::uint64_t value, BusStep& out) const;

  [[nodiscard]] const RegisterMap& map() const noexcept { return map_; }

 private:
  RegisterMap map_;
};

[[nodiscard]] std::string describe(const Access& a);

}  // namespace gpuinit::sim

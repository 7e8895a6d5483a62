// A replay target executes single accesses; the engine (engine.hpp) owns ordering, RMW,
// polling, delays, expectations and the trace. Implementations: schema, model, sim, hw.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/space.hpp"

namespace gpuinit::replay {

struct Capabilities {
  std::vector<Space> spaces;     // spaces it can execute (named spaces: named_spaces)
  std::vector<std::string> named_spaces;
  unsigned widths = 8 | 16 | 32; // bit set of supported widths (8|16|32|64)
  bool virtual_time = true;      // true: advance() skips time; false: real waiting
  bool writable = true;          // false: a dry run (schema target, hw without --commit)
  bool touches_nothing = false;  // schema target: reads return 0 and mean nothing
  bool any_named_space = false;  // accepts every named space (the generic model)
  // Whether the target executes an access of this space (`name` for Space::named).
  [[nodiscard]] bool supports(Space s, std::string_view name = {}) const noexcept {
    if (s == Space::named) {
      if (any_named_space) return true;
      for (const auto& n : named_spaces)
        if (n == name) return true;
      return false;
    }
    for (Space x : spaces)
      if (x == s) return true;
    return false;
  }
  [[nodiscard]] bool supports_width(unsigned w) const noexcept { return valid_width(w) && (widths & w) != 0; }
};

// Contract:
//  - read/write get an access the target declared it supports (the engine checks first)
//    and a width in bits; read returns the value zero-extended to 64 bits;
//  - errors that make further accesses meaningless (a device gone, a bus error) throw
//    std::runtime_error with a sentence naming the access;
//  - now_ns() is the target's clock (virtual or monotonic wall time), in nanoseconds;
//  - advance(ns) lets ns pass: virtual targets just add it, real ones sleep.
class Target {
 public:
  virtual ~Target() = default;
  [[nodiscard]] virtual Capabilities capabilities() const = 0;
  [[nodiscard]] virtual std::uint64_t read(const Access& a) = 0;
  virtual void write(const Access& a, std::uint64_t value) = 0;
  [[nodiscard]] virtual std::uint64_t now_ns() const = 0;
  virtual void advance(std::uint64_t ns) = 0;
  [[nodiscard]] virtual std::string name() const = 0;
};

}  // namespace gpuinit::replay

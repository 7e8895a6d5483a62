// Helpers shared by the simulation tests.
#pragma once
#include <catch2/catch.hpp>

#include "gpuinit/sim/sim.hpp"

namespace simtest {

inline const gpuinit::sim::BlockInfo& mini() {
  const auto* b = gpuinit::sim::find_block("sim-mini");
  REQUIRE(b != nullptr);
  return *b;
}

inline gpuinit::Access mmio(std::uint64_t off, std::uint8_t width = 32) {
  gpuinit::Access a;
  a.space = gpuinit::Space::mmio;
  a.bar = 0;
  a.offset = off;
  a.width = width;
  return a;
}

inline gpuinit::Access at(gpuinit::Space s, std::uint64_t off, std::uint8_t width = 8, std::uint8_t bar = 0,
                          std::string_view name = {}) {
  gpuinit::Access a;
  a.space = s;
  a.bar = bar;
  a.offset = off;
  a.width = width;
  a.space_name = name;
  return a;
}

}  // namespace simtest

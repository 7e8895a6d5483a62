// Comparison of an extracted trace with a QEMU oracle trace: the fields the oracle can
// vouch for (order, space, bar, offset, width, direction, written value, CS:IP).
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "gpuinit/format/trace.hpp"

namespace gpuinit::test {

// The oracle keeps only accesses made by ROM code; accesses our BIOS services made on the
// ROM's behalf carry a CS:IP in segment F000 and service events have no oracle
// counterpart, so both are dropped from ours before comparing.
inline std::vector<TraceEvent> rom_accesses(const std::vector<TraceEvent>& events) {
  std::vector<TraceEvent> out;
  for (const auto& e : events)
    if (e.kind == EventKind::access && !(e.cs_ip && (*e.cs_ip >> 16) == 0xF000)) out.push_back(e);
  return out;
}

inline std::string describe(const TraceEvent& e) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s%s%u +0x%llx w%u %s value=0x%llx at %s", std::string(space_name(e.space)).c_str(),
                space_has_bar(e.space) ? ":" : "", space_has_bar(e.space) ? unsigned(e.bar) : 0u,
                static_cast<unsigned long long>(e.offset), unsigned(e.width), e.dir == Dir::read ? "r" : "w",
                static_cast<unsigned long long>(e.value), e.cs_ip ? format_cs_ip(*e.cs_ip).c_str() : "?");
  return buf;
}

// Empty when equal; otherwise a sentence naming the first divergence.
inline std::string first_divergence(const std::vector<TraceEvent>& ours, const std::vector<TraceEvent>& oracle) {
  const std::size_t n = std::min(ours.size(), oracle.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = ours[i];
    const auto& b = oracle[i];
    const bool same = a.space == b.space && (!space_has_bar(a.space) || a.bar == b.bar) && a.offset == b.offset &&
                      a.width == b.width && a.dir == b.dir && (a.dir == Dir::read || a.value == b.value) &&
                      a.cs_ip == b.cs_ip;
    if (!same)
      return "event " + std::to_string(i) + ": ours " + describe(a) + ", oracle " + describe(b);
  }
  if (ours.size() != oracle.size())
    return "length: ours " + std::to_string(ours.size()) + " events, oracle " + std::to_string(oracle.size()) +
           (ours.size() > n ? "; next of ours: " + describe(ours[n]) : "; next of oracle: " + describe(oracle[n]));
  return {};
}

}  // namespace gpuinit::test

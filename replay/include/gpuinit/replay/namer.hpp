// Register names in replay reports and diffs come from the devices library's namer.
#pragma once
#include <string>
#include <string_view>

#include "gpuinit/devices/register_namer.hpp"

namespace gpuinit::replay {

using RegisterNamer = gpuinit::RegisterNamer;

// The map's name for a location, or "" when the namer only has a neutral location for it
// (or there is no namer): reports print the location themselves.
[[nodiscard]] inline std::string map_name(const RegisterNamer* namer, Space s, std::string_view space_name,
                                          unsigned bar, std::uint64_t offset) {
  if (!namer) return {};
  const auto b = static_cast<std::uint8_t>(space_has_bar(s) ? bar : 0u);
  std::string n = namer->name(s, space_name, b, offset);
  if (n == RegisterNamer::neutral(s, space_name, b, offset)) return {};
  return n;
}

}  // namespace gpuinit::replay

// JSON form of a parsed ROM (`gpu-init info --json`); every field is documented in
// docs/info.md. Integers are JSON numbers; absent facts are null.
#pragma once
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "gpuinit/rom/rom.hpp"

namespace gpuinit::rom {
[[nodiscard]] nlohmann::json to_json(const RomInfo& info, std::string_view file);
}  // namespace gpuinit::rom

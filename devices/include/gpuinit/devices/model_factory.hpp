// Builds a device model from a command-line spec, reading the files it names:
//   "generic" | "generic:0xFF" (fill byte) | "capture:TRACE.jsonl" | "map:MAP.json"
// A map name without a path ("map:gpuinit-ref") is looked up as <maps_dir>/<name>.json.
#pragma once
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/result.hpp"

namespace gpuinit {

struct ModelBuild {
  std::unique_ptr<DeviceModel> model;  // null when problems is not empty
  std::vector<Problem> problems;       // each names the file (or the spec) at fault
};

[[nodiscard]] ModelBuild make_device_model(std::string_view spec, const std::filesystem::path& maps_dir = {},
                                           MapModelOptions map_options = {});

}  // namespace gpuinit

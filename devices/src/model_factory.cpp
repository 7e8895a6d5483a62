#include "gpuinit/devices/model_factory.hpp"

#include <charconv>
#include <exception>

#include "gpuinit/devices/capture_model.hpp"
#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/map_check.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"

namespace gpuinit {

namespace {
void prefix_all(std::vector<Problem>& ps, const std::string& file) {
  for (auto& p : ps) p.where = file + (p.where.empty() ? "" : ": " + p.where);
}
}  // namespace

ModelBuild make_device_model(std::string_view spec, const std::filesystem::path& maps_dir,
                             MapModelOptions map_options) {
  ModelBuild out;
  const auto colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string arg = colon == std::string_view::npos ? std::string() : std::string(spec.substr(colon + 1));
  try {
    if (kind == "generic") {
      GenericOptions opt;
      if (!arg.empty()) {
        const bool hex = arg.size() > 2 && arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
        unsigned v = 0;
        const char* b = arg.data() + (hex ? 2 : 0);
        const auto [p, ec] = std::from_chars(b, arg.data() + arg.size(), v, hex ? 16 : 10);
        if (ec != std::errc() || p != arg.data() + arg.size() || v > 0xFF) {
          out.problems.push_back({std::string(spec), "fill must be a byte (0..255 or 0x00..0xFF)"});
          return out;
        }
        opt.fill = std::uint8_t(v);
      }
      out.model = std::make_unique<GenericModel>(opt);
    } else if (kind == "capture" && !arg.empty()) {
      auto t = load_trace(read_file_text(arg));
      if (!t.ok()) {
        out.problems = std::move(t.problems);
        prefix_all(out.problems, arg);
        return out;
      }
      out.model = std::make_unique<CaptureModel>(*t.value, std::filesystem::path(arg).filename().string());
    } else if (kind == "map" && !arg.empty()) {
      std::filesystem::path p(arg);
      if (!p.has_parent_path() && p.extension() != ".json" && !maps_dir.empty()) p = maps_dir / (arg + ".json");
      auto m = load_checked_regmap(read_file_text(p));
      if (!m.ok()) {
        out.problems = std::move(m.problems);
        prefix_all(out.problems, p.string());
        return out;
      }
      out.model = MapModel::create(*m.value, map_options, out.problems);
      prefix_all(out.problems, p.string());
    } else {
      out.problems.push_back({std::string(spec), "unknown model: use generic[:FILL], capture:FILE or map:FILE"});
    }
  } catch (const std::exception& e) {
    out.model.reset();
    out.problems.push_back({std::string(spec), e.what()});
  }
  return out;
}

}  // namespace gpuinit

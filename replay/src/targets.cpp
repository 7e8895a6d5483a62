// Built-in targets and the registry that makes any target by name.
#include "gpuinit/replay/targets.hpp"

#include <stdexcept>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"

#include "gpuinit/devices/map_model.hpp"

namespace gpuinit::replay {

namespace {

std::vector<Space> all_spaces() {
  return {
#define GPUINIT_X(e, n, b, i) Space::e,
      GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
  };
}

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) { return a > ~b ? ~std::uint64_t{0} : a + b; }

std::unique_ptr<Target> make_schema(const TargetOptions&) { return std::make_unique<SchemaTarget>(); }

std::unique_ptr<Target> make_model(const TargetOptions& o) {
  std::optional<RegisterMap> loaded;
  const RegisterMap* map = o.map;
  if (!map && !o.map_path.empty()) {
    loaded = load_regmap_file(o.map_path);
    map = &*loaded;
  }
  if (!map) return std::make_unique<ModelTarget>(std::make_unique<GenericModel>(), std::vector<std::string>{}, true);
  std::vector<Problem> problems;
  auto model = MapModel::create(*map, {}, problems);
  if (!model) {
    std::string msg = (o.map_path.empty() ? "register map '" + map->name + "'" : o.map_path.string()) +
                      ": cannot build a device model from it";
    for (const auto& p : problems) msg += "\n  " + p.str();
    throw std::runtime_error(msg);
  }
  std::vector<std::string> named;
  for (const auto& s : map->indexed_spaces) named.push_back(s.name);
  return std::make_unique<ModelTarget>(std::move(model), std::move(named), false);
}

}  // namespace

Capabilities SchemaTarget::capabilities() const {
  Capabilities c;
  c.spaces = all_spaces();
  c.widths = 8 | 16 | 32 | 64;
  c.virtual_time = true;
  c.writable = false;
  c.touches_nothing = true;
  c.any_named_space = true;
  return c;
}

void SchemaTarget::advance(std::uint64_t ns) { now_ns_ = sat_add(now_ns_, ns); }

ModelTarget::ModelTarget(std::unique_ptr<DeviceModel> model, std::vector<std::string> named_spaces, bool any_named)
    : model_(std::move(model)), named_spaces_(std::move(named_spaces)), any_named_(any_named) {
  if (!model_) throw std::invalid_argument("ModelTarget needs a device model");
}

Capabilities ModelTarget::capabilities() const {
  Capabilities c;
  c.spaces = all_spaces();
  c.named_spaces = named_spaces_;
  c.any_named_space = any_named_;
  c.widths = 8 | 16 | 32 | 64;
  c.virtual_time = true;
  c.writable = true;
  return c;
}

void ModelTarget::advance(std::uint64_t ns) { now_ns_ = sat_add(now_ns_, ns); }

void TargetRegistry::add(std::string name, std::string description, TargetFactory factory) {
  if (name.empty()) throw std::invalid_argument("a target needs a name");
  if (!factory) throw std::invalid_argument("target '" + name + "' has no factory");
  if (entries_.count(name)) throw std::invalid_argument("target '" + name + "' is already registered");
  entries_.emplace(std::move(name), Entry{std::move(description), std::move(factory)});
}

bool TargetRegistry::has(std::string_view name) const noexcept { return entries_.find(name) != entries_.end(); }

std::vector<std::string> TargetRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, e] : entries_) out.push_back(n);
  return out;
}

std::string TargetRegistry::description(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? std::string() : it->second.description;
}

std::unique_ptr<Target> TargetRegistry::make(const TargetOptions& opt) const {
  auto it = entries_.find(opt.name);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
    throw std::runtime_error("unknown target '" + opt.name + "' (known: " + known + ")");
  }
  auto t = it->second.factory(opt);
  if (!t) throw std::runtime_error("target '" + opt.name + "' could not be made");
  return t;
}

void register_builtin_targets(TargetRegistry& r) {
  r.add("schema", "checks the sequence against the format and walks its ops; touches nothing", make_schema);
  r.add("model", "C++ device model: from --map's register map, else the generic model", make_model);
}

TargetRegistry builtin_targets() {
  TargetRegistry r;
  register_builtin_targets(r);
  return r;
}

std::unique_ptr<Target> make_target(const TargetOptions& opt, const TargetRegistry& registry) {
  return registry.make(opt);
}

std::unique_ptr<Target> make_target(const TargetOptions& opt) { return builtin_targets().make(opt); }

RegisterMap load_regmap_file(const std::filesystem::path& p) {
  const std::string text = read_file_text(p);
  auto loaded = load_regmap(text);
  if (!loaded.ok()) {
    std::string msg = p.string() + ": not a valid register map";
    for (const auto& pr : loaded.problems) msg += "\n  " + pr.str();
    throw std::runtime_error(msg);
  }
  return std::move(*loaded.value);
}

}  // namespace gpuinit::replay

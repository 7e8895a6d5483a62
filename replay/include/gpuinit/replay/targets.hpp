// The targets this library provides (schema, model) and the registry through which every
// target, including those of other libraries (sim, hw), is made by name.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/device.hpp"
#include "gpuinit/format/regmap.hpp"
#include "gpuinit/replay/target.hpp"

namespace gpuinit::replay {

// What a factory gets. A factory throws std::runtime_error with a sentence (naming the file
// when a file is the cause) when it cannot make its target.
struct TargetOptions {
  std::string name;                     // "schema", "model", "sim", "hw", ...
  std::filesystem::path map_path;       // --map, when given and `map` is null
  const RegisterMap* map = nullptr;     // an already loaded map (takes precedence)
  std::optional<DeviceInfo> device;     // the sequence's device, for targets that check it
  std::map<std::string, std::string> settings;  // target-specific ("commit" -> "1", ...)
};

using TargetFactory = std::function<std::unique_ptr<Target>(const TargetOptions&)>;

// A set of named factories, owned by whoever composes the program (the CLI, a test). Not a
// global: two registries never see each other. Other libraries add their targets with a
// function of their own, e.g. `void register_sim_target(TargetRegistry&)`.
class TargetRegistry {
 public:
  // Throws std::invalid_argument when `name` is already registered or empty.
  void add(std::string name, std::string description, TargetFactory factory);
  [[nodiscard]] bool has(std::string_view name) const noexcept;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] std::string description(std::string_view name) const;
  // Throws std::runtime_error for an unknown name (listing the known ones) or whatever the
  // factory throws.
  [[nodiscard]] std::unique_ptr<Target> make(const TargetOptions& opt) const;

 private:
  struct Entry {
    std::string description;
    TargetFactory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// Adds "schema" and "model" to `r`.
void register_builtin_targets(TargetRegistry& r);
// A registry holding the built-in targets.
[[nodiscard]] TargetRegistry builtin_targets();
// registry.make(opt): the factory entry point.
[[nodiscard]] std::unique_ptr<Target> make_target(const TargetOptions& opt, const TargetRegistry& registry);
// The same with the built-in targets only (schema, model).
[[nodiscard]] std::unique_ptr<Target> make_target(const TargetOptions& opt);

// The schema target: executes nothing. Reads return 0, writes are dropped, time is virtual;
// the engine's up-front checks are its validation.
class SchemaTarget final : public Target {
 public:
  [[nodiscard]] Capabilities capabilities() const override;
  [[nodiscard]] std::uint64_t read(const Access&) override { return 0; }
  void write(const Access&, std::uint64_t) override {}
  [[nodiscard]] std::uint64_t now_ns() const override { return now_ns_; }
  void advance(std::uint64_t ns) override;
  [[nodiscard]] std::string name() const override { return "schema"; }

 private:
  std::uint64_t now_ns_ = 0;
};

// The model target: a DeviceModel on a virtual clock. Accesses take no time; advance() only
// adds. The model's named spaces are those of `named_spaces`, or any when `any_named` is set.
class ModelTarget final : public Target {
 public:
  ModelTarget(std::unique_ptr<DeviceModel> model, std::vector<std::string> named_spaces, bool any_named);
  [[nodiscard]] Capabilities capabilities() const override;
  [[nodiscard]] std::uint64_t read(const Access& a) override {
    return model_->read(a, now_ns_) & width_mask(a.width);
  }
  void write(const Access& a, std::uint64_t value) override { model_->write(a, value, now_ns_); }
  [[nodiscard]] std::uint64_t now_ns() const override { return now_ns_; }
  void advance(std::uint64_t ns) override;
  [[nodiscard]] std::string name() const override { return "model:" + model_->name(); }
  [[nodiscard]] DeviceModel& model() noexcept { return *model_; }

 private:
  std::unique_ptr<DeviceModel> model_;
  std::vector<std::string> named_spaces_;
  bool any_named_;
  std::uint64_t now_ns_ = 0;
};

// Loads a register map file; throws std::runtime_error naming the file and each problem.
[[nodiscard]] RegisterMap load_regmap_file(const std::filesystem::path& p);

}  // namespace gpuinit::replay

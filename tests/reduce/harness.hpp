// Test harness for the reducer's invariant: replay a raw trace and a reduced sequence on
// the register-map device model, record the observable writes, compare.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit::test {

// One access as the card's registers see it: index/data pairs resolved to the indexed
// register, DAC components to palette bytes when the entry is stored.
struct RegAccess {
  bool write = true;
  Space space = Space::mmio;
  std::string name;  // Space::named
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint8_t width = 8;
  std::uint64_t value = 0;
  bool operator==(const RegAccess&) const = default;
};
std::string to_string(const RegAccess& a);

// A DeviceModel decorator that forwards to a MapModel and decodes every access the way the
// VGA hardware and the map's index/data pairs do, independently of the reducer.
class Recorder final : public DeviceModel {
 public:
  Recorder(MapModel& inner, const RegisterMap& map) : inner_(inner), map_(map) {}
  Recorder(std::unique_ptr<MapModel> owned, const RegisterMap& map)
      : owned_(std::move(owned)), inner_(*owned_), map_(map) {}
  std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  std::string name() const override { return "recorder"; }
  const std::vector<RegAccess>& log() const { return log_; }

 private:
  void vga_port(std::uint64_t port, bool wr, std::uint8_t v);
  std::unique_ptr<MapModel> owned_;
  MapModel& inner_;
  const RegisterMap& map_;
  std::vector<RegAccess> log_;
  std::uint8_t misc_ = 0, idx_[4] = {}, dac_w_ = 0, dac_sub_ = 0, cache_[3] = {};
  bool ff_ = false;
  std::vector<std::uint64_t> pair_idx_;
};

// Observable writes (docs/reduce.md): the card's register writes in order, minus each
// write to a register the map marks side-effect free that a later write to the same
// register replaces before a write to any other kind of register or a read of a
// read-sensitive register comes between. Index selections and platform ports (PIT, 0x61,
// debug) are not in the log to begin with.
std::vector<RegAccess> observable_writes(const std::vector<RegAccess>& log, const RegisterMap& map);

struct ReplayResult {
  std::vector<RegAccess> log;
  std::vector<RegisterValue> state;  // final state after time settles
  std::string error;                 // a POLL that timed out, a model that failed
};

// The raw trace: every access at its own virtual time.
ReplayResult replay_trace(const Trace& t, const RegisterMap& map);
// The sequence: ops in order on a virtual clock (1 us per access, DELAY, POLL interval).
ReplayResult replay_sequence(const InitSequence& s, const RegisterMap& map);
// The same through the project's replay engine (replay::run_sequence on a model target).
ReplayResult replay_sequence_engine(const InitSequence& s, const RegisterMap& map);
// "" when equal, else the first difference.
// A register only one replay touched must hold its reset value (0 for unknown ones).
std::string compare_states(const std::vector<RegisterValue>& a, const std::vector<RegisterValue>& b,
                           const RegisterMap& map);
std::string compare_logs(const std::vector<RegAccess>& a, const std::vector<RegAccess>& b);

// A random init program run against the model, recorded as a raw trace whose reads are
// the model's answers.
Trace generate_trace(std::mt19937_64& rng, const RegisterMap& map, std::size_t steps);

RegisterMap load_ref_map();  // devices/maps/gpuinit-ref.json plus a read-sensitive register

}  // namespace gpuinit::test

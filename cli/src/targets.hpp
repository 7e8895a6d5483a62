// Target selection shared by replay, validate and pipeline: the options that pick and
// configure a target, and the registry holding every target this build has.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "gpuinit/format/sequence.hpp"
#include "gpuinit/hw/hw_target.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::cli {

struct TargetChoice {
  std::string name = "model";
  std::string map;
  std::string vcd, fst;  // sim waveforms
  hw::HwOptions hw;
};

// Adds --map, the sim waveform options and the hw option group to `app`.
void add_target_options(CLI::App* app, TargetChoice& c);

// schema, model, sim and sim-fast (when built), and hw bound to `seq`.
[[nodiscard]] replay::TargetRegistry make_registry(const InitSequence& seq, const TargetChoice& c);

// TargetOptions for registry.make(): the name, the map, the sequence's device and the
// target settings (waveform paths).
[[nodiscard]] replay::TargetOptions target_options(const TargetChoice& c, const InitSequence& seq,
                                                   const RegisterMap* map);

// "schema, model, sim, sim-fast, hw" as this build has them.
[[nodiscard]] std::string target_names();

}  // namespace gpuinit::cli

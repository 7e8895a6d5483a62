// Wiring of the simulation targets into the replay engine (built when the replay library
// is part of the build).
#pragma once
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"
#include "gpuinit/replay/engine.hpp"
#include "gpuinit/replay/targets.hpp"
#include "gpuinit/sim/sim.hpp"

namespace gpuinit::sim {

// Adds "sim" (SystemC TLM-2.0) and "sim-fast" (direct driver). The block is chosen by
// TargetOptions::map (its name), else map_path (loaded, then by name), else the sequence's
// device (vendor/device). Settings: "vcd" or "fst" = waveform file path.
void register_sim_targets(replay::TargetRegistry& r);

// The block for a target request, or throws std::runtime_error saying why none fits.
[[nodiscard]] const BlockInfo& block_for(const replay::TargetOptions& opt);

// `validate --mode sim`: replays `seq` on a simulated block and returns the run report
// (polls satisfied or timed out, expectation failures). `trace` may be null.
[[nodiscard]] replay::RunReport replay_in_sim(const InitSequence& seq, const BlockInfo& block,
                                              const SimOptions& opt = {}, Trace* trace = nullptr);

}  // namespace gpuinit::sim

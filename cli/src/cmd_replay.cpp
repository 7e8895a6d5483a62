#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_replay(CLI::App& root) { return not_built(root, "replay", "Replay an init sequence on a target and record its trace"); }
}  // namespace gpuinit::cli

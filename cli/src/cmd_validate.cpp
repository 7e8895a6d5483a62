#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_validate(CLI::App& root) { return not_built(root, "validate", "Validate init sequences, traces and register maps"); }
}  // namespace gpuinit::cli

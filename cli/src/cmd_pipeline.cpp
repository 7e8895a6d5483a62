#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_pipeline(CLI::App& root) { return not_built(root, "pipeline", "Extract, reduce, validate, replay and diff in one go"); }
}  // namespace gpuinit::cli

#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_batch(CLI::App& root) { return not_built(root, "batch", "Run the pipeline over many ROMs in parallel"); }
}  // namespace gpuinit::cli

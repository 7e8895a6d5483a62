#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_reduce(CLI::App& root) { return not_built(root, "reduce", "Reduce a raw trace to a compact init sequence"); }
}  // namespace gpuinit::cli

#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_diff(CLI::App& root) { return not_built(root, "diff", "Compare two traces or sequences"); }
}  // namespace gpuinit::cli

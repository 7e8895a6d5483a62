#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_info(CLI::App& root) { return not_built(root, "info", "Describe option ROM files: image chain, vendor tables, diagnoses"); }
}  // namespace gpuinit::cli

#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_harvest(CLI::App& root) { return not_built(root, "harvest", "Collect ROMs from TechPowerUp, a folder or this host's cards"); }
}  // namespace gpuinit::cli

#include "commands.hpp"

namespace gpuinit::cli {
Subcommand add_extract(CLI::App& root) { return not_built(root, "extract", "Run a ROM's init in the x86 emulator and record every access"); }
}  // namespace gpuinit::cli

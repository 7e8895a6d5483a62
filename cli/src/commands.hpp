// Subcommands of gpu-init. Each file cmd_X.cpp defines add_X(), which declares the
// subcommand's options into a config struct of its own and returns how to run it.
// A run returns the exit code: 0 ok, 1 findings (invalid input, differences), 2 usage or
// internal error. Subcommands print machine output on stdout, diagnostics on stderr.
#pragma once
#include <functional>
#include <string_view>

#include <CLI/CLI.hpp>

namespace gpuinit::cli {

enum Exit : int { kOk = 0, kFindings = 1, kError = 2 };

struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Subcommand add_info(CLI::App& root);
Subcommand add_harvest(CLI::App& root);
Subcommand add_extract(CLI::App& root);
Subcommand add_reduce(CLI::App& root);
Subcommand add_validate(CLI::App& root);
Subcommand add_replay(CLI::App& root);
Subcommand add_diff(CLI::App& root);
Subcommand add_pipeline(CLI::App& root);
Subcommand add_batch(CLI::App& root);

// A subcommand whose work has not landed yet: accepts any arguments and, when run, says
// so on stderr and exits 2. No fake output.
Subcommand not_built(CLI::App& root, const char* name, const char* description);

}  // namespace gpuinit::cli

#include <iostream>

#include "commands.hpp"

namespace gpuinit::cli {

Subcommand not_built(CLI::App& root, const char* name, const char* description) {
  auto* app = root.add_subcommand(name, std::string(description) + " (not built yet)");
  app->allow_extras();
  std::string n = name;
  return {app, [n] {
            std::cerr << "gpu-init " << n << ": not built yet in this version\n";
            return int(kError);
          }};
}

}  // namespace gpuinit::cli

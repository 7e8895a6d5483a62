// gpu-init: the command line. All logic lives in the libraries; this file parses, dispatches
// and turns exceptions into exit code 2 in one place.
#include <exception>
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "gpuinit/version.hpp"

int main(int argc, char** argv) {
  using namespace gpuinit::cli;
  CLI::App app{
      "gpu-init: extract, reduce, validate and replay GPU option-ROM init sequences.\n"
      "Exit codes: 0 ok, 1 findings (invalid input, differences), 2 usage or internal error.",
      "gpu-init"};
  app.set_version_flag("--version", std::string("gpu-init ") + gpuinit::kToolVersion);
  app.require_subcommand(1);
  app.fallthrough(false);

  std::vector<Subcommand> subs;
  try {
    subs = {add_info(app),   add_harvest(app), add_extract(app),  add_reduce(app), add_validate(app),
            add_replay(app), add_diff(app),    add_pipeline(app), add_batch(app)};
  } catch (const std::exception& e) {
    std::cerr << "gpu-init: internal error while setting up: " << e.what() << "\n";
    return kError;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kError;
  }

  try {
    for (auto& s : subs)
      if (s.app->parsed()) return s.run();
  } catch (const std::exception& e) {
    std::cerr << "gpu-init: error: " << e.what() << "\n";
    return kError;
  }
  std::cerr << "gpu-init: no subcommand given (see --help)\n";
  return kError;
}

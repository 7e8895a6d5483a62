// Running the built gpu-init from a test: exit code, stdout and stderr, in a folder of its own.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gpuinit/format/file_io.hpp"

namespace gpuinit::test {

namespace fs = std::filesystem;

inline const fs::path kSource = GPUINIT_SOURCE_DIR;
inline const fs::path kBinary = GPUINIT_BINARY_DIR;
inline const fs::path kGpuInit = kBinary / "cli" / "gpu-init";

struct CliRun {
  int rc = -1;
  std::string out, err;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A fresh, empty folder under the build tree for one test.
inline fs::path work_dir(const std::string& name) {
  const fs::path d = kBinary / "tests" / "pipeline" / "work" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Runs `gpu-init ARGS` in `dir` with `env` (shell assignments, may be empty) in front.
inline CliRun gpu_init(const fs::path& dir, const std::string& args, const std::string& env = {}) {
  const fs::path out = dir / ".stdout", err = dir / ".stderr";
  const std::string cmd = "cd " + quote(dir.string()) + " && " + env + (env.empty() ? "" : " ") +
                          quote(kGpuInit.string()) + " " + args + " >" + quote(out.string()) + " 2>" +
                          quote(err.string());
  CliRun r;
  const int st = std::system(cmd.c_str());
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = read_file_text(out);
  r.err = read_file_text(err);
  return r;
}

}  // namespace gpuinit::test

// `gpu-init info` end to end: exit codes, JSON Lines, text blocks.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "gpuinit/format/file_io.hpp"
#include "rom_builder.hpp"

namespace fs = std::filesystem;
using namespace gpuinit::rom::test;

namespace {

struct Run {
  int rc;
  std::string out;
};

// Runs gpu-init with `args`; stdout is captured, stderr discarded.
Run gpu_init(const std::string& args) {
  const fs::path out = fs::temp_directory_path() / ("rom_cli_" + std::to_string(::getpid()) + ".out");
  const std::string cmd = std::string("'") + GPUINIT_BINARY_DIR + "/cli/gpu-init' " + args + " >'" + out.string() + "' 2>/dev/null";
  const int status = std::system(cmd.c_str());
  Run r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, gpuinit::read_file_text(out)};
  fs::remove(out);
  return r;
}

fs::path write_tmp(const std::string& name, const Bytes& b) {
  const fs::path p = fs::temp_directory_path() / ("rom_cli_" + std::to_string(::getpid()) + "_" + name);
  gpuinit::write_file_atomic(p, std::string(b.begin(), b.end()));
  return p;
}

}  // namespace

TEST_CASE("info --json: one JSON line per file, exit 0") {
  const auto a = write_tmp("a.rom", image({.vendor = 0x1002})), b = write_tmp("b.rom", efi_image({}));
  const Run r = gpu_init("info --json '" + a.string() + "' '" + b.string() + "'");
  CHECK(r.rc == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> docs;
  while (std::getline(lines, line)) docs.push_back(nlohmann::json::parse(line));
  REQUIRE(docs.size() == 2);
  CHECK(docs[0]["file"] == a.string());
  CHECK(docs[0]["images"][0]["vendor_id"] == 0x1002);
  CHECK(docs[1]["images"][0]["code_type_name"] == "efi");
  fs::remove(a);
  fs::remove(b);
}

TEST_CASE("info text: one block per image; exit 1 for a non-ROM or unreadable file; 2 for usage") {
  const auto rom = write_tmp("c.rom", concat({image({.last = false}), efi_image({})}));
  const auto junk = write_tmp("junk.bin", Bytes(100, 0));
  Run r = gpu_init("info '" + rom.string() + "'");
  CHECK(r.rc == 0);
  CHECK(r.out.find("Image 0 at 0x0000: x86, 1234:1111") != std::string::npos);
  CHECK(r.out.find("Image 1 at 0x0400: efi") != std::string::npos);
  CHECK(gpu_init("info '" + junk.string() + "'").rc == 1);
  CHECK(gpu_init("info '" + rom.string() + "' /nonexistent/file.rom").rc == 1);
  CHECK(gpu_init("info").rc == 2);
  CHECK(gpu_init("info --no-such-option x").rc == 2);
  fs::remove(rom);
  fs::remove(junk);
}

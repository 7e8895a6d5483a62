// gpu-init reduce end to end: exit code, statistics, atomic output that loads, and a
// second reduction of the output that writes the same file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;
namespace fs = std::filesystem;

namespace {
std::string run(const std::string& args, int& rc) {
  const std::string cmd = std::string(GPUINIT_BINARY_DIR) + "/cli/gpu-init " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  rc = pclose(p);
  rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}
}  // namespace

TEST_CASE("gpu-init reduce writes a sequence that loads, and reducing it again changes nothing") {
  const fs::path dir = fs::path(GPUINIT_BINARY_DIR) / "reduce-cli-test";
  fs::create_directories(dir);
  const std::string raw =
      "{\"trace_version\":\"1\",\"source\":\"test\",\"rom_sha256\":\"00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff\"}\n"
      "{\"seq\":0,\"t_ns\":0,\"space\":\"port\",\"offset\":1026,\"width\":8,\"dir\":\"w\",\"value\":65}\n"
      "{\"seq\":1,\"t_ns\":10,\"space\":\"vga_io\",\"offset\":964,\"width\":8,\"dir\":\"w\",\"value\":1,\"cs_ip\":\"c000:0020\"}\n"
      "{\"seq\":2,\"t_ns\":20,\"space\":\"vga_io\",\"offset\":965,\"width\":8,\"dir\":\"w\",\"value\":33}\n"
      "{\"seq\":3,\"t_ns\":30,\"space\":\"mmio\",\"bar\":0,\"offset\":16,\"width\":32,\"dir\":\"r\",\"value\":0}\n"
      "{\"seq\":4,\"t_ns\":40,\"space\":\"mmio\",\"bar\":0,\"offset\":16,\"width\":32,\"dir\":\"r\",\"value\":0}\n"
      "{\"seq\":5,\"t_ns\":50,\"space\":\"mmio\",\"bar\":0,\"offset\":16,\"width\":32,\"dir\":\"r\",\"value\":1}\n"
      "{\"seq\":6,\"t_ns\":60,\"service\":\"int15_86\",\"wait_ns\":5000}\n";
  write_file_atomic(dir / "raw.jsonl", raw);
  int rc = -1;
  const auto out = run("reduce " + (dir / "raw.jsonl").string() + " -o " + (dir / "a.json").string() +
                           " --stats --explain",
                       rc);
  CHECK(rc == 0);
  CHECK(out.find("Reduced 7 ops to 3 ops\n") != std::string::npos);
  CHECK(out.find("Added 1 POLL operation\n") != std::string::npos);
  CHECK(out.find("Detected 1 delay point\n") != std::string::npos);
  CHECK(out.find("WRITE vga_seq[0x1] /8 = 0x21") != std::string::npos);
  const std::string a = read_file_text(dir / "a.json");
  const auto seq = load_sequence(a);
  REQUIRE(seq.ok());
  CHECK(seq.value->metadata.source_rom_sha256 == "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff");
  CHECK(seq.value->ops.size() == 4);

  (void)run("reduce " + (dir / "a.json").string() + " -o " + (dir / "b.json").string(), rc);
  CHECK(rc == 0);
  CHECK(read_file_text(dir / "b.json") == a);

  (void)run("reduce " + (dir / "missing.jsonl").string(), rc);
  CHECK(rc == 2);  // usage: the file does not exist
  write_file_atomic(dir / "bad.jsonl", "{\"trace_version\":\"1\"}\n{\"seq\":0}\n");
  const auto bad = run("reduce " + (dir / "bad.jsonl").string(), rc);
  CHECK(rc == 1);
  CHECK(bad.find("bad.jsonl") != std::string::npos);
}

// Exit codes and outputs of `gpu-init replay` and `gpu-init diff`, running the built binary.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "fixtures.hpp"

using namespace gpuinit;
using namespace gpuinit::test;
namespace fs = std::filesystem;

namespace {

const fs::path kBinary = fs::path(GPUINIT_BINARY_DIR) / "cli" / "gpu-init";

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("gpuinit-replay-cli-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Runs the binary with `args`; stdout and stderr go to files in `dir`. Returns the exit code.
int run(const TempDir& dir, const std::string& args) {
  const std::string cmd = "'" + kBinary.string() + "' " + args + " >'" + (dir.path / "out").string() + "' 2>'" +
                          (dir.path / "err").string() + "'";
  const int st = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(st));
  return WEXITSTATUS(st);
}

std::string slurp(const fs::path& p) { return read_file_text(p); }

InitSequence sample() {
  return seq_of({write_op(0x0, 1), write_op(0x4, 0x55), rmw_op(0x8, 0xF, 0x3), read_op(0x4, std::pair{0xFFull, 0x55ull}),
                 delay_op(10), write_op(0xC, 0x77), end_op()});
}

}  // namespace

TEST_CASE("replay exits 0 and writes a trace and diff of the trace against the sequence is equal") {
  REQUIRE(fs::exists(kBinary));
  TempDir d;
  const auto seq = d.path / "seq.json";
  const auto trace = d.path / "trace.jsonl";
  write_file_atomic(seq, write_sequence(sample()));
  CHECK(run(d, "replay '" + seq.string() + "' --target model --trace '" + trace.string() + "'") == 0);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("replay: ok"));
  const auto t = load_trace(slurp(trace));
  REQUIRE(t.ok());
  CHECK(t.value->events.size() == 6);
  CHECK(run(d, "diff '" + trace.string() + "' '" + seq.string() + "'") == 0);
  CHECK(run(d, "diff '" + seq.string() + "' '" + seq.string() + "' --json") == 0);
  CHECK_THAT(slurp(d.path / "out"), Catch::Contains("\"equal\": true"));
  // The schema target validates and walks.
  CHECK(run(d, "replay '" + seq.string() + "' --target schema --json") == 0);
  CHECK_THAT(slurp(d.path / "out"), Catch::Contains("\"writes_suppressed\": 4"));
}

TEST_CASE("replay exits 1 on a failed expectation - naming the op") {
  TempDir d;
  auto s = sample();
  s.ops[3].expect_value = 0x56;
  const auto seq = d.path / "seq.json";
  write_file_atomic(seq, write_sequence(s));
  CHECK(run(d, "replay '" + seq.string() + "' --target model") == 1);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("op 3: READ"));
  CHECK(run(d, "replay '" + seq.string() + "' --keep-going --json") == 1);
  CHECK_THAT(slurp(d.path / "out"), Catch::Contains("\"reached_end\": true"));
}

TEST_CASE("a corrupted sequence makes diff exit 1 and name that op first") {
  TempDir d;
  auto bad = sample();
  bad.ops[5].value = 0x78;
  const auto good_p = d.path / "good.json";
  const auto bad_p = d.path / "bad.json";
  const auto trace = d.path / "trace.jsonl";
  write_file_atomic(good_p, write_sequence(sample()));
  write_file_atomic(bad_p, write_sequence(bad));
  CHECK(run(d, "diff '" + good_p.string() + "' '" + bad_p.string() + "'") == 1);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("first divergence at A#5 / B#5"));
  CHECK_THAT(slurp(d.path / "out"), Catch::Contains("A op 5: WRITE mmio bar0+0xc w32 0x77"));
  // The replay of the good sequence against the corrupted one: the writes diverge there too.
  REQUIRE(run(d, "replay '" + good_p.string() + "' --trace '" + trace.string() + "'") == 0);
  CHECK(run(d, "diff '" + trace.string() + "' '" + bad_p.string() + "' --json") == 1);
  CHECK_THAT(slurp(d.path / "out"), Catch::Contains("\"index_b\": 5"));
}

TEST_CASE("load problems exit 2 and name the file") {
  TempDir d;
  const auto junk = d.path / "junk.json";
  write_file_atomic(junk, "{ not json");
  CHECK(run(d, "replay '" + junk.string() + "'") == 2);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("junk.json"));
  CHECK(run(d, "diff '" + junk.string() + "' '" + junk.string() + "'") == 2);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("junk.json"));
  CHECK(run(d, "replay '" + (d.path / "missing.json").string() + "'") == 2);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("missing.json"));
  const auto seq = d.path / "seq.json";
  write_file_atomic(seq, write_sequence(sample()));
  CHECK(run(d, "replay '" + seq.string() + "' --target fpga") == 2);
  CHECK_THAT(slurp(d.path / "err"), Catch::Contains("unknown target 'fpga'"));
  CHECK(run(d, "diff '" + seq.string() + "' '" + seq.string() + "' --ignore-port banana") == 2);
}

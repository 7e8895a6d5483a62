// gpu-init replay --target hw as a bench user runs it, against a fake sysfs tree.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sys/wait.h>

#include "fake_sysfs.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"

namespace fs = std::filesystem;
using namespace gpuinit;

namespace {

struct Run {
  int rc = -1;
  std::string out;
};

Run run(const std::string& args) {
  const std::string cmd = std::string(GPUINIT_BINARY_DIR) + "/cli/gpu-init " + args + " 2>&1";
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A two-op sequence for the fake card (1de5:0001): a 32-bit MMIO write and an I/O write.
fs::path write_sequence_file(const fs::path& dir, std::uint64_t mmio_offset) {
  InitSequence s;
  s.metadata.generated = "2026-01-01T00:00:00Z";
  s.metadata.pipeline_version = "test";
  s.device.vendor = 0x1de5;
  s.device.device = 0x0001;
  // The sequence was made for a board whose BAR0 is 128 KiB; the fake card's is 64 KiB.
  s.device.bars = {{0, BarKind::mem32, 0x20000, false}, {1, BarKind::io, 0x100, false}};
  Op w;
  w.kind = OpKind::write;
  w.space = Space::mmio;
  w.bar = 0;
  w.offset = mmio_offset;
  w.width = 32;
  w.value = 0xCAFEF00D;
  s.ops.push_back(w);
  Op io = w;
  io.space = Space::io;
  io.bar = 1;
  io.offset = 0x10;
  io.width = 8;
  io.value = 0x5A;
  s.ops.push_back(io);
  s.ops.push_back(Op{});  // END
  const fs::path p = dir / "seq.json";
  write_file_atomic(p, write_sequence(s));
  return p;
}

std::string args_for(const FakeSysfs& fs, const fs::path& seq) {
  return "replay " + seq.string() + " --target hw -s 01:00.0 --sysfs-root " + fs.root.string();
}

}  // namespace

TEST_CASE("cli hw: --commit writes the BAR files and records every access in the trace") {
  FakeSysfs fs("0000:01:00.0", 0x1de5, 0x0001, 0x10000, 0x100);
  const auto seq = write_sequence_file(fs.root, 0x40);
  const fs::path trace = fs.root / "hw.jsonl";
  const Run r = run(args_for(fs, seq) + " --commit --trace " + trace.string());
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto bar0 = fs.file("resource0");
  CHECK(bar0[0x40] == 0x0D);
  CHECK(bar0[0x43] == 0xCA);
  CHECK(fs.file("resource1")[0x10] == 0x5A);
  const auto loaded = load_trace(read_file_text(trace));
  REQUIRE(loaded.ok());
  REQUIRE(loaded.value->events.size() == 2);
  CHECK(loaded.value->events[0].space == Space::mmio);
  CHECK(loaded.value->events[0].value == 0xCAFEF00D);
  CHECK(loaded.value->events[1].space == Space::io);
  CHECK(loaded.value->events[1].dir == Dir::write);
}

TEST_CASE("cli hw: without --commit nothing is written and each access is printed") {
  FakeSysfs fs("0000:01:00.0", 0x1de5, 0x0001, 0x10000, 0x100);
  const auto seq = write_sequence_file(fs.root, 0x40);
  const auto before0 = fs.file("resource0"), before1 = fs.file("resource1");
  const Run r = run(args_for(fs, seq));
  INFO(r.out);
  CHECK(r.rc == 0);
  CHECK(fs.file("resource0") == before0);
  CHECK(fs.file("resource1") == before1);
  CHECK_THAT(r.out, Catch::Contains("would write mmio bar0+0x40 [32] <- 0xcafef00d"));
  CHECK_THAT(r.out, Catch::Contains("dry run: nothing was written"));
}

TEST_CASE("cli hw: an offset outside the BAR is refused before any access") {
  FakeSysfs fs("0000:01:00.0", 0x1de5, 0x0001, 0x10000, 0x100);
  const auto seq = write_sequence_file(fs.root, 0x10000);  // valid for the sequence, past this card's BAR0
  const auto before1 = fs.file("resource1");
  const Run r = run(args_for(fs, seq) + " --commit");
  INFO(r.out);
  CHECK(r.rc == 1);
  CHECK_THAT(r.out, Catch::Contains("/init_sequence/0") && Catch::Contains("outside BAR0"));
  CHECK(fs.file("resource1") == before1);  // the valid second op did not run either
}

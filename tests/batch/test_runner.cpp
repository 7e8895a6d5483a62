// The batch runner with fake jobs: isolation (crash, hang, garbage, throw), resume,
// summary shape, progress text.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gpuinit/batch/batch.hpp"
#include "gpuinit/batch/progress.hpp"
#include "gpuinit/format/file_io.hpp"

using namespace gpuinit;
using namespace gpuinit::batch;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GPUINIT_BINARY_DIR) / "tests" / "batch" / "tmp" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void put(const fs::path& p, const std::string& content) {
  std::ofstream f(p, std::ios::binary);
  f << content;
}

std::string slurp(const fs::path& p) { return read_file_text(p); }

// Behaviour chosen by the file's first byte: 'O' ok, 'C' crash (SIGSEGV), 'H' hang,
// 'G' garbage result and stdout noise, 'T' throws, 'A' aborts, 'E' exits early (status 7).
// Every call appends the first line of the ROM to calls.log beside the outputs.
class FakeProcessor final : public RomProcessor {
 public:
  explicit FakeProcessor(fs::path log) : log_(std::move(log)) {}
  std::vector<ImageResult> process(std::span<const std::uint8_t> rom, std::string_view name, const fs::path& dir,
                                   const JobOptions& opt) override {
    {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const std::string line = std::string(reinterpret_cast<const char*>(rom.data()), rom.size()) + "\n";
      if (fd >= 0) {
        (void)!::write(fd, line.data(), line.size());
        ::close(fd);
      }
    }
    const char kind = rom.empty() ? 'O' : char(rom[0]);
    switch (kind) {
      case 'C': ::raise(SIGSEGV); break;
      case 'A': std::abort();
      case 'H':
        for (;;) ::pause();
      case 'E': ::_exit(7);
      case 'T': throw std::runtime_error("fake job failed at offset 0x10");
      case 'G':
        std::printf("garbage on stdout \x01\x02\n");
        std::fflush(stdout);
        write_file_atomic(dir / "result.json", "{\"batch_result_version\":\"1\", garbage \xff\xfe");
        ::_exit(0);
      default: break;
    }
    write_file_atomic(dir / "out.txt", std::string(name) + "\n");
    ImageResult r;
    r.image = 0;
    r.vendor_id = 0x10de;
    r.device_id = std::uint16_t(rom.size());
    r.classification = rom.size() % 2 ? Classification::budget : Classification::completed;
    r.instructions = rom.size() * 100;
    r.accesses = rom.size();
    r.ops_raw = rom.size();
    r.ops_reduced = 1;
    r.seconds = opt.timestamps ? 0.5 : 0;
    r.validation = "ok";
    r.detail = rom.size() > 3 ? "detail, with \"quotes\"\nand a line break" : "";
    return {r};
  }
  std::string fingerprint(const JobOptions& opt) const override {
    return "fake/" + std::to_string(opt.max_instructions);
  }

 private:
  fs::path log_;
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> v;
  if (!fs::exists(p)) return v;
  std::istringstream s(slurp(p));
  for (std::string l; std::getline(s, l);) v.push_back(l);
  return v;
}

const Row* row_for(const BatchResult& r, const std::string& suffix) {
  for (const Row& row : r.rows)
    if (row.file.size() >= suffix.size() && row.file.compare(row.file.size() - suffix.size(), suffix.size(), suffix) == 0)
      return &row;
  return nullptr;
}

}  // namespace

TEST_CASE("runner: a crash, a hang, garbage, a throw, an abort and an early exit do not stop the batch") {
  const fs::path in = fresh_dir("iso-in"), out = fresh_dir("iso-out");
  put(in / "a-ok.rom", "OK1");
  put(in / "b-crash.rom", "Crash");
  put(in / "c-hang.rom", "Hang");
  put(in / "d-garbage.rom", "Garbage");
  put(in / "e-throw.rom", "Throw");
  put(in / "f-abort.rom", "Abort");
  put(in / "g-exit.rom", "Exit");
  put(in / "h-ok.rom", "OK2x");
  put(in / "INDEX.tsv", "not a rom");
  FakeProcessor proc(out / "calls.log");
  BatchOptions o;
  o.inputs = {in.string()};
  o.out_dir = out;
  o.jobs = 3;
  o.watchdog_s = 1.0;
  std::vector<Progress> seen;
  const auto t0 = std::chrono::steady_clock::now();
  const BatchResult r = run_batch(o, proc, [&](const Progress& p) { seen.push_back(p); });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs < 10);
  REQUIRE(r.rows.size() == 8);
  CHECK(r.files == 8);
  CHECK(r.skipped == std::vector<std::string>{"iso-in/INDEX.tsv: data file"});
  CHECK(row_for(r, "a-ok.rom")->r.classification == Classification::budget);
  CHECK(row_for(r, "h-ok.rom")->r.classification == Classification::completed);
  const Row* crash = row_for(r, "b-crash.rom");
  CHECK(crash->r.classification == Classification::crashed);
  CHECK(crash->r.detail.find("signal 11") != std::string::npos);
  const Row* hang = row_for(r, "c-hang.rom");
  CHECK(hang->r.classification == Classification::timeout);
  CHECK(hang->r.detail.find("watchdog") != std::string::npos);
  const Row* garbage = row_for(r, "d-garbage.rom");
  CHECK(garbage->r.classification == Classification::crashed);
  CHECK(garbage->r.detail.find("worker result unreadable") != std::string::npos);
  CHECK_FALSE(fs::exists(out / garbage->sha256 / "result.json"));
  CHECK(slurp(out / garbage->sha256 / "worker.log").find("garbage on stdout") == 0);
  CHECK(row_for(r, "e-throw.rom")->r.detail == "job failed: fake job failed at offset 0x10");
  CHECK(row_for(r, "f-abort.rom")->r.detail.find("signal 6") != std::string::npos);
  CHECK(row_for(r, "g-exit.rom")->r.detail == "worker exited with status 7");
  CHECK(r.failed == 6);
  CHECK(r.processed == 8);
  REQUIRE(seen.size() == 8);
  CHECK(seen.back().done == 8);
  CHECK(seen.back().failed == 6);
  // The summaries cover every row even so.
  CHECK(parse_summary_json(slurp(out / "summary.json")) == r.rows);
  CHECK(lines_of(out / "summary.csv").size() == 9);
  // A successful worker's empty log is removed.
  CHECK_FALSE(fs::exists(out / row_for(r, "a-ok.rom")->sha256 / "worker.log"));
}

TEST_CASE("runner: outputs are named by content hash and identical files are processed once") {
  const fs::path in = fresh_dir("dup-in"), out = fresh_dir("dup-out");
  put(in / "one.rom", "OKsame");
  put(in / "two.rom", "OKsame");
  put(in / "three.rom", "OKdifferent");
  FakeProcessor proc(out / "calls.log");
  BatchOptions o;
  o.inputs = {(in / "two.rom").string(), (in / "one.rom").string(), (in / "three.rom").string()};
  o.out_dir = out;
  o.jobs = 2;
  const BatchResult r = run_batch(o, proc);
  REQUIRE(r.rows.size() == 3);
  CHECK(r.roms == 2);
  CHECK(lines_of(out / "calls.log").size() == 2);
  CHECK(r.rows[0].file == (in / "two.rom").string());  // rows keep the order given
  CHECK(r.rows[0].sha256 == r.rows[1].sha256);
  CHECK(r.rows[0].sha256.size() == 64);
  CHECK(slurp(out / r.rows[0].sha256 / "out.txt") == "two.rom\n");  // named after the first file
  CHECK(fs::exists(out / r.rows[2].sha256 / "result.json"));
}

TEST_CASE("runner: a re-run resumes: complete ROMs are not redone, the rest are") {
  const fs::path in = fresh_dir("resume-in"), out = fresh_dir("resume-out");
  for (int i = 0; i < 6; ++i) put(in / ("r" + std::to_string(i) + ".rom"), "OK" + std::string(std::size_t(i), 'x'));
  FakeProcessor proc(out / "calls.log");
  BatchOptions o;
  o.inputs = {in.string()};
  o.out_dir = out;
  o.jobs = 2;
  const BatchResult first = run_batch(o, proc);
  CHECK(first.processed == 6);
  CHECK(lines_of(out / "calls.log").size() == 6);
  // Interrupted before two ROMs finished: no result.json, a half-written output left.
  fs::remove(out / first.rows[1].sha256 / "result.json");
  fs::remove(out / first.rows[4].sha256 / "result.json");
  put(out / first.rows[4].sha256 / "out.txt", "half");
  const BatchResult second = run_batch(o, proc);
  CHECK(second.resumed == 4);
  CHECK(second.processed == 2);
  const auto calls = lines_of(out / "calls.log");
  REQUIRE(calls.size() == 8);
  CHECK(calls[6] != calls[7]);
  CHECK(second.rows == first.rows);
  CHECK(slurp(out / first.rows[4].sha256 / "out.txt") == "r4.rom\n");
  // Other options: everything is redone.
  o.job.max_instructions = 5;
  const BatchResult third = run_batch(o, proc);
  CHECK(third.resumed == 0);
  CHECK(third.processed == 6);
}

TEST_CASE("runner: a batch killed midway resumes on the next run") {
  const fs::path in = fresh_dir("kill-in"), out = fresh_dir("kill-out");
  for (int i = 0; i < 4; ++i) put(in / ("k" + std::to_string(i) + ".rom"), "OK" + std::string(std::size_t(i), 'y'));
  put(in / "k9-hang.rom", "Hang");
  FakeProcessor proc(out / "calls.log");
  BatchOptions o;
  o.inputs = {in.string()};
  o.out_dir = out;
  o.jobs = 1;
  o.watchdog_s = 30;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      (void)run_batch(o, proc);
    } catch (...) {
    }
    ::_exit(0);
  }
  // Wait until the four quick ROMs are done and the hanging one runs, then kill the batch.
  for (int i = 0; i < 500 && lines_of(out / "calls.log").size() < 5; ++i) ::usleep(10'000);
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  CHECK_FALSE(fs::exists(out / "summary.json"));
  // The orphaned worker of the hanging ROM is still paused; it never wrote a result.
  put(in / "k9-hang.rom", "OKnow");
  o.watchdog_s = 5;
  const BatchResult r = run_batch(o, proc);
  CHECK(r.resumed == 4);
  CHECK(r.processed == 1);
  CHECK(r.rows.size() == 5);
  CHECK(fs::exists(out / "summary.json"));
}

TEST_CASE("summary: CSV header, one record per row, escaped text; JSON round trip and counts") {
  Row a{"dir/a,b.rom", std::string(64, 'a'), {}};
  a.r.image = 1;
  a.r.vendor_id = 0x1002;
  a.r.device_id = 0x5159;
  a.r.classification = Classification::invalid_opcode;
  a.r.instructions = 1234;
  a.r.detail = "stopped at c000:1234: opcode 0f 0b\nsecond line, \"quoted\" \xff";
  a.r.seconds = 1.23456;
  Row b{"x.rom", std::string(64, 'b'), {}};
  b.r.classification = Classification::efi_only;
  const std::string csv = summary_csv({a, b});
  std::istringstream s(csv);
  std::vector<std::string> lines;
  for (std::string l; std::getline(s, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "file,sha256,image,vendor_id,device_id,classification,instructions,accesses,ops_raw,ops_reduced,seconds,validation,run,detail");
  CHECK(lines[1].rfind("\"dir/a,b.rom\"," + std::string(64, 'a') + ",1,1002,5159,invalid-opcode,1234,0,0,0,1.235,,,\"stopped", 0) == 0);
  CHECK(lines[1].find("\"\"quoted\"\"") != std::string::npos);
  CHECK(lines[2] == "x.rom," + std::string(64, 'b') + ",,,,efi-only,0,0,0,0,0.000,,,");
  BatchResult br;
  br.rows = {a, b};
  JobOptions jo;
  jo.timestamps = false;
  const std::string js = summary_json(br, jo);
  const auto j = nlohmann::json::parse(js);
  CHECK(j.at("counts").at("invalid-opcode") == 1);
  CHECK(j.at("counts").at("efi-only") == 1);
  CHECK(j.at("counts").at("completed") == 0);
  CHECK(j.at("counts").size() == all_classifications().size());
  CHECK_FALSE(j.contains("seconds"));
  const auto back = parse_summary_json(js);
  REQUIRE(back.size() == 2);
  CHECK(back[1] == b);
  CHECK(back[0].r.seconds == Approx(1.235));
  CHECK(back[0].r.vendor_id == 0x1002);
  CHECK_FALSE(back[1].r.vendor_id);
}

TEST_CASE("summary: result.json is checked before it is trusted") {
  ImageResult r;
  r.classification = Classification::completed;
  const std::string ok = result_json("fp", "sha", {r});
  std::string why;
  CHECK(parse_result_json(ok, "fp", "sha", why));
  CHECK_FALSE(parse_result_json(ok, "other", "sha", why));
  CHECK(why == "result was made with other options");
  CHECK_FALSE(parse_result_json(ok, "fp", "sha2", why));
  CHECK_FALSE(parse_result_json("{}", "fp", "sha", why));
  CHECK_FALSE(parse_result_json("[1,2", "fp", "sha", why));
  std::string bad = ok;
  bad.replace(bad.find("completed"), 9, "exploded");
  CHECK_FALSE(parse_result_json(bad, "fp", "sha", why));
  CHECK(why.find("unknown classification") != std::string::npos);
  CHECK_FALSE(parse_result_json(result_json("fp", "sha", {}), "fp", "sha", why));
}

TEST_CASE("classification words round-trip") {
  for (Classification c : all_classifications()) CHECK(parse_classification(classification_name(c)) == c);
  CHECK(classification_name(Classification::invalid_opcode) == "invalid-opcode");
  CHECK_FALSE(parse_classification("Completed"));
}

TEST_CASE("progress: terminal bar with count, rate and ETA; plain lines otherwise") {
  ProgressBar tty(true, 10);
  const std::string l = tty.update(5, 20, 2.0, "roms/x.bin: completed");
  CHECK(l.rfind("\r[##........] 5/20  2.5/s  ETA 0:06  roms/x.bin: completed", 0) == 0);
  CHECK(l.size() == 80);
  CHECK(tty.finish() == "\n");
  ProgressBar plain(false);
  CHECK(plain.update(3, 7, 1.0, "a.rom: budget") == "[3/7] a.rom: budget\n");
  CHECK(plain.finish().empty());
  CHECK(ProgressBar::format_eta(3725) == "1:02:05");
  CHECK(ProgressBar::format_eta(-1) == "--:--");
}

// gpu-init pipeline, extract --format reduced, info --map and diff, run as a user runs them.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "gpuinit/format/json_io.hpp"
#include "gpuinit/pipeline/pipeline.hpp"
#include "run_cli.hpp"

using namespace gpuinit;
using namespace gpuinit::test;
using nlohmann::json;

namespace {

const fs::path kRefMap = kSource / "devices/maps/gpuinit-ref.json";
const fs::path kSeabios = "/usr/share/seabios";

void require_outputs_load(const fs::path& dir) {
  auto raw = load_trace(read_file_text(dir / "raw.trace.jsonl"));
  INFO(dir / "raw.trace.jsonl");
  REQUIRE(raw.ok());
  CHECK(!raw.value->events.empty());
  auto seq = load_sequence(read_file_text(dir / "sequence.json"));
  REQUIRE(seq.ok());
  CHECK(seq.value->ops.back().kind == OpKind::end);
  auto rep = load_trace(read_file_text(dir / "replay.trace.jsonl"));
  REQUIRE(rep.ok());
  CHECK(!rep.value->events.empty());
}

json load_report(const fs::path& dir) { return json::parse(read_file_text(dir / "report.json")); }

}  // namespace

TEST_CASE("pipeline with no argument runs the reference card end to end") {
  const auto dir = work_dir("default");
  const auto r = gpu_init(dir, "pipeline");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  // The seed guide's lines and a progress line per stage.
  CHECK(r.out.find("Reduced ") != std::string::npos);
  CHECK(r.out.find(" duplicate write") != std::string::npos);
  CHECK(r.out.find("delay point") != std::string::npos);
  CHECK(r.out.find("POLL operation") != std::string::npos);
  CHECK(r.out.find("✅ out/gpuinit-ref/sequence.json: valid") != std::string::npos);
  CHECK(r.out.find("✨ Pipeline complete! Init sequence: out/gpuinit-ref/sequence.json") != std::string::npos);
  for (const char* s : {"[1/5] extract", "[2/5] reduce", "[3/5] validate", "[4/5] replay", "[5/5] diff"})
    CHECK(r.err.find(s) != std::string::npos);
  const fs::path out = dir / "out" / "gpuinit-ref";
  require_outputs_load(out);
  const json rep = load_report(out);
  CHECK(rep.at("result") == "ok");
  CHECK(rep.at("exit_code") == 0);
  CHECK(rep.at("stages").size() == 5);
  CHECK(rep.at("diff").at("equal") == true);
}

TEST_CASE("pipeline finds the built-in default through GPUINIT_DATA_DIR first") {
  const auto dir = work_dir("datadir");
  fs::create_directories(dir / "data" / "maps");
  fs::copy_file(pipeline::compiled_in_search().build_rom, dir / "data" / "gpuinit-ref.rom");
  fs::copy_file(kRefMap, dir / "data" / "maps" / "gpuinit-ref.json");
  auto r = gpu_init(dir, "pipeline -o o", "GPUINIT_DATA_DIR=" + quote((dir / "data").string()));
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK(r.err.find("(GPUINIT_DATA_DIR)") != std::string::npos);
  // A data folder without the files: the next place (here the build tree) is used.
  r = gpu_init(dir, "pipeline -o o2", "GPUINIT_DATA_DIR=" + quote((dir / "nothing").string()));
  CHECK(r.rc == 0);
  CHECK(r.err.find("(build tree)") != std::string::npos);
}

TEST_CASE("pipeline on a SeaVGABIOS ROM with its map and machine set-up") {
  if (!fs::exists(kSeabios / "vgabios-stdvga.bin")) {
    WARN("seabios is not installed: nothing to run");
    return;
  }
  const auto dir = work_dir("stdvga");
  const auto r = gpu_init(dir, "pipeline " + quote((kSeabios / "vgabios-stdvga.bin").string()) + " --map " +
                                   quote((kSource / "devices/maps/qemu-stdvga.json").string()) + " --setup " +
                                   quote((kSource / "tests/golden/qemu/stdvga.rom.json").string()));
  INFO(r.err);
  REQUIRE(r.rc == 0);
  require_outputs_load(dir / "out" / "vgabios-stdvga");
  // Without a set-up the pipeline runs the ROM in the default machine: also fine.
  const auto r2 = gpu_init(dir, "pipeline " + quote((kSeabios / "vgabios-cirrus.bin").string()) + " -o cirrus -q");
  CHECK(r2.rc == 0);
  CHECK(r2.err.empty());
}

TEST_CASE("pipeline names the failing stage and exits 1 when the replay's model lacks a register block") {
  const auto dir = work_dir("fail-replay");
  // The reference map without its PLL/memory-controller index/data block: the sequence's
  // pllmc ops cannot be executed on that model.
  json m = json::parse(read_file_text(kRefMap));
  m["indexed_spaces"] = json::array();
  json regs = json::array();
  for (const auto& reg : m["registers"])
    if (reg.at("space") != "pllmc") regs.push_back(reg);
  m["registers"] = regs;
  json behaviours = json::array();
  for (const auto& b : m["behaviours"])
    if (b.value("register", "") != "PLL_STATUS" && b.value("register", "") != "MC_STATUS") behaviours.push_back(b);
  m["behaviours"] = behaviours;
  write_file_atomic(dir / "broken.json", m.dump(1));
  const auto r = gpu_init(dir, "pipeline --replay-map broken.json -o o");
  INFO(r.out << r.err);
  CHECK(r.rc == 1);
  CHECK(r.err.find("stage replay failed") != std::string::npos);
  CHECK(r.out.find("❌ Pipeline failed at stage replay") != std::string::npos);
  const json rep = load_report(dir / "o");
  CHECK(rep.at("failed_stage") == "replay");
  CHECK(rep.at("stages").at(4).at("status") == "skipped");
  // What was made before the failure is kept.
  CHECK(fs::exists(dir / "o" / "sequence.json"));
}

TEST_CASE("pipeline exits 1 naming extract when the ROM's init does not return") {
  const auto dir = work_dir("fail-extract");
  const auto r = gpu_init(dir, "pipeline --max-instructions 1000 -o o");
  CHECK(r.rc == 1);
  CHECK(r.err.find("stage extract failed") != std::string::npos);
  CHECK(load_report(dir / "o").at("failed_stage") == "extract");
  CHECK(fs::exists(dir / "o" / "raw.trace.jsonl"));
  CHECK_FALSE(fs::exists(dir / "o" / "sequence.json"));
}

TEST_CASE("pipeline usage errors exit 2") {
  const auto dir = work_dir("usage");
  auto r = gpu_init(dir, "pipeline --target nosuch");
  CHECK(r.rc == 2);
  CHECK(r.err.find("no such target") != std::string::npos);
  r = gpu_init(dir, "pipeline missing.rom");
  CHECK(r.rc == 2);
  CHECK(r.err.find("missing.rom") != std::string::npos);
  r = gpu_init(dir, "pipeline --map missing.json");
  CHECK(r.rc == 2);
  r = gpu_init(dir, "pipeline --reproducible", "SOURCE_DATE_EPOCH=yesterday");
  CHECK(r.rc == 2);
  CHECK(r.err.find("SOURCE_DATE_EPOCH") != std::string::npos);
}

TEST_CASE("pipeline --reproducible output does not depend on the time or the tool version") {
  const auto dir = work_dir("repro");
  REQUIRE(gpu_init(dir, "pipeline --reproducible -o a -q").rc == 0);
  REQUIRE(gpu_init(dir, "pipeline --reproducible -o b -q", "SOURCE_DATE_EPOCH=0").rc == 0);
  for (const char* f : {"raw.trace.jsonl", "sequence.json", "replay.trace.jsonl"})
    CHECK(read_file_text(dir / "a" / f) == read_file_text(dir / "b" / f));
  const std::string seq = read_file_text(dir / "a" / "sequence.json");
  CHECK(seq.find("\"generated\":\"1970-01-01T00:00:00Z\"") != std::string::npos);
  CHECK(read_file_text(dir / "a" / "raw.trace.jsonl").find("tool_version") == std::string::npos);
  REQUIRE(gpu_init(dir, "pipeline --reproducible -o c -q", "SOURCE_DATE_EPOCH=1700000000").rc == 0);
  CHECK(read_file_text(dir / "c" / "sequence.json").find("\"generated\":\"2023-11-14T22:13:20Z\"") !=
        std::string::npos);
}

TEST_CASE("extract --format reduced writes a sequence that validates") {
  const auto dir = work_dir("extract-reduced");
  const auto rom = pipeline::compiled_in_search().build_rom;
  const auto r = gpu_init(dir, "extract " + quote(rom.string()) + " --model map:" + quote(kRefMap.string()) +
                                   " --format reduced -o seq.json");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.find("Reduced ") != std::string::npos);
  const std::string text = read_file_text(dir / "seq.json");
  const auto v = pipeline::validate_sequence(text);
  INFO(v.report.summary);
  CHECK(v.report.status == pipeline::Status::ok);
  // The same as the pipeline's sequence (same map, same stamp).
  REQUIRE(gpu_init(dir, "extract " + quote(rom.string()) + " --model map:" + quote(kRefMap.string()) +
                            " --format reduced --reproducible -q -o seq2.json")
              .rc == 0);
  CHECK(read_file_text(dir / "seq2.json") == read_file_text(kSource / "tests/golden/gpuinit-ref/sequence.json"));
  // The raw format is still the default.
  REQUIRE(gpu_init(dir, "extract " + quote(rom.string()) + " -q -o raw.jsonl").rc == 0);
  CHECK(load_trace(read_file_text(dir / "raw.jsonl")).ok());
  CHECK(gpu_init(dir, "extract " + quote(rom.string()) + " --format cooked").rc == 2);
}

TEST_CASE("info --map prints a trace one event per line with register names") {
  const auto dir = work_dir("info");
  const fs::path raw = kSource / "tests/golden/gpuinit-ref/raw.trace.jsonl";
  const auto r = gpu_init(dir, "info --map " + quote(kRefMap.string()) + " " + quote(raw.string()));
  REQUIRE(r.rc == 0);
  const auto trace = load_trace(read_file_text(raw));
  REQUIRE(trace.ok());
  std::size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  CHECK(lines == trace.value->events.size() + 1);  // a header line, then one per event
  CHECK(r.out.find("R mmio bar0+0x0 w32") != std::string::npos);
  CHECK(r.out.find(" ID  @c000:") != std::string::npos);
  CHECK(r.out.find("SOFT_RESET") != std::string::npos);
  CHECK(r.out.find("pllmc.index") != std::string::npos);
  // Replay traces name indexed registers by their map names.
  const auto rep = gpu_init(dir, "info --map " + quote(kRefMap.string()) + " " +
                                     quote((kSource / "tests/golden/gpuinit-ref/replay.trace.jsonl").string()));
  REQUIRE(rep.rc == 0);
  CHECK(rep.out.find("pllmc[0x0] w32") != std::string::npos);
  CHECK(rep.out.find("PLL_CTRL") != std::string::npos);
  // Without a map: locations only (VGA registers keep their standard names).
  const auto bare = gpu_init(dir, "info " + quote(raw.string()));
  REQUIRE(bare.rc == 0);
  CHECK(bare.out.find("SOFT_RESET") == std::string::npos);
  // A ROM is still described as before.
  const auto rom = gpu_init(dir, "info " + quote(pipeline::compiled_in_search().build_rom.string()));
  CHECK(rom.rc == 0);
  CHECK(rom.out.find("Image 0 at 0x0000: x86") != std::string::npos);
  // A broken trace is a finding.
  write_file_atomic(dir / "bad.jsonl", "{\"trace_version\":\"1\"}\n{\"seq\":0,\"space\":\"nowhere\"}\n");
  CHECK(gpu_init(dir, "info bad.jsonl").rc == 1);
}

TEST_CASE("diff of a golden sequence with one value changed exits 1 and names that op first") {
  const auto dir = work_dir("corrupt");
  const fs::path golden = kSource / "tests/golden/gpuinit-ref/sequence.json";
  auto seq = load_sequence(read_file_text(golden));
  REQUIRE(seq.ok());
  // Change the value of the 100th WRITE.
  std::size_t target = 0, writes = 0;
  for (std::size_t i = 0; i < seq.value->ops.size(); ++i)
    if (seq.value->ops[i].kind == OpKind::write && ++writes == 100) {
      target = i;
      break;
    }
  REQUIRE(writes == 100);
  seq.value->ops[target].value ^= 1;
  write_file_atomic(dir / "bad.json", write_sequence(*seq.value));
  const auto r = gpu_init(dir, "diff " + quote(golden.string()) + " bad.json --map " + quote(kRefMap.string()));
  INFO(r.out << r.err);
  CHECK(r.rc == 1);
  const std::string op = "op " + std::to_string(target) + ":";
  const auto first = r.out.find("first divergence");
  REQUIRE(first != std::string::npos);
  CHECK(r.out.find("  A " + op, first) != std::string::npos);
  CHECK(r.out.find("  B " + op, first) != std::string::npos);
  CHECK(r.err.find("first divergence at A#" + std::to_string(target) + " / B#" + std::to_string(target)) !=
        std::string::npos);
  // And the unchanged file is equal.
  CHECK(gpu_init(dir, "diff " + quote(golden.string()) + " " + quote(golden.string())).rc == 0);
}

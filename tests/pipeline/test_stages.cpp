// The pipeline library's stages one by one, with hand-made inputs.
#include <catch2/catch.hpp>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/pipeline/pipeline.hpp"
#include "gpuinit/replay/targets.hpp"

namespace fs = std::filesystem;
using namespace gpuinit;
namespace pl = gpuinit::pipeline;

namespace {

const fs::path kSource = GPUINIT_SOURCE_DIR;
const fs::path kBinary = GPUINIT_BINARY_DIR;

RegisterMap ref_map() { return replay::load_regmap_file(kSource / "devices/maps/gpuinit-ref.json"); }

Op op_at(OpKind k, Space s, std::uint64_t off, std::uint8_t width, std::uint64_t value) {
  Op o;
  o.kind = k;
  o.space = s;
  o.offset = off;
  o.width = width;
  o.value = value;
  return o;
}

InitSequence small_sequence(const RegisterMap& map) {
  InitSequence s;
  s.metadata.generated = "1970-01-01T00:00:00Z";
  s.metadata.pipeline_version = "test";
  s.device = map.device;
  s.ops.push_back(op_at(OpKind::write, Space::mmio, 0xC, 32, 1));  // SCRATCH0
  Op end;
  end.kind = OpKind::end;
  s.ops.push_back(end);
  return s;
}

}  // namespace

TEST_CASE("stages: the reference card through every stage") {
  const auto map = ref_map();
  pl::ExtractInput in;
  in.rom = pl::compiled_in_search().build_rom;
  in.map = &map;
  const auto ex = pl::extract(in);
  INFO(ex.report.summary);
  REQUIRE(ex.report.status == pl::Status::ok);
  CHECK(ex.stop == x86::PcStop::completed);
  CHECK(ex.rom_sha1.size() == 40);
  const auto red = pl::reduce_raw(ex.trace, &map, pl::reproducible_stamp(), ex.rom_sha1);
  REQUIRE(red.report.status == pl::Status::ok);
  CHECK(red.sequence.metadata.source_rom_sha1 == ex.rom_sha1);
  CHECK(red.stats.ops_out < red.stats.events_in);
  const auto val = pl::validate_sequence(red.text);
  REQUIRE(val.report.status == pl::Status::ok);
  pl::ReplayInput ri;
  ri.map = &map;
  const auto rep = pl::replay_sequence(*val.sequence, ri);
  REQUIRE(rep.report.status == pl::Status::ok);
  const auto d = pl::diff_replay(rep.trace, *val.sequence, &map);
  CHECK(d.report.status == pl::Status::ok);
  CHECK(d.diff.equal());
}

TEST_CASE("stages: a corrupted intermediate fails validation, naming the op") {
  const auto map = ref_map();
  auto seq = small_sequence(map);
  std::string text = write_sequence(seq);
  REQUIRE(pl::validate_sequence(text).report.status == pl::Status::ok);
  // A write whose value does not fit its width.
  seq.ops[0].width = 8;
  seq.ops[0].value = 0x1234;
  const auto v = pl::validate_sequence(write_sequence(seq));
  CHECK(v.report.status == pl::Status::findings);
  REQUIRE_FALSE(v.problems.empty());
  CHECK(v.problems.front().where.find("/init_sequence/0") == 0);
  // Not JSON at all.
  CHECK(pl::validate_sequence("{\"schema_version\":").report.status == pl::Status::findings);
}

TEST_CASE("stages: a POLL that the model never satisfies fails the replay stage") {
  const auto map = ref_map();
  auto seq = small_sequence(map);
  // PLL_STATUS.LOCK (pllmc[2] bit 0) never sets: the PLL was not enabled.
  Op poll = op_at(OpKind::poll, Space::named, 2, 32, 1);
  poll.space_name = "pllmc";
  poll.mask = 1;
  poll.interval_us = 10;
  poll.timeout_us = 1000;
  seq.ops.insert(seq.ops.begin() + 1, poll);
  pl::ReplayInput ri;
  ri.map = &map;
  auto rep = pl::replay_sequence(seq, ri);
  CHECK(rep.report.status == pl::Status::findings);
  CHECK(rep.report.summary.find("PLL_STATUS") != std::string::npos);
  CHECK(rep.run.polls_timed_out == 1);
  // on_timeout: continue lets it pass, noting the timeout.
  seq.ops[1].on_timeout = OnTimeout::continue_;
  rep = pl::replay_sequence(seq, ri);
  CHECK(rep.report.status == pl::Status::ok);
  // Enabling the PLL first (ENABLE=1, PD=0) satisfies it after the map's 100 us.
  Op enable = op_at(OpKind::write, Space::named, 0, 32, 1);
  enable.space_name = "pllmc";
  seq.ops[1].on_timeout = OnTimeout::fail;
  seq.ops.insert(seq.ops.begin() + 1, enable);
  rep = pl::replay_sequence(seq, ri);
  CHECK(rep.report.status == pl::Status::ok);
  CHECK(rep.run.polls_satisfied == 1);
}

TEST_CASE("stages: an unknown target is an error, not a finding") {
  const auto map = ref_map();
  pl::ReplayInput ri;
  ri.target = "sim";
  const replay::TargetRegistry reg = replay::builtin_targets();
  ri.registry = &reg;
  const auto rep = pl::replay_sequence(small_sequence(map), ri);
  CHECK(rep.report.status == pl::Status::error);
  CHECK(rep.report.summary.find("'sim' is not built") != std::string::npos);
}

TEST_CASE("stages: diff_replay reports the first write that differs") {
  const auto map = ref_map();
  const auto seq = small_sequence(map);
  pl::ReplayInput ri;
  ri.map = &map;
  auto rep = pl::replay_sequence(seq, ri);
  REQUIRE(rep.report.status == pl::Status::ok);
  REQUIRE(rep.trace.events.size() == 1);
  rep.trace.events[0].value = 2;
  const auto d = pl::diff_replay(rep.trace, seq, &map);
  CHECK(d.report.status == pl::Status::findings);
  CHECK(d.report.summary.find("op 0") != std::string::npos);
}

TEST_CASE("run_pipeline: a file that is not a ROM stops at extract, the rest skipped") {
  const fs::path dir = kBinary / "tests" / "pipeline" / "work" / "not-a-rom";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file_atomic(dir / "x.rom", "this is not an option ROM");
  pl::PipelineInput in;
  in.extract.rom = dir / "x.rom";
  in.stamp = pl::reproducible_stamp();
  in.out_dir = dir / "out";
  std::vector<std::string> seen;
  pl::StageObserver obs;
  obs.finished = [&](const pl::StageReport& r) { seen.push_back(pl::stage_name(r.stage)); };
  const auto r = pl::run_pipeline(in, obs);
  CHECK(r.extract.report.status == pl::Status::findings);
  CHECK(r.extract.report.summary.find("no 0x55AA") != std::string::npos);
  CHECK(r.first_failure() == pl::Stage::extract);
  CHECK(r.exit_code() == 1);
  CHECK(r.diff.report.status == pl::Status::skipped);
  CHECK(seen == std::vector<std::string>{"extract"});
  CHECK(fs::exists(dir / "out" / "report.json"));
  CHECK_FALSE(fs::exists(dir / "out" / "raw.trace.jsonl"));
  // An unreadable ROM is an error (exit 2).
  in.extract.rom = dir / "missing.rom";
  CHECK(pl::run_pipeline(in).exit_code() == 2);
}

TEST_CASE("default inputs: the search order and the places named when nothing is found") {
  const fs::path dir = kBinary / "tests" / "pipeline" / "work" / "search";
  fs::remove_all(dir);
  fs::create_directories(dir / "env" / "maps");
  fs::create_directories(dir / "prefix" / "bin");
  fs::create_directories(dir / "prefix" / "share" / "gpu-init" / "maps");
  for (const fs::path& d : {dir / "env", dir / "prefix" / "share" / "gpu-init"}) {
    write_file_atomic(d / "gpuinit-ref.rom", "rom");
    write_file_atomic(d / "maps" / "gpuinit-ref.json", "{}");
  }
  pl::DataSearch w;
  w.env_data_dir = (dir / "env").string();
  w.exe = dir / "prefix" / "bin" / "gpu-init";
  w.build_rom = dir / "none.rom";
  w.source_maps_dir = dir / "none";
  std::vector<std::string> looked;
  auto f = pl::find_default_inputs(w, looked);
  REQUIRE(f);
  CHECK(f->origin == "GPUINIT_DATA_DIR");
  w.env_data_dir.clear();
  f = pl::find_default_inputs(w, looked);
  REQUIRE(f);
  CHECK(f->origin == "installed");
  CHECK(f->map.filename() == "gpuinit-ref.json");
  w.env_data_dir = (dir / "empty").string();
  w.exe = dir / "elsewhere" / "gpu-init";
  looked.clear();
  CHECK_FALSE(pl::find_default_inputs(w, looked));
  REQUIRE(looked.size() == 3);
  CHECK(looked[0].find("GPUINIT_DATA_DIR") == 0);
  CHECK(looked[1].find("installed") == 0);
  CHECK(looked[2].find("build tree") == 0);
  CHECK(looked[2].find("none.rom (missing)") != std::string::npos);
}

TEST_CASE("machine set-up: loaded, checked and applied") {
  auto s = pl::load_setup(read_file_text(kSource / "tests/golden/qemu/ati-rage128p.rom.json"));
  REQUIRE(s.ok());
  CHECK(!s.value->patch.empty());
  CHECK(s.value->devfn == 16);
  auto rom = read_file_bytes("/usr/share/seabios/" + s.value->rom_file);
  x86::PcConfig cfg;
  CHECK(pl::apply_setup(*s.value, rom, cfg).empty());
  CHECK(rom.size() == *s.value->guest_size);
  CHECK(cfg.bar_bases.size() == s.value->bar_bases.size());
  // Another ROM than the one recorded is refused, naming the check.
  std::vector<std::uint8_t> other(1024, 0);
  const auto ps = pl::apply_setup(*s.value, other, cfg);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].where == "/rom_file_sha256");
  // Malformed set-ups name the field.
  auto bad = pl::load_setup(R"({"devfn": 300, "patch": [[1]], "bar_bases": {"9": 0}})");
  CHECK_FALSE(bad.ok());
  REQUIRE(bad.problems.size() == 3);
  CHECK(bad.problems[0].where == "/patch/0");
  CHECK(bad.problems[1].where == "/devfn");
  CHECK(bad.problems[2].where == "/bar_bases/9");
  CHECK_FALSE(pl::load_setup("[").ok());
  CHECK_FALSE(pl::load_setup(R"({"guest_size": 1e99})").ok());
}

TEST_CASE("stamps: reproducible time from SOURCE_DATE_EPOCH") {
  CHECK(pl::reproducible_stamp().generated == "1970-01-01T00:00:00Z");
  CHECK(pl::reproducible_stamp("86400").generated == "1970-01-02T00:00:00Z");
  CHECK(pl::reproducible_stamp().tool_version.empty());
  CHECK_THROWS_AS(pl::reproducible_stamp("-5"), std::invalid_argument);
  CHECK_THROWS_AS(pl::reproducible_stamp("12x"), std::invalid_argument);
  CHECK(!pl::now_stamp().tool_version.empty());
  CHECK(pl::default_out_dir("roms/card.v1.rom") == fs::path("out/card.v1"));
}

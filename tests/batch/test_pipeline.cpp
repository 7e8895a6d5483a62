// The real pipeline job on hand-built ROMs: rows for non-x86 ROMs, runs, determinism.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "gpuinit/batch/batch.hpp"
#include "gpuinit/batch/pipeline.hpp"
#include "gpuinit/format/file_io.hpp"
#include "roms.hpp"

using namespace gpuinit;
using namespace gpuinit::batch;
namespace fs = std::filesystem;
namespace tr = gpuinit::testroms;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path p = fs::path(GPUINIT_BINARY_DIR) / "tests" / "batch" / "tmp" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void put(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

std::vector<std::uint8_t> cat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A folder of small ROMs, one per kind of row.
fs::path make_roms(const std::string& name) {
  const fs::path in = fresh_dir(name);
  put(in / "polite.rom", tr::image(tr::polite_code()));
  put(in / "spin.rom", tr::image(tr::spin_code()));
  put(in / "halt.rom", tr::image(tr::halt_code()));
  put(in / "isa.rom", tr::image(tr::polite_code(), false));
  put(in / "efi.rom", tr::image({}, true, 3));
  put(in / "fcode.rom", tr::image({}, true, 1));
  put(in / "efi-fcode.rom", cat(tr::image({}, true, 3, false), tr::image({}, true, 1)));
  put(in / "x86-efi.rom", cat(tr::image(tr::polite_code(), true, 0, false), tr::image({}, true, 3)));
  put(in / "two-x86.rom", cat(tr::image(tr::polite_code(), true, 0, false), tr::image(tr::spin_code())));
  put(in / "noise.bin", std::vector<std::uint8_t>(1000, 0x5A));
  put(in / "empty.bin", {});
  return in;
}

std::map<std::string, std::vector<ImageResult>> by_file(const BatchResult& r) {
  std::map<std::string, std::vector<ImageResult>> m;
  for (const Row& row : r.rows) m[fs::path(row.file).filename().string()].push_back(row.r);
  return m;
}

std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) m[fs::relative(e.path(), root).generic_string()] = read_file_text(e.path());
  return m;
}

}  // namespace

TEST_CASE("pipeline: one row per x86 image, one row naming why for ROMs without one") {
  const fs::path in = make_roms("kinds-in"), out = fresh_dir("kinds-out");
  PipelineProcessor proc;
  BatchOptions o;
  o.inputs = {in.string()};
  o.out_dir = out;
  o.jobs = 2;
  o.job.max_instructions = 1'000'000;
  o.job.timeout_s = 10;
  const BatchResult r = run_batch(o, proc);
  auto m = by_file(r);
  REQUIRE(m.size() == 11);
  CHECK(r.rows.size() == 12);
  CHECK(m["polite.rom"].at(0).classification == Classification::completed);
  CHECK(m["polite.rom"].at(0).image == 0);
  CHECK(m["polite.rom"].at(0).vendor_id == 0x1234);
  CHECK(m["polite.rom"].at(0).device_id == 0x5678);
  CHECK(m["polite.rom"].at(0).accesses >= 2);
  CHECK(m["polite.rom"].at(0).validation == "ok");
  CHECK(m["spin.rom"].at(0).classification == Classification::completed);  // the spin was broken
  CHECK(m["halt.rom"].at(0).classification == Classification::halted);
  CHECK(m["isa.rom"].at(0).classification == Classification::not_pci);
  CHECK(m["isa.rom"].at(0).run == "completed");
  CHECK(m["efi.rom"].at(0).classification == Classification::efi_only);
  CHECK(m["efi.rom"].at(0).image == -1);
  CHECK(m["fcode.rom"].at(0).classification == Classification::fcode_only);
  CHECK(m["efi-fcode.rom"].at(0).classification == Classification::no_x86_image);
  CHECK(m["efi-fcode.rom"].at(0).detail.find("efi, open-firmware") != std::string::npos);
  REQUIRE(m["x86-efi.rom"].size() == 1);
  CHECK(m["x86-efi.rom"][0].classification == Classification::completed);
  REQUIRE(m["two-x86.rom"].size() == 2);
  CHECK(m["two-x86.rom"][1].image == 1);
  CHECK(m["two-x86.rom"][1].classification == Classification::completed);
  CHECK(m["noise.bin"].at(0).classification == Classification::no_x86_image);
  CHECK(m["noise.bin"].at(0).detail.find("no 0x55AA") == 0);
  CHECK(m["empty.bin"].at(0).classification == Classification::no_x86_image);
  // Per-ROM outputs named by content hash.
  const Row* polite = nullptr;
  for (const Row& row : r.rows)
    if (row.file.ends_with("polite.rom")) polite = &row;
  REQUIRE(polite);
  for (const char* f : {"info.json", "image0.trace.jsonl", "image0.seq.json", "result.json"})
    CHECK(fs::exists(out / polite->sha256 / f));
  CHECK(r.failed == 0);
}

TEST_CASE("pipeline: two runs give byte-identical outputs without timestamps") {
  const fs::path in = make_roms("det-in");
  const fs::path out1 = fresh_dir("det-out1"), out2 = fresh_dir("det-out2");
  PipelineProcessor proc;
  BatchOptions o;
  o.inputs = {in.string()};
  o.job.timestamps = false;
  o.job.max_instructions = 1'000'000;
  o.out_dir = out1;
  o.jobs = 1;
  (void)run_batch(o, proc);
  o.out_dir = out2;
  o.jobs = 3;
  (void)run_batch(o, proc);
  const auto a = tree(out1), b = tree(out2);
  CHECK(a.size() > 20);
  REQUIRE(a.size() == b.size());
  for (const auto& [k, v] : a) {
    INFO(k);
    REQUIRE(b.count(k));
    CHECK(b.at(k) == v);
  }
}

TEST_CASE("pipeline: the instruction budget ends a run that never returns") {
  const fs::path in = fresh_dir("budget-in"), out = fresh_dir("budget-out");
  put(in / "loop.rom", tr::image({0xEB, 0xFE}));  // jmp $
  PipelineProcessor proc;
  BatchOptions o;
  o.inputs = {in.string()};
  o.out_dir = out;
  o.job.max_instructions = 10'000;
  const BatchResult r = run_batch(o, proc);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0].r.classification == Classification::budget);
  CHECK(r.rows[0].r.instructions == 10'000);
}

TEST_CASE("pipeline: an entry that leads into zero-filled bytes is named as an image without legacy code") {
  const fs::path in = fresh_dir("blank-in"), out = fresh_dir("blank-out");
  auto b = tr::image({0xE9, 0xFA, 0x00});  // jmp 0x100: zeros up to a UD2 at 0x1F0
  b[0x1F0] = 0x0F;
  b[0x1F1] = 0x0B;
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i + 1 < b.size(); ++i) sum = std::uint8_t(sum + b[i]);
  b[511] = std::uint8_t(0x100 - sum);
  put(in / "stub.rom", b);
  put(in / "ud2.rom", tr::image({0x0F, 0x0B}));  // a real invalid opcode in real code
  PipelineProcessor proc;
  BatchOptions o;
  o.inputs = {in.string()};
  o.out_dir = out;
  const auto m = by_file(run_batch(o, proc));
  REQUIRE(m.at("stub.rom").size() == 1);
  CHECK(m.at("stub.rom")[0].classification == Classification::invalid_opcode);
  CHECK(m.at("stub.rom")[0].detail.find("no legacy init code") != std::string::npos);
  CHECK(m.at("ud2.rom")[0].classification == Classification::invalid_opcode);
  CHECK(m.at("ud2.rom")[0].detail.find("no legacy init code") == std::string::npos);
}

// The example documents under tests/format: every valid one loads without a problem or a
// warning; every invalid one fails with exactly one problem, the one invalid/EXPECTED.tsv
// names for it (its pointer, and a fragment of its message).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/format/schema_check.hpp"

using namespace gpuinit;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(GPUINIT_SOURCE_DIR) / "tests" / "format";

struct Outcome {
  std::vector<Problem> problems;
  std::vector<std::string> warnings;
  bool has_value = false;
};

Outcome load_any(const fs::path& p) {
  const std::string text = read_file_text(p);
  const std::string name = p.filename().string();
  Outcome o;
  auto take = [&](auto&& r) {
    o.problems = r.problems;
    o.warnings = r.warnings;
    o.has_value = r.value.has_value();
  };
  if (name.rfind("trace-", 0) == 0) take(load_trace(text));
  else if (name.rfind("regmap-", 0) == 0) take(load_regmap(text));
  else take(load_sequence(text));
  return o;
}

std::string describe(const std::vector<Problem>& ps) {
  std::string s;
  for (const auto& p : ps) s += "  " + p.str() + "\n";
  return s;
}

struct Expected {
  std::string where, fragment;
};

std::map<std::string, Expected> expected_table() {
  std::map<std::string, Expected> t;
  std::ifstream in(kDir / "invalid" / "EXPECTED.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string file, where, fragment;
    std::getline(ls, file, '\t');
    std::getline(ls, where, '\t');
    std::getline(ls, fragment);
    t[file] = {where, fragment};
  }
  return t;
}

}  // namespace

TEST_CASE("valid examples load cleanly") {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kDir / "valid")) {
    INFO(e.path().filename().string());
    const auto o = load_any(e.path());
    INFO(describe(o.problems));
    CHECK(o.problems.empty());
    CHECK(o.warnings.empty());
    CHECK(o.has_value);
    ++n;
  }
  CHECK(n >= 6);
}

TEST_CASE("each invalid example fails for exactly its named reason") {
  const auto table = expected_table();
  REQUIRE(table.size() >= 60);
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(kDir / "invalid"))
    if (e.path().filename() != "EXPECTED.tsv") files.insert(e.path().filename().string());
  for (const auto& f : files) {
    INFO(f);
    const auto it = table.find(f);
    REQUIRE(it != table.end());  // every example is in the table
    const auto o = load_any(kDir / "invalid" / f);
    INFO(describe(o.problems));
    CHECK_FALSE(o.has_value);
    CHECK(o.problems.size() == 1);
    if (o.problems.size() != 1) continue;
    CHECK(o.problems[0].where == it->second.where);
    CHECK(o.problems[0].message.find(it->second.fragment) != std::string::npos);
  }
  for (const auto& [f, exp] : table) {
    INFO(f);
    CHECK(files.count(f) == 1);  // and every table row has its example
  }
}

TEST_CASE("a pre-1.0 sequence is migrated with a warning") {
  const auto r = load_sequence(read_file_text(kDir / "migrate" / "pre-1.0.json"));
  INFO(describe(r.problems));
  REQUIRE(r.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("pre-1.0") != std::string::npos);
  CHECK(r.warnings[0].find("source_rom_sha1 \"unknown\"") != std::string::npos);
  CHECK(r.value->metadata.source_rom_sha1 == "unknown");
  CHECK(r.value->ops.size() == 2);
  // Written back, it is a 1.0 document that loads without a warning.
  const auto again = load_sequence(write_sequence(*r.value));
  CHECK(again.ok());
  CHECK(again.warnings.empty());
  CHECK(*again.value == *r.value);
}

TEST_CASE("a pre-1.0 sequence without END gets one") {
  const auto r = load_sequence(read_file_text(kDir / "migrate" / "pre-1.0-no-end.json"));
  REQUIRE(r.ok());
  CHECK(r.value->ops.back().kind == OpKind::end);
  CHECK(r.warnings.at(0).find("a final END") != std::string::npos);
}

TEST_CASE("a newer minor version loads as 1.1 with a warning") {
  const auto r = load_sequence(read_file_text(kDir / "migrate" / "newer-minor-1.3.json"));
  INFO(describe(r.problems));
  REQUIRE(r.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("\"1.3\" is newer than 1.1") != std::string::npos);
  CHECK(r.warnings[0].find("ignoring 2 properties") != std::string::npos);
  CHECK(r.value->ops.size() == 3);
}

TEST_CASE("document kinds are recognised by content") {
  CHECK(detect_kind(read_file_text(kDir / "valid" / "seq-full.json")) == DocumentKind::sequence);
  CHECK(detect_kind(read_file_text(kDir / "migrate" / "pre-1.0.json")) == DocumentKind::sequence);
  CHECK(detect_kind(read_file_text(kDir / "valid" / "regmap-example.json")) == DocumentKind::regmap);
  CHECK(detect_kind(read_file_text(kDir / "valid" / "trace-extract.jsonl")) == DocumentKind::trace);
  CHECK(detect_kind(read_file_text(kDir / "valid" / "trace-header-only.jsonl")) == DocumentKind::trace);
  CHECK(detect_kind("{\"something\": 1}") == DocumentKind::unknown);
  CHECK(detect_kind("") == DocumentKind::unknown);
  CHECK(detect_kind("[1,2") == DocumentKind::unknown);
}

TEST_CASE("the library holds the schema texts") {
  for (auto id : {SchemaId::sequence, SchemaId::trace_header, SchemaId::regmap}) {
    const auto text = schema_text(id);
    CHECK(text.find("http://json-schema.org/draft-07/schema#") != std::string_view::npos);
    CHECK(text == read_file_text(fs::path(GPUINIT_SOURCE_DIR) / "schemas" /
                                 (id == SchemaId::sequence ? "init-sequence-v1.0.json"
                                  : id == SchemaId::regmap ? "regmap-v1.json"
                                                           : "trace-v1.json")));
  }
}

TEST_CASE("the examples in docs/formats.md are valid") {
  const std::string doc = read_file_text(fs::path(GPUINIT_SOURCE_DIR) / "docs" / "formats.md");
  int sequences = 0, traces = 0, regmaps = 0;
  for (std::size_t pos = 0; (pos = doc.find("```", pos)) != std::string::npos;) {
    const std::size_t body = doc.find('\n', pos) + 1;
    const std::size_t end = doc.find("```", body);
    REQUIRE(end != std::string::npos);
    const std::string block = doc.substr(body, end - body);
    pos = end + 3;
    INFO(block.substr(0, 80));
    switch (detect_kind(block)) {
      case DocumentKind::sequence: CHECK(load_sequence(block).ok()); ++sequences; break;
      case DocumentKind::trace: CHECK(load_trace(block).ok()); ++traces; break;
      case DocumentKind::regmap: CHECK(load_regmap(block).ok()); ++regmaps; break;
      case DocumentKind::unknown: break;
    }
  }
  CHECK(sequences == 1);
  CHECK(traces == 1);
  CHECK(regmaps == 1);
}

TEST_CASE("inputs fuzz_format once crashed on are refused cleanly") {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(GPUINIT_SOURCE_DIR) / "fuzz" / "format" / "regressions")) {
    INFO(e.path().filename().string());
    const std::string text = read_file_text(e.path());
    CHECK_NOTHROW((void)detect_kind(text));
    CHECK_NOTHROW((void)load_sequence(text));
    CHECK_NOTHROW((void)load_trace(text));
    CHECK_NOTHROW((void)load_regmap(text));
    CHECK_FALSE(load_sequence(text).ok());
    ++n;
  }
  CHECK(n >= 2);
}

// gpu-init harvest run as a user would: the built binary against the fixture server.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixture.hpp"

namespace fs = std::filesystem;

namespace {
struct Run {
  int rc;
  std::string out;
};
Run run(const std::string& args) {
  const std::string cmd = std::string(GPUINIT_BINARY_DIR) + "/cli/gpu-init " + args + " 2>/dev/null";
  Run r{-1, {}};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
}  // namespace

TEST_CASE("cli: harvest --source techpowerup --limit 1 stores one ROM and its manifest entry") {
  FixtureServer server;
  TempDir dir;
  const auto store = (dir.path / "roms").string();
  auto r = run("harvest --source techpowerup --limit 1 --delay-ms 0 --json --base-url " + server.base_url() +
               " --gpu 'Radeon 9200' --output-dir " + store);
  REQUIRE(r.rc == 0);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["added"] == 1);
  std::ifstream in(dir.path / "roms" / "manifest.json");
  auto manifest = nlohmann::json::parse(in);
  REQUIRE(manifest["roms"].size() == 1);
  CHECK(manifest["roms"][0]["vendor_device"] == "1002:5969");
  CHECK(fs::exists(dir.path / "roms" / manifest["roms"][0]["file"].get<std::string>()));
}

TEST_CASE("cli: a download that is not a ROM exits 1 and stores nothing") {
  FixtureServer server;
  TempDir dir;
  auto r = run("harvest --source techpowerup --limit 1 --delay-ms 0 --json --base-url " + server.base_url() +
               " --gpu not-a-rom --output-dir " + (dir.path / "roms").string());
  CHECK(r.rc == 1);
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["rejected"] == 1);
  CHECK(report["reasons"]["not-a-rom"] == 1);
  CHECK_FALSE(fs::exists(dir.path / "roms" / "manifest.json"));
}

TEST_CASE("cli: the public site cannot be hammered") {
  TempDir dir;
  auto r = run("harvest --source techpowerup --delay-ms 10 --output-dir " + (dir.path / "roms").string());
  CHECK(r.rc == 2);
}

TEST_CASE("cli: pipeline --source techpowerup harvests then runs every stage on what it found") {
  FixtureServer server;
  TempDir dir;
  const auto roms = (dir.path / "roms").string(), out = (dir.path / "out").string();
  auto r = run("pipeline --source techpowerup --gpu 'Radeon 9200' --limit 1 --delay-ms 0 --base-url " +
               server.base_url() + " --roms-dir " + roms + " -o " + out);
  CHECK(r.rc == 0);
  CHECK_THAT(r.out, Catch::Contains("Pipeline complete"));
  CHECK(fs::exists(dir.path / "roms" / "manifest.json"));
  CHECK(fs::exists(dir.path / "out" / "sequence.json"));
  CHECK(fs::exists(dir.path / "out" / "report.json"));
}

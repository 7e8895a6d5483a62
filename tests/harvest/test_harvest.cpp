// The techpowerup source against the local fixture server.
#include <catch2/catch.hpp>
#include <fstream>

#include "fixture.hpp"
#include "gpuinit/harvest/sources.hpp"

using namespace gpuinit::harvest;
namespace fs = std::filesystem;

namespace {

struct Waits {
  std::vector<std::chrono::milliseconds> all;
};

HttpOptions fast_options(Waits& w) {
  HttpOptions o;
  o.delay = std::chrono::milliseconds(0);
  o.sleep = [&w](std::chrono::milliseconds d) { w.all.push_back(d); };
  return o;
}

TpuQuery query(const FixtureServer& s, const std::string& model, unsigned limit) {
  TpuQuery q;
  q.base_url = s.base_url();
  q.gpu = model;
  q.limit = limit;
  return q;
}

std::string manifest_text(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("techpowerup: --limit 1 stores one valid ROM with its manifest entry") {
  FixtureServer server;
  TempDir dir;
  Waits waits;
  HttpClient http(fast_options(waits));
  RomStore store(dir.path, simple_check);
  auto rep = harvest_techpowerup(http, store, query(server, "Radeon 9200", 1));
  CHECK(rep.added == 1);
  CHECK(rep.failed == 0);
  REQUIRE(store.entries().size() == 1);
  const auto& e = store.entries()[0];
  CHECK(e.source == "techpowerup");
  CHECK(e.source_id == "1001");
  CHECK(e.name == "ATI Radeon 9200 (1001)");
  CHECK(e.vendor_device == "1002:5969");  // 0x5960 + 1001 % 16
  CHECK(e.size == 512);
  CHECK(e.file == e.sha256 + ".rom");
  CHECK(fs::file_size(dir.path / e.file) == 512);
  CHECK(manifest_text(dir.path).find("\"source_id\": \"1001\"") != std::string::npos);

  // The client names itself and asked robots.txt first.
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 4);  // robots, listing, detail, download
  CHECK(reqs[0].rfind("GET /robots.txt gpu-init/", 0) == 0);
  CHECK(reqs[3].rfind("POST /vgabios/1001/", 0) == 0);
}

TEST_CASE("techpowerup: a second harvest adds only what is new") {
  FixtureServer server;
  TempDir dir;
  Waits waits;
  {
    HttpClient http(fast_options(waits));
    RomStore store(dir.path, simple_check);
    CHECK(harvest_techpowerup(http, store, query(server, "Radeon 9200", 1)).added == 1);
  }
  HttpClient http(fast_options(waits));
  RomStore store(dir.path, simple_check);  // reloads the manifest
  auto rep = harvest_techpowerup(http, store, query(server, "Radeon 9200", 0));
  CHECK(rep.skipped == 1);  // 1001 was stored: no detail page, no download
  CHECK(rep.added == 1);    // 1002 is new
  CHECK(store.entries().size() == 2);
  std::size_t posts = 0;
  for (const auto& r : server.requests()) posts += r.rfind("POST ", 0) == 0;
  CHECK(posts == 2);  // one per run, never 1001 twice
}

TEST_CASE("techpowerup: HTTP 429 with Retry-After is honoured, then the harvest goes on") {
  FixtureServer server;
  TempDir dir;
  Waits waits;
  HttpClient http(fast_options(waits));
  RomStore store(dir.path, simple_check);
  auto rep = harvest_techpowerup(http, store, query(server, "rate-limit", 1));
  CHECK(rep.added == 1);
  bool waited = false;
  for (auto w : waits.all) waited |= w >= std::chrono::milliseconds(1000);
  CHECK(waited);
}

TEST_CASE("techpowerup: a truncated download is refused and the store stays consistent") {
  FixtureServer server;
  TempDir dir;
  Waits waits;
  HttpClient http(fast_options(waits));
  RomStore store(dir.path, simple_check);
  auto rep = harvest_techpowerup(http, store, query(server, "truncated", 1));
  CHECK(rep.added == 0);
  CHECK(rep.failed == 1);
  CHECK(rep.reasons["truncated-download"] == 1);
  CHECK(store.entries().empty());
  std::size_t roms = 0;
  for (const auto& f : fs::directory_iterator(dir.path)) roms += f.path().extension() == ".rom";
  CHECK(roms == 0);
}

TEST_CASE("techpowerup: a download that is not a ROM is rejected, not stored") {
  FixtureServer server;
  TempDir dir;
  Waits waits;
  HttpClient http(fast_options(waits));
  RomStore store(dir.path, simple_check);
  auto rep = harvest_techpowerup(http, store, query(server, "not-a-rom", 1));
  CHECK(rep.added == 0);
  CHECK(rep.rejected == 1);
  CHECK(rep.reasons["not-a-rom"] == 1);
  CHECK(store.entries().empty());
  CHECK_FALSE(fs::exists(dir.path / "manifest.json"));
}

TEST_CASE("techpowerup: changed markup fails with a message naming what was not found") {
  FixtureServer server;
  TempDir dir;
  Waits waits;
  HttpClient http(fast_options(waits));
  RomStore store(dir.path, simple_check);
  CHECK_THROWS_WITH(harvest_techpowerup(http, store, query(server, "changed-markup", 1)),
                    Catch::Contains("no BIOS entries found") && Catch::Contains("/vgabios/?"));
  auto rep = harvest_techpowerup(http, store, query(server, "detail-changed", 1));
  CHECK(rep.failed == 1);
  CHECK(rep.reasons["markup-changed"] == 1);
  REQUIRE(rep.failures.size() == 1);
  CHECK_THAT(rep.failures[0], Catch::Contains("no download link or download form"));
  // An honest empty result is not an error.
  CHECK(harvest_techpowerup(http, store, query(server, "empty", 1)).added == 0);
  CHECK(store.entries().empty());
}

TEST_CASE("http: robots.txt disallow rules are obeyed") {
  FixtureServer server;
  Waits waits;
  HttpClient http(fast_options(waits));
  CHECK_THROWS_WITH(http.fetch(server.base_url() + "/private/x"), Catch::Contains("robots.txt"));
  CHECK(http.fetch(server.base_url() + "/public").status == 404);
}

TEST_CASE("http: the delay between requests is kept") {
  FixtureServer server;
  Waits waits;
  HttpOptions o = fast_options(waits);
  o.delay = std::chrono::milliseconds(1500);
  o.obey_robots = false;
  HttpClient http(o);
  (void)http.fetch(server.base_url() + "/a");
  (void)http.fetch(server.base_url() + "/b");
  REQUIRE(waits.all.size() == 1);
  CHECK(waits.all[0] > std::chrono::milliseconds(1000));
}

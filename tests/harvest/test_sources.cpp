// The dir and sysfs sources, the zip reader, and the HTML/robots helpers.
#include <catch2/catch.hpp>
#include <fstream>

#include "fixture.hpp"
#include "gpuinit/harvest/sources.hpp"

using namespace gpuinit::harvest;
namespace fs = std::filesystem;

namespace {
void put(const fs::path& p, const std::vector<std::uint8_t>& b) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void le(std::vector<std::uint8_t>& v, std::uint32_t x, unsigned n) {
  for (unsigned i = 0; i < n; ++i) v.push_back(std::uint8_t(x >> (8 * i)));
}

// A zip archive with one stored (uncompressed) member, laid out by hand.
std::vector<std::uint8_t> stored_zip(const std::string& name, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> z;
  le(z, 0x04034b50, 4);  // local file header signature
  le(z, 20, 2);          // version needed
  le(z, 0, 2);           // flags
  le(z, 0, 2);           // method: stored
  le(z, 0, 4);           // time, date
  le(z, 0, 4);           // crc (not checked by our reader)
  le(z, std::uint32_t(data.size()), 4);  // compressed size
  le(z, std::uint32_t(data.size()), 4);  // uncompressed size
  le(z, std::uint32_t(name.size()), 2);  // name length
  le(z, 0, 2);                           // extra length
  z.insert(z.end(), name.begin(), name.end());
  z.insert(z.end(), data.begin(), data.end());
  const std::uint32_t cd = std::uint32_t(z.size());
  le(z, 0x02014b50, 4);  // central directory signature
  le(z, 20, 2);          // version made by
  le(z, 20, 2);          // version needed
  le(z, 0, 2);           // flags
  le(z, 0, 2);           // method
  le(z, 0, 4);           // time, date
  le(z, 0, 4);           // crc
  le(z, std::uint32_t(data.size()), 4);
  le(z, std::uint32_t(data.size()), 4);
  le(z, std::uint32_t(name.size()), 2);
  le(z, 0, 2);  // extra
  le(z, 0, 2);  // comment
  le(z, 0, 2);  // disk
  le(z, 0, 2);  // internal attrs
  le(z, 0, 4);  // external attrs
  le(z, 0, 4);  // local header offset
  z.insert(z.end(), name.begin(), name.end());
  const std::uint32_t cd_size = std::uint32_t(z.size()) - cd;
  le(z, 0x06054b50, 4);  // end of central directory
  le(z, 0, 2);
  le(z, 0, 2);
  le(z, 1, 2);  // entries on this disk
  le(z, 1, 2);  // entries
  le(z, cd_size, 4);
  le(z, cd, 4);
  le(z, 0, 2);  // comment length
  return z;
}
}  // namespace

TEST_CASE("dir: every distinct ROM is stored once and others are rejected with a reason") {
  TempDir src, out;
  put(src.path / "a.rom", tiny_rom(0x1111));
  put(src.path / "sub" / "b.bin", tiny_rom(0x2222));
  put(src.path / "sub" / "copy-of-a.rom", tiny_rom(0x1111));
  put(src.path / "readme.txt", {'h', 'i'});
  put(src.path / "pkg.zip", stored_zip("card/c.rom", tiny_rom(0x3333)));
  RomStore store(out.path, simple_check);
  auto rep = harvest_dir(store, src.path, true);
  CHECK(rep.added == 3);
  CHECK(rep.duplicates == 1);
  CHECK(rep.rejected == 1);
  CHECK(rep.reasons["not-a-rom"] == 1);
  CHECK(store.entries().size() == 3);
  bool zipped = false;
  for (const auto& e : store.entries()) zipped |= e.source_id == "pkg.zip!card/c.rom";
  CHECK(zipped);
  // A second run over the same folder adds nothing.
  RomStore again(out.path, simple_check);
  auto rep2 = harvest_dir(again, src.path, true);
  CHECK(rep2.added == 0);
  CHECK(rep2.duplicates == 4);
  CHECK(again.entries().size() == 3);
}

TEST_CASE("zip: damaged archives report what is wrong instead of reading past the end") {
  auto z = stored_zip("x.rom", tiny_rom(0x4444));
  std::string err;
  auto ok = read_zip(z, err);
  CHECK(err.empty());
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].data == tiny_rom(0x4444));
  auto cut = z;
  cut.erase(cut.begin() + 100, cut.begin() + 300);  // data shorter than announced
  err.clear();
  (void)read_zip(cut, err);
  CHECK_FALSE(err.empty());
  err.clear();
  CHECK(read_zip(std::vector<std::uint8_t>(10, 0), err).empty());
  CHECK(err == "too small to be a zip archive");
}

TEST_CASE("sysfs: display devices' ROMs are read from a fake tree") {
  TempDir sys, out;
  const fs::path dev = sys.path / "bus" / "pci" / "devices";
  put(dev / "0000:01:00.0" / "rom", tiny_rom(0x5555));
  std::ofstream(dev / "0000:01:00.0" / "class") << "0x030000\n";
  put(dev / "0000:00:1f.0" / "rom", tiny_rom(0x6666));  // not a display device: ignored
  std::ofstream(dev / "0000:00:1f.0" / "class") << "0x060100\n";
  fs::create_directories(dev / "0000:02:00.0");  // display without a ROM
  std::ofstream(dev / "0000:02:00.0" / "class") << "0x038000\n";
  RomStore store(out.path, simple_check);
  auto rep = harvest_sysfs(store, sys.path);
  CHECK(rep.added == 1);
  CHECK(rep.failed == 1);
  CHECK(rep.reasons["no-rom-file"] == 1);
  REQUIRE(store.entries().size() == 1);
  CHECK(store.entries()[0].source_id == "0000:01:00.0");
  CHECK(store.entries()[0].vendor_device == "1002:5555");
}

TEST_CASE("html: tags, attributes and text are found in sloppy markup") {
  const std::string html =
      "<A HREF='/x?a=1&amp;b=2' class=big>First &amp; <b>bold</b></a><a>no href</a>"
      "<a href=\"/vgabios/12/foo\"\n>Second</a><a href=unterminated";
  auto tags = find_tags(html, "a");
  REQUIRE(tags.size() == 4);
  CHECK(tags[0].attrs.at("href") == "/x?a=1&b=2");
  CHECK(tags[0].attrs.at("class") == "big");
  CHECK(tags[0].text == "First & bold");
  CHECK(tags[2].text == "Second");
  CHECK(tags[3].attrs.at("href") == "unterminated");
  CHECK(resolve_url("http://h:1/vgabios/?q=1", "/vgabios/12/foo") == "http://h:1/vgabios/12/foo");
  CHECK(resolve_url("http://h:1/a/b", "c") == "http://h:1/a/c");
  CHECK(url_encode("Radeon 9200 & co") == "Radeon+9200+%26+co");
}

TEST_CASE("robots: our own group wins over the catch-all") {
  const std::string robots =
      "User-agent: *\nDisallow: /private/\n\nUser-agent: gpu-init\nDisallow: /vgabios/download\n";
  CHECK(parse_robots(robots, "gpu-init/0.1") == std::vector<std::string>{"/vgabios/download"});
  CHECK(parse_robots(robots, "other") == std::vector<std::string>{"/private/"});
  CHECK(parse_robots("User-agent: *\nDisallow:\n", "x").empty());
}

TEST_CASE("tpu pages: listing entries and download forms are found") {
  const std::string listing =
      "<table><tr><td><a href=\"/vgabios/77/card-a\">Card A</a></td></tr>"
      "<tr><td><a href=\"/vgabios/77/card-a\">Card A again</a><a href=\"/vgabios/\">all</a>"
      "<a href=\"https://other/vgabios/78/b?x=1\">B</a></td></tr></table>";
  auto entries = parse_tpu_listing(listing, "http://h/vgabios/?model=x");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].id == "77");
  CHECK(entries[0].url == "http://h/vgabios/77/card-a");
  CHECK(entries[1].id == "78");
  auto link = parse_tpu_detail("<h1>T</h1><a href=\"#top\">download</a><a href=\"/dl/77\">Download</a>",
                               "http://h/vgabios/77/card-a");
  CHECK(link.url == "http://h/dl/77");
  CHECK(link.form.empty());
  CHECK(link.title == "T");
  auto form = parse_tpu_detail(
      "<form action=\"/search\"><input name=q></form>"
      "<form method=post><input type=hidden name=id value=77><input type=submit value=\"Download Now\"></form>",
      "http://h/vgabios/77/card-a");
  CHECK(form.url == "http://h/vgabios/77/card-a");
  REQUIRE(form.form.size() == 1);
  CHECK(form.form[0] == std::pair<std::string, std::string>{"id", "77"});
  CHECK_THROWS_AS(parse_tpu_detail("<p>nothing</p>", "http://h/p"), MarkupError);
}

// Where ROMs come from: the TechPowerUp VGA BIOS collection, a folder (optionally with
// .zip BIOS packages), or this host's own PCI display devices through sysfs.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "gpuinit/harvest/http.hpp"
#include "gpuinit/harvest/store.hpp"

namespace gpuinit::harvest {

struct HarvestReport {
  unsigned added = 0, duplicates = 0, rejected = 0, failed = 0, skipped = 0;
  std::map<std::string, unsigned> reasons;  // rejection/failure reason -> count
  std::vector<std::string> failures;        // one sentence each (which item, why)
  std::vector<std::string> added_files;     // store file names added this run

  // Counts what RomStore::add said of `item` (a URL, a path, a PCI address).
  void account(const RomStore::Outcome& out, const std::string& item);
  // Counts a failure before anything reached the store.
  void fail(const std::string& reason, const std::string& sentence);
};

using Progress = std::function<void(unsigned done, unsigned total, const std::string& item)>;

// --- techpowerup -------------------------------------------------------------------
struct TpuQuery {
  std::string base_url = "https://www.techpowerup.com";
  std::string gpu;     // model filter, e.g. "Radeon 9200"
  std::string vendor;  // manufacturer filter, e.g. "AMD"
  unsigned limit = 0;  // 0 = no limit
};

struct TpuEntry {
  std::string id;    // the site's BIOS id
  std::string name;  // link text
  std::string url;   // absolute detail-page URL
};

// A download as the detail page describes it: a link (GET) or a form (POST fields).
struct TpuDownload {
  std::string url;
  std::vector<std::pair<std::string, std::string>> form;  // empty: GET
  std::string title;  // the page's <h1>, when present
};

// Thrown when a page lacks what we look for; the message names the page and the thing.
struct MarkupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[nodiscard]] std::string tpu_listing_url(const TpuQuery& q);
[[nodiscard]] std::vector<TpuEntry> parse_tpu_listing(const std::string& html, const std::string& page_url);
[[nodiscard]] TpuDownload parse_tpu_detail(const std::string& html, const std::string& page_url);

HarvestReport harvest_techpowerup(HttpClient& http, RomStore& store, const TpuQuery& q, const Progress& progress = {});

// --- dir ---------------------------------------------------------------------------
// Every regular file under `root` (recursive; symlinks not followed), and every member
// of .zip archives when `unzip`.
HarvestReport harvest_dir(RomStore& store, const std::filesystem::path& root, bool unzip,
                          const Progress& progress = {});

// Members of a .zip archive (stored or deflated), bounded by named limits.
struct ZipMember {
  std::string name;
  std::vector<std::uint8_t> data;
};
[[nodiscard]] std::vector<ZipMember> read_zip(std::span<const std::uint8_t> bytes, std::string& error);

// --- sysfs -------------------------------------------------------------------------
// Every PCI display device (class 0x03xxxx) under <sysfs_root>/bus/pci/devices: enables
// its `rom` file, reads it, disables it again.
HarvestReport harvest_sysfs(RomStore& store, const std::filesystem::path& sysfs_root, const Progress& progress = {});

// --- helpers (exposed for tests) ---------------------------------------------------
struct HtmlTag {
  std::string name;                           // lower-case
  std::map<std::string, std::string> attrs;   // lower-case names, entity-decoded values
  std::string text;                           // inner text up to the closing tag (a, h1, button, option)
  std::size_t offset = 0;
};
// All start tags named `name` in document order (bounded by the input's size).
[[nodiscard]] std::vector<HtmlTag> find_tags(const std::string& html, const std::string& name);
[[nodiscard]] std::string resolve_url(const std::string& base, const std::string& href);
[[nodiscard]] std::string url_encode(const std::string& s);

}  // namespace gpuinit::harvest

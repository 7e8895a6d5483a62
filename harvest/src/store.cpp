#include "gpuinit/harvest/store.hpp"
#include "gpuinit/harvest/sources.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"

namespace gpuinit::harvest {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {
std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

RomStore::RomStore(fs::path dir, RomChecker checker) : dir_(std::move(dir)), checker_(std::move(checker)) {
  fs::create_directories(dir_);
  const fs::path manifest = dir_ / "manifest.json";
  if (!fs::exists(manifest)) return;
  const auto text = read_file_text(manifest);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("roms") || !j["roms"].is_array())
    throw std::runtime_error(manifest.string() + ": not a gpu-init ROM manifest (expected an object with \"roms\")");
  for (const auto& r : j["roms"]) {
    ManifestEntry e;
    try {
      e.file = r.at("file").get<std::string>();
      e.source = r.value("source", "");
      e.source_id = r.value("source_id", "");
      e.url = r.value("url", "");
      e.name = r.value("name", "");
      e.vendor_device = r.value("vendor_device", "");
      e.downloaded = r.value("downloaded", "");
      e.size = r.value("size", std::uint64_t{0});
      e.sha1 = r.value("sha1", "");
      e.sha256 = r.at("sha256").get<std::string>();
    } catch (const nlohmann::json::exception& ex) {
      throw std::runtime_error(manifest.string() + ": bad entry: " + ex.what());
    }
    entries_.push_back(std::move(e));
  }
}

bool RomStore::has_source_id(const std::string& source, const std::string& id) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const ManifestEntry& e) { return e.source == source && e.source_id == id; });
}

RomStore::Outcome RomStore::add(std::span<const std::uint8_t> bytes, ManifestEntry meta) {
  Verdict v = checker_(bytes);
  if (v.rejection) return {Result::rejected, *v.rejection, ""};
  const std::string sha256 = sha256_hex(bytes);
  for (const auto& e : entries_)
    if (e.sha256 == sha256) return {Result::duplicate, "", sha256};
  meta.sha256 = sha256;
  meta.sha1 = sha1_hex(bytes);
  meta.size = bytes.size();
  meta.file = sha256 + ".rom";
  meta.vendor_device = v.vendor_device;
  if (meta.downloaded.empty()) meta.downloaded = now_rfc3339();
  // The ROM first, then the manifest: a crash in between leaves a file the next run
  // re-adds (same name, same bytes), never a manifest entry without its file.
  write_file_atomic(dir_ / meta.file,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  entries_.push_back(std::move(meta));
  save_manifest();
  return {Result::added, "", sha256};
}

void RomStore::save_manifest() const {
  std::vector<const ManifestEntry*> sorted;
  for (const auto& e : entries_) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->sha256 < b->sha256; });
  ordered_json roms = ordered_json::array();
  for (const auto* e : sorted)
    roms.push_back(ordered_json{{"file", e->file},
                                {"source", e->source},
                                {"source_id", e->source_id},
                                {"url", e->url},
                                {"name", e->name},
                                {"vendor_device", e->vendor_device},
                                {"downloaded", e->downloaded},
                                {"size", e->size},
                                {"sha1", e->sha1},
                                {"sha256", e->sha256}});
  ordered_json j{{"manifest_version", "1"}, {"roms", std::move(roms)}};
  write_file_atomic(dir_ / "manifest.json", j.dump(2) + "\n");
}

void HarvestReport::account(const RomStore::Outcome& out, const std::string& item) {
  switch (out.result) {
    case RomStore::Result::added:
      ++added;
      added_files.push_back(out.sha256 + ".rom");
      break;
    case RomStore::Result::duplicate: ++duplicates; break;
    case RomStore::Result::rejected:
      ++rejected;
      ++reasons[out.reason];
      failures.push_back(item + ": not stored: " + out.reason);
      break;
  }
}

void HarvestReport::fail(const std::string& reason, const std::string& sentence) {
  ++failed;
  ++reasons[reason];
  failures.push_back(sentence);
}

}  // namespace gpuinit::harvest

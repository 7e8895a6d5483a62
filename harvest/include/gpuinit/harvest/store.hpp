// The ROM store: files named by content (<sha256>.rom) plus manifest.json, so two versions
// of one card never overwrite each other and a second harvest adds only what is new.
// Every write is atomic and the ROM file is written before its manifest entry, so an
// interrupted harvest leaves a consistent store and a re-run completes it without
// duplicates.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gpuinit::harvest {

struct ManifestEntry {
  std::string file;        // "<sha256>.rom", relative to the store
  std::string source;      // "techpowerup", "dir", "sysfs"
  std::string source_id;   // site id, original path, or PCI address
  std::string url;         // where it was downloaded from (techpowerup)
  std::string name;        // human name (card model, file name)
  std::string vendor_device;  // "1002:5960" from the ROM's first PCI image, "" if none
  std::string downloaded;  // RFC 3339 UTC
  std::uint64_t size = 0;
  std::string sha1, sha256;
};

// What the ROM parser says of some bytes: nullopt = acceptable (and vendor_device filled
// in when known), otherwise the reason for rejecting them.
struct Verdict {
  std::optional<std::string> rejection;
  std::string vendor_device;
};
using RomChecker = std::function<Verdict(std::span<const std::uint8_t>)>;

class RomStore {
 public:
  // Opens (creating the folder if needed) and loads manifest.json; throws
  // std::runtime_error naming the file when the manifest is unreadable.
  RomStore(std::filesystem::path dir, RomChecker checker);

  enum class Result { added, duplicate, rejected };
  struct Outcome {
    Result result;
    std::string reason;  // why rejected
    std::string sha256;
  };

  // Checks the bytes, stores them and records the entry (source/name/... from `meta`;
  // size, hashes, file, vendor_device and time are filled in here).
  Outcome add(std::span<const std::uint8_t> bytes, ManifestEntry meta);

  [[nodiscard]] bool has_source_id(const std::string& source, const std::string& id) const;
  [[nodiscard]] const std::vector<ManifestEntry>& entries() const noexcept { return entries_; }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  void save_manifest() const;
  std::filesystem::path dir_;
  RomChecker checker_;
  std::vector<ManifestEntry> entries_;
};

}  // namespace gpuinit::harvest

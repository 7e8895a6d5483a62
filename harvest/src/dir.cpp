// The `dir` source, with a small .zip reader (stored and deflated members, via zlib).
#include <zlib.h>

#include <algorithm>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/harvest/sources.hpp"

namespace gpuinit::harvest {
namespace fs = std::filesystem;

namespace {
// Limits against hostile archives and folders.
constexpr std::size_t kMaxZipMembers = 4096;
constexpr std::uint64_t kMaxMemberBytes = 64ull << 20;  // a ROM is at most a few MiB
constexpr std::uint64_t kMaxFileBytes = 64ull << 20;
constexpr std::size_t kMaxFilesInDir = 1000000;

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t off, unsigned n) {
  std::uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= std::uint32_t(b[off + i]) << (8 * i);
  return v;
}
bool fits(std::span<const std::uint8_t> b, std::uint64_t off, std::uint64_t len) {
  return off <= b.size() && len <= b.size() - off;
}
}  // namespace

std::vector<ZipMember> read_zip(std::span<const std::uint8_t> b, std::string& error) {
  std::vector<ZipMember> out;
  // End of central directory: signature PK\5\6, searched backwards over the comment.
  if (b.size() < 22) {
    error = "too small to be a zip archive";
    return out;
  }
  std::size_t eocd = std::string::npos;
  const std::size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (std::size_t p = b.size() - 22 + 1; p-- > lowest;)
    if (le(b, p, 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  if (eocd == std::string::npos) {
    error = "no end-of-central-directory record";
    return out;
  }
  const std::uint32_t count = le(b, eocd + 10, 2);
  std::uint64_t cd = le(b, eocd + 16, 4);
  if (count > kMaxZipMembers) {
    error = "more than " + std::to_string(kMaxZipMembers) + " members";
    return out;
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!fits(b, cd, 46) || le(b, cd, 4) != 0x02014b50) {
      error = "central directory entry " + std::to_string(i) + " at " + std::to_string(cd) + " is damaged";
      return out;
    }
    const unsigned method = le(b, cd + 10, 2);
    const std::uint64_t csize = le(b, cd + 20, 4), usize = le(b, cd + 24, 4);
    const unsigned name_len = le(b, cd + 28, 2), extra_len = le(b, cd + 30, 2), comment_len = le(b, cd + 32, 2);
    const std::uint64_t local = le(b, cd + 42, 4);
    if (!fits(b, cd + 46, name_len)) {
      error = "entry name past the end";
      return out;
    }
    std::string name(reinterpret_cast<const char*>(b.data() + cd + 46), name_len);
    cd += 46 + name_len + extra_len + comment_len;
    if (!name.empty() && name.back() == '/') continue;  // a folder
    if (usize > kMaxMemberBytes || csize > kMaxMemberBytes) continue;  // not a ROM
    if (!fits(b, local, 30) || le(b, local, 4) != 0x04034b50) {
      error = name + ": local header damaged";
      return out;
    }
    const std::uint64_t data = local + 30 + le(b, local + 26, 2) + le(b, local + 28, 2);
    if (!fits(b, data, csize)) {
      error = name + ": data past the end of the archive";
      return out;
    }
    ZipMember m;
    m.name = name;
    if (method == 0) {
      m.data.assign(b.begin() + std::ptrdiff_t(data), b.begin() + std::ptrdiff_t(data + csize));
    } else if (method == 8) {
      m.data.resize(usize);
      z_stream zs{};
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        error = "zlib init failed";
        return out;
      }
      zs.next_in = const_cast<Bytef*>(b.data() + data);
      zs.avail_in = uInt(csize);
      zs.next_out = m.data.data();
      zs.avail_out = uInt(usize);
      const int rc = inflate(&zs, Z_FINISH);
      const bool ok = rc == Z_STREAM_END && zs.total_out == usize;
      inflateEnd(&zs);
      if (!ok) {
        error = name + ": deflate data damaged";
        return out;
      }
    } else {
      continue;  // unsupported method: skipped
    }
    out.push_back(std::move(m));
  }
  return out;
}

HarvestReport harvest_dir(RomStore& store, const fs::path& root, bool unzip, const Progress& progress) {
  HarvestReport rep;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw std::runtime_error(root.string() + ": not a directory");
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
    if (files.size() >= kMaxFilesInDir) break;
  }
  std::sort(files.begin(), files.end());  // deterministic order
  const fs::path store_dir = fs::weakly_canonical(store.dir(), ec);
  unsigned done = 0;
  for (const auto& f : files) {
    if (progress) progress(done, unsigned(files.size()), f.filename().string());
    ++done;
    if (fs::weakly_canonical(f, ec).parent_path() == store_dir) continue;  // the store itself
    const std::string rel = fs::relative(f, root, ec).string();
    std::vector<std::uint8_t> bytes;
    try {
      if (fs::file_size(f) > kMaxFileBytes) {
        ++rep.rejected;
        ++rep.reasons["too-large"];
        rep.failures.push_back(rel + ": larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
        continue;
      }
      bytes = read_file_bytes(f);
    } catch (const std::exception& e) {
      rep.fail("unreadable", e.what());
      continue;
    }
    std::string ext = f.extension().string();
    for (auto& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (unzip && ext == ".zip") {
      std::string err;
      auto members = read_zip(bytes, err);
      if (!err.empty()) {
        rep.fail("bad-zip", rel + ": " + err);
      }
      for (auto& m : members) {
        ManifestEntry meta;
        meta.source = "dir";
        meta.source_id = rel + "!" + m.name;
        meta.name = m.name;
        rep.account(store.add(m.data, meta), meta.source_id);
      }
      continue;
    }
    ManifestEntry meta;
    meta.source = "dir";
    meta.source_id = rel;
    meta.name = f.filename().string();
    rep.account(store.add(bytes, meta), rel);
  }
  if (progress) progress(unsigned(files.size()), unsigned(files.size()), "");
  return rep;
}

}  // namespace gpuinit::harvest

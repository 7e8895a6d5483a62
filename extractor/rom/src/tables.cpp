// Vendor tables inside x86 images. Offsets inside these tables count from the image start;
// the model stores file offsets.
#include <algorithm>

#include "internal.hpp"

namespace gpuinit::rom::detail {
namespace {

constexpr std::string_view kBitSignature{"\xFF\xB8" "BIT", 5};
constexpr std::string_view kBmpSignature{"\xFF\x7F" "NV\0", 5};

std::string dotted(unsigned major, unsigned minor) { return std::to_string(major) + "." + std::to_string(minor); }

class TableFinder {
 public:
  TableFinder(const Bytes& b, RomInfo& info, Diags& d) : b_(b), info_(info), d_(d) {}

  void run() {
    for (std::size_t i = 0; i < info_.images.size(); ++i) {
      const Image& img = info_.images[i];
      if (!img.in_chain || (img.code_type && *img.code_type != 0)) continue;
      // Search only the image's bytes (and only what the file holds of it).
      const std::uint64_t end = img.offset + b_.clip(img.offset, img.length).size();
      atom_or_ati(i, img);
      if (auto p = b_.find(kBitSignature, img.offset, end)) bit(i, img, *p);
      if (auto p = b_.find(kBmpSignature, img.offset, end)) bmp(i, *p);
      if (auto p = b_.find("$VBT", img.offset, end)) vbt(i, *p);
    }
  }

 private:
  bool room() {
    if (info_.tables.size() < kMaxTables) return true;
    d_.add(Severity::warning, "too-many-tables", 0, "more than " + std::to_string(kMaxTables) + " vendor tables; the rest is not listed");
    return false;
  }

  void atom_or_ati(std::size_t index, const Image& img) {
    auto ptr = b_.u16(img.offset + 0x48);
    if (!ptr) return;
    const std::uint64_t at = img.offset + *ptr;
    if (*ptr != 0 && b_.has(at + 4, "ATOM")) return atom(index, img, at);
    if (!img.ati || !room()) return;
    Table t;
    t.kind = "ati-legacy";
    t.offset = at;
    t.image = index;
    if (auto rev = b_.u8(at); rev && *ptr != 0) t.version = std::to_string(*rev);
    info_.tables.push_back(std::move(t));
  }

  // ATOM_ROM_HEADER: common header (size, format and content revision), "ATOM", then
  // pointers; the master command table pointer is at 0x1e and the master data table at 0x20.
  void atom(std::size_t index, const Image& img, std::uint64_t at) {
    if (!b_.slice(at, 0x22)) {
      d_.add(Severity::warning, "atom-header-out-of-bounds", at, "ATOM_ROM_HEADER at " + hex(at) + " runs past the end of the file");
      return;
    }
    if (!room()) return;
    Table t;
    t.kind = "atombios";
    t.offset = at;
    t.image = index;
    t.version = dotted(*b_.u8(at + 2), *b_.u8(at + 3));
    t.subsystem_vendor_id = b_.u16(at + 0x18);
    t.subsystem_id = b_.u16(at + 0x1A);
    t.directory_offset = img.offset + *b_.u16(at + 0x1E);
    t.data_directory_offset = img.offset + *b_.u16(at + 0x20);
    t.entries = atom_directory(img, *t.directory_offset, "command");
    t.data_entries = atom_directory(img, *t.data_directory_offset, "data");
    info_.tables.push_back(std::move(t));
  }

  // A master table: common header, then one 16-bit image-relative offset per table (0: absent).
  std::vector<TableEntry> atom_directory(const Image& img, std::uint64_t at, const char* what) {
    std::vector<TableEntry> out;
    auto size = b_.u16(at);
    if (!size || !b_.slice(at, std::max<std::uint16_t>(*size, 4))) {
      d_.add(Severity::warning, "atom-table-out-of-bounds", at, std::string("AtomBIOS master ") + what + " table at " + hex(at) + " runs past the end of the file");
      return out;
    }
    const std::size_t n = std::min<std::size_t>(*size >= 4 ? (*size - 4) / 2 : 0, kMaxTableEntries);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint16_t rel = *b_.u16(at + 4 + 2 * i);  // inside the checked slice
      if (rel == 0) continue;
      TableEntry e;
      e.index = static_cast<std::uint32_t>(i);
      e.offset = img.offset + rel;
      auto tsize = b_.u16(e.offset);
      e.size = tsize.value_or(0);
      e.format_revision = b_.u8(e.offset + 2).value_or(0);
      e.content_revision = b_.u8(e.offset + 3).value_or(0);
      e.in_bounds = tsize && b_.slice(e.offset, std::max<std::uint16_t>(*tsize, 4));
      bad += !e.in_bounds;
      out.push_back(e);
    }
    if (bad)
      d_.add(Severity::warning, "atom-table-out-of-bounds", at,
             std::to_string(bad) + std::string(" tables of the AtomBIOS master ") + what + " table at " + hex(at) + " lie past the end of the file");
    return out;
  }

  // BIT: 0xB8FF, "BIT\0", version (BCD), header size, token size, token count, checksum;
  // tokens of { id, version, data size, data offset }.
  void bit(std::size_t index, const Image& img, std::uint64_t at) {
    if (!b_.slice(at, 12) || !room()) return;
    Table t;
    t.kind = "nvidia-bit";
    t.offset = at;
    t.image = index;
    const std::uint16_t ver = *b_.u16(at + 6);
    t.version = dotted(ver >> 8, ver & 0xFF);
    const std::uint8_t hdr = *b_.u8(at + 8), tsize = *b_.u8(at + 9), count = *b_.u8(at + 10);
    t.directory_offset = at + hdr;
    if (tsize < 6) {
      d_.add(Severity::warning, "bit-bad-header", at, "NVIDIA BIT header at " + hex(at) + " states a token size of " + std::to_string(tsize) + " (at least 6 expected)");
    } else {
      for (std::size_t i = 0; i < count; ++i) {  // count is 8-bit: bounded
        const std::uint64_t tok = at + hdr + i * tsize;
        if (!b_.slice(tok, 6)) {
          d_.add(Severity::warning, "bit-out-of-bounds", tok, "NVIDIA BIT token " + std::to_string(i) + " at " + hex(tok) + " runs past the end of the file");
          break;
        }
        TableEntry e;
        e.index = *b_.u8(tok);
        e.format_revision = *b_.u8(tok + 1);
        e.size = *b_.u16(tok + 2);
        e.offset = img.offset + *b_.u16(tok + 4);
        e.in_bounds = b_.slice(e.offset, e.size).has_value();
        t.entries.push_back(e);
      }
    }
    info_.tables.push_back(std::move(t));
  }

  // BMP (pre-BIT NVIDIA): 0xFF 0x7F "NV" 0x00, then two version bytes.
  void bmp(std::size_t index, std::uint64_t at) {
    auto ver = b_.u16(at + 5);
    if (!ver || !room()) return;
    Table t;
    t.kind = "nvidia-bmp";
    t.offset = at;
    t.image = index;
    t.version = hex(*ver, 4);
    info_.tables.push_back(std::move(t));
  }

  // Intel VBT: "$VBT" + name (20 bytes), version, header size, VBT size, checksum, reserved,
  // BDB offset (32-bit); the BDB ("BIOS_DATA_BLOCK ") holds { id, 16-bit size, data } blocks.
  void vbt(std::size_t index, std::uint64_t at) {
    if (!b_.slice(at, 0x20) || !room()) return;
    Table t;
    t.kind = "intel-vbt";
    t.offset = at;
    t.image = index;
    t.version = std::to_string(*b_.u16(at + 0x14));
    const std::uint64_t bdb = at + *b_.u32(at + 0x1C);
    info_.tables.push_back(std::move(t));
    if (!b_.has(bdb, "BIOS_DATA_BLOCK") || !b_.slice(bdb, 0x16)) {
      d_.add(Severity::warning, "vbt-bad-bdb", at, "Intel VBT at " + hex(at) + " points to no BIOS data block (at " + hex(bdb) + ")");
      return;
    }
    if (!room()) return;
    Table d;
    d.kind = "intel-bdb";
    d.offset = bdb;
    d.image = index;
    d.version = std::to_string(*b_.u16(bdb + 0x10));
    const std::uint64_t end = bdb + *b_.u16(bdb + 0x14);
    d.directory_offset = bdb + *b_.u16(bdb + 0x12);
    for (std::uint64_t pos = *d.directory_offset; pos + 3 <= end && d.entries.size() < kMaxTableEntries;) {
      auto id = b_.u8(pos);
      auto size = b_.u16(pos + 1);
      if (!id || !size) {
        d_.add(Severity::warning, "vbt-out-of-bounds", pos, "Intel BDB block at " + hex(pos) + " runs past the end of the file");
        break;
      }
      TableEntry e;
      e.index = *id;
      e.offset = pos + 3;
      e.size = *size;
      e.in_bounds = b_.slice(e.offset, e.size).has_value();
      d.entries.push_back(e);
      pos += 3 + std::uint64_t{*size};
    }
    info_.tables.push_back(std::move(d));
  }

  const Bytes& b_;
  RomInfo& info_;
  Diags& d_;
};

}  // namespace

void find_tables(const Bytes& b, RomInfo& info, Diags& d) { TableFinder(b, info, d).run(); }

}  // namespace gpuinit::rom::detail

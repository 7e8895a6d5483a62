// The image chain: PCI Firmware Specification 3.0 section 5.1 (ROM header, PCI data
// structure), with the vendor extensions real video BIOS dumps carry.
#include <algorithm>
#include <cstdio>

#include "gpuinit/format/hash.hpp"
#include "internal.hpp"

namespace gpuinit::rom {
namespace detail {

std::string hex(std::uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

void Diags::add(Severity s, std::string name, std::uint64_t offset, std::string message) {
  if (out_.size() < kMaxDiagnostics) {
    out_.push_back({std::move(name), offset, std::move(message), s});
  } else if (out_.size() == kMaxDiagnostics) {
    out_.push_back({"too-many-diagnostics", offset, "further diagnostics were dropped", Severity::error});
  }
}

}  // namespace detail

namespace {
using detail::Bytes;
using detail::hex;

constexpr std::string_view kAtiMagic = " 761295520";  // at 0x30 of ATI/AMD images
constexpr std::uint64_t kHeaderSize = 0x1A;           // ROM header through the PCIR pointer
constexpr std::uint64_t kPcirMinSize = 0x18;          // PCI data structure revision 0..2
constexpr std::uint64_t kUnit = 512;                  // image lengths count 512-byte units

std::optional<std::string> pcir_signature(const Bytes& b, std::uint64_t at) {
  for (const char* s : {"PCIR", "NPDS", "RGIS"})
    if (b.has(at, s)) return std::string(s);
  return std::nullopt;
}

bool chain_signature(const Bytes& b, std::uint64_t at) {
  auto v = b.u16(at);
  return v && (*v == 0xAA55 || *v == 0xBB77 || *v == 0x564E);
}

// 0x55AA followed by a readable PCI data structure: what a scan accepts as an image.
bool valid_image_at(const Bytes& b, std::uint64_t at) {
  if (b.u16(at) != 0xAA55) return false;
  auto ptr = b.u16(at + 0x18);
  return ptr && pcir_signature(b, at + *ptr) && b.slice(at + *ptr, kPcirMinSize);
}

std::uint8_t sum8(std::span<const std::uint8_t> s) {
  unsigned sum = 0;
  for (auto v : s) sum += v;
  return static_cast<std::uint8_t>(sum);
}

class Parser {
 public:
  Parser(std::span<const std::uint8_t> bytes, RomInfo& info) : b_(bytes), info_(info), d_(info.diagnostics) {}

  void run() {
    info_.size = b_.size();
    std::uint64_t start = 0;
    if (b_.u16(0) != 0xAA55) {
      auto first = find_image(0);
      if (!first) return no_image();
      start = *first;
      if (b_.has(0, "NVGI"))
        d_.add(Severity::warning, "container-header", 0,
               "the file starts with an NVIDIA flash container header (\"NVGI\"); the first image is at " + hex(start));
      else
        d_.add(Severity::warning, "image-not-at-offset-0", 0,
               "no 0x55AA signature at offset 0; the first valid image is at " + hex(start));
    }
    info_.chain_end = walk(start, true);
    after_chain();
    whole_file_checks();
    detail::find_tables(b_, info_, d_);
    std::stable_sort(info_.diagnostics.begin(), info_.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.offset < b.offset; });
  }

 private:
  // First offset >= from where a valid image starts. Every step advances, so the scan ends.
  std::optional<std::uint64_t> find_image(std::uint64_t from) const {
    for (auto pos = b_.find("\x55\xAA", from, b_.size()); pos; pos = b_.find("\x55\xAA", *pos + 1, b_.size()))
      if (valid_image_at(b_, *pos)) return pos;
    return std::nullopt;
  }

  void no_image() {
    auto b0 = b_.u8(0), b1 = b_.u8(1);
    if (b0 == 0x55 && b1 && *b1 != 0) {
      d_.add(Severity::error, "split-chip-dump", 0,
             "no 0x55AA at offset 0, but byte 0 is 0x55 and byte 1 (" + hex(*b1, 2) +
                 ") reads as an init size: this looks like the even-byte chip of a split dump; interleave it with the odd-byte chip");
    } else if (b0 == 0xAA && (b1 == 0xEB || b1 == 0xE9)) {
      d_.add(Severity::error, "split-chip-dump", 0,
             "no 0x55AA at offset 0, but byte 0 is 0xaa and byte 1 is a jump opcode (" + hex(*b1, 2) +
                 "): this looks like the odd-byte chip of a split dump; interleave it with the even-byte chip");
    } else {
      auto any = b_.find("\x55\xAA", 0, b_.size());
      d_.add(Severity::error, "not-a-rom", 0,
             any ? "no image with a PCI data structure in the file (0x55AA at " + hex(*any) + " has none, and offset 0 has no signature)"
                 : "no 0x55AA signature anywhere in the file");
    }
  }

  // Follows next = offset + length from `off`; returns the end of the last image walked.
  std::uint64_t walk(std::uint64_t off, bool in_chain) {
    for (;;) {
      if (info_.images.size() >= kMaxImages) {
        d_.add(Severity::error, "too-many-images", off, "more than " + std::to_string(kMaxImages) + " images; the rest is not described");
        return off;
      }
      info_.images.push_back(parse_image(off, in_chain));
      const Image& img = info_.images.back();
      if (img.length == 0) {
        d_.add(Severity::error, "zero-length", off, "image at " + hex(off) + " declares a length of 0; the chain cannot continue");
        return off;
      }
      const std::uint64_t next = off + img.length;  // length < 2^25: no overflow
      if (next > b_.size()) {
        d_.add(Severity::error, "truncated", off,
               "image at " + hex(off) + " declares " + std::to_string(img.length) + " bytes, but the file ends " +
                   hex(next - b_.size()) + " bytes early");
        return b_.size();
      }
      if (img.last) return next;
      if (next == b_.size()) {
        d_.add(Severity::info, "chain-ends-at-eof", next,
               "image at " + hex(off) + " is not marked last, but the file ends where the next image would start (a dump of the PCI-visible part only)");
        return next;
      }
      if (!chain_signature(b_, next)) {
        d_.add(Severity::warning, "broken-chain", next,
               "image at " + hex(off) + " is not marked last, but there is no image signature at " + hex(next));
        return next;
      }
      off = next;
    }
  }

  // Valid images in the data after the declared chain, each walked as a chain of its own.
  void after_chain() {
    const std::uint64_t end = info_.chain_end;
    if (end >= b_.size()) return;
    const bool ended_on_last = !info_.images.empty() && info_.images.back().last;
    for (std::uint64_t pos = end; pos < b_.size() && info_.images.size() < kMaxImages;) {
      auto found = find_image(pos);
      if (!found) break;
      if (*found == end && ended_on_last)
        d_.add(Severity::warning, "image-after-last", *found,
               "the last-image flag is set, but another valid image follows at " + hex(*found));
      else
        d_.add(Severity::warning, "image-after-end", *found,
               "valid image at " + hex(*found) + " lies after the declared end of the chain (" + hex(end) + ")");
      pos = std::max(walk(*found, false), *found + 1);
    }
    auto rest = b_.clip(end, b_.size() - end);
    const bool ff = std::all_of(rest.begin(), rest.end(), [](auto v) { return v == 0xFF; });
    const bool zero = std::all_of(rest.begin(), rest.end(), [](auto v) { return v == 0x00; });
    d_.add(ff || zero ? Severity::info : Severity::warning, "trailing-data", end,
           hex(rest.size()) + " bytes after the end of the chain (" +
               (ff ? "padding 0xff" : zero ? "padding 0x00" : "data") + ")");
  }

  void whole_file_checks() {
    const std::uint64_t half = b_.size() / 2;
    if (b_.size() < 2 * kUnit || b_.size() % 2) return;
    auto lo = b_.clip(0, half), hi = b_.clip(half, half);
    if (std::equal(lo.begin(), lo.end(), hi.begin(), hi.end()))
      d_.add(Severity::warning, "mirrored-halves", half,
             "the second half of the file (from " + hex(half) + ") repeats the first: a dump of a chip twice the ROM's size");
  }

  Image parse_image(std::uint64_t off, bool in_chain) {
    Image img;
    img.offset = off;
    img.in_chain = in_chain;
    img.signature = b_.u16(off).value_or(0);
    img.init_size_512 = b_.u8(off + 2).value_or(0);
    img.ati = b_.has(off + 0x30, kAtiMagic);
    if (!b_.slice(off, kHeaderSize))
      d_.add(Severity::error, "truncated-header", off, "the file ends inside the 26-byte ROM header of the image at " + hex(off));
    else
      parse_pcir(img);
    if (img.pcir) {
      img.pcir_offset = off + b_.u16(off + 0x18).value_or(0);
      img.vendor_id = img.pcir->vendor_id;
      img.device_id = img.pcir->device_id;
      img.class_code = img.pcir->class_code;
      img.code_type = img.pcir->code_type;
      img.length = std::uint64_t{img.pcir->image_length_512} * kUnit;
      img.last = img.pcir->indicator & 0x80;
      parse_npde(img);
      check_ids(img);
    } else {
      img.length = std::uint64_t{img.init_size_512} * kUnit;
      img.last = true;  // an ISA ROM is a single image
    }
    if (!img.code_type || img.code_type == 0) parse_x86(img);
    else if (img.code_type == 1) parse_fcode(img);
    else if (img.code_type == 3) parse_efi(img);
    checksums(img);
    return img;
  }

  void parse_pcir(Image& img) {
    const std::uint64_t off = img.offset;
    const std::uint16_t ptr = *b_.u16(off + 0x18);  // the header slice was checked
    const std::uint64_t at = off + ptr;
    auto sig = pcir_signature(b_, at);
    if (!sig) {
      if (!b_.slice(at, 4))
        d_.add(Severity::warning, "pcir-out-of-bounds", off + 0x18,
               "PCIR pointer " + hex(ptr) + " of the image at " + hex(off) + " points past the end of the file; treated as an ISA ROM");
      else
        d_.add(Severity::info, "no-pcir", off,
               "image at " + hex(off) + " has no PCI data structure (pointer " + hex(ptr) + " finds no \"PCIR\"): an ISA ROM");
      return;
    }
    if (!b_.slice(at, kPcirMinSize)) {
      d_.add(Severity::error, "pcir-out-of-bounds", at, "PCI data structure at " + hex(at) + " runs past the end of the file");
      return;
    }
    Pcir p;
    p.signature = *sig;
    p.vendor_id = *b_.u16(at + 4);
    p.device_id = *b_.u16(at + 6);
    p.device_list_ptr = *b_.u16(at + 8);
    p.length = *b_.u16(at + 0x0A);
    p.revision = *b_.u8(at + 0x0C);
    p.class_code = *b_.u8(at + 0x0F) << 16 | *b_.u8(at + 0x0E) << 8 | *b_.u8(at + 0x0D);
    p.image_length_512 = *b_.u16(at + 0x10);
    p.code_revision = *b_.u16(at + 0x12);
    p.code_type = *b_.u8(at + 0x14);
    p.indicator = *b_.u8(at + 0x15);
    p.max_runtime_512 = *b_.u16(at + 0x16);
    if (p.revision >= 3 && p.length >= 0x1C) {
      p.config_utility_ptr = b_.u16(at + 0x18);
      p.dmtf_clp_ptr = b_.u16(at + 0x1A);
    }
    if (ptr % 4)
      d_.add(Severity::warning, "pcir-misaligned", at,
             "PCI data structure at " + hex(at) + " is not 4-byte aligned as the PCI Firmware Specification requires");
    if (p.length < kPcirMinSize)
      d_.add(Severity::warning, "pcir-bad-length", at + 0x0A,
             "PCI data structure at " + hex(at) + " states a length of " + std::to_string(p.length) + " bytes (at least 24 expected)");
    if (p.revision >= 3 && p.device_list_ptr != 0) read_device_list(p, at);
    img.pcir = std::move(p);
  }

  void read_device_list(Pcir& p, std::uint64_t pcir_at) {
    const std::uint64_t list = pcir_at + p.device_list_ptr;
    for (std::size_t i = 0; i <= kMaxDeviceList; ++i) {
      auto id = b_.u16(list + 2 * i);
      if (!id) {
        d_.add(Severity::warning, "device-list-out-of-bounds", list, "PCIR device list at " + hex(list) + " runs past the end of the file");
        return;
      }
      if (*id == 0) return;
      if (i == kMaxDeviceList) {
        d_.add(Severity::warning, "device-list-too-long", list,
               "PCIR device list at " + hex(list) + " has more than " + std::to_string(kMaxDeviceList) + " entries; the rest is ignored");
        return;
      }
      p.device_list.push_back(*id);
    }
  }

  // NVIDIA's extension sits at the next 16-byte boundary after the PCI data structure.
  void parse_npde(Image& img) {
    const std::uint64_t rel = (*img.pcir_offset - img.offset + img.pcir->length + 15) & ~std::uint64_t{15};
    const std::uint64_t at = img.offset + rel;
    if (!b_.has(at, "NPDE") || !b_.slice(at, 0x0B)) return;
    Npde n;
    n.offset = at;
    n.revision = *b_.u16(at + 4);
    n.length = *b_.u16(at + 6);
    n.image_length_512 = *b_.u16(at + 8);
    n.flags = *b_.u8(at + 0x0A);
    if (n.image_length_512) img.length = std::uint64_t{n.image_length_512} * kUnit;
    img.last = n.flags & 0x80;
    img.npde = n;
  }

  void check_ids(const Image& img) {
    const Pcir& p = *img.pcir;
    const std::uint64_t at = *img.pcir_offset;
    if (p.vendor_id == 0 || p.vendor_id == 0xFFFF)
      d_.add(Severity::warning, "unknown-vendor", at + 4, "vendor id " + hex(p.vendor_id, 4) + " is not a valid PCI vendor id");
    else if (vendor_name(p.vendor_id).empty())
      d_.add(Severity::warning, "unknown-vendor", at + 4, "vendor id " + hex(p.vendor_id, 4) + " is not a known PCI vendor");
    const std::uint32_t cc = p.class_code;
    if ((cc >> 8) == 0 && (cc & 0xFF) != 0 && (cc & 0xFF) <= 0x13)
      d_.add(Severity::warning, "class-reversed", at + 0x0D,
             "class code " + hex(cc, 6) + " looks stored in reverse byte order (base class " + hex(cc & 0xFF, 2) + " in the prog-if byte)");
    if (*img.pcir_offset - img.offset + p.length > img.length && img.length)
      d_.add(Severity::warning, "pcir-out-of-bounds", at, "PCI data structure at " + hex(at) + " lies outside its image");
  }

  void parse_x86(Image& img) {
    X86Entry e;
    e.opcode = b_.u8(img.offset + 3).value_or(0);
    std::optional<std::uint16_t> rel;  // from the image start; IP wraps within the segment
    if (auto r8 = b_.u8(img.offset + 4); e.opcode == 0xEB && r8)
      rel = static_cast<std::uint16_t>(5 + static_cast<std::int8_t>(*r8));
    else if (auto r16 = b_.u16(img.offset + 4); e.opcode == 0xE9 && r16)
      rel = static_cast<std::uint16_t>(6 + *r16);
    if (rel) {
      e.target = img.offset + *rel;
      const std::uint64_t span = std::max<std::uint64_t>(img.length, std::uint64_t{img.init_size_512} * kUnit);
      if (*rel >= span)
        d_.add(Severity::warning, "bad-entry", img.offset + 3,
               "entry jump at " + hex(img.offset + 3) + " goes to " + hex(*e.target) + ", outside the image");
    }
    img.x86 = e;
  }

  void parse_efi(Image& img) {
    const std::uint64_t off = img.offset;
    if (!b_.slice(off, kHeaderSize)) return;
    EfiHeader h;
    h.init_size_512 = *b_.u16(off + 2);
    h.signature = *b_.u32(off + 4);
    h.subsystem = *b_.u16(off + 8);
    h.machine = *b_.u16(off + 0x0A);
    h.compression = *b_.u16(off + 0x0C);
    h.pe_offset = *b_.u16(off + 0x16);
    if (h.compression == 0) h.pe_mz = b_.has(off + h.pe_offset, "MZ");
    if (h.signature != 0x0EF1)
      d_.add(Severity::warning, "efi-bad-signature", off + 4,
             "EFI image at " + hex(off) + " lacks the 0x0ef1 signature (found " + hex(h.signature, 8) + ")");
    if (h.pe_mz == false)
      d_.add(Severity::warning, "efi-bad-pe", off + h.pe_offset,
             "uncompressed EFI image at " + hex(off) + " has no \"MZ\" at its PE offset " + hex(h.pe_offset));
    img.efi = h;
  }

  // IEEE 1275 PCI binding: bytes 2-3 of the ROM header point to the FCode program.
  void parse_fcode(Image& img) {
    auto rel = b_.u16(img.offset + 2);
    if (!rel) return;
    const std::uint64_t at = img.offset + *rel;
    auto token = b_.u8(at), format = b_.u8(at + 1);
    auto cks_hi = b_.u8(at + 2), cks_lo = b_.u8(at + 3);
    auto len = b_.be32(at + 4);
    if (!token || !format || !cks_hi || !cks_lo || !len) {
      d_.add(Severity::warning, "fcode-out-of-bounds", at, "FCode header at " + hex(at) + " runs past the end of the file");
      return;
    }
    FcodeHeader f{at, *token, *format, static_cast<std::uint16_t>(*cks_hi << 8 | *cks_lo), *len, std::nullopt};
    if (f.start_token < 0xF0 || f.start_token > 0xF3) {
      d_.add(Severity::warning, "fcode-bad-header", at,
             "no FCode start token at " + hex(at) + " (found " + hex(f.start_token, 2) + ")");
    } else if (f.length >= 8) {
      if (auto body = b_.slice(at + 8, f.length - 8)) {
        unsigned sum = 0;
        for (auto v : *body) sum += v;
        f.checksum_ok = static_cast<std::uint16_t>(sum) == f.checksum;
        if (!*f.checksum_ok)
          d_.add(Severity::warning, "fcode-bad-checksum", at + 2,
                 "FCode checksum at " + hex(at + 2) + " is " + hex(f.checksum, 4) + " but the program sums to " + hex(sum & 0xFFFF, 4));
      }
    }
    img.fcode = f;
  }

  Checksum checksum(std::string name, std::uint64_t start, std::uint64_t len, std::optional<std::uint64_t> fix_at) {
    Checksum c;
    c.name = std::move(name);
    auto range = b_.clip(start, len);
    c.start = start;
    c.length = range.size();
    c.sum = sum8(range);
    c.ok = c.sum == 0;
    if (fix_at && *fix_at >= start && *fix_at - start < c.length) {
      c.fix_offset = fix_at;
      c.fix_value = static_cast<std::uint8_t>(range[*fix_at - start] - c.sum);
    }
    return c;
  }

  // Every image gets its 8-bit sum; x86 images are checked the way a PC BIOS does (over
  // byte 0x02 * 512) and, for ATI/AMD, with the adjust byte at 0x21 that their tools use.
  void checksums(Image& img) {
    const std::uint64_t off = img.offset, init = std::uint64_t{img.init_size_512} * kUnit;
    auto last_byte = [&](std::uint64_t len) { return len ? std::optional<std::uint64_t>(off + len - 1) : std::nullopt; };
    img.checksums.push_back(checksum("image", off, img.length, img.ati ? off + 0x21 : last_byte(img.length)));
    if (!img.x86) return;
    if (img.ati) img.checksums.push_back(checksum("ati", off, init, off + 0x21));
    else if (init != img.length) img.checksums.push_back(checksum("init", off, init, last_byte(init)));
    img.checksum_ok = std::all_of(img.checksums.begin(), img.checksums.end(), [](const Checksum& c) { return c.ok; });
    for (const auto& c : img.checksums) {
      if (c.ok) continue;
      std::string fix = c.fix_offset ? "; writing " + hex(*c.fix_value, 2) + " at " + hex(*c.fix_offset) + " fixes it" : "";
      d_.add(Severity::warning, "bad-checksum", off,
             c.name + " checksum of the image at " + hex(off) + " over " + hex(c.length) + " bytes sums to " + hex(c.sum, 2) + ", not 0" + fix);
    }
  }

  Bytes b_;
  RomInfo& info_;
  detail::Diags d_;
};

}  // namespace

RomInfo parse_rom(std::span<const std::uint8_t> bytes) {
  RomInfo info;
  info.sha256 = sha256_hex(bytes);
  Parser(bytes, info).run();
  return info;
}

bool is_rom(const RomInfo& info) { return !info.images.empty(); }

const Image* find_x86_image(const RomInfo& info) {
  for (const auto& img : info.images)
    if (img.in_chain && (!img.code_type || *img.code_type == 0)) return &img;
  return nullptr;
}

}  // namespace gpuinit::rom

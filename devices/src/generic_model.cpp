#include "gpuinit/devices/generic_model.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "gpuinit/format/space.hpp"

namespace gpuinit {

namespace {
// Offsets beyond 2^44 bytes fold into the key's top bits; no BAR or window is that large,
// and folding only aliases locations, it never reads outside the store.
constexpr unsigned kOffsetBits = 44;
}  // namespace

GenericModel::GenericModel(GenericOptions opt) : opt_(std::move(opt)) {
  if (opt_.vram.size() > kMaxVramWindows) opt_.vram.resize(kMaxVramWindows);
}

GenericOptions generic_options_for(const DeviceInfo& d, std::uint8_t fill) {
  GenericOptions o;
  o.fill = fill;
  for (const Bar& b : d.bars)
    if (b.kind != BarKind::io && b.prefetchable && b.size > 0 && o.vram.size() + 1 < kMaxVramWindows)
      o.vram.push_back({Space::mmio, b.index, b.size});
  if (d.vga_decode || (d.class_code >> 16) == 0x03) o.vram.push_back({Space::vga_mem, 0, 0x20000});
  return o;
}

int GenericModel::vram_window(const Access& a) const noexcept {
  if (a.space != Space::mmio && a.space != Space::vga_mem) return -1;
  const std::uint64_t n = valid_width(a.width) ? a.width / 8u : 1u;
  for (std::size_t i = 0; i < opt_.vram.size(); ++i) {
    const VramWindow& w = opt_.vram[i];
    if (w.space != a.space || (a.space == Space::mmio && w.bar != a.bar)) continue;
    if (a.offset < w.size && n <= w.size - a.offset) return int(i);
  }
  return -1;
}

std::uint8_t* GenericModel::vram_page(int w, std::uint64_t page, bool create) {
  const std::uint64_t key = (std::uint64_t(w) << 56) | page;
  if (key == last_page_key_) return last_page_;
  auto it = pages_.find(key);
  if (it == pages_.end()) {
    if (!create) return nullptr;
    if ((pages_.size() + 1) * kVramPageBytes > opt_.vram_cap) return nullptr;
    auto mem = std::make_unique<std::uint8_t[]>(kVramPageBytes);
    std::memset(mem.get(), opt_.fill, kVramPageBytes);
    it = pages_.emplace(key, std::move(mem)).first;
    ++stats_.vram_pages;
  }
  last_page_key_ = key;
  last_page_ = it->second.get();
  return last_page_;
}

std::uint64_t GenericModel::vram_read(int w, std::uint64_t off, unsigned n) {
  ++stats_.vram_reads;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t addr = off + i;
    const std::uint8_t* p = vram_page(w, addr / kVramPageBytes, false);
    const std::uint8_t byte = p ? p[addr % kVramPageBytes] : opt_.fill;
    v |= std::uint64_t(byte) << (8 * i);
  }
  return v;
}

void GenericModel::vram_write(int w, std::uint64_t off, unsigned n, std::uint64_t value) {
  ++stats_.vram_writes;
  bool dropped = false;
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t addr = off + i;
    std::uint8_t* p = vram_page(w, addr / kVramPageBytes, true);
    if (!p) {
      dropped = true;
      continue;
    }
    p[addr % kVramPageBytes] = std::uint8_t(value >> (8 * i));
  }
  if (dropped) ++stats_.vram_dropped_writes;
}

std::uint16_t GenericModel::name_id(std::string_view n) {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == n) return std::uint16_t(i);
  // Bounded: a run with more distinct names than this shares the last id.
  if (names_.size() >= 4095) return 4095;
  names_.emplace_back(n);
  return std::uint16_t(names_.size() - 1);
}

std::uint64_t GenericModel::block_key(const Access& a, std::uint64_t block) {
  const std::uint64_t ns = a.space == Space::named ? name_id(a.space_name) : 0;
  const std::uint64_t bar = space_has_bar(a.space) ? a.bar & 7u : 0;
  return (std::uint64_t(a.space) << 59) | (bar << 56) | (ns << kOffsetBits) |
         (block & ((std::uint64_t{1} << kOffsetBits) - 1));
}

std::uint64_t GenericModel::read(const Access& in, std::uint64_t) {
  ++stats_.reads;
  const unsigned n = valid_width(in.width) ? in.width / 8u : 1u;
  if (const int w = vram_window(in); w >= 0) return vram_read(w, in.offset, n);
  // VGA: the miscellaneous output register is written at 0x3C2 and read back at 0x3CC.
  Access a = in;
  if (a.space == Space::vga_io && a.offset == 0x3CC && n == 1) a.offset = 0x3C2;
  std::uint64_t v = 0;
  bool unknown = false;
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t addr = a.offset + i;
    std::uint8_t byte = opt_.fill;
    auto it = blocks_.find(block_key(a, addr >> 3));
    if (it != blocks_.end() && (it->second.valid >> (addr & 7)) & 1u) {
      byte = std::uint8_t(it->second.data >> ((addr & 7) * 8));
    } else {
      unknown = true;
      // Remember that this location was read unwritten, once.
      Block& b = blocks_[block_key(a, addr >> 3)];
      if (!b.reported && i == 0) {
        b.reported = true;
        ++stats_.unknown_locations;
      }
    }
    v |= std::uint64_t(byte) << (8 * i);
  }
  if (unknown) ++stats_.unknown_reads;
  return v;
}

void GenericModel::write(const Access& a, std::uint64_t value, std::uint64_t) {
  ++stats_.writes;
  if (const int w = vram_window(a); w >= 0) {
    vram_write(w, a.offset, valid_width(a.width) ? a.width / 8u : 1u, value);
    return;
  }
  preset(a, value);
}

void GenericModel::preset(const Access& a, std::uint64_t value) {
  const unsigned n = valid_width(a.width) ? a.width / 8u : 1u;
  if (const int w = vram_window(a); w >= 0) {
    vram_write(w, a.offset, n, value);
    return;
  }
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t addr = a.offset + i;
    Block& b = blocks_[block_key(a, addr >> 3)];
    const unsigned sh = unsigned(addr & 7) * 8;
    b.data = (b.data & ~(std::uint64_t{0xFF} << sh)) | (((value >> (8 * i)) & 0xFF) << sh);
    b.valid = std::uint8_t(b.valid | (1u << (addr & 7)));
  }
}

}  // namespace gpuinit

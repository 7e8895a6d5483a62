#include "gpuinit/devices/generic_model.hpp"

#include "gpuinit/format/space.hpp"

namespace gpuinit {

namespace {
// Offsets beyond 2^44 bytes fold into the key's top bits; no BAR or window is that large,
// and folding only aliases locations, it never reads outside the store.
constexpr unsigned kOffsetBits = 44;
}  // namespace

GenericModel::GenericModel(GenericOptions opt) : opt_(opt) {}

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

std::uint64_t GenericModel::read(const Access& a, std::uint64_t) {
  ++stats_.reads;
  const unsigned n = valid_width(a.width) ? a.width / 8u : 1u;
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
  preset(a, value);
}

void GenericModel::preset(const Access& a, std::uint64_t value) {
  const unsigned n = valid_width(a.width) ? a.width / 8u : 1u;
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t addr = a.offset + i;
    Block& b = blocks_[block_key(a, addr >> 3)];
    const unsigned sh = unsigned(addr & 7) * 8;
    b.data = (b.data & ~(std::uint64_t{0xFF} << sh)) | (((value >> (8 * i)) & 0xFF) << sh);
    b.valid = std::uint8_t(b.valid | (1u << (addr & 7)));
  }
}

}  // namespace gpuinit

// Checked access to untrusted bytes. Every read of a ROM goes through Bytes::slice, the one
// place that does offset arithmetic against the file size.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace gpuinit::rom::detail {

class Bytes {
 public:
  explicit Bytes(std::span<const std::uint8_t> b) : b_(b) {}
  [[nodiscard]] std::uint64_t size() const { return b_.size(); }

  // [off, off + len) when it lies inside the file; written so that nothing overflows.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> slice(std::uint64_t off, std::uint64_t len) const {
    if (off > b_.size() || len > b_.size() - off) return std::nullopt;
    return b_.subspan(static_cast<std::size_t>(off), static_cast<std::size_t>(len));
  }
  // The part of [off, off + len) inside the file (empty when off is past the end).
  [[nodiscard]] std::span<const std::uint8_t> clip(std::uint64_t off, std::uint64_t len) const {
    if (off > b_.size()) return {};
    return b_.subspan(static_cast<std::size_t>(off), static_cast<std::size_t>(std::min<std::uint64_t>(len, b_.size() - off)));
  }
  [[nodiscard]] std::optional<std::uint8_t> u8(std::uint64_t off) const { return le(off, 1); }
  [[nodiscard]] std::optional<std::uint16_t> u16(std::uint64_t off) const { return le(off, 2); }
  [[nodiscard]] std::optional<std::uint32_t> u32(std::uint64_t off) const { return le(off, 4); }
  [[nodiscard]] std::optional<std::uint32_t> be32(std::uint64_t off) const {
    auto s = slice(off, 4);
    if (!s) return std::nullopt;
    return std::uint32_t((*s)[0]) << 24 | std::uint32_t((*s)[1]) << 16 | std::uint32_t((*s)[2]) << 8 | (*s)[3];
  }
  [[nodiscard]] bool has(std::uint64_t off, std::string_view magic) const {
    auto s = slice(off, magic.size());
    return s && std::memcmp(s->data(), magic.data(), magic.size()) == 0;
  }
  // First offset in [from, to) where `magic` starts, if any (bounded by the range).
  [[nodiscard]] std::optional<std::uint64_t> find(std::string_view magic, std::uint64_t from, std::uint64_t to) const {
    auto s = clip(from, to > from ? to - from : 0);
    auto it = std::search(s.begin(), s.end(), magic.begin(), magic.end(),
                          [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
    if (it == s.end()) return std::nullopt;
    return from + static_cast<std::uint64_t>(it - s.begin());
  }

 private:
  [[nodiscard]] std::optional<std::uint32_t> le(std::uint64_t off, std::size_t n) const {
    auto s = slice(off, n);
    if (!s) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = v << 8 | (*s)[i];
    return v;
  }
  std::span<const std::uint8_t> b_;
};

}  // namespace gpuinit::rom::detail

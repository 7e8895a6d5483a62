#include "gpuinit/devices/capture_model.hpp"

#include <algorithm>

namespace gpuinit {

CaptureModel::Key CaptureModel::key(const Access& a) {
  return {std::uint8_t(a.space), a.space == Space::named ? std::string(a.space_name) : std::string(),
          space_has_bar(a.space) ? a.bar : std::uint8_t{0}, a.offset, a.width};
}

CaptureModel::CaptureModel(const Trace& capture, std::string label) : label_(std::move(label)) {
  for (const auto& e : capture.events) {
    if (e.kind != EventKind::access || e.dir != Dir::read) continue;
    Access a;
    a.space = e.space;
    a.space_name = e.space_name;
    a.bar = e.bar;
    a.offset = e.offset;
    a.width = e.width;
    slots_[key(a)].values.push_back(e.value);
  }
}

CaptureModel::Slot& CaptureModel::slot(const Access& a) { return slots_[key(a)]; }

std::uint64_t CaptureModel::read(const Access& a, std::uint64_t) {
  ++stats_.reads;
  Slot& s = slot(a);
  if (s.next < s.values.size()) {
    ++stats_.served;
    return s.values[s.next++] & width_mask(a.width);
  }
  if (s.miss_order == 0) s.miss_order = ++misses_;
  ++s.extra;
  if (!s.values.empty()) {
    ++stats_.past_end;
    return s.values.back() & width_mask(a.width);
  }
  ++stats_.unknown;
  // Never recorded: the bytes last written there, else 0.
  const unsigned n = valid_width(a.width) ? a.width / 8u : 1u;
  std::uint64_t v = 0;
  const std::string ns = a.space == Space::named ? std::string(a.space_name) : std::string();
  const std::uint8_t bar = space_has_bar(a.space) ? a.bar : std::uint8_t{0};
  for (unsigned i = 0; i < n; ++i) {
    auto it = written_bytes_.find({std::uint8_t(a.space), ns, bar, a.offset + i});
    if (it != written_bytes_.end()) v |= std::uint64_t(it->second) << (8 * i);
  }
  return v;
}

void CaptureModel::write(const Access& a, std::uint64_t value, std::uint64_t) {
  const unsigned n = valid_width(a.width) ? a.width / 8u : 1u;
  const std::string ns = a.space == Space::named ? std::string(a.space_name) : std::string();
  const std::uint8_t bar = space_has_bar(a.space) ? a.bar : std::uint8_t{0};
  for (unsigned i = 0; i < n; ++i)
    written_bytes_[{std::uint8_t(a.space), ns, bar, a.offset + i}] = std::uint8_t(value >> (8 * i));
}

CaptureStats CaptureModel::stats() const {
  CaptureStats s = stats_;
  s.unread_values = 0;
  for (const auto& [k, slot] : slots_)
    if (slot.next < slot.values.size()) s.unread_values += slot.values.size() - slot.next;
  return s;
}

std::vector<CaptureMiss> CaptureModel::misses() const {
  std::vector<std::pair<std::size_t, CaptureMiss>> v;
  for (const auto& [k, s] : slots_) {
    if (s.miss_order == 0) continue;
    CaptureMiss m;
    m.space = Space(std::get<0>(k));
    m.space_name = std::get<1>(k);
    m.bar = std::get<2>(k);
    m.offset = std::get<3>(k);
    m.width = std::get<4>(k);
    m.recorded = s.values.size();
    m.extra = s.extra;
    v.emplace_back(s.miss_order, std::move(m));
  }
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<CaptureMiss> out;
  out.reserve(v.size());
  for (auto& p : v) out.push_back(std::move(p.second));
  return out;
}

}  // namespace gpuinit

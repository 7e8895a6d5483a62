// Arbitrary bytes into the three loaders and the kind detector: no crash, no hang, no
// out-of-bounds read. Whatever a loader accepts must also survive a write and a reload
// with the same result (the writers produce what the loaders read).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;

namespace {
template <class T, class Load, class Write>
void round_trip(const Loaded<T>& r, Load&& load, Write&& write) {
  if (!r.ok()) return;
  const std::string text = write(*r.value);
  const auto again = load(text);
  if (!again.ok() || !(*again.value == *r.value) || write(*again.value) != text) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)detect_kind(text);
  round_trip(load_sequence(text), load_sequence, write_sequence);
  round_trip(load_trace(text), load_trace, [](const Trace& t) { return write_trace(t); });
  round_trip(load_regmap(text), load_regmap, write_regmap);
  return 0;
}

#include "gpuinit/replay/namer.hpp"

namespace gpuinit::replay {

RegisterNamer::RegisterNamer(const RegisterMap& map) {
  for (const auto& r : map.registers) {
    Key k{unsigned(r.space), r.space == Space::named ? r.space_name : std::string(),
          space_has_bar(r.space) ? unsigned(r.bar) : 0u, r.offset};
    names_.emplace(std::move(k), r.name);  // the first register named at a location wins
  }
}

std::string_view RegisterNamer::name(Space s, std::string_view space_name, unsigned bar, std::uint64_t offset) const {
  if (names_.empty()) return {};
  Key k{unsigned(s), s == Space::named ? std::string(space_name) : std::string(), space_has_bar(s) ? bar : 0u, offset};
  auto it = names_.find(k);
  return it == names_.end() ? std::string_view{} : std::string_view(it->second);
}

}  // namespace gpuinit::replay

#include "gpuinit/batch/batch.hpp"

namespace gpuinit::batch {

std::string_view classification_name(Classification c) noexcept {
  switch (c) {
#define GPUINIT_X(e, w) \
  case Classification::e: return w;
    GPUINIT_CLASSIFICATIONS(GPUINIT_X)
#undef GPUINIT_X
  }
  return "crashed";
}

std::optional<Classification> parse_classification(std::string_view s) noexcept {
#define GPUINIT_X(e, w) \
  if (s == w) return Classification::e;
  GPUINIT_CLASSIFICATIONS(GPUINIT_X)
#undef GPUINIT_X
  return std::nullopt;
}

std::vector<Classification> all_classifications() {
  return {
#define GPUINIT_X(e, w) Classification::e,
      GPUINIT_CLASSIFICATIONS(GPUINIT_X)
#undef GPUINIT_X
  };
}

}  // namespace gpuinit::batch

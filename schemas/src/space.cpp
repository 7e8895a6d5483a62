#include "gpuinit/format/space.hpp"

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/sequence.hpp"

namespace gpuinit {

std::string_view space_name(Space s) noexcept {
  switch (s) {
#define GPUINIT_X(e, n, b, i) \
  case Space::e:              \
    return n;
    GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
    case Space::named:
      return "named";
  }
  return "?";
}

bool space_has_bar(Space s) noexcept {
  switch (s) {
#define GPUINIT_X(e, n, b, i) \
  case Space::e:              \
    return b;
    GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
    case Space::named:
      return false;
  }
  return false;
}

bool space_is_indexed(Space s) noexcept {
  switch (s) {
#define GPUINIT_X(e, n, b, i) \
  case Space::e:              \
    return i;
    GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
    case Space::named:
      return true;
  }
  return false;
}

std::optional<Space> parse_space(std::string_view name) noexcept {
#define GPUINIT_X(e, n, b, i) \
  if (name == n) return Space::e;
  GPUINIT_SPACES(GPUINIT_X)
#undef GPUINIT_X
  if (name.empty() || name.size() > 64 || name == "named") return std::nullopt;
  if (!(name[0] >= 'a' && name[0] <= 'z')) return std::nullopt;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return std::nullopt;
  return Space::named;
}

const char* op_name(OpKind k) noexcept {
  switch (k) {
#define GPUINIT_X(e, n) \
  case OpKind::e:       \
    return n;
    GPUINIT_OPS(GPUINIT_X)
#undef GPUINIT_X
  }
  return "?";
}

std::optional<OpKind> parse_op(std::string_view name) noexcept {
#define GPUINIT_X(e, n) \
  if (name == n) return OpKind::e;
  GPUINIT_OPS(GPUINIT_X)
#undef GPUINIT_X
  return std::nullopt;
}

const char* access_policy_name(AccessPolicy a) noexcept {
  switch (a) {
#define GPUINIT_X(e, n) \
  case AccessPolicy::e: \
    return n;
    GPUINIT_ACCESS_POLICIES(GPUINIT_X)
#undef GPUINIT_X
  }
  return "?";
}

std::optional<AccessPolicy> parse_access_policy(std::string_view s) noexcept {
#define GPUINIT_X(e, n) \
  if (s == n) return AccessPolicy::e;
  GPUINIT_ACCESS_POLICIES(GPUINIT_X)
#undef GPUINIT_X
  return std::nullopt;
}

}  // namespace gpuinit

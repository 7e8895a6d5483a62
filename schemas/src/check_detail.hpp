// Internal to gpuinit_format: the wording of schema problems, shared by the valijson pass
// (schema_check.cpp) and the hand-written checkers of high-volume items (op_check.cpp), so
// that both report the same violation with the same pointer and the same sentence.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpuinit/format/result.hpp"

namespace gpuinit::detail {

extern const std::string_view kSequenceSchemaText;
extern const std::string_view kTraceSchemaText;
extern const std::string_view kRegmapSchemaText;

// Longest rendering of a JSON value inside a message; longer ones are cut with "...".
inline constexpr std::size_t kMaxShownValue = 60;

[[nodiscard]] std::string pointer_token(std::string_view token);  // RFC 6901 escaping
[[nodiscard]] std::string show(const nlohmann::json& v);
[[nodiscard]] std::string json_type_name(const nlohmann::json& v);

[[nodiscard]] std::string msg_type(const nlohmann::json& v, std::string_view expected);
[[nodiscard]] std::string msg_enum(const nlohmann::json& v, const nlohmann::json& allowed);
[[nodiscard]] std::string msg_const(const nlohmann::json& v, const nlohmann::json& expected);
[[nodiscard]] std::string msg_required(std::string_view property);
[[nodiscard]] std::string msg_unknown(std::string_view property);
[[nodiscard]] std::string msg_forbidden(std::string_view property);
[[nodiscard]] std::string msg_minimum(const nlohmann::json& v, const nlohmann::json& minimum);
[[nodiscard]] std::string msg_maximum(const nlohmann::json& v, const nlohmann::json& maximum);
[[nodiscard]] std::string msg_pattern(const nlohmann::json& v, std::string_view pattern);
[[nodiscard]] std::string msg_any_of();
[[nodiscard]] std::string msg_min_items(std::size_t n);
[[nodiscard]] std::string msg_max_items(std::size_t n);

// Hand-written equivalent of the schema's "#/definitions/op" (init-sequence-v1.0.json);
// tests/format prove it reports what valijson reports. `where` is the op's pointer.
void check_op_schema(const nlohmann::json& op, const std::string& where, std::vector<Problem>& out);
// Same for trace-v1.json's "#/definitions/event".
void check_event_schema(const nlohmann::json& event, const std::string& where, std::vector<Problem>& out);

}  // namespace gpuinit::detail

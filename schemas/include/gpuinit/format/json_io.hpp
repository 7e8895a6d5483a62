// JSON reading and writing of the three formats. One to_json/from_json per type;
// loaders validate (schema, then semantic checks) and never throw on bad input.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/result.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit {

// nlohmann ADL hooks. from_json throws nlohmann::json::exception on a malformed document:
// call them only on documents a loader has validated.
void to_json(nlohmann::json& j, const DeviceInfo& d);
void from_json(const nlohmann::json& j, DeviceInfo& d);
void to_json(nlohmann::json& j, const Op& op);
void from_json(const nlohmann::json& j, Op& op);
void to_json(nlohmann::json& j, const InitSequence& s);
void from_json(const nlohmann::json& j, InitSequence& s);
void to_json(nlohmann::json& j, const TraceEvent& e);
void from_json(const nlohmann::json& j, TraceEvent& e);
void to_json(nlohmann::json& j, const TraceHeader& h);
void from_json(const nlohmann::json& j, TraceHeader& h);
void to_json(nlohmann::json& j, const RegisterMap& m);
void from_json(const nlohmann::json& j, RegisterMap& m);

// Loaders: parse, validate against the schema, run semantic checks, convert. A sequence
// without schema_version (the pre-1.0 form) is migrated with a warning; a newer minor
// version (1.x) is read as 1.0 with a warning; a newer major version is refused. At most
// kMaxProblems problems are listed, then one saying how many more there were.
inline constexpr std::size_t kMaxProblems = 1000;
[[nodiscard]] Loaded<InitSequence> load_sequence(std::string_view text);
[[nodiscard]] Loaded<Trace> load_trace(std::string_view jsonl_text);
[[nodiscard]] Loaded<RegisterMap> load_regmap(std::string_view text);

// Which format a text holds, by content: a sequence is an object with init_sequence (or
// schema_version), a register map one with regmap_version (or registers), a trace is JSON
// Lines whose first line has trace_version. Reads only as far as it needs.
enum class DocumentKind { sequence, trace, regmap, unknown };
[[nodiscard]] DocumentKind detect_kind(std::string_view text);
[[nodiscard]] const char* document_kind_name(DocumentKind k) noexcept;

// Writers: stable, diffable text (fixed key order; one op / one event per line).
[[nodiscard]] std::string write_sequence(const InitSequence& s);
[[nodiscard]] std::string write_trace_header(const TraceHeader& h);  // one line, with '\n'
[[nodiscard]] std::string write_trace_event(const TraceEvent& e);    // one line, with '\n'
[[nodiscard]] std::string write_trace(const Trace& t);
[[nodiscard]] std::string write_regmap(const RegisterMap& m);

}  // namespace gpuinit

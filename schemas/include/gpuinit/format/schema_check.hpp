// JSON Schema (draft-07) validation of documents against the schemas in schemas/*.json,
// which are compiled into the library so the tool needs no file at run time.
#pragma once
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gpuinit/format/result.hpp"

namespace gpuinit {

enum class SchemaId { sequence, trace_header, trace_event, regmap };

// Every violation, each located by its JSON pointer. Empty when valid.
[[nodiscard]] std::vector<Problem> check_schema(SchemaId id, const nlohmann::json& doc);

// The schema text (for `--print-schema` and docs).
[[nodiscard]] std::string_view schema_text(SchemaId id);

}  // namespace gpuinit

namespace gpuinit {
// The same check done by valijson alone over the whole document. check_schema() validates
// a sequence's ops and trace events with hand-written equivalents (valijson is too slow
// for a million ops); this is the reference the tests compare it with.
[[nodiscard]] std::vector<Problem> check_schema_reference(SchemaId id, const nlohmann::json& doc);
}  // namespace gpuinit

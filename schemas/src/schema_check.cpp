// JSON Schema validation with valijson. valijson stays in this one translation unit (it is
// slow to compile). Its messages are generic ("Failed to match against any enum values."),
// so each error is reworded with the offending value and the constraint, read back from the
// schema at the error's location.
//
// A sequence of a million ops is too slow to validate op by op through valijson (see
// bench/format), so the sequence check validates the document's skeleton with valijson and
// each op with the hand-written equivalent in op_check.cpp; check_schema_reference() keeps
// the all-valijson path, and tests/format prove the two agree.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "check_detail.hpp"
#include "gpuinit/format/schema_check.hpp"

namespace gpuinit {
using nlohmann::json;

namespace {

// How deep the message lookup follows $ref/allOf/if-then chains in our own schemas.
constexpr int kMaxSchemaWalkDepth = 32;

struct CompiledSchema {
  json doc;  // the schema as JSON, for reading constraints back into messages
  valijson::Schema schema;
};

void compile(CompiledSchema& c, std::string_view text, const char* root_ref) {
  c.doc = json::parse(text);
  if (root_ref) {
    // Validate against one definition of a schema: the definitions stay where $ref expects them.
    json wrapper = json::object();
    wrapper["definitions"] = c.doc.at("definitions");
    wrapper["allOf"] = json::array({json{{"$ref", root_ref}}});
    c.doc = std::move(wrapper);
  }
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter adapter(c.doc);
  parser.populateSchema(adapter, c.schema);
}

struct Schemas {
  CompiledSchema sequence, trace_header, trace_event, regmap;
  Schemas() {
    compile(sequence, detail::kSequenceSchemaText, nullptr);
    compile(trace_header, detail::kTraceSchemaText, "#/definitions/header");
    compile(trace_event, detail::kTraceSchemaText, "#/definitions/event");
    compile(regmap, detail::kRegmapSchemaText, nullptr);
  }
};

// Parsed once per process; C++ guarantees the static is initialised once, thread-safely.
// The compiled schemas are immutable afterwards and shared by all threads.
const Schemas& schemas() {
  static const Schemas s;
  return s;
}

const CompiledSchema& compiled(SchemaId id) {
  const auto& s = schemas();
  switch (id) {
    case SchemaId::sequence: return s.sequence;
    case SchemaId::trace_header: return s.trace_header;
    case SchemaId::trace_event: return s.trace_event;
    case SchemaId::regmap: return s.regmap;
  }
  return s.sequence;
}

// valijson's nlohmann adapter reads integers as int64_t, so an unsigned value above
// INT64_MAX would look negative and fail "minimum": 0. Clamping such values to INT64_MAX
// keeps every constraint our schemas use (bounds are all <= INT64_MAX) giving the same answer.
void clamp_unsigned(json& j) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (j.is_number_unsigned()) {
    if (j.get<std::uint64_t>() > kMax) j = kMax;
  } else if (j.is_structured()) {
    for (auto& e : j) clamp_unsigned(e);
  }
}

bool needs_clamp(const json& j) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (j.is_number_unsigned()) return j.get<std::uint64_t>() > kMax;
  if (j.is_structured())
    for (const auto& e : j)
      if (needs_clamp(e)) return true;
  return false;
}

using Tokens = std::vector<std::string>;

const json* resolve_ref(const json& root, const json& ref) {
  if (!ref.is_string()) return nullptr;
  const auto& r = ref.get_ref<const std::string&>();
  if (r.rfind("#/definitions/", 0) != 0) return nullptr;
  const auto defs = root.find("definitions");
  if (defs == root.end()) return nullptr;
  const auto it = defs->find(r.substr(14));
  return it == defs->end() ? nullptr : &*it;
}

// Every subschema of `root` that applies to the value at `tokens` (over-approximating
// conditionals: both branches are included).
void collect(const json& root, const json& s, const Tokens& tokens, std::size_t i, std::vector<const json*>& out,
             int depth) {
  if (depth > kMaxSchemaWalkDepth || !s.is_object()) return;
  if (const auto ref = s.find("$ref"); ref != s.end())
    if (const json* target = resolve_ref(root, *ref)) collect(root, *target, tokens, i, out, depth + 1);
  for (const char* k : {"allOf", "anyOf", "oneOf"})
    if (const auto it = s.find(k); it != s.end() && it->is_array())
      for (const auto& sub : *it) collect(root, sub, tokens, i, out, depth + 1);
  for (const char* k : {"then", "else"})
    if (const auto it = s.find(k); it != s.end()) collect(root, *it, tokens, i, out, depth + 1);
  if (i == tokens.size()) {
    out.push_back(&s);
    return;
  }
  const std::string& t = tokens[i];
  if (const auto props = s.find("properties"); props != s.end() && props->contains(t)) {
    collect(root, props->at(t), tokens, i + 1, out, depth + 1);
  } else if (const auto add = s.find("additionalProperties"); add != s.end() && add->is_object()) {
    collect(root, *add, tokens, i + 1, out, depth + 1);
  }
  if (const auto items = s.find("items"); items != s.end()) {
    if (items->is_object()) {
      collect(root, *items, tokens, i + 1, out, depth + 1);
    } else if (items->is_array()) {
      const std::size_t n = t.find_first_not_of("0123456789") == std::string::npos && !t.empty() && t.size() < 10
                                ? std::stoul(t)
                                : items->size();
      if (n < items->size()) collect(root, (*items)[n], tokens, i + 1, out, depth + 1);
      else if (const auto more = s.find("additionalItems"); more != s.end())
        collect(root, *more, tokens, i + 1, out, depth + 1);
    }
  }
}

const json* keyword_at(const json& root, const Tokens& tokens, const char* keyword) {
  std::vector<const json*> subs;
  collect(root, root, tokens, 0, subs, 0);
  for (const json* s : subs)
    if (const auto it = s->find(keyword); it != s->end()) return &*it;
  return nullptr;
}

const json* value_at(const json& doc, const Tokens& tokens) {
  const json* v = &doc;
  for (const auto& t : tokens) {
    if (v->is_object()) {
      const auto it = v->find(t);
      if (it == v->end()) return nullptr;
      v = &*it;
    } else if (v->is_array()) {
      if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos) return nullptr;
      const std::size_t n = std::stoul(t);
      if (n >= v->size()) return nullptr;
      v = &(*v)[n];
    } else {
      return nullptr;
    }
  }
  return v;
}

Tokens tokens_of(const std::vector<std::string>& context) {
  Tokens t;
  for (std::size_t i = 1; i < context.size(); ++i) {  // [0] is "<root>"
    const auto& c = context[i];
    t.push_back(c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c);
  }
  return t;
}

std::string pointer_of(const Tokens& t) {
  std::string p;
  for (const auto& s : t) p += "/" + detail::pointer_token(s);
  return p;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The quoted name in "...'name'." messages.
std::string quoted_name(const std::string& d, std::string_view prefix) {
  std::string rest = d.substr(prefix.size());
  if (!rest.empty() && rest.back() == '.') rest.pop_back();
  if (!rest.empty() && rest.back() == '\'') rest.pop_back();
  return rest;
}

bool is_prefix(const Tokens& prefix, const Tokens& t) {
  if (prefix.size() > t.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (prefix[i] != t[i]) return false;
  return true;
}

constexpr std::string_view kPropertyWrapper = "Failed to validate against schema associated with property name '";
constexpr std::string_view kItemWrapper = "Failed to validate item #";
constexpr std::string_view kUnknownProperty =
    "Object contains a property that could not be validated using 'properties' or 'additionalProperties' "
    "constraints: '";
constexpr std::string_view kMissing = "Missing required property '";

bool is_generic_wrapper(const std::string& d) {
  return starts_with(d, "Failed to validate against a conditional schema") ||
         starts_with(d, "Failed to validate against additional properties schema") ||
         starts_with(d, "Failed to validate against schema associated with pattern") ||
         starts_with(d, "Failed to validate against dependent schema") ||
         starts_with(d, "Failed to validate against child schema") || starts_with(d, "Cannot validate item #");
}

struct RawError {
  Tokens at;
  std::string description;
};

Problem reword(const CompiledSchema& c, const json& doc, const RawError& e) {
  const auto& d = e.description;
  const json* v = value_at(doc, e.at);
  const json null_value;
  const json& value = v ? *v : null_value;
  auto kw = [&](const char* k) { return keyword_at(c.doc, e.at, k); };
  const std::string where = pointer_of(e.at);
  if (starts_with(d, kMissing)) return {where, detail::msg_required(quoted_name(d, kMissing))};
  if (starts_with(d, kUnknownProperty)) {
    const auto name = quoted_name(d, kUnknownProperty);
    return {where + "/" + detail::pointer_token(name), detail::msg_unknown(name)};
  }
  if (starts_with(d, kPropertyWrapper)) {  // a property whose schema is `false`
    const auto name = quoted_name(d, kPropertyWrapper);
    return {where + "/" + detail::pointer_token(name), detail::msg_forbidden(name)};
  }
  if (starts_with(d, "Value type not permitted")) {
    const json* t = kw("type");
    return {where, detail::msg_type(value, t && t->is_string() ? t->get<std::string>() : "another type")};
  }
  if (starts_with(d, "Failed to match against any enum values")) {
    const json* allowed = kw("enum");
    return {where, detail::msg_enum(value, allowed ? *allowed : json::array())};
  }
  if (starts_with(d, "Failed to match expected value set by 'const'")) {
    const json* expected = kw("const");
    return {where, detail::msg_const(value, expected ? *expected : json())};
  }
  if (starts_with(d, "Expected number greater than")) {
    const json* m = kw("minimum");
    return {where, detail::msg_minimum(value, m ? *m : json())};
  }
  if (starts_with(d, "Expected number less than")) {
    const json* m = kw("maximum");
    return {where, detail::msg_maximum(value, m ? *m : json())};
  }
  if (starts_with(d, "Failed to match regex")) {
    const json* p = kw("pattern");
    return {where, detail::msg_pattern(value, p && p->is_string() ? p->get<std::string>() : "?")};
  }
  if (starts_with(d, "Failed to validate against any schemas allowed by anyOf")) return {where, detail::msg_any_of()};
  if (starts_with(d, "Array should contain no fewer than")) {
    const json* n = kw("minItems");
    return {where, detail::msg_min_items(n && n->is_number_unsigned() ? n->get<std::size_t>() : 0)};
  }
  if (starts_with(d, "Array should contain no more than") ||
      starts_with(d, "Array contains more items than allowed")) {
    const json* n = kw("maxItems");
    return {where, detail::msg_max_items(n && n->is_number_unsigned() ? n->get<std::size_t>() : 0)};
  }
  if (starts_with(d, "String should be no fewer than")) {
    const json* n = kw("minLength");
    return {where, "string is shorter than " + (n ? n->dump() : std::string("allowed")) + " characters"};
  }
  if (starts_with(d, "String should be no more than")) {
    const json* n = kw("maxLength");
    return {where, "string is longer than " + (n ? n->dump() : std::string("allowed")) + " characters"};
  }
  return {where, d};
}

// Validates `doc`; messages quote the values of `shown` (the document before clamping).
std::vector<Problem> run_valijson(const CompiledSchema& c, const json& doc, const json& shown) {
  // One validator per thread: it caches compiled regexes and is not safe to share.
  thread_local valijson::Validator validator;
  valijson::ValidationResults results;
  const valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(c.schema, target, &results)) return {};

  std::vector<RawError> raw;
  valijson::ValidationResults::Error err;
  while (results.popError(err)) raw.push_back({tokens_of(err.context), err.description});

  // Keep the errors that say what is wrong; drop the ones that only say "something below
  // me failed". A property or item wrapper with nothing below it is a `false` schema.
  std::vector<bool> keep(raw.size(), true);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto& d = raw[i].description;
    Tokens below = raw[i].at;
    if (starts_with(d, kPropertyWrapper)) below.push_back(quoted_name(d, kPropertyWrapper));
    else if (starts_with(d, kItemWrapper)) below.push_back(d.substr(kItemWrapper.size(), d.find(' ', kItemWrapper.size()) - kItemWrapper.size()));
    else if (!is_generic_wrapper(d)) continue;
    for (std::size_t k = 0; k < raw.size(); ++k)
      if (k != i && is_prefix(below, raw[k].at) && !(raw[k].at == raw[i].at && raw[k].description == d)) {
        keep[i] = false;
        break;
      }
  }
  std::vector<Problem> out;
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (keep[i]) {
      Problem p = reword(c, shown, raw[i]);
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
    }
  return out;
}

std::vector<Problem> run_clamped(const CompiledSchema& c, const json& doc) {
  if (!needs_clamp(doc)) return run_valijson(c, doc, doc);
  json copy = doc;
  clamp_unsigned(copy);
  return run_valijson(c, copy, doc);
}

}  // namespace

std::vector<Problem> check_schema_reference(SchemaId id, const json& doc) { return run_clamped(compiled(id), doc); }

std::vector<Problem> check_schema(SchemaId id, const json& doc) {
  if (id == SchemaId::trace_event) {
    std::vector<Problem> out;
    detail::check_event_schema(doc, "", out);
    return out;
  }
  if (id != SchemaId::sequence || !doc.is_object()) return check_schema_reference(id, doc);
  const auto ops = doc.find("init_sequence");
  if (ops == doc.end() || !ops->is_array()) return check_schema_reference(id, doc);

  // The skeleton: everything but the ops, with one valid op standing in for a non-empty
  // list so that the array's own constraints (minItems) answer as for the real one.
  json skeleton = json::object();
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (it.key() != "init_sequence") skeleton[it.key()] = it.value();
  skeleton["init_sequence"] = ops->empty() ? json::array() : json::array({json{{"op", "END"}}});
  std::vector<Problem> out = run_clamped(compiled(id), skeleton);
  for (std::size_t i = 0; i < ops->size(); ++i)
    detail::check_op_schema((*ops)[i], "/init_sequence/" + std::to_string(i), out);
  return out;
}

std::string_view schema_text(SchemaId id) {
  switch (id) {
    case SchemaId::sequence: return detail::kSequenceSchemaText;
    case SchemaId::trace_header:
    case SchemaId::trace_event: return detail::kTraceSchemaText;
    case SchemaId::regmap: return detail::kRegmapSchemaText;
  }
  return {};
}

}  // namespace gpuinit

// Summary documents and the worker's result.json.
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "gpuinit/batch/batch.hpp"

namespace gpuinit::batch {

namespace {
using nlohmann::json;

// Text from a job may hold anything (a ROM's strings): invalid UTF-8 is replaced, not fatal.
std::string dump(const json& j, int indent = -1) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

std::string hex4(std::uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04x", unsigned(v));
  return b;
}

std::string seconds_text(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", s);
  return b;
}

// RFC 4180 field: quoted when it holds a comma, quote or line break; control characters
// other than those become spaces so a row stays one record in every reader.
std::string csv_field(std::string_view s) {
  std::string t;
  t.reserve(s.size());
  bool quote = false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ',' || c == '"') quote = true;
    if (c == '\n' || c == '\r' || c == '\t' || u < 0x20 || u == 0x7F) {
      t += ' ';
      continue;
    }
    if (c == '"') t += '"';
    t += c;
  }
  // Keep the CSV valid UTF-8 too: run the text through the JSON replacer.
  const std::string clean = json(t).dump(-1, ' ', false, json::error_handler_t::replace);
  std::string unq = json::parse(clean).get<std::string>();
  return quote ? "\"" + unq + "\"" : unq;
}

json row_json(const ImageResult& r) {
  json j;
  j["image"] = r.image;
  j["vendor_id"] = r.vendor_id ? json(hex4(*r.vendor_id)) : json(nullptr);
  j["device_id"] = r.device_id ? json(hex4(*r.device_id)) : json(nullptr);
  j["classification"] = classification_name(r.classification);
  j["instructions"] = r.instructions;
  j["accesses"] = r.accesses;
  j["ops_raw"] = r.ops_raw;
  j["ops_reduced"] = r.ops_reduced;
  j["seconds"] = std::isfinite(r.seconds) && r.seconds >= 0 ? std::round(r.seconds * 1000) / 1000 : 0.0;
  j["validation"] = r.validation;
  j["run"] = r.run;
  j["detail"] = r.detail;
  return j;
}

std::optional<std::uint16_t> parse_id(const json& j) {
  if (j.is_null()) return std::nullopt;
  const std::string s = j.get<std::string>();
  if (s.size() != 4 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw std::runtime_error("id \"" + s + "\" is not 4 lower-case hex digits");
  return std::uint16_t(std::stoul(s, nullptr, 16));
}

ImageResult row_from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("a row is not an object");
  ImageResult r;
  r.image = j.at("image").get<int>();
  if (r.image < -1 || r.image >= int(kMaxRowsPerRom)) throw std::runtime_error("image index out of range");
  r.vendor_id = parse_id(j.at("vendor_id"));
  r.device_id = parse_id(j.at("device_id"));
  const auto c = parse_classification(j.at("classification").get<std::string>());
  if (!c) throw std::runtime_error("unknown classification \"" + j.at("classification").get<std::string>() + "\"");
  r.classification = *c;
  r.instructions = j.at("instructions").get<std::uint64_t>();
  r.accesses = j.at("accesses").get<std::uint64_t>();
  r.ops_raw = j.at("ops_raw").get<std::uint64_t>();
  r.ops_reduced = j.at("ops_reduced").get<std::uint64_t>();
  r.seconds = j.at("seconds").get<double>();
  if (!std::isfinite(r.seconds) || r.seconds < 0) throw std::runtime_error("seconds is not a time");
  r.validation = j.at("validation").get<std::string>();
  if (r.validation != "" && r.validation != "ok" && r.validation != "invalid")
    throw std::runtime_error("validation must be ok, invalid or empty");
  r.run = j.at("run").get<std::string>();
  r.detail = j.at("detail").get<std::string>();
  return r;
}
}  // namespace

std::string summary_csv(const std::vector<Row>& rows) {
  std::string out = std::string(kSummaryColumns) + "\n";
  for (const Row& row : rows) {
    const ImageResult& r = row.r;
    out += csv_field(row.file) + "," + row.sha256 + "," + (r.image >= 0 ? std::to_string(r.image) : "") + "," +
           (r.vendor_id ? hex4(*r.vendor_id) : "") + "," + (r.device_id ? hex4(*r.device_id) : "") + "," +
           std::string(classification_name(r.classification)) + "," + std::to_string(r.instructions) + "," +
           std::to_string(r.accesses) + "," + std::to_string(r.ops_raw) + "," + std::to_string(r.ops_reduced) + "," +
           seconds_text(r.seconds) + "," + r.validation + "," + csv_field(r.run) + "," + csv_field(r.detail) + "\n";
  }
  return out;
}

std::string summary_json(const BatchResult& b, const JobOptions& opt) {
  json j;
  j["summary_version"] = "1";
  j["options"] = {{"max_instructions", opt.max_instructions}, {"timeout_s", opt.timeout_s},
                  {"ns_per_instruction", opt.ns_per_instruction}};
  json counts = json::object();
  for (Classification c : all_classifications()) counts[std::string(classification_name(c))] = 0;
  for (const Row& r : b.rows) counts[std::string(classification_name(r.r.classification))] = counts[std::string(classification_name(r.r.classification))].get<int>() + 1;
  j["files"] = b.files;
  j["roms"] = b.roms;
  j["counts"] = counts;
  if (opt.timestamps) j["seconds"] = std::round(b.seconds * 1000) / 1000;
  json rows = json::array();
  for (const Row& r : b.rows) {
    json x = row_json(r.r);
    x["file"] = r.file;
    x["sha256"] = r.sha256;
    rows.push_back(std::move(x));
  }
  j["rows"] = std::move(rows);
  return dump(j, 1) + "\n";
}

std::vector<Row> parse_summary_json(std::string_view text) {
  std::vector<Row> rows;
  try {
    const json j = json::parse(text);
    for (const json& x : j.at("rows")) {
      Row r;
      r.file = x.at("file").get<std::string>();
      r.sha256 = x.at("sha256").get<std::string>();
      r.r = row_from_json(x);
      rows.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("summary.json: ") + e.what());
  }
  return rows;
}

std::string result_json(const std::string& fingerprint, const std::string& sha256, const std::vector<ImageResult>& rows) {
  json j;
  j["batch_result_version"] = "1";
  j["fingerprint"] = fingerprint;
  j["sha256"] = sha256;
  json a = json::array();
  for (const auto& r : rows) a.push_back(row_json(r));
  j["rows"] = std::move(a);
  return dump(j, 1) + "\n";
}

std::optional<std::vector<ImageResult>> parse_result_json(std::string_view text, const std::string& fingerprint,
                                                          const std::string& sha256, std::string& why) {
  try {
    const json j = json::parse(text);
    if (!j.is_object() || j.value("batch_result_version", "") != "1") {
      why = "not a batch result (batch_result_version \"1\" missing)";
      return std::nullopt;
    }
    if (j.at("sha256").get<std::string>() != sha256) {
      why = "result is for another ROM";
      return std::nullopt;
    }
    if (j.at("fingerprint").get<std::string>() != fingerprint) {
      why = "result was made with other options";
      return std::nullopt;
    }
    const json& a = j.at("rows");
    if (!a.is_array() || a.empty() || a.size() > kMaxRowsPerRom) {
      why = "rows must be an array of 1.." + std::to_string(kMaxRowsPerRom) + " rows";
      return std::nullopt;
    }
    std::vector<ImageResult> out;
    for (const json& x : a) out.push_back(row_from_json(x));
    return out;
  } catch (const std::exception& e) {
    why = e.what();
    return std::nullopt;
  }
}

}  // namespace gpuinit::batch

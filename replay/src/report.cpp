// Renderers of a run report. Values are hex strings in text; JSON keeps numbers.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "gpuinit/replay/engine.hpp"

namespace gpuinit::replay {

namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string ns_text(std::uint64_t ns) {
  char buf[48];
  if (ns >= 1'000'000) std::snprintf(buf, sizeof buf, "%.3f ms", double(ns) / 1e6);
  else if (ns >= 1'000) std::snprintf(buf, sizeof buf, "%.3f us", double(ns) / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  return buf;
}

}  // namespace

std::string report_json(const RunReport& r) {
  using ojson = nlohmann::ordered_json;
  ojson j;
  j["target"] = r.target;
  j["ok"] = r.ok();
  j["refused"] = r.refused;
  if (r.refused) {
    ojson ps = ojson::array();
    for (const auto& p : r.problems) ps.push_back(ojson{{"where", p.where}, {"message", p.message}});
    j["problems"] = std::move(ps);
  }
  j["ops_total"] = r.ops_total;
  j["ops_executed"] = r.ops_executed;
  j["reached_end"] = r.reached_end;
  j["accesses"] = r.accesses;
  j["writes_suppressed"] = r.writes_suppressed;
  j["time_ns"] = r.end_ns - r.start_ns;
  j["expectations"] = ojson{{"met", r.expectations_met}, {"failed", r.expectations_failed},
                            {"unchecked", r.expectations_unchecked}};
  ojson polls = ojson::array();
  for (const auto& p : r.polls)
    polls.push_back(ojson{{"op", p.op}, {"satisfied", p.satisfied}, {"checked", p.checked},
                          {"waited_ns", p.waited_ns}, {"reads", p.reads}, {"last_value", p.last_value}});
  j["polls"] = ojson{{"satisfied", r.polls_satisfied}, {"timed_out", r.polls_timed_out},
                     {"unchecked", r.polls_unchecked}, {"each", std::move(polls)}};
  ojson fails = ojson::array();
  for (const auto& f : r.failures) fails.push_back(ojson{{"op", f.op}, {"message", f.message}});
  j["failures"] = std::move(fails);
  ojson state = ojson::array();
  for (const auto& s : r.final_state) {
    ojson e;
    e["location"] = describe_location(s.space, s.space_name, s.bar, s.offset);
    e["space"] = s.space == Space::named ? s.space_name : std::string(space_name(s.space));
    if (space_has_bar(s.space)) e["bar"] = s.bar;
    e["offset"] = s.offset;
    e["width"] = s.width;
    e["value"] = s.value;
    if (!s.name.empty()) e["name"] = s.name;
    e["last_op"] = s.last_op;
    state.push_back(std::move(e));
  }
  j["final_state"] = std::move(state);
  return j.dump(2) + "\n";
}

std::string report_text(const RunReport& r) {
  std::string out;
  out += "target: " + r.target + "\n";
  if (r.refused) {
    out += "refused: the target cannot run this sequence\n";
    for (const auto& p : r.problems) out += "  " + p.str() + "\n";
    return out;
  }
  out += "ops executed: " + std::to_string(r.ops_executed) + " of " + std::to_string(r.ops_total) +
         (r.reached_end ? " (reached the end)" : " (stopped)") + "\n";
  out += "accesses: " + std::to_string(r.accesses);
  if (r.writes_suppressed) out += " (" + std::to_string(r.writes_suppressed) + " writes not performed: dry run)";
  out += ", target time " + ns_text(r.end_ns - r.start_ns) + "\n";
  out += "polls: " + std::to_string(r.polls_satisfied) + " satisfied, " + std::to_string(r.polls_timed_out) +
         " timed out, " + std::to_string(r.polls_unchecked) + " unchecked\n";
  for (const auto& p : r.polls) {
    if (!p.checked) continue;
    out += "  op " + std::to_string(p.op) + ": " + (p.satisfied ? "satisfied after " : "timed out after ") +
           ns_text(p.waited_ns) + " (" + std::to_string(p.reads) + " reads, last " + hex(p.last_value) + ")\n";
  }
  out += "expectations: " + std::to_string(r.expectations_met) + " met, " + std::to_string(r.expectations_failed) +
         " failed, " + std::to_string(r.expectations_unchecked) + " unchecked\n";
  if (!r.failures.empty()) {
    out += "failures: " + std::to_string(r.failures.size()) + "\n";
    for (const auto& f : r.failures) out += "  " + f.message + "\n";
  }
  out += "final state (" + std::to_string(r.final_state.size()) + " locations):\n";
  for (const auto& s : r.final_state) {
    out += "  " + describe_location(s.space, s.space_name, s.bar, s.offset) + " w" + std::to_string(s.width) + " = " +
           hex(s.value);
    if (!s.name.empty()) out += "  " + s.name;
    out += "\n";
  }
  return out;
}

}  // namespace gpuinit::replay

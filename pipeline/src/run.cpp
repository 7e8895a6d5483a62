// Chaining the stages, the report, time stamps, machine set-ups and the built-in default.
#include <charconv>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/pipeline/pipeline.hpp"
#include "gpuinit/version.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace gpuinit::pipeline {

const char* stage_name(Stage s) noexcept {
  switch (s) {
#define GPUINIT_X(n) \
  case Stage::n:     \
    return #n;
    GPUINIT_PIPELINE_STAGES(GPUINIT_X)
#undef GPUINIT_X
  }
  return "?";
}

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::ok: return "ok";
    case Status::findings: return "failed";
    case Status::error: return "error";
    case Status::skipped: return "skipped";
  }
  return "?";
}

// ---- stamps -------------------------------------------------------------------------

std::string rfc3339_utc(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "1970-01-01T00:00:00Z";
  char buf[40];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
    return "1970-01-01T00:00:00Z";
  return buf;
}

Stamp now_stamp() {
  return {rfc3339_utc(static_cast<std::int64_t>(std::time(nullptr))), kToolVersion, kToolVersion};
}

Stamp reproducible_stamp(std::string_view source_date_epoch) {
  std::int64_t secs = 0;
  if (!source_date_epoch.empty()) {
    const auto* end = source_date_epoch.data() + source_date_epoch.size();
    const auto [p, ec] = std::from_chars(source_date_epoch.data(), end, secs);
    if (ec != std::errc() || p != end || secs < 0)
      throw std::invalid_argument("SOURCE_DATE_EPOCH='" + std::string(source_date_epoch) +
                                  "' is not a number of seconds since 1970");
  }
  // No version in the documents: a release changes no golden file that did not change.
  return {rfc3339_utc(secs), "", "reproducible"};
}

// ---- machine set-up -----------------------------------------------------------------

Loaded<MachineSetup> load_setup(std::string_view text) {
  Loaded<MachineSetup> out;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    out.problems.push_back({"byte " + std::to_string(e.byte), "not JSON: " + std::string(e.what())});
    return out;
  }
  if (!j.is_object()) {
    out.problems.push_back({"", "a machine set-up is a JSON object"});
    return out;
  }
  MachineSetup s;
  // Each field read on its own so a problem names its JSON pointer.
  auto get_u64 = [&](const json& v, const std::string& where, std::uint64_t max) -> std::optional<std::uint64_t> {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > max) {
      out.problems.push_back({where, "expected an integer 0.." + std::to_string(max)});
      return std::nullopt;
    }
    return v.get<std::uint64_t>();
  };
  auto get_str = [&](const char* key) -> std::string {
    if (!j.contains(key)) return {};
    if (!j[key].is_string()) {
      out.problems.push_back({std::string("/") + key, "expected a string"});
      return {};
    }
    return j[key].get<std::string>();
  };
  s.rom_file = get_str("rom_file");
  s.rom_file_sha256 = get_str("rom_file_sha256");
  s.guest_sha256 = get_str("guest_sha256");
  if (j.contains("guest_size"))
    if (auto v = get_u64(j["guest_size"], "/guest_size", kMaxGuestSize)) s.guest_size = std::size_t(*v);
  if (j.contains("patch")) {
    if (!j["patch"].is_array()) {
      out.problems.push_back({"/patch", "expected an array of [offset, byte] pairs"});
    } else {
      std::size_t i = 0;
      for (const auto& p : j["patch"]) {
        const std::string where = "/patch/" + std::to_string(i++);
        if (!p.is_array() || p.size() != 2) {
          out.problems.push_back({where, "expected [offset, byte]"});
          continue;
        }
        const auto off = get_u64(p[0], where + "/0", kMaxGuestSize - 1);
        const auto val = get_u64(p[1], where + "/1", 0xFF);
        if (off && val) s.patch.emplace_back(std::size_t(*off), std::uint8_t(*val));
      }
    }
  }
  if (j.contains("devfn"))
    if (auto v = get_u64(j["devfn"], "/devfn", 0xFF)) s.devfn = std::uint8_t(*v);
  if (j.contains("bar_bases")) {
    if (!j["bar_bases"].is_object()) {
      out.problems.push_back({"/bar_bases", "expected an object of BAR index -> address"});
    } else {
      for (const auto& [k, v] : j["bar_bases"].items()) {
        unsigned idx = 0;
        const auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), idx);
        if (ec != std::errc() || p != k.data() + k.size() || idx > 5) {
          out.problems.push_back({"/bar_bases/" + k, "a BAR index is 0..5"});
          continue;
        }
        if (auto a = get_u64(v, "/bar_bases/" + k, 0xFFFF'FFFF'FFFF'FFFFull)) s.bar_bases[idx] = *a;
      }
    }
  }
  if (j.contains("entry_regs")) {
    const auto& r = j["entry_regs"];
    if (!r.is_object()) {
      out.problems.push_back({"/entry_regs", "expected an object"});
    } else {
      x86::EntryRegs e;
      auto reg32 = [&](const char* k, std::uint32_t& dst) {
        if (r.contains(k))
          if (auto v = get_u64(r[k], std::string("/entry_regs/") + k, 0xFFFF'FFFFu)) dst = std::uint32_t(*v);
      };
      auto reg16 = [&](const char* k, std::uint16_t& dst) {
        if (r.contains(k))
          if (auto v = get_u64(r[k], std::string("/entry_regs/") + k, 0xFFFFu)) dst = std::uint16_t(*v);
      };
      reg32("ebx", e.ebx);
      reg32("ecx", e.ecx);
      reg32("edx", e.edx);
      reg32("esi", e.esi);
      reg32("edi", e.edi);
      reg32("ebp", e.ebp);
      reg32("eflags", e.eflags);
      if (r.contains("esp"))  // the virtual PC enters with a 16-bit SP
        if (auto v = get_u64(r["esp"], "/entry_regs/esp", 0xFFFF'FFFFu)) e.sp = std::uint16_t(*v);
      reg16("ss", e.ss);
      reg16("ds", e.ds);
      reg16("es", e.es);
      reg16("fs", e.fs);
      reg16("gs", e.gs);
      s.entry = e;
    }
  }
  if (out.problems.empty()) out.value = std::move(s);
  return out;
}

std::vector<Problem> apply_setup(const MachineSetup& s, std::vector<std::uint8_t>& rom, x86::PcConfig& cfg) {
  std::vector<Problem> ps;
  if (!s.rom_file_sha256.empty() && sha256_hex(rom) != s.rom_file_sha256)
    ps.push_back({"/rom_file_sha256", "the ROM given is not the set-up's " +
                                          (s.rom_file.empty() ? std::string("file") : s.rom_file) + " (sha256 " +
                                          sha256_hex(rom) + ", expected " + s.rom_file_sha256 + ")"});
  if (!ps.empty()) return ps;
  if (s.guest_size) rom.resize(*s.guest_size, 0);
  for (std::size_t i = 0; i < s.patch.size(); ++i) {
    if (s.patch[i].first >= rom.size()) {
      ps.push_back({"/patch/" + std::to_string(i), "offset " + std::to_string(s.patch[i].first) +
                                                       " is past the end of the ROM (" + std::to_string(rom.size()) +
                                                       " bytes)"});
      return ps;
    }
    rom[s.patch[i].first] = s.patch[i].second;
  }
  if (!s.guest_sha256.empty() && sha256_hex(rom) != s.guest_sha256)
    ps.push_back({"/guest_sha256", "the patched ROM's sha256 is " + sha256_hex(rom) + ", expected " + s.guest_sha256});
  if (s.devfn) cfg.devfn = *s.devfn;
  for (const auto& [i, a] : s.bar_bases) cfg.bar_bases[i] = a;
  if (s.entry) {
    const auto ret_cs = cfg.entry.return_cs, ret_ip = cfg.entry.return_ip;
    cfg.entry = *s.entry;
    cfg.entry.return_cs = ret_cs;
    cfg.entry.return_ip = ret_ip;
  }
  return ps;
}

// ---- built-in default ---------------------------------------------------------------

std::optional<DefaultInputs> find_default_inputs(const DataSearch& where, std::vector<std::string>& looked) {
  auto try_pair = [&](const fs::path& rom, const fs::path& map, const char* origin) -> std::optional<DefaultInputs> {
    std::error_code ec;
    const bool rom_ok = fs::is_regular_file(rom, ec);
    const bool map_ok = fs::is_regular_file(map, ec);
    if (rom_ok && map_ok) return DefaultInputs{rom, map, origin};
    looked.push_back(std::string(origin) + ": " + rom.string() + (rom_ok ? "" : " (missing)") + ", " + map.string() +
                     (map_ok ? "" : " (missing)"));
    return std::nullopt;
  };
  if (!where.env_data_dir.empty()) {
    const fs::path d = where.env_data_dir;
    if (auto r = try_pair(d / kDefaultRomName, d / "maps" / kDefaultMapName, kDataDirEnv)) return r;
  }
  if (!where.exe.empty()) {
    const fs::path d = where.exe.parent_path() / ".." / "share" / "gpu-init";
    if (auto r = try_pair(d.lexically_normal() / kDefaultRomName, d.lexically_normal() / "maps" / kDefaultMapName,
                          "installed"))
      return r;
  }
  const DataSearch built = compiled_in_search();
  const fs::path rom = where.build_rom.empty() ? built.build_rom : where.build_rom;
  const fs::path maps = where.source_maps_dir.empty() ? built.source_maps_dir : where.source_maps_dir;
  if (!rom.empty() || !maps.empty())
    if (auto r = try_pair(rom, maps / kDefaultMapName, "build tree")) return r;
  return std::nullopt;
}

DataSearch compiled_in_search() {
  DataSearch d;
#ifdef GPUINIT_PIPELINE_BUILD_ROM
  d.build_rom = GPUINIT_PIPELINE_BUILD_ROM;
#endif
#ifdef GPUINIT_PIPELINE_SOURCE_MAPS
  d.source_maps_dir = GPUINIT_PIPELINE_SOURCE_MAPS;
#endif
  return d;
}

fs::path default_out_dir(const fs::path& rom) {
  std::string stem = rom.stem().string();
  if (stem.empty() || stem == "." || stem == "..") stem = "rom";
  return fs::path("out") / stem;
}

// ---- the run ------------------------------------------------------------------------

const StageReport& PipelineResult::stage(Stage s) const noexcept {
  switch (s) {
    case Stage::extract: return extract.report;
    case Stage::reduce: return reduce.report;
    case Stage::validate: return validate.report;
    case Stage::replay: return replay.report;
    case Stage::diff: return diff.report;
  }
  return extract.report;
}

std::optional<Stage> PipelineResult::first_failure() const noexcept {
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto s = static_cast<Stage>(i);
    if (stage(s).status != Status::ok) return s;
  }
  return std::nullopt;
}

int PipelineResult::exit_code() const noexcept {
  if (!write_error.empty()) return 2;
  const auto f = first_failure();
  if (!f) return 0;
  return stage(*f).status == Status::error ? 2 : 1;
}

namespace {

StageReport& stage_of(PipelineResult& r, Stage s) noexcept {
  return const_cast<StageReport&>(std::as_const(r).stage(s));
}

}  // namespace

PipelineResult run_pipeline(const PipelineInput& in, const StageObserver& observer) {
  PipelineResult r;
  auto start = [&](Stage s) {
    if (observer.started) observer.started(s);
  };
  auto notify = [&](const StageReport& s) {
    if (observer.finished) observer.finished(s);
  };

  ExtractInput ex = in.extract;
  if (in.map) ex.map = in.map;
  ex.tool_version = in.stamp.tool_version;
  start(Stage::extract);
  r.extract = extract(ex);
  notify(r.extract.report);
  const RegisterMap* map = in.map ? in.map : (r.extract.map ? &*r.extract.map : nullptr);
  const RegisterMap* replay_map = in.replay_map ? in.replay_map : map;

  if (r.extract.report.status == Status::ok) {
    start(Stage::reduce);
    r.reduce = reduce_raw(r.extract.trace, map, in.stamp, r.extract.rom_sha1);
    notify(r.reduce.report);
  }
  if (r.reduce.report.status == Status::ok) {
    start(Stage::validate);
    r.validate = validate_sequence(r.reduce.text);
    notify(r.validate.report);
  }
  if (r.validate.report.status == Status::ok) {
    ReplayInput ri;
    ri.target = in.target;
    ri.map = replay_map;
    ri.registry = in.registry;
    ri.keep_going = in.keep_going;
    ri.tool_version = in.stamp.tool_version;
    start(Stage::replay);
    r.replay = replay_sequence(*r.validate.sequence, ri);
    notify(r.replay.report);
  }
  if (r.replay.report.status == Status::ok) {
    start(Stage::diff);
    r.diff = diff_replay(r.replay.trace, *r.validate.sequence, replay_map);
    notify(r.diff.report);
  }
  // Stages after the first failure were not run: say why.
  std::optional<Stage> failed;
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto s = static_cast<Stage>(i);
    StageReport& rep = stage_of(r, s);
    rep.stage = s;
    if (failed) {
      rep.status = Status::skipped;
      rep.summary = std::string("not run: ") + stage_name(*failed) + " did not pass";
    } else if (rep.status != Status::ok) {
      failed = s;
    }
  }

  if (in.out_dir.empty()) return r;
  try {
    fs::create_directories(in.out_dir);
    auto put = [&](const char* name, const std::string& text) {
      const fs::path p = in.out_dir / name;
      write_file_atomic(p, text);
      r.written.push_back(p);
    };
    const auto ex_st = r.extract.report.status;
    if (ex_st == Status::ok || (ex_st == Status::findings && !r.extract.trace.events.empty()))
      put(kRawFile, write_trace(r.extract.trace));
    if (r.reduce.report.status == Status::ok) put(kSequenceFile, r.reduce.text);
    const auto rp_st = r.replay.report.status;
    if (rp_st == Status::ok || (rp_st == Status::findings && !r.replay.run.refused))
      put(kReplayFile, write_trace(r.replay.trace));
    // The report names itself among the files written.
    r.written.push_back(in.out_dir / kReportFile);
    write_file_atomic(in.out_dir / kReportFile, report_json(r, in));
  } catch (const std::exception& e) {
    r.write_error = e.what();
  }
  return r;
}

// ---- report -------------------------------------------------------------------------

std::string report_json(const PipelineResult& r, const PipelineInput& in) {
  json j = json::object();
  j["report_version"] = "1";
  j["generated"] = in.stamp.generated;
  if (!in.stamp.tool_version.empty()) j["tool_version"] = in.stamp.tool_version;
  json input = json::object();
  input["rom"] = in.extract.rom.string();
  input["rom_sha1"] = r.extract.rom_sha1;
  input["rom_sha256"] = r.extract.rom_sha256;
  if (in.map) input["map"] = in.map->name;
  if (in.replay_map) input["replay_map"] = in.replay_map->name;
  input["target"] = in.target;
  j["input"] = input;
  const auto failed = r.first_failure();
  j["result"] = !failed ? "ok" : status_name(r.stage(*failed).status);
  j["failed_stage"] = failed ? json(stage_name(*failed)) : json(nullptr);
  j["exit_code"] = r.exit_code();
  json stages = json::array();
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto& s = r.stage(static_cast<Stage>(i));
    stages.push_back({{"stage", stage_name(static_cast<Stage>(i))},
                      {"status", status_name(s.status)},
                      {"summary", s.summary},
                      {"details", s.details},
                      {"wall_s", s.wall_s}});
  }
  j["stages"] = stages;
  if (r.extract.report.status != Status::skipped && !r.extract.model_name.empty()) {
    j["extract"] = {{"image", r.extract.image},
                    {"stop", x86::pc_stop_name(r.extract.stop)},
                    {"message", r.extract.stop_message},
                    {"instructions", r.extract.instructions},
                    {"virtual_ns", r.extract.t_ns},
                    {"events", r.extract.trace.events.size()},
                    {"truncated", r.extract.truncated},
                    {"model", r.extract.model_name}};
  }
  if (r.reduce.report.status == Status::ok) {
    std::map<std::string, std::uint64_t> counters;
    reduce::add_counters(r.reduce.stats, counters);
    j["reduce"] = counters;
  }
  if (r.replay.report.status == Status::ok || r.replay.report.status == Status::findings)
    j["replay"] = json::parse(replay::report_json(r.replay.run));
  if (r.diff.report.status == Status::ok || r.diff.report.status == Status::findings)
    j["diff"] = json::parse(replay::diff_json(r.diff.diff, kReplayFile, kSequenceFile));
  json files = json::array();
  for (const auto& p : r.written) files.push_back(p.string());
  j["files"] = files;
  return j.dump(1) + "\n";
}

std::string summary_lines(const PipelineResult& r) {
  std::string o;
  if (r.extract.report.status == Status::ok) o += r.extract.report.summary + "\n";
  if (r.reduce.report.status == Status::ok) {
    // The seed's four lines: ops in and out, dead writes, delays, polls.
    const std::string stats = reduce::format_stats(r.reduce.stats);
    std::size_t pos = 0;
    for (int i = 0; i < 4 && pos < stats.size(); ++i) {
      const auto nl = stats.find('\n', pos);
      o += stats.substr(pos, nl == std::string::npos ? std::string::npos : nl + 1 - pos);
      pos = nl == std::string::npos ? stats.size() : nl + 1;
    }
  }
  auto find_written = [&](const char* name) -> std::string {
    for (const auto& p : r.written)
      if (p.filename() == name) return p.string();
    return name;
  };
  const std::string seq = find_written(kSequenceFile);
  if (r.validate.report.status == Status::ok) o += "✅ " + seq + ": valid\n";
  else if (r.validate.report.status == Status::findings) o += "❌ " + seq + ": " + r.validate.report.summary + "\n";
  if (r.replay.report.status == Status::ok) o += "✅ " + r.replay.report.summary + "\n";
  else if (r.replay.report.status != Status::skipped) o += "❌ replay: " + r.replay.report.summary + "\n";
  if (r.diff.report.status == Status::ok) o += "✅ diff: " + r.diff.report.summary + "\n";
  else if (r.diff.report.status != Status::skipped) o += "❌ diff: " + r.diff.report.summary + "\n";
  const auto failed = r.first_failure();
  if (!failed && r.write_error.empty()) {
    o += "✨ Pipeline complete! Init sequence: " + seq + "\n";
  } else if (failed) {
    o += std::string("❌ Pipeline failed at stage ") + stage_name(*failed) + ": " + r.stage(*failed).summary + "\n";
  } else {
    o += "❌ Pipeline could not write its outputs: " + r.write_error + "\n";
  }
  return o;
}

}  // namespace gpuinit::pipeline

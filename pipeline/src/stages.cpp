// The five stages. Each catches what its libraries throw and turns it into a status and a
// sentence, so a caller composing them never needs a try block of its own.
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <utility>

#include "gpuinit/devices/capture_model.hpp"
#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/spin_breaker.hpp"
#include "gpuinit/devices/map_model.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/pipeline/pipeline.hpp"

namespace gpuinit::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string first_problem(const std::vector<Problem>& ps, const char* fallback) {
  return ps.empty() ? std::string(fallback) : ps.front().str();
}

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

// ---- extract ------------------------------------------------------------------------

ExtractResult extract(const ExtractInput& in) {
  const auto t0 = Clock::now();
  ExtractResult r;
  r.report.stage = Stage::extract;
  auto fail = [&](Status st, std::string msg) -> ExtractResult& {
    r.report.status = st;
    r.report.summary = std::move(msg);
    r.report.wall_s = seconds_since(t0);
    return r;
  };
  const std::string rom_label = in.rom.string();

  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file_bytes(in.rom);
  } catch (const std::exception& e) {
    return fail(Status::error, e.what());
  }
  r.rom_sha1 = sha1_hex(bytes);
  r.rom_sha256 = sha256_hex(bytes);

  x86::PcConfig cfg;
  cfg.max_instructions = in.max_instructions;
  cfg.timeout_s = in.timeout_s;
  if (in.setup) {
    const auto problems = apply_setup(*in.setup, bytes, cfg);
    if (!problems.empty()) return fail(Status::error, rom_label + ": machine set-up: " + problems.front().str());
  }

  const auto images = x86::walk_images(bytes);
  if (images.empty()) return fail(Status::findings, rom_label + ": offset 0x0: no 0x55AA option ROM image");
  std::size_t pick = images.size();
  if (in.image >= 0) {
    if (std::size_t(in.image) >= images.size())
      return fail(Status::error, rom_label + ": image " + std::to_string(in.image) + " asked for, but the chain has " +
                                     std::to_string(images.size()) + " image(s)");
    pick = std::size_t(in.image);
  } else {
    for (std::size_t i = 0; i < images.size() && pick == images.size(); ++i)
      if (!images[i].code_type || *images[i].code_type == 0) pick = i;
    if (pick == images.size()) return fail(Status::findings, rom_label + ": no x86 image in the chain");
  }
  const auto& img = images[pick];
  if (img.code_type && *img.code_type != 0)
    r.warnings.push_back("image " + std::to_string(pick) + " has code type " + std::to_string(*img.code_type) +
                         ", not x86; running it anyway");
  r.image = pick;
  const std::span<const std::uint8_t> code(bytes.data() + img.offset, img.length);
  cfg.rom_chip = bytes;  // the whole dump: what the card's ROM chip holds

  // The model that answers reads.
  std::unique_ptr<DeviceModel> model;
  CaptureModel* capture = nullptr;
  const RegisterMap* map = in.map;
  try {
    if (!map && in.model.rfind("map:", 0) == 0) {
      const std::string file = in.model.substr(4);
      auto m = load_regmap(read_file_text(file));
      if (!m.ok()) return fail(Status::error, file + ": " + first_problem(m.problems, "invalid register map"));
      r.map = std::move(m.value);
      map = &*r.map;
    }
    if (map) {
      cfg.device = map->device;
      std::vector<Problem> problems;
      model = MapModel::create(*map, MapModelOptions{}, problems);
      if (!model) return fail(Status::error, "register map " + map->name + ": " + first_problem(problems, "unusable map"));
    } else if (in.model == "generic") {
      model = std::make_unique<GenericModel>();
    } else if (in.model == "generic+spin") {
      model = x86::vendor_rom_model(code, cfg);  // what batch runs vendor ROMs against
    } else if (in.model.rfind("capture:", 0) == 0) {
      const std::string file = in.model.substr(8);
      auto t = load_trace(read_file_text(file));
      if (!t.ok()) return fail(Status::error, file + ": " + first_problem(t.problems, "invalid trace"));
      if (t.value->header.device) cfg.device = *t.value->header.device;
      auto c = std::make_unique<CaptureModel>(*t.value, file);
      capture = c.get();
      model = std::move(c);
    } else {
      return fail(Status::error, "the model must be generic, generic+spin, capture:FILE or map:FILE (got '" + in.model + "')");
    }
  } catch (const std::exception& e) {
    return fail(Status::error, e.what());
  }
  r.model_name = model->name();

  auto res = x86::run_option_rom(code, cfg, *model);
  res.trace.header.source = "extract:" + in.rom.filename().string();
  res.trace.header.tool_version = in.tool_version;
  r.trace = std::move(res.trace);
  r.stop = res.stop;
  r.stop_message = res.message;
  r.instructions = res.instructions;
  r.t_ns = res.t_ns;
  r.truncated = res.truncated;
  if (r.truncated) r.warnings.push_back("the run stopped at the event budget of " + std::to_string(x86::kMaxTraceEvents) + " events");
  if (capture) {
    const auto s = capture->stats();
    if (s.past_end || s.unknown)
      r.warnings.push_back("capture: " + std::to_string(s.past_end) + " reads past the capture, " +
                           std::to_string(s.unknown) + " reads of locations it never read");
  }
  r.report.details = r.warnings;
  if (!res.ok())
    return fail(Status::findings, rom_label + " image " + std::to_string(pick) + ": the init did not return: " +
                                      x86::pc_stop_name(res.stop) + ": " + res.message);
  r.report.status = Status::ok;
  r.report.summary = "Extracted " + plural(r.trace.events.size(), "event", "events") + " from " +
                     in.rom.filename().string() + " (image " + std::to_string(pick) + ", " +
                     std::to_string(r.instructions) + " instructions, " + std::to_string(r.t_ns / 1000) +
                     " us virtual, model " + r.model_name + ")";
  r.report.wall_s = seconds_since(t0);
  return r;
}

// ---- reduce -------------------------------------------------------------------------

ReduceResult reduce_raw(const Trace& raw, const RegisterMap* map, const Stamp& stamp, std::string_view rom_sha1) {
  const auto t0 = Clock::now();
  ReduceResult r;
  r.report.stage = Stage::reduce;
  try {
    reduce::Options opt;
    opt.map = map;
    opt.generated = stamp.generated;
    auto res = reduce::reduce_trace(raw, opt);
    r.sequence = std::move(res.sequence);
    r.stats = res.stats;
    if (!stamp.pipeline_version.empty()) r.sequence.metadata.pipeline_version = stamp.pipeline_version;
    if (!rom_sha1.empty()) r.sequence.metadata.source_rom_sha1 = std::string(rom_sha1);
    r.text = write_sequence(r.sequence);
  } catch (const std::exception& e) {
    r.report.status = Status::error;
    r.report.summary = std::string("the reducer failed: ") + e.what();
    r.report.wall_s = seconds_since(t0);
    return r;
  }
  r.report.status = Status::ok;
  r.report.summary = "Reduced " + std::to_string(r.stats.events_in) + " ops to " + std::to_string(r.stats.ops_out) + " ops";
  r.report.wall_s = seconds_since(t0);
  return r;
}

// ---- validate -----------------------------------------------------------------------

ValidateResult validate_sequence(std::string_view text) {
  const auto t0 = Clock::now();
  ValidateResult r;
  r.report.stage = Stage::validate;
  auto loaded = load_sequence(text);
  r.report.details = loaded.warnings;
  if (!loaded.ok()) {
    r.problems = std::move(loaded.problems);
    if (r.problems.empty()) r.problems.push_back({"", "not a valid init sequence"});
  } else {
    // What any target will check before running it: widths, values that fit, BARs, END.
    replay::SchemaTarget schema;
    r.problems = replay::check_sequence(*loaded.value, schema.capabilities());
    if (r.problems.empty()) r.sequence = std::move(loaded.value);
  }
  if (!r.problems.empty()) {
    r.report.status = Status::findings;
    r.report.summary = "invalid init sequence: " + r.problems.front().str() +
                       (r.problems.size() > 1 ? " (and " + std::to_string(r.problems.size() - 1) + " more)" : "");
    for (const auto& p : r.problems) r.report.details.push_back(p.str());
  } else {
    r.report.status = Status::ok;
    r.report.summary = "valid (schema v" + std::string(kSequenceSchemaVersion) + ", " +
                       plural(r.sequence->ops.size(), "op", "ops") + ")";
  }
  r.report.wall_s = seconds_since(t0);
  return r;
}

// ---- replay -------------------------------------------------------------------------

ReplayResult replay_sequence(const InitSequence& seq, const ReplayInput& in) {
  const auto t0 = Clock::now();
  ReplayResult r;
  r.report.stage = Stage::replay;
  auto done = [&](Status st, std::string msg) -> ReplayResult& {
    r.report.status = st;
    r.report.summary = std::move(msg);
    r.report.wall_s = seconds_since(t0);
    return r;
  };
  const replay::TargetRegistry builtin = in.registry ? replay::TargetRegistry{} : replay::builtin_targets();
  const replay::TargetRegistry& registry = in.registry ? *in.registry : builtin;
  if (!registry.has(in.target)) {
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    return done(Status::error, "target '" + in.target + "' is not built into this gpu-init (available: " + known + ")");
  }
  replay::TargetOptions topt;
  topt.name = in.target;
  topt.map = in.map;
  topt.device = seq.device;
  std::unique_ptr<replay::Target> target;
  try {
    target = registry.make(topt);
  } catch (const std::exception& e) {
    return done(Status::error, std::string("cannot make target '") + in.target + "': " + e.what());
  }
  std::optional<replay::RegisterNamer> namer;
  if (in.map) namer.emplace(*in.map);
  replay::ReplayOptions ropt;
  ropt.keep_going = in.keep_going;
  ropt.namer = namer ? &*namer : nullptr;
  try {
    r.run = replay::run_sequence(seq, *target, ropt, &r.trace);
  } catch (const std::exception& e) {
    return done(Status::error, std::string("replay on ") + in.target + " failed: " + e.what());
  }
  r.trace.header.tool_version = in.tool_version;
  if (r.run.refused) {
    for (const auto& p : r.run.problems) r.report.details.push_back(p.str());
    return done(Status::findings, "target " + r.run.target + " refused the sequence: " +
                                      first_problem(r.run.problems, "unsupported"));
  }
  for (const auto& f : r.run.failures) r.report.details.push_back("op " + std::to_string(f.op) + ": " + f.message);
  if (!r.run.ok())
    return done(Status::findings, "failed on " + r.run.target + ": " + r.run.failures.front().message +
                                      (r.run.failures.size() > 1
                                           ? " (and " + std::to_string(r.run.failures.size() - 1) + " more)"
                                           : ""));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f us", double(r.run.end_ns - r.run.start_ns) / 1000.0);
  return done(Status::ok, "Replayed " + plural(r.run.ops_executed, "op", "ops") + " on " + r.run.target + ": " +
                              plural(r.run.accesses, "access", "accesses") + ", " +
                              plural(r.run.polls_satisfied, "poll", "polls") + " satisfied, " +
                              plural(r.run.expectations_met, "expectation", "expectations") + " met, " + buf +
                              " target time");
}

// ---- diff ---------------------------------------------------------------------------

DiffStageResult diff_replay(const Trace& replayed, const InitSequence& seq, const RegisterMap* map) {
  const auto t0 = Clock::now();
  DiffStageResult r;
  r.report.stage = Stage::diff;
  std::optional<replay::RegisterNamer> namer;
  if (map) namer.emplace(*map);
  replay::DiffOptions o;
  o.namer = namer ? &*namer : nullptr;
  o.writes_only = true;
  try {
    r.diff = replay::diff(replay::view(replayed), replay::view(seq), o);
  } catch (const std::exception& e) {
    r.report.status = Status::error;
    r.report.summary = std::string("diff failed: ") + e.what();
    r.report.wall_s = seconds_since(t0);
    return r;
  }
  if (r.diff.equal()) {
    r.report.status = Status::ok;
    r.report.summary = "the replay made the sequence's " + plural(r.diff.items_b, "observable write", "observable writes") +
                       ", in order";
  } else {
    r.report.status = Status::findings;
    if (r.diff.first) {
      const auto& d = *r.diff.first;
      r.report.summary = "the replay's writes differ from the sequence's: first at " +
                         (d.index_a ? "event " + std::to_string(*d.index_a) : std::string("-")) + " / " +
                         (d.index_b ? "op " + std::to_string(*d.index_b) : std::string("-")) + " (" + d.detail + ")";
    } else {
      r.report.summary = "the replay's final state differs from the sequence's at " +
                         plural(r.diff.state.size(), "location", "locations");
    }
    std::string text = replay::diff_text(r.diff, kReplayFile, kSequenceFile);
    std::size_t pos = 0;
    for (int lines = 0; pos < text.size() && lines < 12; ++lines) {
      const auto nl = text.find('\n', pos);
      r.report.details.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
      pos = nl == std::string::npos ? text.size() : nl + 1;
    }
  }
  r.report.wall_s = seconds_since(t0);
  return r;
}

}  // namespace gpuinit::pipeline

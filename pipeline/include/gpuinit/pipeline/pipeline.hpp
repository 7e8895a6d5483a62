// The pipeline: extract -> reduce -> validate -> replay -> diff, one function per stage.
//
// Each stage takes what the previous one made and returns a result struct with a status,
// a one-line summary and the documents it produced; nothing here prints or exits. The
// `gpu-init pipeline`, `gpu-init extract --format reduced` and `gpu-init batch` commands
// compose these functions; run_pipeline() chains them and reports each stage to an
// observer as it finishes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/result.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"
#include "gpuinit/reduce/reduce.hpp"
#include "gpuinit/replay/diff.hpp"
#include "gpuinit/replay/engine.hpp"
#include "gpuinit/replay/targets.hpp"
#include "gpuinit/x86/pc.hpp"

namespace gpuinit::pipeline {

// ---- stages and their verdicts ------------------------------------------------------

#define GPUINIT_PIPELINE_STAGES(X) X(extract) X(reduce) X(validate) X(replay) X(diff)
enum class Stage : std::uint8_t {
#define GPUINIT_X(n) n,
  GPUINIT_PIPELINE_STAGES(GPUINIT_X)
#undef GPUINIT_X
};
inline constexpr std::size_t kStageCount = 5;
[[nodiscard]] const char* stage_name(Stage s) noexcept;

enum class Status : std::uint8_t {
  ok,        // the stage did its work and found nothing wrong
  findings,  // it ran and found a problem (an init that did not return, an invalid sequence,
             // a failed replay, a difference): exit 1
  error,     // it could not run (unreadable file, unusable map, unknown target): exit 2
  skipped,   // an earlier stage failed
};
[[nodiscard]] const char* status_name(Status s) noexcept;

// What every stage result carries.
struct StageReport {
  Stage stage = Stage::extract;
  Status status = Status::skipped;
  std::string summary;               // one line: what it did, or what went wrong
  std::vector<std::string> details;  // further lines (problems, statistics), may be empty
  double wall_s = 0;                 // host time the stage took
};

// ---- time stamps --------------------------------------------------------------------

// How documents are stamped. Reproducible output (golden files) gets a fixed `generated`
// time (SOURCE_DATE_EPOCH when set, else the epoch) and no tool version in trace headers,
// so that regenerating a golden file changes it only when its content changes.
struct Stamp {
  std::string generated;     // RFC 3339
  std::string tool_version;  // "" leaves it out of trace headers
  std::string pipeline_version;
};
[[nodiscard]] Stamp now_stamp();
// `source_date_epoch`: the value of SOURCE_DATE_EPOCH, or empty. Throws std::invalid_argument
// when it is set but not a number of seconds.
[[nodiscard]] Stamp reproducible_stamp(std::string_view source_date_epoch = {});
[[nodiscard]] std::string rfc3339_utc(std::int64_t unix_seconds);

// ---- machine set-up -----------------------------------------------------------------

// Facts about the machine a ROM ran in, as scripts/qemu-oracle records them beside its
// traces (tests/golden/qemu/<card>.rom.json): the ROM file the guest got and the bytes
// the firmware patched, the bus/devfn, the BAR addresses the BIOS assigned and the entry
// registers. Applying a set-up reproduces that machine in the virtual PC.
struct MachineSetup {
  std::string rom_file;          // the packaged file's name (informative)
  std::string rom_file_sha256;   // "" : not checked
  std::optional<std::size_t> guest_size;
  std::vector<std::pair<std::size_t, std::uint8_t>> patch;
  std::string guest_sha256;      // after resize and patch; "" : not checked
  std::optional<std::uint8_t> devfn;
  std::map<unsigned, std::uint64_t> bar_bases;
  std::optional<x86::EntryRegs> entry;
};
// Largest guest image a set-up may ask for (an option ROM window is 128 KiB; room to spare).
inline constexpr std::size_t kMaxGuestSize = std::size_t{1} << 20;
[[nodiscard]] Loaded<MachineSetup> load_setup(std::string_view json_text);
// Resizes and patches `rom` and fills `cfg`. Problems name the check that failed.
[[nodiscard]] std::vector<Problem> apply_setup(const MachineSetup& s, std::vector<std::uint8_t>& rom,
                                               x86::PcConfig& cfg);

// ---- stage 1: extract ---------------------------------------------------------------

struct ExtractInput {
  std::filesystem::path rom;
  int image = -1;  // index in the chain; -1: the first x86 image
  // What answers reads: "generic", "capture:FILE" or "map:FILE". Ignored when `map` is set.
  std::string model = "generic";
  const RegisterMap* map = nullptr;   // a loaded map: the map model, identity and BARs
  const MachineSetup* setup = nullptr;
  std::uint64_t max_instructions = x86::kDefaultMaxInstructions;
  double timeout_s = x86::kDefaultTimeoutS;
  std::string tool_version;           // into the trace header ("" leaves it out)
};

struct ExtractResult {
  StageReport report;
  Trace trace;                  // what was recorded (also when the run stopped early)
  std::size_t image = 0;        // the image run
  x86::PcStop stop = x86::PcStop::bad_image;
  std::string stop_message;
  std::uint64_t instructions = 0, t_ns = 0;
  bool truncated = false;
  std::string model_name;
  std::string rom_sha1, rom_sha256;  // of the whole file as given
  std::vector<std::string> warnings;
  std::optional<RegisterMap> map;    // the map of a "map:FILE" model, for later stages
};
[[nodiscard]] ExtractResult extract(const ExtractInput& in);

// ---- stage 2: reduce ----------------------------------------------------------------

struct ReduceResult {
  StageReport report;
  InitSequence sequence;
  reduce::Stats stats;
  std::string text;  // the sequence as written (write_sequence)
};
// `rom_sha1` goes into _metadata (traces carry only the sha256); may be empty.
[[nodiscard]] ReduceResult reduce_raw(const Trace& raw, const RegisterMap* map, const Stamp& stamp,
                                        std::string_view rom_sha1 = {});

// ---- stage 3: validate --------------------------------------------------------------

struct ValidateResult {
  StageReport report;
  std::optional<InitSequence> sequence;  // as loaded back from the text: what later stages use
  std::vector<Problem> problems;
};
// Loads `text` as an init sequence (JSON Schema, then the format's semantic checks) and
// checks every op against what a target can execute (the schema target's capabilities).
[[nodiscard]] ValidateResult validate_sequence(std::string_view text);

// ---- stage 4: replay ----------------------------------------------------------------

struct ReplayInput {
  std::string target = "model";
  const RegisterMap* map = nullptr;  // null: the generic model
  const replay::TargetRegistry* registry = nullptr;  // null: the built-in targets
  bool keep_going = false;
  std::string tool_version;          // into the trace header ("" leaves it out)
};
struct ReplayResult {
  StageReport report;
  replay::RunReport run;
  Trace trace;
};
[[nodiscard]] ReplayResult replay_sequence(const InitSequence& seq, const ReplayInput& in);

// ---- stage 5: diff ------------------------------------------------------------------

struct DiffStageResult {
  StageReport report;
  replay::DiffResult diff;
};
// The replay's observable writes against the sequence's (the trace-vs-sequence diff).
[[nodiscard]] DiffStageResult diff_replay(const Trace& replayed, const InitSequence& seq, const RegisterMap* map);

// ---- built-in default ---------------------------------------------------------------

inline constexpr const char* kDefaultRomName = "gpuinit-ref.rom";
inline constexpr const char* kDefaultMapName = "gpuinit-ref.json";
inline constexpr const char* kDataDirEnv = "GPUINIT_DATA_DIR";

struct DefaultInputs {
  std::filesystem::path rom, map;
  std::string origin;  // "GPUINIT_DATA_DIR", "installed", "build tree"
};
struct DataSearch {
  std::string env_data_dir;              // value of GPUINIT_DATA_DIR ("" when unset)
  std::filesystem::path exe;             // the running executable ("" when unknown)
  std::filesystem::path build_rom;       // compiled-in build-tree ROM ("" : the library's own)
  std::filesystem::path source_maps_dir; // compiled-in source-tree maps ("" : the library's own)
};
// Looks for the reference card's ROM and map: $GPUINIT_DATA_DIR/{gpuinit-ref.rom,
// maps/gpuinit-ref.json}, then <exe dir>/../share/gpu-init (installed), then the build
// tree's ROM with the source tree's map. Returns nullopt with `looked` naming every path
// tried.
[[nodiscard]] std::optional<DefaultInputs> find_default_inputs(const DataSearch& where,
                                                               std::vector<std::string>& looked);
// The compiled-in build and source tree paths.
[[nodiscard]] DataSearch compiled_in_search();

// ---- the whole run ------------------------------------------------------------------

struct PipelineInput {
  ExtractInput extract;              // extract.map is filled from `map` by run_pipeline
  const RegisterMap* map = nullptr;  // the card's map: extraction, reduction, replay, names
  const RegisterMap* replay_map = nullptr;  // another map for the replay (default: `map`)
  std::string target = "model";
  const replay::TargetRegistry* registry = nullptr;
  bool keep_going = false;
  Stamp stamp;
  std::filesystem::path out_dir;     // "" : write nothing
};

// Names of the files written in out_dir.
inline constexpr const char* kRawFile = "raw.trace.jsonl";
inline constexpr const char* kSequenceFile = "sequence.json";
inline constexpr const char* kReplayFile = "replay.trace.jsonl";
inline constexpr const char* kReportFile = "report.json";

struct PipelineResult {
  ExtractResult extract;
  ReduceResult reduce;
  ValidateResult validate;
  ReplayResult replay;
  DiffStageResult diff;
  std::vector<std::filesystem::path> written;  // files written, in order
  std::string write_error;                      // set when writing an output failed
  [[nodiscard]] const StageReport& stage(Stage s) const noexcept;
  // The first stage that did not pass, or nullopt when all did.
  [[nodiscard]] std::optional<Stage> first_failure() const noexcept;
  // 0 every stage ok, 1 a stage found a problem, 2 a stage could not run or writing failed.
  [[nodiscard]] int exit_code() const noexcept;
};

// Progress callbacks; either may be empty.
struct StageObserver {
  std::function<void(Stage)> started;
  std::function<void(const StageReport&)> finished;
};
// Runs the stages in order, stopping at the first that does not pass (the rest are
// skipped), and writes into out_dir what was produced (each file atomically) with
// report.json last. The observer sees each stage start and finish.
[[nodiscard]] PipelineResult run_pipeline(const PipelineInput& in, const StageObserver& observer = {});

// The report as one JSON document (stable key order): input, stages, statistics, files.
[[nodiscard]] std::string report_json(const PipelineResult& r, const PipelineInput& in);
// The seed guide's summary lines ("Reduced 47 ops to 23 ops", ...), one per line.
[[nodiscard]] std::string summary_lines(const PipelineResult& r);
// The default output folder for a ROM: out/<rom stem>.
[[nodiscard]] std::filesystem::path default_out_dir(const std::filesystem::path& rom);

}  // namespace gpuinit::pipeline

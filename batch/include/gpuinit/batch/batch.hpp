// The batch runner: runs a "process one ROM" job over many ROM files, each in its own
// forked worker process, N at a time, with a wall-clock watchdog per worker, and collects
// one summary row per x86 image.
//
// Isolation: the parent is single-threaded and forks one worker per distinct ROM (by
// SHA-256). A worker that crashes, exits early, writes an unreadable result or outlives
// the watchdog is recorded (classification `crashed`, or `timeout` for the watchdog) and
// the batch goes on.
// Outputs: OUTDIR/<sha256>/ holds what the job wrote plus result.json, written last and
// atomically; its presence (with the same job fingerprint) marks the ROM done, so an
// interrupted batch resumes where it stopped. The worker's stdout and stderr go to
// OUTDIR/<sha256>/worker.log (removed when empty).
// Determinism: rows are sorted by file then image; with timestamps off every output is a
// function of the inputs and options only.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpuinit::batch {

// X(enumerator, word)
#define GPUINIT_CLASSIFICATIONS(X)        \
  X(completed, "completed")               \
  X(budget, "budget")                     \
  X(timeout, "timeout")                   \
  X(halted, "halted")                     \
  X(invalid_opcode, "invalid-opcode")     \
  X(fault, "fault")                       \
  X(no_x86_image, "no-x86-image")         \
  X(not_pci, "not-pci")                   \
  X(efi_only, "efi-only")                 \
  X(fcode_only, "fcode-only")             \
  X(crashed, "crashed")

enum class Classification : std::uint8_t {
#define GPUINIT_X(e, w) e,
  GPUINIT_CLASSIFICATIONS(GPUINIT_X)
#undef GPUINIT_X
};
[[nodiscard]] std::string_view classification_name(Classification c) noexcept;
[[nodiscard]] std::optional<Classification> parse_classification(std::string_view s) noexcept;
[[nodiscard]] std::vector<Classification> all_classifications();

// One row of the summary, as a job reports it (the runner adds file and sha256).
struct ImageResult {
  int image = -1;  // index in the ROM's image chain; -1: the row stands for the whole ROM
  std::optional<std::uint16_t> vendor_id, device_id;
  Classification classification = Classification::crashed;
  std::string detail;      // why: the stop message, what the ROM holds, what went wrong
  std::string run;         // not-pci rows: how the legacy run ended ("completed", ...)
  std::string validation;  // "ok", "invalid" or "" (nothing to validate)
  std::uint64_t instructions = 0, accesses = 0, ops_raw = 0, ops_reduced = 0;
  double seconds = 0;  // wall time of the image's stages; 0 without timestamps
  bool operator==(const ImageResult&) const = default;
};

struct Row {
  std::string file;    // as given, or relative to the input folder it was found in
  std::string sha256;  // of the whole file
  ImageResult r;
  bool operator==(const Row&) const = default;
};

struct JobOptions {
  std::uint64_t max_instructions = 200'000'000;
  double timeout_s = 30.0;  // per image, the extractor's own wall-clock limit
  bool timestamps = true;   // false: no generated times, seconds = 0
  // Virtual time per instruction. Vendor ROMs wait on the PIT (tens of milliseconds of
  // calibration and settle delays); at 1 ns per instruction such a wait costs tens of
  // millions of instructions. 20 ns (a 50 MIPS machine, period-correct for most of the
  // corpus) keeps the waits cheap and the order of events the same.
  std::uint64_t ns_per_instruction = 20;
};

// The "process one ROM" job. process() runs inside a worker process: it may crash, hang
// or throw and the batch still goes on.
class RomProcessor {
 public:
  virtual ~RomProcessor() = default;
  // `out_dir` exists; the job writes its outputs there (atomically). `name` is the file
  // name of the first file with these bytes. Returns the rows, at least one.
  [[nodiscard]] virtual std::vector<ImageResult> process(std::span<const std::uint8_t> rom, std::string_view name,
                                                         const std::filesystem::path& out_dir,
                                                         const JobOptions& opt) = 0;
  // Identifies the job and its options: results recorded under another fingerprint are
  // redone.
  [[nodiscard]] virtual std::string fingerprint(const JobOptions& opt) const = 0;
};

// Limits.
inline constexpr std::uintmax_t kMaxRomBytes = std::uintmax_t{32} << 20;  // larger files are not ROMs
inline constexpr std::size_t kMaxInputFiles = 100'000;                   // per batch
inline constexpr std::size_t kMaxRowsPerRom = 64;                        // = rom::kMaxImages
inline constexpr std::uintmax_t kMaxResultBytes = 4u << 20;              // result.json read back

struct BatchOptions {
  std::vector<std::string> inputs;  // files and folders (walked recursively)
  std::filesystem::path out_dir;
  unsigned jobs = 0;       // workers; 0: the number of cores
  JobOptions job;
  // Per ROM (all its images); 0: 3 * timeout_s + 10 (a chain rarely holds more than two
  // x86 images; the extractor stops each at timeout_s itself).
  double watchdog_s = 0;
};

struct Progress {
  std::size_t done = 0, total = 0;  // distinct ROMs
  std::size_t resumed = 0;          // found complete from an earlier run
  std::size_t failed = 0;           // crashed or killed workers
  double elapsed_s = 0;
  std::string file;                 // the ROM just finished
  std::string outcome;              // "completed", "2 images: completed, budget", ...
  bool from_cache = false;
};

struct BatchResult {
  std::vector<Row> rows;
  std::size_t files = 0, roms = 0;  // input files, distinct ROMs
  std::size_t resumed = 0, processed = 0, failed = 0;
  double seconds = 0;
  std::vector<std::string> skipped;  // folder entries left out (not regular files, data files)
};

// Files named by `inputs`: a folder is walked recursively (sorted, symlinks not
// followed, INDEX/SOURCES data files .tsv/.csv/.md/.txt/.json left out). Throws
// std::runtime_error naming a missing input.
struct InputFile {
  std::filesystem::path path;
  std::string display;  // as given, or folder-relative with the folder's name in front
};
[[nodiscard]] std::vector<InputFile> collect_inputs(const std::vector<std::string>& inputs,
                                                    std::vector<std::string>* skipped = nullptr);

// Runs the batch. Throws std::runtime_error when OUTDIR cannot be created or a summary
// cannot be written; everything per ROM is recorded as a row instead. Writes
// OUTDIR/summary.csv and OUTDIR/summary.json at the end.
[[nodiscard]] BatchResult run_batch(const BatchOptions& opt, RomProcessor& proc,
                                    const std::function<void(const Progress&)>& on_progress = {});

// Summary documents (also written by run_batch).
inline constexpr const char* kSummaryColumns =
    "file,sha256,image,vendor_id,device_id,classification,instructions,accesses,ops_raw,ops_reduced,seconds,"
    "validation,run,detail";
[[nodiscard]] std::string summary_csv(const std::vector<Row>& rows);
[[nodiscard]] std::string summary_json(const BatchResult& r, const JobOptions& opt);
// Reads summary.json back (for reports and tests). Throws std::runtime_error.
[[nodiscard]] std::vector<Row> parse_summary_json(std::string_view text);

// result.json of one ROM: what a worker hands to the parent.
[[nodiscard]] std::string result_json(const std::string& fingerprint, const std::string& sha256,
                                      const std::vector<ImageResult>& rows);
// Parses and checks it; nullopt with `why` set when it is not a valid result for
// (fingerprint, sha256).
[[nodiscard]] std::optional<std::vector<ImageResult>> parse_result_json(std::string_view text,
                                                                        const std::string& fingerprint,
                                                                        const std::string& sha256, std::string& why);

}  // namespace gpuinit::batch

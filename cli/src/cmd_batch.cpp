// gpu-init batch: info -> extract -> reduce -> validate over many ROMs, in worker processes.
#include <unistd.h>

#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "gpuinit/batch/batch.hpp"
#include "gpuinit/batch/pipeline.hpp"
#include "gpuinit/batch/progress.hpp"

namespace gpuinit::cli {
namespace {

struct BatchCliOptions {
  std::vector<std::string> inputs;
  std::string out_dir;
  unsigned jobs = 0;
  bool no_timestamps = false;
  bool no_traces = false;
  bool quiet = false;
  std::uint64_t max_instructions = 200'000'000;
  double timeout_s = 30.0;
  double watchdog_s = 0;
  std::uint64_t ns_per_instruction = 20;
};

int run_batch_cmd(const BatchCliOptions& o) {
  batch::BatchOptions bo;
  bo.inputs = o.inputs;
  bo.out_dir = o.out_dir;
  bo.jobs = o.jobs;
  bo.job.max_instructions = o.max_instructions;
  bo.job.timeout_s = o.timeout_s;
  bo.job.timestamps = !o.no_timestamps;
  bo.watchdog_s = o.watchdog_s;
  bo.job.ns_per_instruction = o.ns_per_instruction;
  batch::PipelineProcessor proc(!o.no_traces);
  batch::ProgressBar bar(::isatty(STDERR_FILENO) != 0);
  batch::BatchResult r;
  try {
    r = batch::run_batch(bo, proc, [&](const batch::Progress& p) {
      if (o.quiet) return;
      std::cerr << bar.update(p.done, p.total, p.elapsed_s,
                              p.file + ": " + p.outcome + (p.from_cache ? " (done earlier)" : ""))
                << std::flush;
    });
  } catch (const std::exception& e) {
    if (!o.quiet) std::cerr << bar.finish();
    std::cerr << "gpu-init batch: " << e.what() << "\n";
    return kError;
  }
  if (!o.quiet) std::cerr << bar.finish();
  std::map<std::string, std::size_t> counts;
  bool findings = false;
  for (const auto& row : r.rows) {
    ++counts[std::string(batch::classification_name(row.r.classification))];
    if (row.r.classification == batch::Classification::crashed || row.r.validation == "invalid") findings = true;
    if (row.r.image >= 0 && row.r.classification != batch::Classification::completed &&
        row.r.classification != batch::Classification::not_pci)
      findings = true;
  }
  std::cerr << "gpu-init batch: " << r.files << " files, " << r.roms << " distinct ROMs (" << r.resumed
            << " done earlier), " << r.rows.size() << " rows:";
  for (const auto& [k, v] : counts) std::cerr << " " << k << " " << v << ";";
  std::cerr << " summary in " << (std::filesystem::path(o.out_dir) / "summary.csv").string() << "\n";
  return findings ? kFindings : kOk;
}

}  // namespace

Subcommand add_batch(CLI::App& root) {
  auto opt = std::make_shared<BatchCliOptions>();
  auto* app = root.add_subcommand("batch", "Run info, extract, reduce and validate over many ROMs in parallel");
  app->add_option("inputs", opt->inputs, "ROM files and folders (walked recursively)")->required();
  app->add_option("-o,--output", opt->out_dir, "Output folder (OUTDIR/<sha256>/..., summary.csv, summary.json)")
      ->required();
  app->add_option("-j,--jobs", opt->jobs, "Worker processes (default: the number of cores)");
  app->add_flag("--no-timestamps", opt->no_timestamps, "Leave times out so two runs give identical files");
  app->add_flag("--no-traces", opt->no_traces, "Do not write the raw traces (counts are still reported)");
  app->add_option("--max-instructions", opt->max_instructions, "Instruction budget per image")->capture_default_str();
  app->add_option("--timeout", opt->timeout_s, "Wall-clock limit per image in seconds")->capture_default_str();
  app->add_option("--ns-per-instruction", opt->ns_per_instruction, "Virtual time per instruction (PIT waits)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000}));
  app->add_option("--watchdog", opt->watchdog_s, "Kill a worker after this many seconds (default 3 * timeout + 10)");
  app->add_flag("-q,--quiet", opt->quiet, "No progress display");
  return {app, [opt] { return run_batch_cmd(*opt); }};
}

}  // namespace gpuinit::cli

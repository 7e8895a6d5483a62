// The batch runner: a single-threaded parent that forks one worker per distinct ROM.
#include <cstdio>
#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "gpuinit/batch/batch.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"

namespace gpuinit::batch {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool is_data_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".tsv" || ext == ".csv" || ext == ".md" || ext == ".txt" || ext == ".json" || ext == ".jsonl";
}

// One distinct ROM (by content) and the files that hold it.
struct Job {
  std::string sha256;
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> files;  // indices into the input list
  std::string name;                // file name of the first file
  fs::path dir;
  std::vector<ImageResult> rows;
  bool cached = false;
};

struct Worker {
  pid_t pid = -1;
  std::size_t job = 0;
  Clock::time_point start, deadline;
  bool killed = false;
};

ImageResult failure_row(Classification c, std::string detail, double seconds, bool timestamps) {
  ImageResult r;
  r.classification = c;
  r.detail = std::move(detail);
  r.seconds = timestamps ? seconds : 0;
  return r;
}

std::string read_small(const fs::path& p, std::uintmax_t cap, bool& too_big) {
  too_big = false;
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return {};
  if (size > cap) {
    too_big = true;
    return {};
  }
  try {
    return read_file_text(p);
  } catch (const std::exception&) {
    return {};
  }
}

std::string outcome_text(const std::vector<ImageResult>& rows) {
  if (rows.size() == 1) return std::string(classification_name(rows[0].classification));
  std::string s = std::to_string(rows.size()) + " images:";
  for (std::size_t i = 0; i < rows.size(); ++i) s += (i ? ", " : " ") + std::string(classification_name(rows[i].classification));
  return s;
}

// In the worker: run the job, hand the rows over in result.json. Never returns.
[[noreturn]] void worker_main(RomProcessor& proc, const Job& job, const std::string& fingerprint,
                              const JobOptions& opt) {
  const fs::path log = job.dir / "worker.log";
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  try {
    std::vector<ImageResult> rows = proc.process(job.bytes, job.name, job.dir, opt);
    if (rows.empty()) throw std::runtime_error("the job returned no row");
    if (rows.size() > kMaxRowsPerRom) rows.resize(kMaxRowsPerRom);
    write_file_atomic(job.dir / "result.json", result_json(fingerprint, job.sha256, rows));
    ::_exit(0);
  } catch (const std::exception& e) {
    try {
      write_file_atomic(job.dir / "worker.error", e.what());
    } catch (...) {
    }
    ::_exit(3);
  } catch (...) {
    ::_exit(4);
  }
}

}  // namespace

std::vector<InputFile> collect_inputs(const std::vector<std::string>& inputs, std::vector<std::string>* skipped) {
  std::vector<InputFile> out;
  for (const std::string& in : inputs) {
    const fs::path p(in);
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw std::runtime_error(in + ": no such file or folder");
    if (fs::is_directory(st)) {
      std::vector<InputFile> found;
      const fs::path base = p.filename().empty() ? p.parent_path().filename() : p.filename();
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) throw std::runtime_error(in + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) throw std::runtime_error(in + ": " + ec.message());
        const fs::directory_entry& e = *it;
        const std::string rel = (base / fs::relative(e.path(), p, ec)).generic_string();
        if (e.is_symlink(ec) || !e.is_regular_file(ec)) {
          if (!e.is_directory(ec) && skipped) skipped->push_back(rel + ": not a regular file");
          continue;
        }
        if (is_data_file(e.path())) {
          if (skipped) skipped->push_back(rel + ": data file");
          continue;
        }
        found.push_back({e.path(), rel});
        if (out.size() + found.size() > kMaxInputFiles)
          throw std::runtime_error(in + ": more than " + std::to_string(kMaxInputFiles) + " files");
      }
      std::sort(found.begin(), found.end(), [](const InputFile& a, const InputFile& b) { return a.display < b.display; });
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back({p, in});
    }
  }
  if (skipped) std::sort(skipped->begin(), skipped->end());
  return out;
}

BatchResult run_batch(const BatchOptions& opt, RomProcessor& proc, const std::function<void(const Progress&)>& on_progress) {
  const auto t0 = Clock::now();
  BatchResult res;
  const std::vector<InputFile> files = collect_inputs(opt.inputs, &res.skipped);
  res.files = files.size();
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw std::runtime_error(opt.out_dir.string() + ": cannot create the output folder: " + ec.message());
  const std::string fingerprint = proc.fingerprint(opt.job);

  // Read and hash every file; group by content.
  std::vector<Job> jobs;
  std::map<std::string, std::size_t> by_sha;
  std::vector<std::optional<ImageResult>> unreadable(files.size());
  std::vector<std::size_t> job_of(files.size(), SIZE_MAX);
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::vector<std::uint8_t> bytes;
    const auto size = fs::file_size(files[i].path, ec);
    if (ec) {
      unreadable[i] = failure_row(Classification::no_x86_image, "cannot read the file: " + ec.message(), 0, false);
      continue;
    }
    if (size > kMaxRomBytes) {
      unreadable[i] = failure_row(Classification::no_x86_image,
                                  "file of " + std::to_string(size) + " bytes is larger than any option ROM (limit " +
                                      std::to_string(kMaxRomBytes) + ")",
                                  0, false);
      continue;
    }
    try {
      bytes = read_file_bytes(files[i].path);
    } catch (const std::exception& e) {
      unreadable[i] = failure_row(Classification::no_x86_image, std::string("cannot read the file: ") + e.what(), 0, false);
      continue;
    }
    std::string sha = sha256_hex(bytes);
    auto [it, fresh] = by_sha.emplace(sha, jobs.size());
    if (fresh) {
      Job j;
      j.sha256 = sha;
      j.bytes = std::move(bytes);
      j.name = files[i].path.filename().string();
      j.dir = opt.out_dir / sha;
      jobs.push_back(std::move(j));
    }
    jobs[it->second].files.push_back(i);
    job_of[i] = it->second;
  }
  res.roms = jobs.size();

  Progress prog;
  prog.total = jobs.size();
  auto report = [&](const Job& j, bool cached) {
    ++prog.done;
    prog.elapsed_s = since(t0);
    prog.file = files[j.files.front()].display;
    prog.outcome = outcome_text(j.rows);
    prog.from_cache = cached;
    if (on_progress) on_progress(prog);
  };

  // Resume: a ROM whose result.json is valid for this job is done.
  std::vector<std::size_t> todo;
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    Job& j = jobs[k];
    bool too_big = false;
    const std::string text = read_small(j.dir / "result.json", kMaxResultBytes, too_big);
    std::string why;
    if (!text.empty()) {
      if (auto rows = parse_result_json(text, fingerprint, j.sha256, why)) {
        j.rows = std::move(*rows);
        j.cached = true;
        ++res.resumed;
        ++prog.resumed;
        report(j, true);
        continue;
      }
    }
    todo.push_back(k);
  }

  const unsigned ncpu = std::max(1u, std::thread::hardware_concurrency());
  const unsigned nworkers = std::max(1u, opt.jobs ? opt.jobs : ncpu);
  const double watchdog = opt.watchdog_s > 0 ? opt.watchdog_s : 3 * std::max(0.0, opt.job.timeout_s) + 10;

  // SIGCHLD blocked and at its default action, so sigtimedwait() can wait for it.
  sigset_t chld, old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  struct sigaction dfl {}, old_act {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGCHLD, &dfl, &old_act);
  ::sigprocmask(SIG_BLOCK, &chld, &old_mask);

  std::vector<Worker> running;
  std::size_t next = 0;
  auto finish = [&](const Worker& w, int status) {
    Job& j = jobs[w.job];
    const double secs = since(w.start);
    j.rows.clear();
    if (w.killed) {
      char b[64];
      std::snprintf(b, sizeof b, "%.0f", watchdog);
      j.rows.push_back(failure_row(Classification::timeout,
                                   std::string("worker killed by the watchdog after ") + b + " s", secs, opt.job.timestamps));
    } else if (WIFSIGNALED(status)) {
      const int sig = WTERMSIG(status);
      const char* name = ::strsignal(sig);
      j.rows.push_back(failure_row(Classification::crashed,
                                   "worker killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")",
                                   secs, opt.job.timestamps));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      bool too_big = false;
      const std::string text = read_small(j.dir / "result.json", kMaxResultBytes, too_big);
      std::string why = too_big ? "larger than " + std::to_string(kMaxResultBytes) + " bytes" : "missing or empty";
      std::optional<std::vector<ImageResult>> rows;
      if (!text.empty()) rows = parse_result_json(text, fingerprint, j.sha256, why);
      if (rows) {
        j.rows = std::move(*rows);
      } else {
        fs::remove(j.dir / "result.json", ec);
        j.rows.push_back(failure_row(Classification::crashed, "worker result unreadable: " + why, secs, opt.job.timestamps));
      }
    } else {
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::string detail = "worker exited with status " + std::to_string(code);
      if (code == 3) {
        bool too_big = false;
        const std::string msg = read_small(j.dir / "worker.error", 4096, too_big);
        detail = "job failed: " + (msg.empty() ? std::string("no message") : msg);
      }
      j.rows.push_back(failure_row(Classification::crashed, detail, secs, opt.job.timestamps));
    }
    fs::remove(j.dir / "worker.error", ec);
    if (fs::exists(j.dir / "worker.log", ec) && fs::file_size(j.dir / "worker.log", ec) == 0)
      fs::remove(j.dir / "worker.log", ec);
    if (j.rows.front().classification == Classification::crashed ||
        (w.killed && j.rows.front().classification == Classification::timeout)) {
      ++res.failed;
      ++prog.failed;
    }
    ++res.processed;
    report(j, false);
  };

  try {
    while (next < todo.size() || !running.empty()) {
      while (running.size() < nworkers && next < todo.size()) {
        const std::size_t k = todo[next++];
        Job& j = jobs[k];
        fs::create_directories(j.dir, ec);
        if (ec) throw std::runtime_error(j.dir.string() + ": cannot create: " + ec.message());
        fs::remove(j.dir / "result.json", ec);
        Worker w;
        w.job = k;
        w.start = Clock::now();
        w.deadline = w.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(watchdog));
        const pid_t parent = ::getpid();
        // Unflushed stdio buffers would be inherited and written again by the worker.
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
        if (pid == 0) {
          // A worker never outlives the batch: killed with it, even by SIGKILL.
          ::prctl(PR_SET_PDEATHSIG, SIGKILL);
          if (::getppid() != parent) ::_exit(5);
          ::sigaction(SIGCHLD, &old_act, nullptr);
          ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
          worker_main(proc, j, fingerprint, opt.job);
        }
        w.pid = pid;
        running.push_back(w);
      }
      bool reaped = false;
      for (std::size_t i = 0; i < running.size();) {
        int status = 0;
        const pid_t r = ::waitpid(running[i].pid, &status, WNOHANG);
        if (r == running[i].pid) {
          const Worker w = running[i];
          running.erase(running.begin() + std::ptrdiff_t(i));
          finish(w, status);
          reaped = true;
        } else {
          ++i;
        }
      }
      if (reaped) continue;
      auto wake = Clock::now() + std::chrono::milliseconds(250);
      for (Worker& w : running) {
        if (!w.killed && Clock::now() >= w.deadline) {
          ::kill(w.pid, SIGKILL);
          w.killed = true;
        }
        if (!w.killed) wake = std::min(wake, w.deadline);
      }
      const auto left = std::max<Clock::duration>(wake - Clock::now(), std::chrono::milliseconds(1));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{};
      ts.tv_sec = time_t(ns / 1'000'000'000);
      ts.tv_nsec = long(ns % 1'000'000'000);
      (void)::sigtimedwait(&chld, nullptr, &ts);
    }
  } catch (...) {
    for (Worker& w : running) {
      ::kill(w.pid, SIGKILL);
      int st = 0;
      ::waitpid(w.pid, &st, 0);
    }
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    ::sigaction(SIGCHLD, &old_act, nullptr);
    throw;
  }
  // A SIGCHLD left pending is consumed before the mask is restored.
  timespec zero{};
  while (::sigtimedwait(&chld, nullptr, &zero) > 0) {
  }
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGCHLD, &old_act, nullptr);

  // Seconds as the summaries write them (milliseconds), so rows and files agree.
  for (Job& j : jobs)
    for (ImageResult& r : j.rows) r.seconds = std::isfinite(r.seconds) && r.seconds > 0 ? std::round(r.seconds * 1000) / 1000 : 0;
  // Rows: per file in input order (folders sorted), then by image.
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (unreadable[i]) {
      res.rows.push_back({files[i].display, "", *unreadable[i]});
      continue;
    }
    const Job& j = jobs[job_of[i]];
    for (const ImageResult& r : j.rows) res.rows.push_back({files[i].display, j.sha256, r});
  }
  res.seconds = since(t0);
  write_file_atomic(opt.out_dir / "summary.csv", summary_csv(res.rows));
  write_file_atomic(opt.out_dir / "summary.json", summary_json(res, opt.job));
  return res;
}

}  // namespace gpuinit::batch

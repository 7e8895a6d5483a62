// Load + validate a generated init sequence of N ops (default 1,000,000): prints ops/s for
// the whole loader and its stages. --reference also times valijson over every op (the
// path check_schema replaces for ops), --trace times a trace of N events.
// Usage: bench_format [--ops N] [--repeat R] [--reference] [--trace]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "generate.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/format/schema_check.hpp"
#include "gpuinit/format/semantic_check.hpp"

using namespace gpuinit;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Best wall time and best CPU time of `repeat` runs. On a shared machine CPU time is the
// steadier measure; both are printed.
struct Times {
  double wall = 1e100, cpu = 1e100;
};
template <class Fn>
Times best_of(int repeat, Fn&& fn) {
  Times best;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = Clock::now();
    const std::clock_t c0 = std::clock();
    fn();
    best.cpu = std::min(best.cpu, double(std::clock() - c0) / CLOCKS_PER_SEC);
    best.wall = std::min(best.wall, seconds_since(t0));
  }
  return best;
}

void line(const char* what, std::size_t n, Times t) {
  std::printf("%-34s wall %8.3f s %11.0f ops/s   cpu %8.3f s %11.0f ops/s\n", what, t.wall, double(n) / t.wall, t.cpu,
              double(n) / t.cpu);
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1000000;
  int repeat = 3;
  bool reference = false, trace = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--ops") && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reference")) reference = true;
    else if (!std::strcmp(argv[i], "--trace")) trace = true;
    else {
      std::fprintf(stderr, "usage: bench_format [--ops N] [--repeat R] [--reference] [--trace]\n");
      return 2;
    }
  }
  gen::Rng rng(42);
  const InitSequence seq = gen::sequence(rng, n);
  const std::string text = write_sequence(seq);
  std::printf("sequence: %zu ops, %.1f MiB of JSON\n", seq.ops.size(), double(text.size()) / (1 << 20));

  bool ok = true;
  const Times load = best_of(repeat, [&] { ok = load_sequence(text).ok() && ok; });
  if (!ok) {
    std::fprintf(stderr, "bench_format: the generated sequence did not validate\n");
    return 1;
  }
  line("load_sequence (all stages)", seq.ops.size(), load);

  nlohmann::json doc;
  line("  parse JSON", seq.ops.size(), best_of(repeat, [&] { doc = nlohmann::json::parse(text); }));
  line("  schema (skeleton+hand-written)", seq.ops.size(),
       best_of(repeat, [&] { ok = check_schema(SchemaId::sequence, doc).empty() && ok; }));
  InitSequence back;
  line("  from_json", seq.ops.size(), best_of(repeat, [&] { back = doc.get<InitSequence>(); }));
  line("  semantic checks", seq.ops.size(),
       best_of(repeat, [&] { ok = check_sequence_semantics(back).empty() && ok; }));
  line("write_sequence", seq.ops.size(), best_of(repeat, [&] { (void)write_sequence(seq); }));
  if (reference)
    line("  schema, valijson over every op", seq.ops.size(),
         best_of(1, [&] { ok = check_schema_reference(SchemaId::sequence, doc).empty() && ok; }));
  if (trace) {
    const Trace t = gen::trace(rng, n);
    const std::string tt = write_trace(t);
    line("load_trace", t.events.size(), best_of(repeat, [&] { ok = load_trace(tt).ok() && ok; }));
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak resident memory: %.0f MiB\n", double(ru.ru_maxrss) / 1024);
  return ok ? 0 : 1;
}

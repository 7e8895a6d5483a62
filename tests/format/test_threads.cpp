// The schemas are parsed once per process, on first use, from whichever thread gets there
// first; loaders then run concurrently.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "generate.hpp"
#include "gpuinit/format/json_io.hpp"

using namespace gpuinit;

TEST_CASE("loaders run concurrently from the first call on") {
  gen::Rng rng(7);
  const std::string seq = write_sequence(gen::sequence(rng, 200));
  const std::string map = write_regmap(gen::regmap(rng, 20));
  const std::string trace = write_trace(gen::trace(rng, 200));
  std::string bad = seq;
  bad.replace(bad.find("\"width\":"), 8, "\"width\":1");  // 18, 116, 132, 164: never a width
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!load_sequence(seq).ok() || !load_regmap(map).ok() || !load_trace(trace).ok()) ++failures;
        if (load_sequence(bad).ok()) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
}

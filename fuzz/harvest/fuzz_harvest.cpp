// The harvest parsers over arbitrary bytes: the HTML scanner and both page parsers, the
// robots.txt parser and the zip reader. No crash, no hang, no read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gpuinit/harvest/http.hpp"
#include "gpuinit/harvest/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gpuinit::harvest;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)find_tags(text, "a");
  (void)find_tags(text, "form");
  try {
    (void)parse_tpu_listing(text, "http://127.0.0.1:1/vgabios/?model=x");
  } catch (const MarkupError&) {
  }
  try {
    (void)parse_tpu_detail(text, "http://127.0.0.1:1/vgabios/1/x");
  } catch (const MarkupError&) {
  }
  (void)parse_robots(text, "gpu-init");
  std::string err;
  (void)read_zip({data, size}, err);
  return 0;
}

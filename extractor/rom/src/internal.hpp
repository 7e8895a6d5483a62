// Shared between the parser's translation units; not installed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "gpuinit/rom/rom.hpp"

namespace gpuinit::rom::detail {

[[nodiscard]] std::string hex(std::uint64_t v, int digits = 0);  // "0x1a2", zero-padded to digits

// Collects diagnostics, at most kMaxDiagnostics of them, so a hostile file cannot make the
// report grow without bound.
class Diags {
 public:
  explicit Diags(std::vector<Diagnostic>& out) : out_(out) {}
  void add(Severity s, std::string name, std::uint64_t offset, std::string message);

 private:
  std::vector<Diagnostic>& out_;
};

// Vendor tables of the in-chain x86 images: AtomBIOS, ATI legacy, NVIDIA BIT/BMP, Intel VBT.
void find_tables(const Bytes& b, RomInfo& info, Diags& d);

}  // namespace gpuinit::rom::detail

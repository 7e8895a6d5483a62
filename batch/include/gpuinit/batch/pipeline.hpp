// The real "process one ROM" job: info -> extract -> reduce -> validate.
//
// info: rom::parse_rom over the file, written as info.json. Rows: one per in-chain x86
// image (PCIR code type 0, or an ISA ROM without PCIR); a ROM with none gets one row:
// `efi-only` (only EFI images), `fcode-only` (only Open Firmware images), or
// `no-x86-image` (no option ROM image at all, or other code types), naming what it holds.
// extract: each x86 image runs in the virtual PC against SpinBreaker(GenericModel) with
// VRAM windows sized from the card's BARs; the trace goes to image<N>.trace.jsonl. PCI
// images are classified by how the run stopped; ISA images (no PCIR) run too but are
// classified `not-pci`, with the stop in the `run` column.
// reduce: image<N>.seq.json. validate: the sequence read back through the schema and
// semantic checks; problems go to image<N>.validate.txt.
#pragma once
#include "gpuinit/batch/batch.hpp"

namespace gpuinit::batch {

class PipelineProcessor final : public RomProcessor {
 public:
  // write_traces = false leaves the raw traces out (they can be large); the counts stay.
  explicit PipelineProcessor(bool write_traces = true) : write_traces_(write_traces) {}
  [[nodiscard]] std::vector<ImageResult> process(std::span<const std::uint8_t> rom, std::string_view name,
                                                 const std::filesystem::path& out_dir, const JobOptions& opt) override;
  [[nodiscard]] std::string fingerprint(const JobOptions& opt) const override;

 private:
  bool write_traces_;
};

}  // namespace gpuinit::batch

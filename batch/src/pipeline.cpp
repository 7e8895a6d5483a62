#include "gpuinit/batch/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "gpuinit/devices/generic_model.hpp"
#include "gpuinit/devices/spin_breaker.hpp"
#include "gpuinit/format/file_io.hpp"
#include "gpuinit/format/hash.hpp"
#include "gpuinit/format/json_io.hpp"
#include "gpuinit/reduce/reduce.hpp"
#include "gpuinit/rom/rom.hpp"
#include "gpuinit/rom/rom_json.hpp"
#include "gpuinit/version.hpp"
#include "gpuinit/x86/pc.hpp"

namespace gpuinit::batch {

namespace {

std::string now_rfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

Classification from_stop(x86::PcStop s) {
  switch (s) {
    case x86::PcStop::completed: return Classification::completed;
    case x86::PcStop::budget: return Classification::budget;
    case x86::PcStop::timeout: return Classification::timeout;
    case x86::PcStop::halted: return Classification::halted;
    case x86::PcStop::boot_request: return Classification::halted;  // INT 18h/19h: POST handed over
    case x86::PcStop::invalid_opcode: return Classification::invalid_opcode;
    case x86::PcStop::triple_fault: return Classification::fault;
    case x86::PcStop::runaway: return Classification::fault;
    case x86::PcStop::unhandled_fault: return Classification::fault;
    case x86::PcStop::bad_image: return Classification::fault;
  }
  return Classification::fault;
}

// True when the image's entry (offset 3, through a near or short jump there) leads into
// zero-filled bytes: a ROM whose legacy code was stripped (EFI GOP ROMs with a stub image).
bool entry_is_blank(std::span<const std::uint8_t> code) {
  if (code.size() < 6) return false;
  if (code[3] == 0 && code[4] == 0 && code[5] == 0) return true;  // no entry code at all
  std::size_t at = 3;
  if (code[3] == 0xE9) at = std::size_t((6 + (code[4] | code[5] << 8)) & 0xFFFF);
  else if (code[3] == 0xEB) at = std::size_t(5 + std::int8_t(code[4]));
  constexpr std::size_t kBlank = 32;
  if (at + kBlank > code.size()) return false;
  for (std::size_t i = 0; i < kBlank; ++i)
    if (code[at + i] != 0) return false;
  return true;
}

std::string describe_chain(const rom::RomInfo& info) {
  std::string s;
  for (const rom::Image& im : info.images) {
    if (!s.empty()) s += ", ";
    s += std::string(rom::code_type_name(im.code_type));
    if (!im.in_chain) s += " (after the chain)";
  }
  return s;
}

}  // namespace

std::string PipelineProcessor::fingerprint(const JobOptions& opt) const {
  // Bump kRevision when the job changes what it writes for the same inputs.
  constexpr int kRevision = 12;
  return std::string("pipeline/") + kToolVersion + "." + std::to_string(kRevision) + "/max=" + std::to_string(opt.max_instructions) +
         "/timeout=" + std::to_string(opt.timeout_s) + "/ns=" + std::to_string(opt.ns_per_instruction) + (write_traces_ ? "/traces" : "/no-traces") +
         "/spin=" + std::to_string(kDefaultSpinThreshold);
}

std::vector<ImageResult> PipelineProcessor::process(std::span<const std::uint8_t> bytes, std::string_view name,
                                                    const std::filesystem::path& dir, const JobOptions& opt) {
  namespace fs = std::filesystem;
  const rom::RomInfo info = rom::parse_rom(bytes);
  write_file_atomic(dir / "info.json", rom::to_json(info, name).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

  std::vector<ImageResult> rows;
  std::vector<std::size_t> x86;
  bool any_efi = false, any_fcode = false, any_other = false;
  for (std::size_t i = 0; i < info.images.size(); ++i) {
    const rom::Image& im = info.images[i];
    if (!im.in_chain) continue;
    if (!im.pcir || (im.code_type && *im.code_type == 0)) x86.push_back(i);
    else if (im.code_type && *im.code_type == 3) any_efi = true;
    else if (im.code_type && *im.code_type == 1) any_fcode = true;
    else any_other = true;
  }
  if (x86.empty()) {
    ImageResult r;
    if (!info.images.empty()) {
      r.vendor_id = info.images.front().vendor_id;
      r.device_id = info.images.front().device_id;
    }
    if (info.images.empty()) {
      r.classification = Classification::no_x86_image;
      r.detail = "no 0x55AA option ROM image";
      for (const auto& d : info.diagnostics)
        if (d.severity == rom::Severity::error) {
          r.detail += ": " + d.message;
          break;
        }
    } else if (any_efi && !any_fcode && !any_other) {
      r.classification = Classification::efi_only;
      r.detail = "images: " + describe_chain(info);
    } else if (any_fcode && !any_efi && !any_other) {
      r.classification = Classification::fcode_only;
      r.detail = "images: " + describe_chain(info);
    } else {
      r.classification = Classification::no_x86_image;
      r.detail = "images: " + describe_chain(info);
    }
    rows.push_back(std::move(r));
    return rows;
  }

  const std::string sha256 = sha256_hex(bytes), sha1 = sha1_hex(bytes);
  for (std::size_t idx : x86) {
    const auto t0 = std::chrono::steady_clock::now();
    const rom::Image& im = info.images[idx];
    ImageResult r;
    r.image = int(idx);
    r.vendor_id = im.vendor_id;
    r.device_id = im.device_id;
    const std::uint64_t off = std::min<std::uint64_t>(im.offset, bytes.size());
    const std::uint64_t len = std::min<std::uint64_t>(im.length ? im.length : bytes.size() - off, bytes.size() - off);
    const std::span<const std::uint8_t> code = bytes.subspan(off, len);

    x86::PcConfig cfg;
    cfg.max_instructions = opt.max_instructions;
    cfg.timeout_s = opt.timeout_s;
    cfg.ns_per_instruction = std::max<std::uint64_t>(1, opt.ns_per_instruction);
    cfg.rom_chip = bytes;  // the whole dump: what the card's ROM chip holds
    const std::unique_ptr<DeviceModel> model = x86::vendor_rom_model(code, cfg);
    x86::PcResult run = x86::run_option_rom(code, cfg, *model);
    run.trace.header.source = "extract:" + std::string(name) + "#image" + std::to_string(idx);
    r.instructions = run.instructions;
    for (const TraceEvent& e : run.trace.events)
      if (e.kind == EventKind::access) ++r.accesses;
    const Classification stop = from_stop(run.stop);
    if (im.pcir) {
      r.classification = stop;
      r.detail = run.ok() ? std::string() : run.message;
    } else {
      r.classification = Classification::not_pci;
      r.run = std::string(classification_name(stop));
      r.detail = "ISA ROM (no PCIR), run with the PCI environment" + (run.ok() ? std::string() : ": " + run.message);
    }
    if (run.stop == x86::PcStop::invalid_opcode && entry_is_blank(code))
      r.detail += "; the entry leads into zero-filled bytes: the image carries no legacy init code";
    if (run.truncated) r.detail += (r.detail.empty() ? "" : "; ") + std::string("stopped at the event budget");
    const std::string stem = "image" + std::to_string(idx);
    if (write_traces_) write_file_atomic(dir / (stem + ".trace.jsonl"), write_trace(run.trace));

    reduce::Options ro;
    // Without timestamps a fixed, schema-valid time keeps outputs byte-identical.
    ro.generated = opt.timestamps ? now_rfc3339() : "1970-01-01T00:00:00Z";
    reduce::Result red = reduce::reduce_trace(run.trace, ro);
    red.sequence.metadata.source_rom_sha256 = sha256;
    red.sequence.metadata.source_rom_sha1 = sha1;
    // The reducer names its counters "reduce.x"; the v1.0 schema allows [a-z][a-z0-9_]*.
    std::map<std::string, std::uint64_t> counters;
    for (const auto& [name, v] : red.sequence.metadata.counters) {
      std::string k = name;
      for (char& c : k)
        if (c == '.') c = '_';
      counters[k] = v;
    }
    red.sequence.metadata.counters = std::move(counters);
    r.ops_raw = red.stats.events_in;
    r.ops_reduced = red.stats.ops_out;
    const std::string seq_text = write_sequence(red.sequence);
    write_file_atomic(dir / (stem + ".seq.json"), seq_text);

    const auto back = load_sequence(seq_text);
    if (back.ok()) {
      r.validation = "ok";
      fs::remove(dir / (stem + ".validate.txt"));
    } else {
      r.validation = "invalid";
      std::string text;
      for (const auto& p : back.problems) text += p.str() + "\n";
      write_file_atomic(dir / (stem + ".validate.txt"), text);
    }
    r.seconds = opt.timestamps ? std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() : 0;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace gpuinit::batch

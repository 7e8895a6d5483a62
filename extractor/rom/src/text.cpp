// Human-readable form of RomInfo, laid out like `lspci -v`: a header line per image and
// indented detail lines.
#include <sstream>

#include "internal.hpp"

namespace gpuinit::rom {
namespace {
using detail::hex;

void image_text(std::ostringstream& o, const Image& img, std::size_t index) {
  o << "Image " << index << " at " << hex(img.offset, 4) << ": " << code_type_name(img.code_type);
  if (img.vendor_id) {
    o << ", " << hex(*img.vendor_id, 4).substr(2) << ":" << hex(*img.device_id, 4).substr(2);
    auto name = vendor_name(*img.vendor_id);
    o << " [" << (name.empty() ? "unknown vendor" : name) << "]";
    o << ", class " << hex(*img.class_code, 6).substr(2);
  } else {
    o << " (ISA, no PCI data structure)";
  }
  o << ", " << img.length << " bytes" << (img.last ? ", last" : "") << (img.in_chain ? "" : ", after the chain") << "\n";
  if (img.pcir) {
    const Pcir& p = *img.pcir;
    o << "\t" << p.signature << " at " << hex(*img.pcir_offset, 4) << ": revision " << unsigned(p.revision) << ", length "
      << p.length << ", code type " << hex(p.code_type, 2) << ", code revision " << hex(p.code_revision, 4) << ", indicator "
      << hex(p.indicator, 2) << ", image length " << p.image_length_512 << " x 512";
    if (p.max_runtime_512) o << ", max runtime " << p.max_runtime_512 << " x 512";
    if (p.config_utility_ptr && *p.config_utility_ptr) o << ", config utility " << hex(*p.config_utility_ptr, 4);
    if (p.dmtf_clp_ptr && *p.dmtf_clp_ptr) o << ", DMTF CLP " << hex(*p.dmtf_clp_ptr, 4);
    o << "\n";
    if (!p.device_list.empty()) {
      o << "\tDevice list:";
      for (auto id : p.device_list) o << " " << hex(id, 4).substr(2);
      o << "\n";
    }
  }
  if (img.npde)
    o << "\tNPDE at " << hex(img.npde->offset, 4) << ": revision " << hex(img.npde->revision, 4) << ", image length "
      << img.npde->image_length_512 << " x 512, flags " << hex(img.npde->flags, 2) << "\n";
  if (img.x86) {
    o << "\tInit size " << unsigned(img.init_size_512) * 512 << " bytes, entry " << hex(img.x86->opcode, 2);
    if (img.x86->target) o << " (jmp " << hex(*img.x86->target, 4) << ")";
    o << (img.ati ? ", ATI signature" : "") << "\n";
  }
  if (img.efi) {
    const EfiHeader& e = *img.efi;
    o << "\tEFI: init size " << e.init_size_512 * 512u << " bytes, subsystem " << efi_subsystem_name(e.subsystem) << " ("
      << e.subsystem << "), machine " << efi_machine_name(e.machine) << " (" << hex(e.machine, 4) << "), "
      << (e.compression == 0 ? "uncompressed" : e.compression == 1 ? "EFI-compressed" : "compression " + std::to_string(e.compression))
      << ", PE image at " << hex(e.pe_offset, 4) << (e.pe_mz == true ? " (MZ)" : "") << "\n";
  }
  if (img.fcode) {
    const FcodeHeader& f = *img.fcode;
    o << "\tFCode at " << hex(f.offset, 4) << ": start token " << hex(f.start_token, 2) << ", length " << hex(f.length)
      << ", checksum " << hex(f.checksum, 4)
      << (f.checksum_ok ? (*f.checksum_ok ? " ok" : " BAD") : "") << "\n";
  }
  o << "\tChecksums:";
  for (const auto& c : img.checksums) {
    o << " " << c.name << " " << (c.ok ? "ok" : "bad") << " (sum " << hex(c.sum, 2) << " over " << hex(c.length);
    if (!c.ok && c.fix_offset) o << "; " << hex(*c.fix_value, 2) << " at " << hex(*c.fix_offset) << " fixes it";
    o << ")";
  }
  o << "\n";
}

void table_text(std::ostringstream& o, const Table& t) {
  o << "\t" << t.kind << " at " << hex(t.offset, 4) << " (image " << t.image << ")";
  if (!t.version.empty()) o << ": version " << t.version;
  if (t.kind == "atombios") {
    o << ", " << t.entries.size() << " command tables at " << hex(t.directory_offset.value_or(0), 4) << ", "
      << t.data_entries.size() << " data tables at " << hex(t.data_directory_offset.value_or(0), 4);
  } else if (t.kind == "nvidia-bit") {
    o << ", tokens:";
    for (const auto& e : t.entries) {
      const char c = static_cast<char>(e.index);
      o << " " << (c >= 0x21 && c < 0x7F ? std::string(1, c) : hex(e.index, 2)) << "@" << hex(e.offset, 4);
    }
  } else if (t.kind == "intel-bdb") {
    o << ", " << t.entries.size() << " blocks:";
    for (const auto& e : t.entries) o << " " << e.index;
  }
  o << "\n";
}

}  // namespace

std::string to_text(const RomInfo& info, std::string_view file) {
  std::ostringstream o;
  o << file << ": " << info.size << " bytes, sha256 " << info.sha256 << ", " << info.images.size() << " image"
    << (info.images.size() == 1 ? "" : "s") << "\n";
  for (std::size_t i = 0; i < info.images.size(); ++i) image_text(o, info.images[i], i);
  if (!info.tables.empty()) {
    o << "Tables:\n";
    for (const auto& t : info.tables) table_text(o, t);
  }
  if (!info.diagnostics.empty()) {
    o << "Diagnostics:\n";
    for (const auto& d : info.diagnostics)
      o << "\t" << severity_name(d.severity) << " " << d.name << " at " << hex(d.offset) << ": " << d.message << "\n";
  }
  return o.str();
}

}  // namespace gpuinit::rom

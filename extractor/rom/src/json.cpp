// JSON form of RomInfo; field meanings are in docs/info.md.
#include <nlohmann/json.hpp>

#include "gpuinit/rom/rom_json.hpp"

namespace gpuinit::rom {
namespace {
using nlohmann::json;

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json checksum_json(const Checksum& c) {
  return {{"name", c.name}, {"start", c.start}, {"length", c.length}, {"sum", c.sum},
          {"ok", c.ok},     {"fix_offset", opt(c.fix_offset)}, {"fix_value", opt(c.fix_value)}};
}

json pcir_json(const Pcir& p) {
  return {{"signature", p.signature},
          {"vendor_id", p.vendor_id},
          {"device_id", p.device_id},
          {"device_list_ptr", p.device_list_ptr},
          {"length", p.length},
          {"revision", p.revision},
          {"class_code", p.class_code},
          {"image_length_512", p.image_length_512},
          {"code_revision", p.code_revision},
          {"code_type", p.code_type},
          {"indicator", p.indicator},
          {"last", (p.indicator & 0x80) != 0},
          {"max_runtime_512", p.max_runtime_512},
          {"config_utility_ptr", opt(p.config_utility_ptr)},
          {"dmtf_clp_ptr", opt(p.dmtf_clp_ptr)},
          {"device_list", p.device_list}};
}

json image_json(const Image& img, std::size_t index) {
  json checks = json::array();
  for (const auto& c : img.checksums) checks.push_back(checksum_json(c));
  const std::uint64_t init = img.efi ? std::uint64_t{img.efi->init_size_512} * 512 : std::uint64_t{img.init_size_512} * 512;
  json j = {{"index", index},
            {"offset", img.offset},
            {"in_chain", img.in_chain},
            {"signature", img.signature},
            {"pcir_offset", opt(img.pcir_offset)},
            {"vendor_id", opt(img.vendor_id)},
            {"vendor_name", img.vendor_id ? json(vendor_name(*img.vendor_id)) : json(nullptr)},
            {"device_id", opt(img.device_id)},
            {"class_code", opt(img.class_code)},
            {"length", img.length},
            {"code_type", opt(img.code_type)},
            {"code_type_name", code_type_name(img.code_type)},
            {"last", img.last},
            {"init_size", init},
            {"checksum_ok", opt(img.checksum_ok)},
            {"checksums", std::move(checks)},
            {"ati", img.ati},
            {"pcir", img.pcir ? pcir_json(*img.pcir) : json(nullptr)}};
  if (img.npde)
    j["npde"] = {{"offset", img.npde->offset},
                 {"revision", img.npde->revision},
                 {"length", img.npde->length},
                 {"image_length_512", img.npde->image_length_512},
                 {"flags", img.npde->flags},
                 {"last", (img.npde->flags & 0x80) != 0}};
  if (img.x86) j["x86"] = {{"entry_opcode", img.x86->opcode}, {"entry_target", opt(img.x86->target)}};
  if (img.efi)
    j["efi"] = {{"init_size_512", img.efi->init_size_512},
                {"signature", img.efi->signature},
                {"subsystem", img.efi->subsystem},
                {"subsystem_name", efi_subsystem_name(img.efi->subsystem)},
                {"machine", img.efi->machine},
                {"machine_name", efi_machine_name(img.efi->machine)},
                {"compression", img.efi->compression},
                {"pe_offset", img.efi->pe_offset},
                {"pe_mz", opt(img.efi->pe_mz)}};
  if (img.fcode)
    j["fcode"] = {{"offset", img.fcode->offset},   {"start_token", img.fcode->start_token},
                  {"format", img.fcode->format},   {"checksum", img.fcode->checksum},
                  {"length", img.fcode->length},   {"checksum_ok", opt(img.fcode->checksum_ok)}};
  return j;
}

json entries_json(const std::vector<TableEntry>& entries) {
  json a = json::array();
  for (const auto& e : entries)
    a.push_back({{"index", e.index},
                 {"offset", e.offset},
                 {"size", e.size},
                 {"format_revision", e.format_revision},
                 {"content_revision", e.content_revision},
                 {"in_bounds", e.in_bounds}});
  return a;
}

json table_json(const Table& t) {
  json j = {{"kind", t.kind}, {"offset", t.offset}, {"image", t.image}, {"version", t.version}};
  if (t.directory_offset) j["directory_offset"] = *t.directory_offset;
  if (t.kind != "nvidia-bmp" && t.kind != "ati-legacy" && t.kind != "intel-vbt") j["entries"] = entries_json(t.entries);
  if (t.data_directory_offset) {
    j["data_directory_offset"] = *t.data_directory_offset;
    j["data_entries"] = entries_json(t.data_entries);
  }
  if (t.subsystem_vendor_id) j["subsystem_vendor_id"] = *t.subsystem_vendor_id;
  if (t.subsystem_id) j["subsystem_id"] = *t.subsystem_id;
  return j;
}

}  // namespace

nlohmann::json to_json(const RomInfo& info, std::string_view file) {
  json images = json::array(), tables = json::array(), diags = json::array();
  for (std::size_t i = 0; i < info.images.size(); ++i) images.push_back(image_json(info.images[i], i));
  for (const auto& t : info.tables) tables.push_back(table_json(t));
  for (const auto& d : info.diagnostics)
    diags.push_back({{"name", d.name}, {"offset", d.offset}, {"severity", severity_name(d.severity)}, {"message", d.message}});
  return {{"file", file},          {"size", info.size},        {"sha256", info.sha256},
          {"is_rom", is_rom(info)}, {"chain_end", info.chain_end}, {"images", std::move(images)},
          {"tables", std::move(tables)}, {"diagnostics", std::move(diags)}};
}

}  // namespace gpuinit::rom

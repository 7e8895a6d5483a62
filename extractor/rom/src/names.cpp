// Names for numbers that appear in ROMs.
#include <algorithm>
#include <iterator>
#include <utility>

#include "gpuinit/rom/rom.hpp"

namespace gpuinit::rom {
namespace {

// PCI vendors that ship display adapters or their option ROMs (PCI-SIG assignments, plus
// 0x1234 that QEMU/Bochs use). A vendor id outside this list draws "unknown-vendor".
constexpr std::pair<std::uint16_t, std::string_view> kVendors[] = {
    {0x1002, "ATI/AMD"},          {0x1005, "Avance Logic"},    {0x100b, "National Semiconductor"},
    {0x100c, "Tseng Labs"},       {0x1013, "Cirrus Logic"},    {0x1014, "IBM"},
    {0x1022, "AMD"},              {0x1023, "Trident"},         {0x1025, "Acer"},
    {0x1028, "Dell"},             {0x102b, "Matrox"},          {0x102c, "Chips and Technologies"},
    {0x1033, "NEC"},              {0x1039, "SiS"},             {0x103c, "HP"},
    {0x1043, "ASUS"},             {0x1045, "OPTi"},            {0x1048, "ELSA"},
    {0x104a, "STMicroelectronics"}, {0x104c, "Texas Instruments"}, {0x105d, "Number Nine"},
    {0x1092, "Diamond Multimedia"}, {0x10b9, "ALi"},           {0x10c8, "NeoMagic"},
    {0x10de, "NVIDIA"},           {0x10ea, "Intergraphics"},   {0x1106, "VIA"},
    {0x1142, "Alliance"},         {0x1163, "Rendition"},       {0x11ae, "Mitsubishi"},
    {0x121a, "3dfx"},             {0x1234, "QEMU/Bochs"},      {0x126f, "Silicon Motion"},
    {0x12d2, "NVIDIA/SGS-Thomson"}, {0x1414, "Microsoft"},     {0x1458, "Gigabyte"},
    {0x1462, "MSI"},              {0x148c, "Tul/PowerColor"},  {0x14e4, "Broadcom"},
    {0x15ad, "VMware"},           {0x1682, "XFX"},             {0x174b, "PC Partner/Sapphire"},
    {0x17aa, "Lenovo"},           {0x18ca, "XGI"},             {0x19da, "Zotac"},
    {0x1a03, "ASPEED"},           {0x1af4, "Red Hat (virtio)"}, {0x1b36, "Red Hat (QEMU)"},
    {0x1d17, "Zhaoxin"},          {0x1da2, "Sapphire"},        {0x1ed5, "Moore Threads"},
    {0x3842, "EVGA"},             {0x3d3d, "3Dlabs"},          {0x5333, "S3"},
    {0x5853, "XenSource"},        {0x80ee, "VirtualBox"},      {0x8086, "Intel"},
    {0x106b, "Apple"},            {0x1b21, "ASMedia"},         {0x1d0f, "Amazon"},
};

}  // namespace

std::string_view vendor_name(std::uint16_t vendor_id) {
  auto it = std::find_if(std::begin(kVendors), std::end(kVendors), [&](const auto& v) { return v.first == vendor_id; });
  return it == std::end(kVendors) ? std::string_view{} : it->second;
}

std::string_view code_type_name(std::optional<std::uint8_t> code_type) {
  if (!code_type) return "x86";  // an ISA ROM: x86 code without a PCI data structure
  switch (*code_type) {
    case 0x00: return "x86";
    case 0x01: return "open-firmware";
    case 0x02: return "hp-pa-risc";
    case 0x03: return "efi";
    case 0xE0: return "nvidia-firmware";
    default: return "unknown";
  }
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "error";
}

std::string_view efi_machine_name(std::uint16_t machine) {
  switch (machine) {
    case 0x014C: return "IA32";
    case 0x0200: return "IA64";
    case 0x0EBC: return "EBC";
    case 0x8664: return "X64";
    case 0x01C2: return "ARM";
    case 0xAA64: return "AArch64";
    case 0x5032: return "RISCV32";
    case 0x5064: return "RISCV64";
    case 0x5128: return "RISCV128";
    case 0x6232: return "LoongArch32";
    case 0x6264: return "LoongArch64";
    default: return "unknown";
  }
}

std::string_view efi_subsystem_name(std::uint16_t subsystem) {
  switch (subsystem) {
    case 10: return "application";
    case 11: return "boot-service-driver";
    case 12: return "runtime-driver";
    case 13: return "rom";
    default: return "unknown";
  }
}

}  // namespace gpuinit::rom

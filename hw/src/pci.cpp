// libpci is C without an extern "C" guard and defines u8/u16/byte/word globally: it stays
// inside this one file.
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern "C" {
#include <pci/pci.h>
}

#include "gpuinit/hw/pci.hpp"

namespace gpuinit::hw {
namespace fs = std::filesystem;

namespace {

// libpci reports fatal errors through a callback that must not return. We get back to
// find_functions() with longjmp and throw from there. Only trivially destructible state
// lives between setjmp and the libpci calls.
thread_local std::jmp_buf* t_jump = nullptr;
thread_local char t_error[512];

void on_error(char* msg, ...) {
  va_list ap;
  va_start(ap, msg);
  std::vsnprintf(t_error, sizeof t_error, msg, ap);
  va_end(ap);
  std::longjmp(*t_jump, 1);
}
void on_warning(char*, ...) {}
void on_debug(char*, ...) {}

std::string read_small(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<PciBar> parse_resource_file(const std::string& text) {
  // Linux IORESOURCE flags.
  constexpr std::uint64_t kIo = 0x100, kMem = 0x200, kPrefetch = 0x2000, kMem64 = 0x100000;
  std::vector<PciBar> bars;
  std::istringstream in(text);
  std::string line;
  for (unsigned index = 0; index < 6 && std::getline(in, line); ++index) {
    std::istringstream ls(line);
    std::uint64_t start = 0, end = 0, flags = 0;
    ls >> std::hex >> start >> end >> flags;
    if (!ls || end < start || (start == 0 && end == 0)) continue;
    PciBar b;
    b.index = index;
    b.start = start;
    b.size = end - start + 1;
    b.prefetchable = flags & kPrefetch;
    if (flags & kIo) b.kind = BarKind::io;
    else if (flags & kMem) b.kind = (flags & kMem64) ? BarKind::mem64 : BarKind::mem32;
    else continue;
    bars.push_back(b);
  }
  return bars;
}

std::vector<PciFunction> find_functions(const fs::path& sysfs_root, const std::string& slot, const std::string& id) {
  const fs::path bus_dir = sysfs_root / "bus" / "pci";
  std::error_code ec;
  if (!fs::is_directory(bus_dir / "devices", ec))
    throw std::runtime_error(bus_dir.string() + "/devices: no such directory (is sysfs mounted?)");

  // Everything with a destructor exists before setjmp, so a longjmp from libpci's error
  // callback back into this frame skips no constructor or destructor.
  struct Raw {
    int domain, bus, dev, func;
    std::uint16_t vendor, device, sub_vendor, sub_device;
    std::uint32_t class_code;
  };
  std::vector<Raw> raw;
  constexpr std::size_t kMaxFunctions = 4096;  // more than any real host has; bounds the scan
  raw.reserve(kMaxFunctions);
  std::string path = bus_dir.string(), slot_buf = slot, id_buf = id, filter_error;
  pci_access* acc = pci_alloc();
  std::jmp_buf jump;
  t_jump = &jump;
  if (setjmp(jump)) {
    pci_cleanup(acc);
    t_jump = nullptr;
    throw std::runtime_error(std::string("libpci: ") + t_error);
  }
  acc->error = on_error;
  acc->warning = on_warning;
  acc->debug = on_debug;
  acc->method = PCI_ACCESS_SYS_BUS_PCI;
  pci_set_param(acc, const_cast<char*>("sysfs.path"), path.data());
  pci_filter filter;
  pci_filter_init(acc, &filter);
  const char* bad = nullptr;
  if (!slot_buf.empty() && (bad = pci_filter_parse_slot(&filter, slot_buf.data())))
    filter_error = "-s " + slot + ": " + bad;
  else if (!id_buf.empty() && (bad = pci_filter_parse_id(&filter, id_buf.data())))
    filter_error = "-d " + id + ": " + bad;
  if (filter_error.empty()) {
    pci_init(acc);
    pci_scan_bus(acc);
    for (pci_dev* d = acc->devices; d && raw.size() < raw.capacity(); d = d->next) {
      if (!pci_filter_match(&filter, d)) continue;
      pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS);
      raw.push_back(Raw{d->domain, d->bus, d->dev, d->func, d->vendor_id, d->device_id,
                        pci_read_word(d, PCI_SUBSYSTEM_VENDOR_ID), pci_read_word(d, PCI_SUBSYSTEM_ID),
                        std::uint32_t(pci_read_long(d, PCI_CLASS_REVISION) >> 8)});
    }
  }
  pci_cleanup(acc);
  t_jump = nullptr;
  if (!filter_error.empty()) throw std::runtime_error(filter_error);

  std::vector<PciFunction> found;
  for (const Raw& r : raw) {
    PciFunction f;
    char bdf[32];
    std::snprintf(bdf, sizeof bdf, "%04x:%02x:%02x.%d", r.domain, r.bus, r.dev, r.func);
    f.bdf = bdf;
    f.vendor = r.vendor;
    f.device = r.device;
    f.subsystem_vendor = r.sub_vendor;
    f.subsystem_device = r.sub_device;
    f.class_code = r.class_code;
    f.sysfs_dir = bus_dir / "devices" / bdf;
    found.push_back(std::move(f));
  }
  // Resources come straight from sysfs' resource file (sizes as the kernel assigned them).
  for (auto& f : found) f.bars = parse_resource_file(read_small(f.sysfs_dir / "resource"));
  return found;
}

}  // namespace gpuinit::hw

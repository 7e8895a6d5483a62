#include "fake_sysfs.hpp"

#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace {
void put(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
void put_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
}  // namespace

FakeSysfs::FakeSysfs(const std::string& bdf, std::uint16_t vendor, std::uint16_t device, std::uint64_t bar0_size,
                     std::uint64_t bar1_io_size) {
  std::random_device rd;
  root = fs::temp_directory_path() / ("gpuinit-sysfs-" + std::to_string(rd()));
  dev = root / "bus" / "pci" / "devices" / bdf;
  fs::create_directories(dev);
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%04x\n", vendor);
  put(dev / "vendor", buf);
  std::snprintf(buf, sizeof buf, "0x%04x\n", device);
  put(dev / "device", buf);
  put(dev / "class", "0x030000\n");
  put(dev / "irq", "0\n");
  std::vector<std::uint8_t> config(256, 0);
  config[0] = std::uint8_t(vendor);      // vendor id, little-endian
  config[1] = std::uint8_t(vendor >> 8);
  config[2] = std::uint8_t(device);      // device id
  config[3] = std::uint8_t(device >> 8);
  config[0x0B] = 0x03;                   // base class: display
  config[0x2C] = 0x34;                   // subsystem vendor 0x1234
  config[0x2D] = 0x12;
  put_bytes(dev / "config", config);
  // resource: BAR0 32-bit memory (IORESOURCE_MEM 0x200), BAR1 I/O (IORESOURCE_IO 0x100).
  char line[128];
  std::string res;
  std::snprintf(line, sizeof line, "0x%016llx 0x%016llx 0x%016llx\n", 0xfe000000ull,
                0xfe000000ull + bar0_size - 1, 0x40200ull);
  res += line;
  std::snprintf(line, sizeof line, "0x%016llx 0x%016llx 0x%016llx\n", 0xe000ull, 0xe000ull + bar1_io_size - 1,
                0x40101ull);
  res += line;
  for (int i = 2; i < 13; ++i) res += "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
  put(dev / "resource", res);
  put_bytes(dev / "resource0", std::vector<std::uint8_t>(bar0_size, 0));
  put_bytes(dev / "resource1", std::vector<std::uint8_t>(bar1_io_size, 0));
}

FakeSysfs::~FakeSysfs() {
  std::error_code ec;
  fs::remove_all(root, ec);
}

std::vector<std::uint8_t> FakeSysfs::file(const std::string& name) const {
  std::ifstream in(dev / name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

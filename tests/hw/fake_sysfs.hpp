// A fake sysfs tree for one PCI function: regular files stand in for the BARs (mmap works
// on them), `config` for config space. Removed when the object goes away.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

struct FakeSysfs {
  std::filesystem::path root;  // pass as --sysfs-root
  std::filesystem::path dev;   // root/bus/pci/devices/<bdf>
  FakeSysfs(const std::string& bdf, std::uint16_t vendor, std::uint16_t device, std::uint64_t bar0_size,
            std::uint64_t bar1_io_size);
  ~FakeSysfs();
  [[nodiscard]] std::vector<std::uint8_t> file(const std::string& name) const;
};

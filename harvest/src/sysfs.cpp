// The `sysfs` source: the host's own display devices' option ROMs. Writing "1" to a
// device's `rom` file enables reading it; we always write "0" afterwards.
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>

#include "gpuinit/harvest/sources.hpp"

namespace gpuinit::harvest {
namespace fs = std::filesystem;

namespace {
constexpr std::uint64_t kMaxRomBytes = 16ull << 20;

constexpr long kSysfsMagic = 0x62656572;  // statfs f_type of sysfs

// The kernel enables reading on any write to `rom` and disables it only on exactly "0\n"
// at offset 0 (pci_write_rom), so the strings are fixed.
bool write_flag(const fs::path& p, const char* v) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::size_t n = std::strlen(v);
  const bool ok = ::pwrite(fd, v, n, 0) == ssize_t(n);
  ::close(fd);
  return ok;
}

// Only a real sysfs `rom` attribute needs enabling; in a fake tree (tests) it is a plain
// file that a write would corrupt.
bool is_sysfs(const fs::path& p) {
  struct statfs st {};
  return ::statfs(p.c_str(), &st) == 0 && static_cast<long>(st.f_type) == kSysfsMagic;
}
}  // namespace

HarvestReport harvest_sysfs(RomStore& store, const fs::path& sysfs_root, const Progress& progress) {
  HarvestReport rep;
  const fs::path devices = sysfs_root / "bus" / "pci" / "devices";
  std::error_code ec;
  if (!fs::is_directory(devices, ec)) throw std::runtime_error(devices.string() + ": no such directory");
  std::vector<fs::path> displays;
  for (const auto& d : fs::directory_iterator(devices, ec)) {
    std::ifstream cls(d.path() / "class");
    std::string c;
    cls >> c;
    if (c.rfind("0x03", 0) == 0) displays.push_back(d.path());
  }
  std::sort(displays.begin(), displays.end());
  unsigned done = 0;
  for (const auto& dev : displays) {
    const std::string bdf = dev.filename().string();
    if (progress) progress(done++, unsigned(displays.size()), bdf);
    const fs::path rom = dev / "rom";
    if (!fs::exists(rom, ec)) {
      rep.fail("no-rom-file", bdf + ": has no rom file (no option ROM exposed)");
      continue;
    }
    const bool real = is_sysfs(rom);
    if (real && !write_flag(rom, "1\n")) {
      rep.fail("permission", bdf + ": cannot enable " + rom.string() + ": " + std::strerror(errno) +
                             (errno == EACCES || errno == EPERM ? " (run as root)" : ""));
      continue;
    }
    std::vector<std::uint8_t> bytes;
    {
      std::ifstream in(rom, std::ios::binary);
      char buf[65536];
      while (in && bytes.size() < kMaxRomBytes) {
        in.read(buf, sizeof buf);
        bytes.insert(bytes.end(), buf, buf + in.gcount());
      }
    }
    if (real) write_flag(rom, "0\n");
    if (bytes.empty()) {
      rep.fail("empty-rom", bdf + ": the ROM read back empty (the BAR may be disabled or shadowed)");
      continue;
    }
    ManifestEntry meta;
    meta.source = "sysfs";
    meta.source_id = bdf;
    meta.name = bdf;
    rep.account(store.add(bytes, meta), bdf);
  }
  return rep;
}

}  // namespace gpuinit::harvest

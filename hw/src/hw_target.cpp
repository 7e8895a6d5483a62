// Real PCI card target: memory BARs through mmap of sysfs resourceN, I/O BARs through
// pread/pwrite on resourceN, config space through the sysfs config file, legacy VGA ports
// through /dev/port. See hw_target.hpp for the safety rails.
#include "gpuinit/hw/hw_target.hpp"

#include "gpuinit/devices/register_namer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

namespace gpuinit::hw {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_interrupted{false};  // written by the signal handler only
void on_sigint(int) { g_interrupted.store(true); }

constexpr std::uint64_t kConfigSize = 4096;
constexpr std::uint64_t kVgaFirstPort = 0x3B0, kVgaLastPort = 0x3DF;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Index/data port pairs of the standard VGA indexed spaces.
struct VgaPair {
  std::uint16_t index, data;
};
std::optional<VgaPair> vga_pair(Space s) {
  switch (s) {
    case Space::vga_seq: return VgaPair{0x3C4, 0x3C5};
    case Space::vga_crtc: return VgaPair{0x3D4, 0x3D5};
    case Space::vga_gfx: return VgaPair{0x3CE, 0x3CF};
    default: return std::nullopt;
  }
}

const IndexedSpace* find_indexed(const RegisterMap* map, std::string_view name) {
  if (!map) return nullptr;
  for (const auto& s : map->indexed_spaces)
    if (s.name == name) return &s;
  return nullptr;
}

std::string op_where(std::size_t i, const Op& op) {
  return "/init_sequence/" + std::to_string(i) + " (" + op_name(op.kind) + ")";
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}
bool interrupted() noexcept { return g_interrupted.load(); }
const std::atomic<bool>* interrupt_flag() noexcept { return &g_interrupted; }

// Checks that one location is reachable on `fn`; returns a problem sentence or "".
static std::string check_location(const PciFunction& fn, Space space, std::string_view named, unsigned bar,
                                  std::uint64_t offset, unsigned width, const RegisterMap* map,
                                  const HwOptions& opt) {
  const std::uint64_t bytes = width / 8;
  auto inside = [&](std::uint64_t size) { return offset <= size && bytes <= size - offset; };
  switch (space) {
    case Space::mmio:
    case Space::io: {
      const PciBar* b = fn.bar(bar);
      if (!b) return "BAR" + std::to_string(bar) + " is not present on " + fn.bdf;
      const bool want_io = space == Space::io;
      if ((b->kind == BarKind::io) != want_io)
        return "BAR" + std::to_string(bar) + " of " + fn.bdf + " is " + (want_io ? "a memory" : "an I/O") + " BAR";
      if (!inside(b->size))
        return "offset " + hex(offset) + " + " + std::to_string(bytes) + " bytes is outside BAR" +
               std::to_string(bar) + " (" + hex(b->size) + " bytes)";
      if (width == 64 && space == Space::io) return "64-bit I/O accesses do not exist";
      return "";
    }
    case Space::config:
      return inside(kConfigSize) ? "" : "offset " + hex(offset) + " is outside config space";
    case Space::vga_io:
      if (!opt.allow_ports && (offset < kVgaFirstPort || offset + bytes - 1 > kVgaLastPort))
        return "port " + hex(offset) + " is outside the VGA window 0x3b0-0x3df";
      return width == 64 ? "64-bit port accesses do not exist" : "";
    case Space::port:
      if (!opt.allow_ports) return "absolute port " + hex(offset) + " refused (use --allow-ports to permit)";
      return width == 64 ? "64-bit port accesses do not exist" : "";
    case Space::vga_seq:
    case Space::vga_crtc:
    case Space::vga_gfx:
      return offset < 256 && width == 8 ? "" : "VGA indexed registers are 8-bit with indices below 256";
    case Space::vga_attr:
    case Space::vga_dac:
    case Space::vga_mem:
      return std::string(space_name(space)) + " is not supported on real hardware by this version";
    case Space::named: {
      const IndexedSpace* s = find_indexed(map, named);
      if (!s) return "indexed space '" + std::string(named) + "' needs a register map that defines it (--map)";
      if (offset >= s->size) return "index " + hex(offset) + " is outside space '" + s->name + "'";
      for (const RegLocation* l : {&s->index, &s->data}) {
        auto p = check_location(fn, l->space, {}, l->bar, l->offset, l->width, map, opt);
        if (!p.empty()) return "space '" + s->name + "': " + p;
      }
      return "";
    }
  }
  return "unknown space";
}

std::vector<Problem> check_sequence(const PciFunction& fn, const InitSequence& seq, const RegisterMap* map,
                                    const HwOptions& opt) {
  std::vector<Problem> problems;
  char ids[64];
  std::snprintf(ids, sizeof ids, "%04x:%04x", fn.vendor, fn.device);
  char want[64];
  std::snprintf(want, sizeof want, "%04x:%04x", seq.device.vendor, seq.device.device);
  if (!opt.force_id) {
    if (fn.vendor != seq.device.vendor || fn.device != seq.device.device)
      problems.push_back({"/device", std::string("id mismatch: ") + fn.bdf + " is " + ids + ", the sequence is for " +
                                         want + " (--force-id overrides)"});
    if (seq.device.subsystem_vendor && seq.device.subsystem_device &&
        (fn.subsystem_vendor != *seq.device.subsystem_vendor || fn.subsystem_device != *seq.device.subsystem_device))
      problems.push_back({"/device", "subsystem mismatch on " + fn.bdf + " (--force-id overrides)"});
  }
  for (std::size_t i = 0; i < seq.ops.size(); ++i) {
    const Op& op = seq.ops[i];
    if (op.kind == OpKind::delay || op.kind == OpKind::end) continue;
    auto p = check_location(fn, op.space, op.space_name, op.bar, op.offset, op.width, map, opt);
    if (!p.empty()) problems.push_back({op_where(i, op), p});
  }
  return problems;
}

namespace {

class HwTarget final : public replay::Target {
 public:
  HwTarget(PciFunction fn, HwOptions opt, const RegisterMap* map)
      : fn_(std::move(fn)), opt_(std::move(opt)), start_(std::chrono::steady_clock::now()) {
    if (map) {
      map_ = *map;
      namer_ = RegisterNamer(map_);
    }
    if (!opt_.commit) return;  // a dry run opens nothing
    for (const auto& b : fn_.bars) {
      const fs::path res = fn_.sysfs_dir / ("resource" + std::to_string(b.index));
      Bar& slot = bars_[b.index];
      slot.size = b.size;
      slot.fd = ::open(res.c_str(), O_RDWR | O_SYNC | O_CLOEXEC);
      if (slot.fd < 0) throw std::runtime_error(res.string() + ": cannot open: " + std::strerror(errno));
      if (b.kind != BarKind::io) {
        void* p = ::mmap(nullptr, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, slot.fd, 0);
        if (p == MAP_FAILED) throw std::runtime_error(res.string() + ": cannot mmap: " + std::strerror(errno));
        slot.base = static_cast<volatile std::uint8_t*>(p);
      }
    }
    const fs::path cfg = fn_.sysfs_dir / "config";
    config_fd_ = ::open(cfg.c_str(), O_RDWR | O_CLOEXEC);
    if (config_fd_ < 0) throw std::runtime_error(cfg.string() + ": cannot open: " + std::strerror(errno));
    if (opt_.enable_decode) {
      std::uint16_t cmd = std::uint16_t(config_rw(0x04, 2, 0, false));
      config_rw(0x04, 2, cmd | 0x3, true);
    }
  }

  ~HwTarget() override {
    for (auto& b : bars_) {
      if (b.base) ::munmap(const_cast<std::uint8_t*>(b.base), b.size);
      if (b.fd >= 0) ::close(b.fd);
    }
    if (config_fd_ >= 0) ::close(config_fd_);
    if (port_fd_ >= 0) ::close(port_fd_);
  }

  [[nodiscard]] replay::Capabilities capabilities() const override {
    replay::Capabilities c;
    c.spaces = {Space::mmio, Space::io, Space::config, Space::vga_io, Space::vga_seq, Space::vga_crtc, Space::vga_gfx};
    if (opt_.allow_ports) c.spaces.push_back(Space::port);
    for (const auto& s : map_.indexed_spaces) c.named_spaces.push_back(s.name);
    if (!c.named_spaces.empty()) c.spaces.push_back(Space::named);
    c.widths = 8 | 16 | 32 | 64;
    c.virtual_time = false;
    c.writable = opt_.commit;
    c.touches_nothing = !opt_.commit;
    return c;
  }

  [[nodiscard]] std::uint64_t read(const Access& a) override { return access(a, 0, false); }
  void write(const Access& a, std::uint64_t value) override { access(a, value, true); }

  [[nodiscard]] std::uint64_t now_ns() const override {
    return std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_)
                             .count());
  }
  void advance(std::uint64_t ns) override {
    if (opt_.commit) std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
  }
  [[nodiscard]] std::string name() const override { return std::string("hw:") + fn_.bdf + (opt_.commit ? "" : " (dry run)"); }

 private:
  struct Bar {
    int fd = -1;
    volatile std::uint8_t* base = nullptr;
    std::uint64_t size = 0;
  };

  std::uint64_t access(const Access& a, std::uint64_t value, bool is_write) {
    if (interrupted()) throw std::runtime_error("interrupted (Ctrl-C): stopped before this access");
    if (opt_.log) opt_.log(describe(a, value, is_write));
    if (!opt_.commit) return 0;
    const unsigned bytes = a.width / 8;
    switch (a.space) {
      case Space::mmio: return mmio(a.bar, a.offset, bytes, value, is_write);
      case Space::io: return file_rw(bars_[a.bar].fd, a.offset, bytes, value, is_write, "I/O BAR");
      case Space::config: return config_rw(a.offset, bytes, value, is_write);
      case Space::vga_io:
      case Space::port: return port_rw(a.offset, bytes, value, is_write);
      case Space::vga_seq:
      case Space::vga_crtc:
      case Space::vga_gfx: {
        const VgaPair p = *vga_pair(a.space);
        port_rw(p.index, 1, a.offset, true);
        return port_rw(p.data, 1, value, is_write);
      }
      case Space::named: {
        const IndexedSpace* s = find_indexed(&map_, a.space_name);
        if (!s) throw std::runtime_error("indexed space '" + std::string(a.space_name) + "' is not in the map");
        location_rw(s->index, a.offset, true);
        return location_rw(s->data, value, is_write);
      }
      default:
        throw std::runtime_error(std::string(space_name(a.space)) + " accesses are not supported on real hardware");
    }
  }

  std::uint64_t location_rw(const RegLocation& l, std::uint64_t value, bool is_write) {
    Access a;
    a.space = l.space;
    a.bar = l.bar;
    a.offset = l.offset;
    a.width = l.width;
    const unsigned bytes = a.width / 8;
    if (l.space == Space::mmio) return mmio(l.bar, l.offset, bytes, value, is_write);
    if (l.space == Space::io) return file_rw(bars_[l.bar].fd, l.offset, bytes, value, is_write, "I/O BAR");
    return port_rw(l.offset, bytes, value, is_write);
  }

  std::uint64_t mmio(unsigned bar, std::uint64_t off, unsigned bytes, std::uint64_t value, bool is_write) {
    volatile std::uint8_t* p = bars_[bar].base + off;
    // Exactly one access of the op's width through a volatile pointer of that width.
    switch (bytes) {
      case 1:
        if (is_write) *p = std::uint8_t(value); else return *p;
        return 0;
      case 2:
        if (is_write) *reinterpret_cast<volatile std::uint16_t*>(p) = std::uint16_t(value);
        else return *reinterpret_cast<volatile std::uint16_t*>(p);
        return 0;
      case 4:
        if (is_write) *reinterpret_cast<volatile std::uint32_t*>(p) = std::uint32_t(value);
        else return *reinterpret_cast<volatile std::uint32_t*>(p);
        return 0;
      default:
        if (is_write) *reinterpret_cast<volatile std::uint64_t*>(p) = value;
        else return *reinterpret_cast<volatile std::uint64_t*>(p);
        return 0;
    }
  }

  static std::uint64_t file_rw(int fd, std::uint64_t off, unsigned bytes, std::uint64_t value, bool is_write,
                               const char* what) {
    std::uint8_t buf[8] = {};
    for (unsigned i = 0; i < bytes; ++i) buf[i] = std::uint8_t(value >> (8 * i));
    const ssize_t n = is_write ? ::pwrite(fd, buf, bytes, off_t(off)) : ::pread(fd, buf, bytes, off_t(off));
    if (n != ssize_t(bytes))
      throw std::runtime_error(std::string(what) + " " + (is_write ? "write" : "read") + " of " +
                               std::to_string(bytes) + " bytes at " + hex(off) + " failed: " +
                               (n < 0 ? std::strerror(errno) : "short transfer"));
    std::uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v |= std::uint64_t(buf[i]) << (8 * i);
    return is_write ? 0 : v;
  }

  std::uint64_t config_rw(std::uint64_t off, unsigned bytes, std::uint64_t value, bool is_write) {
    return file_rw(config_fd_, off, bytes, value, is_write, "config space");
  }

  std::uint64_t port_rw(std::uint64_t port, unsigned bytes, std::uint64_t value, bool is_write) {
#if defined(__x86_64__) || defined(__i386__)
    if (port_fd_ < 0) {
      port_fd_ = ::open(opt_.port_device.c_str(), O_RDWR | O_CLOEXEC);
      if (port_fd_ < 0)
        throw std::runtime_error(opt_.port_device.string() + ": cannot open for legacy VGA ports: " +
                                 std::strerror(errno) + " (root is needed)");
    }
    return file_rw(port_fd_, port, bytes, value, is_write, "port");
#else
    (void)port; (void)bytes; (void)value; (void)is_write;
    throw std::runtime_error("legacy I/O ports do not exist on this host's architecture");
#endif
  }

  std::string describe(const Access& a, std::uint64_t value, bool is_write) const {
    std::string where = a.space == Space::named ? std::string(a.space_name) : std::string(space_name(a.space));
    if (space_has_bar(a.space)) where += " BAR" + std::to_string(a.bar);
    where += "+" + hex(a.offset);
    const std::string reg = namer_.name(a);
    if (reg != RegisterNamer::neutral(a.space, a.space_name, a.bar, a.offset)) where += " (" + reg + ")";
    std::string line = std::string(opt_.commit ? "" : "would ") + (is_write ? "write " : "read ") + where + " [" +
                       std::to_string(a.width) + "]";
    if (is_write) line += " <- " + hex(value);
    return line;
  }

  PciFunction fn_;
  HwOptions opt_;
  RegisterMap map_;
  RegisterNamer namer_;
  std::chrono::steady_clock::time_point start_;
  Bar bars_[6];
  int config_fd_ = -1;
  int port_fd_ = -1;
};

}  // namespace

std::unique_ptr<replay::Target> open_hw_target(const HwOptions& opt, const InitSequence& seq, const RegisterMap* map) {
  if (opt.slot.empty() && opt.id.empty())
    throw HwRefusal("no card selected: give -s [[DOMAIN:]BUS:]DEV.FN and/or -d VENDOR:DEVICE", {});
  auto found = find_functions(opt.sysfs_root, opt.slot, opt.id);
  if (found.empty())
    throw HwRefusal("no PCI function matches" + (opt.slot.empty() ? "" : " -s " + opt.slot) +
                        (opt.id.empty() ? "" : " -d " + opt.id),
                    {});
  if (found.size() > 1) {
    std::string list;
    for (const auto& f : found) list += " " + f.bdf;
    throw HwRefusal("more than one PCI function matches:" + list + "; select one with -s", {});
  }
  auto problems = check_sequence(found.front(), seq, map, opt);
  if (!problems.empty())
    throw HwRefusal("refused before any access: " + std::to_string(problems.size()) + " problem(s) on " +
                        found.front().bdf,
                    std::move(problems));
  return std::make_unique<HwTarget>(std::move(found.front()), opt, map);
}

void register_hw_target(replay::TargetRegistry& registry, const InitSequence& seq, HwOptions base) {
  registry.add("hw", "a real PCI card through sysfs (dry run unless --commit)",
               [&seq, base](const replay::TargetOptions& t) {
                 std::optional<RegisterMap> loaded;
                 const RegisterMap* map = t.map;
                 if (!map && !t.map_path.empty()) {
                   loaded = replay::load_regmap_file(t.map_path);
                   map = &*loaded;
                 }
                 return open_hw_target(base, seq, map);
               });
}

}  // namespace gpuinit::hw

#include "fixture.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace fs = std::filesystem;

namespace {
fs::path unique_temp(const std::string& stem) {
  std::random_device rd;
  return fs::temp_directory_path() / (stem + std::to_string(rd()) + std::to_string(::getpid()));
}
}  // namespace

FixtureServer::FixtureServer() {
  log = unique_temp("gpuinit-http-log-");
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    const std::string script = std::string(GPUINIT_SOURCE_DIR) + "/tests/harvest/fixture_server.py";
    const std::string log_arg = log.string();
    ::execlp("python3", "python3", script.c_str(), "--log", log_arg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n' && line.size() < 16) line += c;
  ::close(fds[0]);
  port = line.empty() ? 0 : std::stoi(line);
  if (port == 0) throw std::runtime_error("fixture server did not start (python3 missing?)");
}

FixtureServer::~FixtureServer() {
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  std::error_code ec;
  fs::remove(log, ec);
}

std::vector<std::string> FixtureServer::requests() const {
  std::vector<std::string> out;
  std::ifstream in(log);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TempDir::TempDir() : path(unique_temp("gpuinit-store-")) { fs::create_directories(path); }
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

std::vector<std::uint8_t> tiny_rom(std::uint16_t device) {
  std::vector<std::uint8_t> rom(512, 0);
  rom[0] = 0x55;  // signature
  rom[1] = 0xAA;
  rom[2] = 1;     // init size: 1 x 512 bytes
  rom[3] = 0xCB;  // entry: RETF
  rom[0x18] = 0x40;  // PCIR pointer
  const std::size_t p = 0x40;
  rom[p] = 'P'; rom[p + 1] = 'C'; rom[p + 2] = 'I'; rom[p + 3] = 'R';
  rom[p + 4] = 0x02; rom[p + 5] = 0x10;                       // vendor 0x1002
  rom[p + 6] = std::uint8_t(device); rom[p + 7] = std::uint8_t(device >> 8);
  rom[p + 0x0A] = 0x18;                                       // PCIR length
  rom[p + 0x0F] = 0x03;                                       // class 0x030000
  rom[p + 0x10] = 1;                                          // image length: 1 x 512
  rom[p + 0x15] = 0x80;                                       // last image
  unsigned sum = 0;
  for (std::size_t i = 0; i < 511; ++i) sum += rom[i];
  rom[511] = std::uint8_t(-sum);
  return rom;
}

gpuinit::harvest::Verdict simple_check(std::span<const std::uint8_t> b) {
  gpuinit::harvest::Verdict v;
  if (b.size() < 0x1A || b[0] != 0x55 || b[1] != 0xAA) {
    v.rejection = "not-a-rom";
    return v;
  }
  const std::size_t p = b[0x18] | (b[0x19] << 8);
  if (p + 8 > b.size() || b[p] != 'P' || b[p + 1] != 'C' || b[p + 2] != 'I' || b[p + 3] != 'R') {
    v.rejection = "no-pcir";
    return v;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", b[p + 4] | (b[p + 5] << 8), b[p + 6] | (b[p + 7] << 8));
  v.vendor_device = buf;
  return v;
}

#include "gpuinit/format/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

namespace gpuinit {
namespace fs = std::filesystem;

namespace {
template <class Buffer>
Buffer read_whole(const fs::path& p) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) throw std::runtime_error(p.string() + ": is a directory");
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  if (end < 0) throw std::runtime_error(p.string() + ": cannot determine size");
  if (static_cast<std::uintmax_t>(end) > kMaxInputFileBytes)
    throw std::runtime_error(p.string() + ": larger than the " +
                             std::to_string(kMaxInputFileBytes >> 20) + " MiB input limit");
  in.seekg(0, std::ios::beg);
  Buffer buf(static_cast<std::size_t>(end), 0);
  if (!buf.empty() && !in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size())))
    throw std::runtime_error(p.string() + ": read error");
  return buf;
}
}  // namespace

std::vector<std::uint8_t> read_file_bytes(const fs::path& p) { return read_whole<std::vector<std::uint8_t>>(p); }
std::string read_file_text(const fs::path& p) { return read_whole<std::string>(p); }

void write_file_atomic(const fs::path& p, std::string_view content) {
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::random_device rd;
  const fs::path tmp = dir / ("." + p.filename().string() + ".tmp" + std::to_string(rd()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(p.string() + ": cannot create: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(p.string() + ": write failed: " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error(p.string() + ": write failed: " + std::strerror(e));
  }
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error(p.string() + ": cannot rename into place: " + std::strerror(e));
  }
}

}  // namespace gpuinit

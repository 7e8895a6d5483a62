// The capture model: answers reads from a recorded trace (real hardware, QEMU), in order.
// Reads are matched by space, space name, bar, offset and width: the n-th read of a
// location gets the n-th value recorded for that location. Past the end of the capture
// the last recorded value of that location is repeated (counted). A location the capture
// never read answers its last written value, or 0 (counted as unknown).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/trace.hpp"

namespace gpuinit {

struct CaptureStats {
  std::uint64_t reads = 0;
  std::uint64_t served = 0;         // answered by the n-th recorded value
  std::uint64_t past_end = 0;       // more reads than recorded: last value repeated
  std::uint64_t unknown = 0;        // location never read in the capture
  std::uint64_t unread_values = 0;  // recorded reads never consumed (set by finish())
};

// One location the run read beyond (or outside) the capture.
struct CaptureMiss {
  Space space = Space::mmio;
  std::string space_name;
  std::uint8_t bar = 0;
  std::uint64_t offset = 0;
  std::uint8_t width = 8;
  std::uint64_t recorded = 0;  // reads the capture has for it
  std::uint64_t extra = 0;     // reads beyond them
};

class CaptureModel final : public DeviceModel {
 public:
  // `label` goes into name(): "capture:<label>".
  CaptureModel(const Trace& capture, std::string label);

  [[nodiscard]] std::uint64_t read(const Access& a, std::uint64_t now_ns) override;
  void write(const Access& a, std::uint64_t value, std::uint64_t now_ns) override;
  [[nodiscard]] std::string name() const override { return "capture:" + label_; }

  [[nodiscard]] CaptureStats stats() const;
  // Locations read past their recorded values or never recorded, in first-miss order.
  [[nodiscard]] std::vector<CaptureMiss> misses() const;

 private:
  using Key = std::tuple<std::uint8_t, std::string, std::uint8_t, std::uint64_t, std::uint8_t>;
  struct Slot {
    std::vector<std::uint64_t> values;  // recorded read values in order
    std::size_t next = 0;
    std::uint64_t extra = 0;
    std::size_t miss_order = 0;  // 1-based order of first miss; 0 = none
  };
  static Key key(const Access& a);
  Slot& slot(const Access& a);

  std::string label_;
  std::map<Key, Slot> slots_;
  // Writes of any width land here per byte so an unknown read sees the latest bytes.
  std::map<std::tuple<std::uint8_t, std::string, std::uint8_t, std::uint64_t>, std::uint8_t> written_bytes_;
  CaptureStats stats_;
  std::size_t misses_ = 0;
};

}  // namespace gpuinit

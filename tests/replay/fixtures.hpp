// Hand-built sequences, traces and device models for the replay tests.
#pragma once
#include <map>
#include <memory>
#include <tuple>

#include "gpuinit/devices/device_model.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/format/trace.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::test {

inline Op write_op(std::uint64_t offset, std::uint64_t value, std::uint8_t width = 32, Space sp = Space::mmio) {
  Op o;
  o.kind = OpKind::write;
  o.space = sp;
  o.offset = offset;
  o.width = width;
  o.value = value;
  return o;
}
inline Op rmw_op(std::uint64_t offset, std::uint64_t mask, std::uint64_t value, std::uint8_t width = 32) {
  Op o = write_op(offset, value, width);
  o.kind = OpKind::rmw;
  o.mask = mask;
  return o;
}
inline Op read_op(std::uint64_t offset, std::optional<std::pair<std::uint64_t, std::uint64_t>> expect = {},
                  std::uint8_t width = 32) {
  Op o = write_op(offset, 0, width);
  o.kind = OpKind::read;
  if (expect) {
    o.has_expect = true;
    o.expect_mask = expect->first;
    o.expect_value = expect->second;
  }
  return o;
}
inline Op poll_op(std::uint64_t offset, std::uint64_t mask, std::uint64_t value, std::uint64_t interval_us,
                  std::uint64_t timeout_us, OnTimeout on = OnTimeout::fail) {
  Op o = write_op(offset, value);
  o.kind = OpKind::poll;
  o.mask = mask;
  o.interval_us = interval_us;
  o.timeout_us = timeout_us;
  o.on_timeout = on;
  return o;
}
inline Op delay_op(std::uint64_t us) {
  Op o;
  o.kind = OpKind::delay;
  o.us = us;
  return o;
}
inline Op end_op() { return Op{}; }

inline InitSequence seq_of(std::vector<Op> ops) {
  InitSequence s;
  s.metadata.method = "handwritten";
  s.metadata.generated = "2026-01-01T00:00:00Z";  // what the schema asks of a real document
  s.metadata.pipeline_version = "test";
  s.device.vendor = 0x1234;
  s.device.device = 0x5678;
  s.ops = std::move(ops);
  return s;
}

// A register file in mmio BAR0: stores writes. Writing bit 0 of CTRL (0x0) sets bit 0 of
// STATUS (0x4) `delay_ns` later; with delay_ns == 0 the bit never sets.
class StatusModel final : public DeviceModel {
 public:
  explicit StatusModel(std::uint64_t delay_ns) : delay_ns_(delay_ns) {}
  std::uint64_t read(const Access& a, std::uint64_t now) override {
    ++reads;
    if (a.offset == 0x4) return (delay_ns_ && armed_ && now >= armed_at_ + delay_ns_) ? 1 : 0;
    auto it = regs_.find(a.offset);
    return it == regs_.end() ? 0 : it->second;
  }
  void write(const Access& a, std::uint64_t v, std::uint64_t now) override {
    ++writes;
    regs_[a.offset] = v;
    if (a.offset == 0x0 && (v & 1) && !armed_) {
      armed_ = true;
      armed_at_ = now;
    }
  }
  std::string name() const override { return "status"; }
  std::uint64_t reads = 0, writes = 0;

 private:
  std::uint64_t delay_ns_;
  bool armed_ = false;
  std::uint64_t armed_at_ = 0;
  std::map<std::uint64_t, std::uint64_t> regs_;
};

inline std::unique_ptr<replay::ModelTarget> status_target(std::uint64_t delay_ns, StatusModel** model = nullptr) {
  auto m = std::make_unique<StatusModel>(delay_ns);
  if (model) *model = m.get();
  return std::make_unique<replay::ModelTarget>(std::move(m), std::vector<std::string>{}, true);
}

inline TraceEvent ev(std::uint64_t seq, Dir dir, std::uint64_t offset, std::uint64_t value, Space sp = Space::mmio) {
  TraceEvent e;
  e.seq = seq;
  e.t_ns = seq * 100;
  e.space = sp;
  e.offset = offset;
  e.width = 32;
  e.dir = dir;
  e.value = value;
  return e;
}

}  // namespace gpuinit::test

// sim: the Verilated block inside a SystemC module behind a TLM-2.0 target socket
// (the module implements the forward interface).
// The replay target owns an initiator socket bound to it and issues loosely-timed
// b_transport calls with temporal decoupling: each call carries the initiator's local time
// offset, the target runs the block's clock up to that time, performs the pin-level bus
// handshake and annotates the cycle it took; the kernel is synchronised (sc_start for the
// offset) whenever the offset exceeds the quantum.
#include <atomic>
#include <bit>
#include <cstdlib>
#include <stdexcept>

#include "sim_target.hpp"

// SystemC after everything else (Verilated headers, if any, must come first).
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

// libsystemc defines main() and calls sc_main(); executables of this project have their
// own main(), so this definition only satisfies the linker. Weak: a program of the user's
// may define its own.
__attribute__((weak)) int sc_main(int, char**) { return 2; }

namespace gpuinit::sim::detail {
namespace {

using sc_core::sc_time;

// SystemC has one kernel per process and allows one elaboration: the flag records that
// this process has used it. It mirrors SystemC's own global state; it holds nothing else.
std::atomic<bool> g_systemc_used{false};

constexpr std::uint64_t kQuantumPs = 1'000'000;  // 1 us of temporal decoupling
// Address bit marking the second transaction of an access split at a 64-bit bus word (the
// block's bus_seq pin, docs/sim.md).
constexpr std::uint64_t kSeqBit = std::uint64_t{1} << 40;
constexpr std::uint64_t kMaxPs = ~std::uint64_t{0} / 4;  // far beyond any sequence's time budget

// SystemC time values are integers in units of the time resolution (1 ps unless a program
// sets a finer one before its first sc_time); the targets compute with those integers and
// make an sc_time only where SystemC wants one.
std::uint64_t units_per_ps() {
  const auto u = static_cast<std::uint64_t>(sc_time(1, sc_core::SC_PS).value());
  if (u == 0) throw std::runtime_error("the SystemC time resolution is coarser than 1 ps");
  return u;
}

// Little-endian byte lanes of a bus word <-> the payload's data bytes.
std::uint64_t load_lanes(const unsigned char* d, unsigned len, unsigned lane) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < len; ++i) v |= std::uint64_t(d[i]) << (8 * (lane + i));
  return v;
}
void store_lanes(unsigned char* d, unsigned len, unsigned lane, std::uint64_t v) {
  for (unsigned i = 0; i < len; ++i) d[i] = static_cast<unsigned char>(v >> (8 * (lane + i)));
}

// The register block as a TLM target. Address: region << 32 | offset (docs/sim.md).
// The module implements the forward interface itself and binds its socket to it, so an
// initiator's b_transport is one virtual call. Loosely-timed only: nb_transport_fw runs
// the blocking path and completes at once; no DMI (registers have side effects) and no
// debug transport (a read may change state).
struct BlockModule : sc_core::sc_module, tlm::tlm_fw_transport_if<> {
  tlm::tlm_target_socket<64> socket;
  Block& block;
  const std::uint64_t units_per_period;  // SystemC time units in one clock period

  BlockModule(const sc_core::sc_module_name& n, Block& b, std::uint64_t units_per_ps)
      : sc_module(n), socket("socket"), block(b), units_per_period(b.period_ps() * units_per_ps) {
    socket.bind(*this);
  }

  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase, sc_time& delay) override {
    b_transport(p, delay);
    phase = tlm::END_RESP;
    return tlm::TLM_COMPLETED;
  }
  bool get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) override {
    dmi.allow_none();
    return false;
  }
  unsigned int transport_dbg(tlm::tlm_generic_payload&) override { return 0; }

  void b_transport(tlm::tlm_generic_payload& p, sc_time& delay) override {
    const bool seq = (p.get_address() & kSeqBit) != 0;
    const std::uint64_t addr = p.get_address() & ~kSeqBit;
    const unsigned len = p.get_data_length();
    const unsigned region = unsigned(addr >> 32);
    const std::uint64_t offset = addr & 0xFFFF'FFFFu;
    if (len == 0 || len > 8 || (offset % 8) + len > 8 || region > 15 || p.get_streaming_width() < len) [[unlikely]] {
      p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
      return;
    }
    const bool is_write = p.is_write();
    if (!is_write && !p.is_read()) [[unlikely]] {
      p.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    const unsigned lane = unsigned(offset % 8);
    std::uint8_t be = std::uint8_t(((1u << len) - 1u) << lane);
    const unsigned char* bep = p.get_byte_enable_ptr();
    if (const unsigned bel = p.get_byte_enable_length(); bep && bel != 0) {
      be = 0;
      for (unsigned i = 0; i < len; ++i)
        if (bep[i % bel] == TLM_BYTE_ENABLED) be |= std::uint8_t(1u << (lane + i));
    }
    unsigned char* d = p.get_data_ptr();
    const std::uint64_t wdata = is_write ? load_lanes(d, len, lane) : 0;

    // Deliver the clock periods up to the initiator's local time, then one handshake cycle.
    const std::uint64_t now = static_cast<std::uint64_t>(sc_core::sc_time_stamp().value()) +
                              static_cast<std::uint64_t>(delay.value());
    std::uint64_t rdata;
    if (seq) [[unlikely]] {
      const std::uint64_t due = now / units_per_period;
      if (due > block.ticks()) block.idle(due - block.ticks());
      rdata = block.cycle_seq(bus_word(region, offset), wdata, be, is_write, !is_write);
    } else {
      rdata = block.step(now / units_per_period, bus_word(region, offset), wdata, be, is_write, !is_write);
    }
    if (!is_write) store_lanes(d, len, lane, rdata);
    // No delay annotated: bus cycles take no time of the block's timebase (docs/sim.md).
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

struct InitiatorModule : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<InitiatorModule, 64> socket;
  explicit InitiatorModule(const sc_core::sc_module_name& n) : sc_module(n), socket("socket") {}
};

class TlmTarget final : public SimTargetBase {
 public:
  TlmTarget(const BlockInfo& b, const SimOptions& opt)
      : SimTargetBase(b, opt), units_per_ps_(units_per_ps()), quantum_(kQuantumPs * units_per_ps_) {
    initiator_ = std::make_unique<InitiatorModule>("initiator");
    target_ = std::make_unique<BlockModule>("block", *block_, units_per_ps_);
    initiator_->socket.bind(target_->socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // end of elaboration
    fw_ = initiator_->socket.operator->();     // the bound target's interface, looked up once
    // One payload for every transaction: only command, address, length and status change.
    payload_.set_data_ptr(buf_);
    payload_.set_byte_enable_ptr(nullptr);
    payload_.set_byte_enable_length(0);
    payload_.set_dmi_allowed(false);
  }

  [[nodiscard]] std::uint64_t read(const Access& a) override { return access(a, false, 0); }
  void write(const Access& a, std::uint64_t value) override { (void)access(a, true, value); }
  [[nodiscard]] std::uint64_t now_ns() const override {
    return (static_cast<std::uint64_t>(sc_core::sc_time_stamp().value()) + local_) / units_per_ps_ / 1000;
  }
  void advance(std::uint64_t ns) override {
    // local_ < quantum_ here, so the sum cannot overflow.
    local_ += ns <= max_advance_ns_ ? ns * 1000 * units_per_ps_ : max_advance_ns_ * 1000 * units_per_ps_;
    if (local_ >= quantum_) sync();
  }
  [[nodiscard]] std::string name() const override { return "sim:" + std::string(info_.map_name); }

 private:
  std::uint64_t access(const Access& a, bool write, std::uint64_t value) {
    ++stats_.accesses;
    return decoder_.execute(a, write, value, [this, &a](const BusStep& s) { return transport(s, a); });
  }

  // One bus cycle as a TLM transaction; returns the data in its lanes of the bus word.
  std::uint64_t transport(const BusStep& s, const Access& a) {
    const unsigned lane = unsigned(std::countr_zero(unsigned(s.be) | 0x100u));
    const unsigned len = unsigned(std::countr_one(unsigned(s.be) >> lane));
    const std::uint64_t region = s.word >> 29;
    const std::uint64_t offset = ((s.word & ((std::uint64_t{1} << 29) - 1)) << 3) | lane;
    if (s.wr) store_lanes(buf_, len, lane, s.wdata);
    payload_.set_command(s.wr ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    payload_.set_address((region << 32) | offset | (s.seq ? kSeqBit : 0));
    payload_.set_data_length(len);
    payload_.set_streaming_width(len);
    payload_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = sc_time::from_value(local_);
    fw_->b_transport(payload_, delay);
    if (payload_.is_response_error()) [[unlikely]]
      throw std::runtime_error("TLM error '" + payload_.get_response_string() + "' on " + describe(a));
    ++stats_.bus_cycles;
    // A target that annotates time moves the local offset (this one annotates none).
    local_ = static_cast<std::uint64_t>(delay.value());
    if (local_ >= quantum_) sync();
    return s.wr ? 0 : load_lanes(buf_, len, lane);
  }

  // Let the kernel catch up with the local time offset.
  void sync() {
    sc_core::sc_start(sc_time::from_value(local_));
    local_ = 0;
  }

  std::uint64_t units_per_ps_;
  std::uint64_t quantum_;     // in SystemC time units
  std::uint64_t max_advance_ns_ = kMaxPs / 1000 / units_per_ps_;  // one advance() at most
  std::uint64_t local_ = 0;  // local time offset of the initiator, SystemC time units
  std::unique_ptr<InitiatorModule> initiator_;
  std::unique_ptr<BlockModule> target_;
  tlm::tlm_fw_transport_if<>* fw_ = nullptr;
  tlm::tlm_generic_payload payload_;
  unsigned char buf_[8] = {};
};

}  // namespace

bool tlm_available() noexcept { return !g_systemc_used.load(); }

std::unique_ptr<replay::Target> make_tlm(const BlockInfo& b, const SimOptions& opt) {
  if (g_systemc_used.exchange(true))
    throw std::runtime_error(
        "SystemC allows one simulation per process and this process already ran one; use the direct driver "
        "(sim-fast) for further runs");
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // keep stdout for machine output
  return std::make_unique<TlmTarget>(b, opt);
}

}  // namespace gpuinit::sim::detail

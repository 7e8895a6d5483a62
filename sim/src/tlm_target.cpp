// sim: the Verilated block inside a SystemC module behind a TLM-2.0 simple_target_socket.
// The replay target owns an initiator socket bound to it and issues loosely-timed
// b_transport calls with temporal decoupling: each call carries the initiator's local time
// offset, the target runs the block's clock up to that time, performs the pin-level bus
// handshake and annotates the cycle it took; the kernel is synchronised (sc_start for the
// offset) whenever the offset exceeds the quantum.
#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "sim_target.hpp"

// SystemC after everything else (Verilated headers, if any, must come first).
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

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

std::uint64_t to_ps(const sc_time& t) {
  return static_cast<std::uint64_t>(t.value()) *
         static_cast<std::uint64_t>(sc_core::sc_get_time_resolution().to_seconds() * 1e12 + 0.5);
}
sc_time from_ps(std::uint64_t ps) { return sc_time(static_cast<double>(ps), sc_core::SC_PS); }

// The register block as a TLM target. Address: region << 32 | offset (docs/sim.md).
struct BlockModule : sc_core::sc_module {
  tlm_utils::simple_target_socket<BlockModule, 64> socket;
  Block& block;
  BlockModule(const sc_core::sc_module_name& n, Block& b) : sc_module(n), socket("socket"), block(b) {
    socket.register_b_transport(this, &BlockModule::b_transport);
  }

  void b_transport(tlm::tlm_generic_payload& p, sc_time& delay) {
    const bool seq = (p.get_address() & kSeqBit) != 0;
    const std::uint64_t addr = p.get_address() & ~kSeqBit;
    const unsigned len = p.get_data_length();
    const unsigned region = unsigned(addr >> 32);
    const std::uint64_t offset = addr & 0xFFFF'FFFFu;
    if (len == 0 || len > 8 || (offset % 8) + len > 8 || region > 15 || p.get_streaming_width() < len) {
      p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
      return;
    }
    if (!p.is_read() && !p.is_write()) {
      p.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    const unsigned lane = unsigned(offset % 8);
    std::uint8_t be = 0;
    const unsigned char* bep = p.get_byte_enable_ptr();
    const unsigned bel = p.get_byte_enable_length();
    for (unsigned i = 0; i < len; ++i)
      if (!bep || bel == 0 || bep[i % bel] == TLM_BYTE_ENABLED) be |= std::uint8_t(1u << (lane + i));
    unsigned char* d = p.get_data_ptr();
    std::uint64_t wdata = 0;
    if (p.is_write())
      for (unsigned i = 0; i < len; ++i) wdata |= std::uint64_t(d[i]) << (8 * (lane + i));  // little endian

    // Deliver the clock periods up to the initiator's local time, then one handshake cycle.
    const std::uint64_t due = to_ps(sc_core::sc_time_stamp() + delay) / block.period_ps();
    if (due > block.ticks()) block.idle(due - block.ticks());
    const std::uint64_t rdata = seq ? block.cycle_seq(bus_word(region, offset), wdata, be, p.is_write(), p.is_read())
                                    : block.cycle(bus_word(region, offset), wdata, be, p.is_write(), p.is_read());
    if (p.is_read())
      for (unsigned i = 0; i < len; ++i) d[i] = static_cast<unsigned char>(rdata >> (8 * (lane + i)));
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
  TlmTarget(const BlockInfo& b, const SimOptions& opt) : SimTargetBase(b), block_(b.make(opt.wave, opt.waveform_path)) {
    initiator_ = std::make_unique<InitiatorModule>("initiator");
    target_ = std::make_unique<BlockModule>("block", *block_);
    initiator_->socket.bind(target_->socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // end of elaboration
    payload_.set_streaming_width(8);
  }

  [[nodiscard]] std::uint64_t read(const Access& a) override { return access(a, false, 0); }
  void write(const Access& a, std::uint64_t value) override { (void)access(a, true, value); }
  [[nodiscard]] std::uint64_t now_ns() const override { return to_ps(sc_core::sc_time_stamp() + local_) / 1000; }
  void advance(std::uint64_t ns) override {
    local_ += from_ps(ns * 1000);
    sync_if_needed();
  }
  [[nodiscard]] std::string name() const override { return "sim:" + std::string(info_.map_name); }

 private:
  std::uint64_t access(const Access& a, bool write, std::uint64_t value) {
    ++stats_.accesses;
    return decoder_.execute(a, write, value, [this, &a](const BusStep& s) { return transport(s, a); });
  }

  // One bus cycle as a TLM transaction; returns the data in its lanes of the bus word.
  std::uint64_t transport(const BusStep& s, const Access& a) {
    unsigned lane = 0;
    while (lane < 8 && !(s.be & (1u << lane))) ++lane;
    unsigned len = 0;
    while (lane + len < 8 && (s.be & (1u << (lane + len)))) ++len;
    const std::uint64_t region = s.word >> 29;
    const std::uint64_t offset = ((s.word & ((std::uint64_t{1} << 29) - 1)) << 3) | lane;
    unsigned char buf[8] = {};
    for (unsigned i = 0; i < len; ++i) buf[i] = static_cast<unsigned char>(s.wdata >> (8 * (lane + i)));
    payload_.set_command(s.wr ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    payload_.set_address((region << 32) | offset | (s.seq ? kSeqBit : 0));
    payload_.set_data_ptr(buf);
    payload_.set_data_length(len);
    payload_.set_streaming_width(len);
    payload_.set_byte_enable_ptr(nullptr);
    payload_.set_dmi_allowed(false);
    payload_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    initiator_->socket->b_transport(payload_, local_);
    if (payload_.is_response_error())
      throw std::runtime_error("TLM error '" + payload_.get_response_string() + "' on " + describe(a));
    ++stats_.bus_cycles;
    stats_.ticks = block_->ticks();
    sync_if_needed();
    std::uint64_t r = 0;
    for (unsigned i = 0; i < len; ++i) r |= std::uint64_t(buf[i]) << (8 * (lane + i));
    return r;
  }

  void sync_if_needed() {
    if (to_ps(local_) < kQuantumPs) return;
    sc_core::sc_start(local_);
    local_ = sc_core::SC_ZERO_TIME;
  }

  std::unique_ptr<Block> block_;
  std::unique_ptr<InitiatorModule> initiator_;
  std::unique_ptr<BlockModule> target_;
  tlm::tlm_generic_payload payload_;
  sc_time local_ = sc_core::SC_ZERO_TIME;
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

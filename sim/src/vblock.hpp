// Block implemented by a Verilated model class V (a --cc model of one generated register
// block). Included by the generated catalog, once per model, after the model's header.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <verilated.h>

#include "gpuinit/sim/block.hpp"

namespace gpuinit::sim::detail {

// A Verilated root with a single scheduled trigger on `clk` whose scheduler keeps the
// previous clock value in a member (Verilator 5.0xx). The generated blocks only have
// `always_ff @(posedge clk)` process and no input-combinational logic (rtl/gen_regblock.py),
// so that trigger is the rising edge, and the falling-edge eval() does nothing a later
// rising-edge eval() would not redo: one eval() with the previous clock marked low is the
// whole cycle. The differential tests (tests/sim) compare this path with
// the C++ model on every block. Other Verilator versions fall back to two eval() calls.
template <class R>
concept PosedgeOnlyRoot = requires(R& r) {
  r.__Vtrigrprev__TOP__clk = 0;
  requires std::is_same_v<std::remove_cvref_t<decltype(r.__VactTriggered)>, VlTriggerVec<1>>;
};

// Tr is VerilatedVcdC or VerilatedFstC (matching how V was verilated), or void for none.
template <class V, class Tr>
class VBlock final : public Block {
 public:
  VBlock(std::uint64_t period_ps, const std::string& wave_path)
      : period_ps_(period_ps), ctx_(std::make_unique<VerilatedContext>()) {
    if constexpr (!std::is_void_v<Tr>) ctx_->traceEverOn(true);  // before the model exists
    top_ = std::make_unique<V>(ctx_.get(), "top");
    if constexpr (!std::is_void_v<Tr>) {
      trace_ = std::make_unique<Tr>();
      top_->trace(trace_.get(), 99);
      trace_->set_time_unit("1ps");
      trace_->set_time_resolution("1ps");
      trace_->open(wave_path.c_str());
      if (!trace_->isOpen()) throw std::runtime_error("cannot open waveform file '" + wave_path + "'");
    }
    top_->clk = 0;
    top_->bus_wr = 0;
    top_->bus_rd = 0;
    top_->bus_seq = 0;
    top_->eval();
    reset();
  }
  ~VBlock() override {
    if constexpr (!std::is_void_v<Tr>) trace_->close();
    top_->final();
  }
  VBlock(const VBlock&) = delete;
  VBlock& operator=(const VBlock&) = delete;

  void reset() override {
    top_->rst_n = 0;
    edge(0, 0, 0, false, false, false);
    edge(0, 0, 0, false, false, false);
    top_->rst_n = 1;
  }

  std::uint64_t cycle(std::uint64_t word, std::uint64_t wdata, std::uint8_t be, bool wr, bool rd) override {
    edge(word, wdata, be, wr, rd, false);
    if ((wr || rd) && !top_->bus_ready) [[unlikely]]
      throw std::runtime_error("register block did not assert ready");
    return top_->bus_rdata;
  }

  std::uint64_t cycle_seq(std::uint64_t word, std::uint64_t wdata, std::uint8_t be, bool wr, bool rd) override {
    top_->bus_seq = 1;
    edge(word, wdata, be, wr, rd, false);
    top_->bus_seq = 0;
    if ((wr || rd) && !top_->bus_ready) throw std::runtime_error("register block did not assert ready");
    return top_->bus_rdata;
  }

  std::uint64_t step(std::uint64_t due_ticks, std::uint64_t word, std::uint64_t wdata, std::uint8_t be, bool wr,
                     bool rd) override {
    if (due_ticks > ticks_) idle(due_ticks - ticks_);
    return cycle(word, wdata, be, wr, rd);
  }

  void idle(std::uint64_t n) override {
    ticks_ += n;
    while (n > 0 && top_->busy) {
      edge(0, 0, 0, false, false, true);
      --n;
    }
    cycles_ += n;  // nothing can change while no behaviour counts
  }

  [[nodiscard]] std::uint64_t cycles() const noexcept override { return cycles_; }
  [[nodiscard]] std::uint64_t ticks() const noexcept override { return ticks_; }
  [[nodiscard]] bool busy() const noexcept override { return top_->busy; }
  [[nodiscard]] std::uint64_t period_ps() const noexcept override { return period_ps_; }

 private:
  using Root = std::remove_pointer_t<decltype(V::rootp)>;
  static constexpr bool kOneEval = PosedgeOnlyRoot<std::remove_cv_t<Root>>;

  void edge(std::uint64_t word, std::uint64_t wdata, std::uint8_t be, bool wr, bool rd, bool tick) {
    const auto pins = [&](auto* p) {
      p->tick = tick;
      p->bus_addr = word;
      p->bus_wdata = wdata;
      p->bus_be = be;
      p->bus_wr = wr;
      p->bus_rd = rd;
    };
    if constexpr (kOneEval && std::is_void_v<Tr>) {
      // The pins are the root's members (the model's port members refer to them): written
      // through one pointer, which the compiler need not reload between the stores.
      Root* const r = top_->rootp;
      pins(r);
      r->__Vtrigrprev__TOP__clk = 0;  // the clock was low: this eval is its rising edge
      r->clk = 1;
      top_->eval();
      ++cycles_;
      return;
    }
    pins(top_.get());
    // With a waveform (or a model scheduled otherwise) the low half of the cycle is
    // evaluated and dumped too, so the file shows the inputs settling before the edge.
    top_->clk = 0;
    top_->eval();
    if constexpr (!std::is_void_v<Tr>) trace_->dump(cycles_ * period_ps_);
    top_->clk = 1;
    top_->eval();
    if constexpr (!std::is_void_v<Tr>) trace_->dump(cycles_ * period_ps_ + period_ps_ / 2);
    ++cycles_;
  }

  std::uint64_t period_ps_;
  std::uint64_t cycles_ = 0;
  std::uint64_t ticks_ = 0;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<V> top_;
  std::conditional_t<std::is_void_v<Tr>, int, std::unique_ptr<std::conditional_t<std::is_void_v<Tr>, int, Tr>>>
      trace_{};
};

}  // namespace gpuinit::sim::detail

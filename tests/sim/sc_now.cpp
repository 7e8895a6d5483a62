// The SystemC kernel's time for the tests (kept out of the Catch2 files).
#include <cstdint>
#include <systemc>

std::uint64_t sc_now_ns() {
  return static_cast<std::uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9 + 0.5);
}

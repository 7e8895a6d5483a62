// The real-hardware replay target. Safety rails, in the order they apply:
//  1. the card must be found and match the sequence's vendor/device (and subsystem when
//     the sequence names one) unless force_id;
//  2. the whole sequence is checked before any access: every op's space is reachable,
//     every offset+width lies inside its BAR / config space / legacy window;
//  3. without `commit` nothing touches the device at all (a dry run: each access it would
//     make is reported through `log`, reads answer 0);
//  4. absolute I/O ports outside the VGA window are refused unless allow_ports.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gpuinit/format/regmap.hpp"
#include "gpuinit/format/result.hpp"
#include "gpuinit/format/sequence.hpp"
#include "gpuinit/hw/pci.hpp"
#include "gpuinit/replay/target.hpp"
#include "gpuinit/replay/targets.hpp"

namespace gpuinit::hw {

struct HwOptions {
  std::filesystem::path sysfs_root = "/sys";
  std::string slot;  // -s
  std::string id;    // -d
  bool commit = false;
  bool force_id = false;
  bool enable_decode = false;  // set memory/IO decode bits in the command register (commit only)
  bool allow_ports = false;
  std::filesystem::path port_device = "/dev/port";  // legacy VGA ports (x86 hosts)
  // Receives one line per access in a dry run (and per access in a committed run when set).
  std::function<void(const std::string&)> log;
};

// Why the target refused to open: each problem names the op or the resource.
struct HwRefusal : std::runtime_error {
  std::vector<Problem> problems;
  HwRefusal(const std::string& what, std::vector<Problem> p) : std::runtime_error(what), problems(std::move(p)) {}
};

// Checks (1) and (2) of the list above for `fn`; empty when the sequence may run.
[[nodiscard]] std::vector<Problem> check_sequence(const PciFunction& fn, const InitSequence& seq,
                                                  const RegisterMap* map, const HwOptions& opt);

// Finds exactly one function, runs the checks, maps its BARs; throws HwRefusal (checks)
// or std::runtime_error (system errors).
[[nodiscard]] std::unique_ptr<replay::Target> open_hw_target(const HwOptions& opt, const InitSequence& seq,
                                                             const RegisterMap* map);

// Set by the SIGINT handler that install_interrupt_handler() installs; the target refuses
// further accesses once set, so a run stops between ops.
void install_interrupt_handler();
[[nodiscard]] bool interrupted() noexcept;
// The flag itself, for the replay engine's stop_requested (checked between ops).
[[nodiscard]] const std::atomic<bool>* interrupt_flag() noexcept;

// Adds "hw" to a replay target registry. The factory needs the whole sequence (it is
// checked before any access), so it is bound here; `base` carries the CLI's choices.
void register_hw_target(replay::TargetRegistry& registry, const InitSequence& seq, HwOptions base);

}  // namespace gpuinit::hw

// Problems found in a document, and the result of loading one.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gpuinit {

// One thing wrong with an input, located by a JSON pointer (documents), a line number
// (JSON Lines) or a byte offset (binaries), with a sentence saying what is wrong.
struct Problem {
  std::string where;    // "/init_sequence/12/width", "line 7", "0x1a2"
  std::string message;  // "24 is not one of [8,16,32,64]"
  [[nodiscard]] std::string str() const { return where.empty() ? message : where + ": " + message; }
  bool operator==(const Problem&) const = default;
};

template <class T>
struct Loaded {
  std::optional<T> value;              // set only when no problem was found
  std::vector<Problem> problems;       // violations: the document is invalid
  std::vector<std::string> warnings;   // accepted with a remark (a migrated document)
  [[nodiscard]] bool ok() const noexcept { return value.has_value() && problems.empty(); }
};

}  // namespace gpuinit

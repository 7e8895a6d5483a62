// Test fixtures: the local fixture HTTP server (fixture_server.py on 127.0.0.1) and a
// temporary folder.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gpuinit/harvest/store.hpp"

struct FixtureServer {
  FixtureServer();
  ~FixtureServer();
  [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port); }
  [[nodiscard]] std::vector<std::string> requests() const;  // "METHOD PATH UA" lines
  pid_t pid = -1;
  int port = 0;
  std::filesystem::path log;
};

struct TempDir {
  TempDir();
  ~TempDir();
  std::filesystem::path path;
};

// A valid 512-byte x86 option ROM with the given device id (vendor 0x1002).
std::vector<std::uint8_t> tiny_rom(std::uint16_t device);

// The check the store runs: 0x55AA and a "PCIR" structure inside the file.
gpuinit::harvest::Verdict simple_check(std::span<const std::uint8_t> b);

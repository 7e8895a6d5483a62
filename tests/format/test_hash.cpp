// Known-answer vectors from FIPS 180-4's examples.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "gpuinit/format/hash.hpp"

using namespace gpuinit;

namespace {
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("sha1 known answers") {
  CHECK(sha1_hex(bytes("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(sha1_hex(bytes("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(sha1_hex(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST_CASE("sha256 known answers") {
  CHECK(sha256_hex(bytes("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex(bytes("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // 55 and 56 bytes straddle the one-block / two-block padding boundary.
  CHECK(sha256_hex(bytes(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Parser unit tests: ROM bytes built by hand, one named corruption per case.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gpuinit/rom/rom.hpp"
#include "gpuinit/rom/rom_json.hpp"
#include "rom_builder.hpp"

using namespace gpuinit::rom;
using namespace gpuinit::rom::test;

namespace {

std::vector<std::string> names(const RomInfo& info) {
  std::vector<std::string> out;
  for (const auto& d : info.diagnostics) out.push_back(d.name);
  return out;
}

const Diagnostic* diag(const RomInfo& info, std::string_view name) {
  auto it = std::find_if(info.diagnostics.begin(), info.diagnostics.end(), [&](const Diagnostic& d) { return d.name == name; });
  return it == info.diagnostics.end() ? nullptr : &*it;
}

RomInfo parse(const Bytes& b) { return parse_rom(b); }

}  // namespace

TEST_CASE("well-formed x86 image: every PCIR field, entry and checksum") {
  Bytes b = image({.units = 4, .vendor = 0x1002, .device = 0x5452});
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 1);
  const Image& img = info.images[0];
  CHECK(img.offset == 0);
  CHECK(img.pcir_offset == 0x40u);
  CHECK(img.vendor_id == 0x1002);
  CHECK(img.device_id == 0x5452);
  CHECK(img.class_code == 0x030000u);
  CHECK(img.code_type == 0);
  CHECK(img.length == 4 * 512);
  CHECK(img.last);
  CHECK(img.init_size_512 == 4);
  CHECK(img.checksum_ok == true);
  REQUIRE(img.pcir);
  CHECK(img.pcir->signature == "PCIR");
  CHECK(img.pcir->revision == 3);
  CHECK(img.pcir->length == 0x1C);
  CHECK(img.pcir->code_revision == 0x0102);
  CHECK(img.pcir->config_utility_ptr == 0);
  CHECK(img.pcir->dmtf_clp_ptr == 0);
  REQUIRE(img.x86);
  CHECK(img.x86->opcode == 0xEB);
  CHECK(img.x86->target == 0x25u);
  CHECK(info.diagnostics.empty());
  CHECK(info.chain_end == b.size());
  CHECK(find_x86_image(info) == &img);
  CHECK(is_rom(info));
}

TEST_CASE("two-image chain: next image at offset + length, EFI header fields") {
  Bytes b = concat({image({.units = 2, .last = false}), efi_image({.units = 3})});
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 2);
  CHECK_FALSE(info.images[0].last);
  const Image& efi = info.images[1];
  CHECK(efi.offset == 1024);
  CHECK(efi.pcir_offset == 1024u + 0x1C);
  CHECK(efi.code_type == 3);
  CHECK(code_type_name(efi.code_type) == "efi");
  CHECK_FALSE(efi.checksum_ok.has_value());  // only x86 images are checked
  REQUIRE(efi.efi);
  CHECK(efi.efi->signature == 0x0EF1);
  CHECK(efi.efi->init_size_512 == 3);
  CHECK(efi.efi->subsystem == 11);
  CHECK(efi.efi->machine == 0x8664);
  CHECK(efi_machine_name(efi.efi->machine) == "X64");
  CHECK(efi.efi->compression == 0);
  CHECK(efi.efi->pe_offset == 0x60);
  CHECK(efi.efi->pe_mz == true);
  CHECK(info.diagnostics.empty());
}

TEST_CASE("bad-checksum: one flipped byte, reported with the byte that fixes it") {
  Bytes b = image({});
  b[0x100] ^= 0x5A;  // corruption
  const RomInfo info = parse(b);
  CHECK(info.images[0].checksum_ok == false);
  const Checksum& c = info.images[0].checksums.at(0);
  CHECK(c.name == "image");
  CHECK_FALSE(c.ok);
  REQUIRE(c.fix_offset == b.size() - 1);
  REQUIRE(diag(info, "bad-checksum"));
  b[*c.fix_offset] = *c.fix_value;  // applying the fix makes it good
  CHECK(parse(b).images[0].checksum_ok == true);
}

TEST_CASE("ATI checksum coverage: adjust byte at 0x21 over byte 0x02 * 512") {
  Bytes b = image({.units = 4, .vendor = 0x1002, .pcir_at = 0x80});
  put_str(b, 0x30, " 761295520");  // ATI magic
  b[2] = 2;                        // init size covers the first 1024 bytes only
  fix_checksum(b, 0, 1024, 0x21);
  fix_checksum(b, 0, b.size(), b.size() - 1);  // keeps the whole-image sum 0 as well
  RomInfo info = parse(b);
  const Image& img = info.images[0];
  CHECK(img.ati);
  REQUIRE(img.checksums.size() == 2);
  CHECK(img.checksums[1].name == "ati");
  CHECK(img.checksums[1].length == 1024);
  CHECK(img.checksums[1].ok);
  b[0x21] ^= 1;  // corruption of the ATI adjust byte
  info = parse(b);
  CHECK_FALSE(info.images[0].checksums[1].ok);
  CHECK(info.images[0].checksums[1].fix_offset == 0x21u);
  CHECK(info.images[0].checksums[1].fix_value == (b[0x21] ^ 1));
}

TEST_CASE("truncated: declared length past the end of the file") {
  Bytes b = image({.units = 4});
  b.resize(3 * 512);  // corruption: the last 512 bytes are missing
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 1);
  const Diagnostic* d = diag(info, "truncated");
  REQUIRE(d);
  CHECK(d->offset == 0);
  CHECK(d->message.find("0x200 bytes early") != std::string::npos);
  CHECK(info.images[0].checksums[0].length == 3 * 512);
}

TEST_CASE("trailing-data: padding and data after the chain are told apart") {
  Bytes pad = concat({image({}), Bytes(512, 0xFF)});
  RomInfo info = parse(pad);
  const Diagnostic* d = diag(info, "trailing-data");
  REQUIRE(d);
  CHECK(d->offset == 1024);
  CHECK(d->severity == Severity::info);
  CHECK(d->message.find("padding 0xff") != std::string::npos);
  Bytes data = concat({image({}), Bytes(512, 0x12)});
  info = parse(data);
  REQUIRE(diag(info, "trailing-data"));
  CHECK(diag(info, "trailing-data")->severity == Severity::warning);
}

TEST_CASE("image-after-last: last flag set but a valid image follows") {
  Bytes b = concat({image({}), image({.device = 0x2222})});  // first image says last
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 2);
  CHECK(info.images[1].offset == 1024);
  CHECK_FALSE(info.images[1].in_chain);
  CHECK(info.chain_end == 1024);
  REQUIRE(diag(info, "image-after-last"));
  CHECK(diag(info, "image-after-last")->offset == 1024);
  CHECK_FALSE(diag(info, "image-after-end"));
}

TEST_CASE("image-after-end: a valid image further into the trailing data") {
  Bytes b = concat({image({}), Bytes(256, 0), image({.device = 0x2222})});
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 2);
  CHECK(info.images[1].offset == 1024 + 256);
  REQUIRE(diag(info, "image-after-end"));
}

TEST_CASE("no-pcir: an ISA ROM has vendor, device and code type null") {
  Bytes b = image({.units = 2});
  put_str(b, 0x40, "XXXX");  // corruption: no PCIR signature where 0x18 points
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 1);
  const Image& img = info.images[0];
  CHECK_FALSE(img.pcir_offset);
  CHECK_FALSE(img.vendor_id);
  CHECK(img.length == 1024);  // from the byte at 0x02
  CHECK(img.last);
  REQUIRE(diag(info, "no-pcir"));
  const auto j = to_json(info, "isa.rom");
  CHECK(j["images"][0]["vendor_id"].is_null());
  CHECK(j["images"][0]["device_id"].is_null());
  CHECK(j["images"][0]["code_type"].is_null());
  CHECK(j["images"][0]["code_type_name"] == "x86");
  CHECK(find_x86_image(info) == &img);
}

TEST_CASE("pcir-out-of-bounds: PCIR pointer past the end of the file") {
  Bytes b = image({});
  put16(b, 0x18, 0xFFF0);  // corruption
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 1);
  CHECK_FALSE(info.images[0].pcir);
  REQUIRE(diag(info, "pcir-out-of-bounds"));
}

TEST_CASE("pcir-out-of-bounds: PCI data structure cut by the end of the file") {
  Bytes b = image({});
  put16(b, 0x18, static_cast<std::uint16_t>(b.size() - 8));  // corruption: only 8 bytes left
  put_str(b, b.size() - 8, "PCIR");
  REQUIRE(diag(parse(b), "pcir-out-of-bounds"));
}

TEST_CASE("pcir-misaligned: PCIR at an odd offset is still read") {
  Bytes good = image({.pcir_at = 0x41});  // corruption: not 4-byte aligned
  const RomInfo info = parse(good);
  REQUIRE(info.images[0].pcir);
  CHECK(info.images[0].vendor_id == 0x1234);
  REQUIRE(diag(info, "pcir-misaligned"));
  CHECK(diag(info, "pcir-misaligned")->offset == 0x41);
}

TEST_CASE("image-not-at-offset-0: leading bytes before the first image") {
  Bytes b = concat({Bytes(0x300, 0xEE), image({})});
  const RomInfo info = parse(b);
  REQUIRE(info.images.size() == 1);
  CHECK(info.images[0].offset == 0x300);
  REQUIRE(diag(info, "image-not-at-offset-0"));
}

TEST_CASE("container-header: an nvflash NVGI header before the first 0x55AA") {
  Bytes head(0x400, 0);
  put_str(head, 0, "NVGI");
  const RomInfo info = parse(concat({head, image({.vendor = 0x10DE})}));
  REQUIRE(info.images.size() == 1);
  CHECK(info.images[0].offset == 0x400);
  REQUIRE(diag(info, "container-header"));
}

TEST_CASE("mirrored-halves: the file holds the ROM twice") {
  Bytes one = image({});
  const RomInfo info = parse(concat({one, one}));
  REQUIRE(diag(info, "mirrored-halves"));
  CHECK(diag(info, "mirrored-halves")->offset == one.size());
}

TEST_CASE("split-chip-dump: even and odd halves of an interleaved ROM") {
  Bytes whole = image({.units = 4});
  Bytes even, odd;
  for (std::size_t i = 0; i < whole.size(); ++i) (i % 2 ? odd : even).push_back(whole[i]);
  RomInfo e = parse(even), o = parse(odd);
  CHECK_FALSE(is_rom(e));
  CHECK_FALSE(is_rom(o));
  REQUIRE(diag(e, "split-chip-dump"));
  CHECK(diag(e, "split-chip-dump")->message.find("even-byte") != std::string::npos);
  REQUIRE(diag(o, "split-chip-dump"));
  CHECK(diag(o, "split-chip-dump")->message.find("odd-byte") != std::string::npos);
}

TEST_CASE("not-a-rom: empty, tiny and random files") {
  for (const Bytes& b : {Bytes{}, Bytes{0x55}, Bytes(4096, 0x00), Bytes(4096, 0x55)}) {
    const RomInfo info = parse(b);
    CHECK_FALSE(is_rom(info));
    CHECK(find_x86_image(info) == nullptr);
    REQUIRE(info.diagnostics.size() == 1);
  }
  CHECK(diag(parse(Bytes(64, 0)), "not-a-rom"));
}

TEST_CASE("unknown-vendor: an id no vendor owns, and the invalid 0xffff") {
  CHECK(diag(parse(image({.vendor = 0x03EA})), "unknown-vendor"));
  CHECK(diag(parse(image({.vendor = 0xFFFF})), "unknown-vendor")->message.find("not a valid") != std::string::npos);
  CHECK_FALSE(diag(parse(image({.vendor = 0x10DE})), "unknown-vendor"));
}

TEST_CASE("class-reversed: base class stored in the prog-if byte") {
  const RomInfo info = parse(image({.class_code = 0x000003}));  // corruption: 03 00 00 reversed
  CHECK(info.images[0].class_code == 0x000003u);  // reported as stored
  REQUIRE(diag(info, "class-reversed"));
  CHECK_FALSE(diag(parse(image({.class_code = 0x000100})), "class-reversed"));  // pre-2.0 VGA class
}

TEST_CASE("NPDE overrides image length and last flag") {
  Bytes first = image({.units = 2, .vendor = 0x10DE, .last = true});  // PCIR says last, 1024 bytes
  // NPDE at the next 16-byte boundary after the PCIR (0x40 + 0x1c -> 0x60).
  put_str(first, 0x60, "NPDE");  // signature
  put16(first, 0x64, 0x0101);    // revision
  put16(first, 0x66, 0x14);      // length
  put16(first, 0x68, 2);         // image length, 512-byte units (same as PCIR)
  first[0x6A] = 0x00;            // flags: not last -> overrides the PCIR indicator
  fix_checksum(first, 0, first.size(), first.size() - 1);
  const RomInfo info = parse(concat({first, efi_image({.units = 1, .vendor = 0x10DE})}));
  REQUIRE(info.images.size() == 2);
  REQUIRE(info.images[0].npde);
  CHECK(info.images[0].npde->offset == 0x60);
  CHECK_FALSE(info.images[0].last);
  CHECK(info.images[0].pcir->indicator == 0x80);
  CHECK(info.images[1].in_chain);
  CHECK_FALSE(diag(info, "image-after-last"));
}

TEST_CASE("NVIDIA 0xBB77 and \"NV\" signatures continue the chain") {
  for (std::uint16_t sig : {std::uint16_t{0xBB77}, std::uint16_t{0x564E}}) {
    Bytes second = image({.vendor = 0x10DE});
    put16(second, 0, sig);  // the second image's signature
    const RomInfo info = parse(concat({image({.vendor = 0x10DE, .last = false}), second}));
    REQUIRE(info.images.size() == 2);
    CHECK(info.images[1].signature == sig);
    CHECK(info.images[1].in_chain);
  }
}

TEST_CASE("type 0xE0 NVIDIA firmware image") {
  const RomInfo info = parse(concat({image({.vendor = 0x10DE, .last = false}), image({.vendor = 0x10DE, .code_type = 0xE0})}));
  REQUIRE(info.images.size() == 2);
  CHECK(code_type_name(info.images[1].code_type) == "nvidia-firmware");
  CHECK_FALSE(info.images[1].checksum_ok);
}

TEST_CASE("broken-chain: not marked last, but no signature at the next offset") {
  const RomInfo info = parse(concat({image({.last = false}), Bytes(1024, 0)}));
  REQUIRE(diag(info, "broken-chain"));
  CHECK(diag(info, "broken-chain")->offset == 1024);
}

TEST_CASE("chain-ends-at-eof: not marked last, file ends where the next image would start") {
  const RomInfo info = parse(image({.last = false}));
  REQUIRE(diag(info, "chain-ends-at-eof"));
  CHECK_FALSE(diag(info, "broken-chain"));
}

TEST_CASE("zero-length: PCIR image length 0 stops the walk") {
  Bytes b = image({});
  put16(b, 0x40 + 0x10, 0);  // corruption: image length
  const RomInfo info = parse(b);
  REQUIRE(diag(info, "zero-length"));
  CHECK(info.images.size() <= kMaxImages);
}

TEST_CASE("too-many-images: a chain longer than kMaxImages is cut") {
  Bytes b;
  for (std::size_t i = 0; i < kMaxImages + 8; ++i) {
    Bytes one = image({.units = 1, .last = false});  // every image says "more follow"
    b.insert(b.end(), one.begin(), one.end());
  }
  const RomInfo info = parse(b);
  CHECK(info.images.size() == kMaxImages);
  REQUIRE(diag(info, "too-many-images"));
}

TEST_CASE("bad-entry: entry jump outside the image") {
  Bytes b = image({});
  b[3] = 0xE9;           // jmp near
  put16(b, 4, 0x7000);   // corruption: to 0x7006, past the 1024-byte image
  const RomInfo info = parse(b);
  CHECK(info.images[0].x86->target == 0x7006u);
  REQUIRE(diag(info, "bad-entry"));
}

TEST_CASE("efi-bad-signature and efi-bad-pe") {
  Bytes b = efi_image({});
  put32(b, 4, 0x1234);  // corruption: EFI signature
  b[0x60] = 'X';        // corruption: no MZ at the PE offset
  const RomInfo info = parse(b);
  REQUIRE(diag(info, "efi-bad-signature"));
  REQUIRE(diag(info, "efi-bad-pe"));
  CHECK(info.images[0].efi->pe_mz == false);
}

TEST_CASE("FCode header: start token, length and checksum") {
  Bytes b = image({.code_type = 1});
  put16(b, 2, 0x80);  // Open Firmware: bytes 2-3 point to the FCode program
  b[0x80] = 0xF1;     // start1
  b[0x81] = 0x08;     // format
  const std::uint32_t len = 0x20;
  b[0x84] = 0; b[0x85] = 0; b[0x86] = 0; b[0x87] = len;  // length, big-endian
  unsigned sum = 0;
  for (std::size_t i = 0x88; i < 0x80 + len; ++i) sum += (b[i] = static_cast<std::uint8_t>(i));
  b[0x82] = (sum >> 8) & 0xFF;  // checksum, big-endian
  b[0x83] = sum & 0xFF;
  RomInfo info = parse(b);
  REQUIRE(info.images[0].fcode);
  CHECK(info.images[0].fcode->offset == 0x80);
  CHECK(info.images[0].fcode->length == len);
  CHECK(info.images[0].fcode->checksum_ok == true);
  b[0x90] ^= 1;  // corruption inside the program
  info = parse(b);
  CHECK(info.images[0].fcode->checksum_ok == false);
  REQUIRE(diag(info, "fcode-bad-checksum"));
}

TEST_CASE("PCIR 3.0 device list") {
  Bytes b = image({});
  put16(b, 0x40 + 0x08, 0x40);  // device list 0x40 bytes after the PCIR
  put16(b, 0x80, 0x1111);
  put16(b, 0x82, 0x2222);
  put16(b, 0x84, 0);            // terminator
  const RomInfo info = parse(b);
  CHECK(info.images[0].pcir->device_list == std::vector<std::uint16_t>{0x1111, 0x2222});
}

TEST_CASE("AtomBIOS: ATOM_ROM_HEADER and master command/data directories") {
  Bytes b = image({.units = 4, .vendor = 0x1002, .pcir_at = 0x80});
  put_str(b, 0x30, " 761295520");
  put16(b, 0x48, 0x100);            // pointer to ATOM_ROM_HEADER
  put16(b, 0x100, 0x24);            // header: structure size
  b[0x102] = 2; b[0x103] = 2;       //   format / content revision
  put_str(b, 0x104, "ATOM");        //   signature
  put16(b, 0x118, 0x1002);          //   subsystem vendor
  put16(b, 0x11A, 0x0B12);          //   subsystem id
  put16(b, 0x11E, 0x200);           //   master command table
  put16(b, 0x120, 0x280);           //   master data table
  put16(b, 0x200, 4 + 3 * 2);       // command directory: 3 entries
  put16(b, 0x204, 0x300);           //   table 0 (ASIC_Init)
  put16(b, 0x206, 0);               //   table 1 absent
  put16(b, 0x208, 0x7F00);          //   table 2 past the end of the file
  put16(b, 0x300, 0x10); b[0x302] = 1; b[0x303] = 1;  // table 0 header
  put16(b, 0x280, 4 + 1 * 2);       // data directory: 1 entry
  put16(b, 0x284, 0x340);
  put16(b, 0x340, 0x08); b[0x342] = 1; b[0x343] = 3;
  fix_checksum(b, 0, b.size(), 0x21);
  const RomInfo info = parse(b);
  REQUIRE(info.tables.size() == 1);
  const Table& t = info.tables[0];
  CHECK(t.kind == "atombios");
  CHECK(t.offset == 0x100);
  CHECK(t.version == "2.2");
  CHECK(t.subsystem_id == 0x0B12);
  CHECK(t.directory_offset == 0x200u);
  REQUIRE(t.entries.size() == 2);
  CHECK(t.entries[0].index == 0);
  CHECK(t.entries[0].size == 0x10);
  CHECK(t.entries[1].index == 2);
  CHECK_FALSE(t.entries[1].in_bounds);
  REQUIRE(t.data_entries.size() == 1);
  CHECK(t.data_entries[0].content_revision == 3);
  REQUIRE(diag(info, "atom-table-out-of-bounds"));
}

TEST_CASE("ATI legacy header when 0x48 does not point to ATOM") {
  Bytes b = image({.vendor = 0x1002, .pcir_at = 0x80});
  put_str(b, 0x30, " 761295520");
  put16(b, 0x48, 0x120);
  const RomInfo info = parse(b);
  REQUIRE(info.tables.size() == 1);
  CHECK(info.tables[0].kind == "ati-legacy");
  CHECK(info.tables[0].offset == 0x120);
}

TEST_CASE("NVIDIA BIT tokens and BMP") {
  Bytes b = image({.units = 4, .vendor = 0x10DE});
  const std::size_t at = 0x200;
  b[at] = 0xFF; b[at + 1] = 0xB8; put_str(b, at + 2, "BIT");  // signature, then 0
  put16(b, at + 6, 0x0100);   // version 1.0
  b[at + 8] = 12;             // header size
  b[at + 9] = 6;              // token size
  b[at + 10] = 2;             // token count
  b[at + 12] = 'I'; b[at + 13] = 1; put16(b, at + 14, 0x10); put16(b, at + 16, 0x300);  // token I
  b[at + 18] = 'B'; b[at + 19] = 2; put16(b, at + 20, 0x40); put16(b, at + 22, 0xFFF0); // token B, past the end
  b[0x280] = 0xFF; b[0x281] = 0x7F; put_str(b, 0x282, "NV"); b[0x285] = 0x00; b[0x286] = 0x01;  // BMP
  const RomInfo info = parse(b);
  REQUIRE(info.tables.size() == 2);
  const Table& bit = info.tables[0];
  CHECK(bit.kind == "nvidia-bit");
  CHECK(bit.offset == at);
  CHECK(bit.version == "1.0");
  REQUIRE(bit.entries.size() == 2);
  CHECK(bit.entries[0].index == 'I');
  CHECK(bit.entries[0].offset == 0x300);
  CHECK(bit.entries[0].in_bounds);
  CHECK_FALSE(bit.entries[1].in_bounds);
  CHECK(info.tables[1].kind == "nvidia-bmp");
  CHECK(info.tables[1].offset == 0x280);
}

TEST_CASE("Intel $VBT and its BIOS data blocks") {
  Bytes b = image({.units = 4, .vendor = 0x8086});
  const std::size_t v = 0x200, bdb = 0x230;
  put_str(b, v, "$VBT TEST");
  put16(b, v + 0x14, 100);            // VBT version
  put16(b, v + 0x16, 0x30);           // header size
  put16(b, v + 0x18, 0x100);          // VBT size
  put32(b, v + 0x1C, bdb - v);        // BDB offset
  put_str(b, bdb, "BIOS_DATA_BLOCK ");
  put16(b, bdb + 0x10, 142);          // BDB version
  put16(b, bdb + 0x12, 0x16);         // BDB header size
  put16(b, bdb + 0x14, 0x16 + 3 + 4 + 3 + 2);  // BDB size: two blocks
  b[bdb + 0x16] = 1; put16(b, bdb + 0x17, 4);  // block 1, 4 bytes
  b[bdb + 0x1D] = 2; put16(b, bdb + 0x1E, 2);  // block 2, 2 bytes
  const RomInfo info = parse(b);
  REQUIRE(info.tables.size() == 2);
  CHECK(info.tables[0].kind == "intel-vbt");
  CHECK(info.tables[0].version == "100");
  CHECK(info.tables[1].kind == "intel-bdb");
  CHECK(info.tables[1].offset == bdb);
  REQUIRE(info.tables[1].entries.size() == 2);
  CHECK(info.tables[1].entries[1].index == 2);
  CHECK(info.tables[1].entries[1].size == 2);
}

TEST_CASE("every prefix of a two-image ROM parses without reading out of bounds") {
  Bytes b = concat({image({.units = 2, .last = false}), efi_image({.units = 2})});
  for (std::size_t n = 0; n <= b.size(); ++n) {
    const RomInfo info = parse(Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK(info.size == n);
    for (const auto& c : info.images.empty() ? std::vector<Checksum>{} : info.images[0].checksums)
      CHECK(c.start + c.length <= n);
  }
}

TEST_CASE("JSON: file-level fields, one object per file") {
  const Bytes b = image({});
  const auto j = to_json(parse(b), "a.rom");
  CHECK(j["file"] == "a.rom");
  CHECK(j["size"] == 1024);
  CHECK(j["sha256"].get<std::string>().size() == 64);
  REQUIRE(j["images"].size() == 1);
  const auto& img = j["images"][0];
  for (const char* key : {"offset", "pcir_offset", "vendor_id", "device_id", "class_code", "length", "code_type",
                          "code_type_name", "last", "checksum_ok", "checksums", "pcir"})
    CHECK(img.contains(key));
  CHECK(img["vendor_id"] == 0x1234);
  CHECK(j["tables"].is_array());
  CHECK(j["diagnostics"].is_array());
  CHECK(names(parse(b)).empty());
}

#!/usr/bin/env python3
# Writes the example documents of tests/format (valid/, invalid/ with EXPECTED.tsv, migrate/).
# Run from tests/format after changing a rule; the files are committed.
import json, copy, os
def seqdoc(ops, **over):
    d = {
      "schema_version": "1.0",
      "_metadata": {"source_rom_sha1": "unknown", "source_rom_sha256": "", "generated": "2025-01-16T13:00:00Z",
                    "pipeline_version": "0.1.0", "method": "handwritten", "counters": {"raw_events": 12}},
      "device": {"vendor": 4660, "device": 4369, "class": 196608,
                 "bars": [{"index": 0, "kind": "mem32", "size": 16777216, "prefetchable": True},
                          {"index": 2, "kind": "mem32", "size": 4096, "prefetchable": False},
                          {"index": 4, "kind": "io", "size": 32, "prefetchable": False}],
                 "vga_decode": True},
      "init_sequence": ops}
    d.update(over)
    return d
def wseq(path, d):
    if not isinstance(d, dict) or "init_sequence" not in d or not isinstance(d["init_sequence"], list):
        open(path, "w").write(json.dumps(d, indent=2) + "\n"); return
    out = "{\n"
    keys = list(d.keys())
    for i, k in enumerate(keys):
        if k == "init_sequence":
            out += '  "init_sequence": [\n' + ",\n".join("    " + json.dumps(o, separators=(",", ":")) for o in d[k]) + "\n  ]"
        else:
            out += '  ' + json.dumps(k) + ": " + json.dumps(d[k], separators=(",", ":"))
        out += ",\n" if i + 1 < len(keys) else "\n"
    out += "}\n"
    open(path, "w").write(out)

W = lambda **k: dict({"op": "WRITE", "space": "mmio", "bar": 2, "offset": 16, "width": 32, "value": 1}, **k)
END = {"op": "END"}
full = [
  {"op": "WRITE", "space": "config", "offset": 4, "width": 16, "value": 7, "src": {"rom_offset": 4660}},
  {"op": "WRITE", "space": "vga_io", "offset": 962, "width": 8, "value": 103, "comment": "misc output"},
  {"op": "WRITE", "space": "vga_seq", "offset": 6, "width": 8, "value": 146, "src": {"cs_ip": "c000:1a2b", "seq": [10, [11, 12]]}},
  {"op": "RMW", "space": "mmio", "bar": 2, "offset": 64, "width": 32, "mask": 255, "value": 16},
  {"op": "READ", "space": "io", "bar": 4, "offset": 3, "width": 8},
  {"op": "READ", "space": "mmio", "bar": 0, "offset": 8, "width": 64, "expect": {"mask": 65535, "value": 4660}},
  {"op": "POLL", "space": "mmio", "bar": 2, "offset": 68, "width": 32, "mask": 1, "value": 1, "interval_us": 10, "timeout_us": 1000, "on_timeout": "fail"},
  {"op": "WRITE", "space": "ref_pll", "offset": 3, "width": 32, "value": 305419896},
  {"op": "WRITE", "space": "vga_mem", "offset": 0, "width": 16, "value": 1824},
  {"op": "WRITE", "space": "port", "offset": 128, "width": 8, "value": 85},
  {"op": "DELAY", "us": 150},
  {"op": "POLL", "space": "vga_io", "offset": 986, "width": 8, "mask": 8, "value": 0, "interval_us": 1, "timeout_us": 20000, "on_timeout": "continue"},
  END]
wseq("valid/seq-full.json", seqdoc(full))
wseq("valid/seq-minimal.json", seqdoc([END], device={"vendor": 4660, "device": 4369}))
# 1.1: FILL, count stores at consecutive locations (the last one fits the BAR exactly).
F = lambda **k: dict({"op": "FILL", "space": "mmio", "bar": 0, "offset": 0, "width": 32, "value": 0, "count": 16}, **k)
wseq("valid/seq-fill.json", seqdoc([F(), {k: v for k, v in F(space="vga_mem", offset=0x18000, width=16, value=0x0720, count=0x4000).items() if k != "bar"},
                                   F(offset=16777216 - 64, count=16, src={"seq": [[0, 15]]}), END], schema_version="1.1"))
big = seqdoc([{"op": "WRITE", "space": "mmio", "bar": 0, "offset": 16777208, "width": 64, "value": 18446744073709551615}, END])
wseq("valid/seq-u64-max.json", big)

inv = {}
def S(name, ops=None, where="", frag="", **over):
    inv[name] = (where, frag)
    wseq(f"invalid/{name}.json", seqdoc(ops if ops is not None else [W(), END], **over))
S("seq-width-not-allowed", [W(), W(width=24), END], "/init_sequence/1/width", "24 is not one of [8,16,32,64]")
S("seq-unknown-op", [{"op": "STORE"}, END], "/init_sequence/0/op", '"STORE" is not one of ["WRITE","FILL","RMW","READ","POLL","DELAY","END"]')
wv = W(); del wv["value"]
S("seq-write-missing-value", [wv, END], "/init_sequence/0", 'missing required property "value"')
S("seq-unknown-property", [W(colour="red"), END], "/init_sequence/0/colour", 'unknown property "colour"')
S("seq-mask-on-write", [W(mask=1), END], "/init_sequence/0/mask", 'property "mask" is not allowed here')
nb = W(); del nb["bar"]
S("seq-mmio-without-bar", [nb, END], "/init_sequence/0", 'missing required property "bar"')
S("seq-bar-on-vga-io", [{"op": "WRITE", "space": "vga_io", "bar": 0, "offset": 962, "width": 8, "value": 1}, END], "/init_sequence/0/bar", 'property "bar" is not allowed here')
S("seq-negative-offset", [W(offset=-4), END], "/init_sequence/0/offset", "-4 is less than the minimum 0")
S("seq-value-not-integer", [W(value="0x10"), END], "/init_sequence/0/value", '"0x10" is not an integer')
S("seq-bad-cs-ip", [W(src={"cs_ip": "c000-1a2b"}), END], "/init_sequence/0/src/cs_ip", '"c000-1a2b" does not match')
S("seq-bad-src-seq", [W(src={"seq": [[1, 2, 3]]}), END], "/init_sequence/0/src/seq/0", "matches none of the allowed forms")
S("seq-bad-space-name", [{"op": "WRITE", "space": "Ref PLL", "offset": 16, "width": 32, "value": 1}, END], "/init_sequence/0/space", '"Ref PLL" does not match')
S("seq-delay-with-space", [{"op": "DELAY", "us": 5, "space": "vga_io"}, END], "/init_sequence/0/space", 'property "space" is not allowed here')
S("seq-bad-on-timeout", [{"op": "POLL", "space": "mmio", "bar": 2, "offset": 0, "width": 32, "mask": 1, "value": 1, "interval_us": 1, "timeout_us": 2, "on_timeout": "retry"}, END], "/init_sequence/0/on_timeout", '"retry" is not one of ["fail","continue"]')
S("seq-wrong-version", where="/schema_version", frag='"1.0a" is not one of ["1.0","1.1"]', schema_version="1.0a")
S("seq-newer-major-version", where="/schema_version", frag='schema version "2.0" is newer than this gpu-init reads', schema_version="2.0")
md = seqdoc([])["_metadata"]; md2 = dict(md); del md2["source_rom_sha1"]
S("seq-metadata-missing-sha1", where="/_metadata", frag='missing required property "source_rom_sha1"', _metadata=md2)
S("seq-metadata-bad-generated", where="/_metadata/generated", frag='"yesterday" does not match', _metadata=dict(md, generated="yesterday"))
S("seq-metadata-bad-sha1", where="/_metadata/source_rom_sha1", frag="does not match", _metadata=dict(md, source_rom_sha1="ABC"))
dev = seqdoc([])["device"]
S("seq-device-bad-bar-kind", where="/device/bars/0/kind", frag='"mem16" is not one of ["mem32","mem64","io"]',
  device=dict(dev, bars=[{"index": 0, "kind": "mem16", "size": 4096}]))
S("seq-device-vendor-too-large", where="/device/vendor", frag="65536 is greater than the maximum 65535", device=dict(dev, vendor=65536))
S("seq-empty-sequence", [], "/init_sequence", "has fewer than 1 items")
S("seq-top-level-unknown-property", where="/extra", frag='unknown property "extra"', extra=1)
# semantic
S("seq-poll-value-outside-mask", [{"op": "POLL", "space": "mmio", "bar": 2, "offset": 0, "width": 32, "mask": 1, "value": 3, "interval_us": 1, "timeout_us": 2, "on_timeout": "fail"}, END], "/init_sequence/0/value", "0x3 has bits outside mask 0x1")
S("seq-rmw-value-outside-mask", [{"op": "RMW", "space": "mmio", "bar": 2, "offset": 0, "width": 32, "mask": 240, "value": 17}, END], "/init_sequence/0/value", "0x11 has bits outside mask 0xf0")
S("seq-expect-outside-mask", [{"op": "READ", "space": "mmio", "bar": 2, "offset": 0, "width": 32, "expect": {"mask": 15, "value": 16}}, END], "/init_sequence/0/expect/value", "0x10 has bits outside mask 0xf")
S("seq-value-wider-than-width", [W(width=8, offset=16, value=511), END], "/init_sequence/0/value", "0x1ff is wider than 8 bits")
S("seq-offset-outside-bar", [W(offset=4096), END], "/init_sequence/0/offset", "0x1000 + 4 bytes is outside BAR2 (size 0x1000)")
S("seq-offset-unaligned", [W(offset=18), END], "/init_sequence/0/offset", "0x12 is not aligned to its 32-bit width")
S("seq-missing-end", [W()], "/init_sequence/0", "the sequence does not end with END")
S("seq-ops-after-end", [W(), END, W(), END], "/init_sequence/1", "END is not the last op: 2 ops follow it")
S("seq-bar-not-listed", [W(bar=3), END], "/init_sequence/0/bar", "BAR 3 is not among the device's BARs")
S("seq-mmio-on-io-bar", [W(bar=4, offset=0), END], "/init_sequence/0/bar", "space mmio but BAR 4 is an I/O BAR")
S("seq-vga-io-outside-range", [{"op": "WRITE", "space": "vga_io", "offset": 1000, "width": 8, "value": 1}, END], "/init_sequence/0/offset", "is outside vga_io")
S("seq-config-outside-space", [{"op": "READ", "space": "config", "offset": 4094, "width": 32}, END], "/init_sequence/0/offset", "0xffe is not aligned")
S("seq-device-bar-size-not-power-of-two", where="/device/bars/0/size", frag="0x3000 is not a power of two",
  device=dict(dev, bars=[{"index": 0, "kind": "mem32", "size": 12288}]), ops=[END])
S("seq-device-bar-listed-twice", where="/device/bars/1/index", frag="BAR 0 is listed twice",
  device=dict(dev, bars=[{"index": 0, "kind": "mem32", "size": 4096}, {"index": 0, "kind": "mem32", "size": 4096}]), ops=[END])
S("seq-fill-count-zero", [F(count=0), END], "/init_sequence/0/count", "0 is less than the minimum 1", schema_version="1.1")
S("seq-fill-missing-count", [{k: v for k, v in F().items() if k != "count"}, END], "/init_sequence/0", 'missing required property "count"', schema_version="1.1")
S("seq-write-with-count", [W(count=4), END], "/init_sequence/0/count", "not allowed")
S("seq-fill-in-io", [F(space="io", bar=4, width=8, count=4), END], "/init_sequence/0/space", "FILL is for memory (mmio or vga_mem), not io", schema_version="1.1")
S("seq-fill-past-bar", [F(bar=2, offset=4032, count=17), END], "/init_sequence/0/count", "the last of 17 stores, at 0x1000: 0x1000 + 4 bytes is outside BAR2 (size 0x1000)", schema_version="1.1")
S("seq-src-seq-range-reversed", [W(src={"seq": [[5, 2]]}), END], "/init_sequence/0/src", "seq range [5, 2] is reversed")
inv["seq-config-outside-space"] = ("/init_sequence/0/offset", "0xffe is not aligned")
# one more: config outside without alignment issue
S("seq-config-offset-outside-space", [{"op": "READ", "space": "config", "offset": 4096, "width": 8}, END], "/init_sequence/0/offset", "0x1000 + 1 bytes is outside config (ends at 0x1000)")
del inv["seq-config-outside-space"]; os.remove("invalid/seq-config-outside-space.json")
open("invalid/seq-not-json.json", "w").write('{"schema_version": "1.0", "init_sequence": [\n')
inv["seq-not-json"] = ("", "not valid JSON")
# Found by fuzz_format: a number too large for a double is an out_of_range error, not a parse error.
open("invalid/seq-number-overflow.json", "w").write('{"schema_version": "1.0", "init_sequence": [{"op": "DELAY", "us": 1e400}]}\n')
inv["seq-number-overflow"] = ("", "not valid JSON: number overflow parsing '1e400'")
# Found by fuzz_format: migration must not assume the types of a document not yet validated.
open("invalid/seq-pre-1.0-op-not-a-string.json", "w").write('{"init_sequence": [{"op": 8, "value": 103}]}\n')
inv["seq-pre-1.0-op-not-a-string"] = ("/init_sequence/0/op", '8 is not one of ["WRITE","FILL","RMW","READ","POLL","DELAY","END"]')
open("invalid/seq-too-deep.json", "w").write('{"init_sequence": ' + "[" * 100 + "]" * 100 + "}\n")
inv["seq-too-deep"] = ("", "nesting deeper than 64 levels")

# traces
hdr = {"trace_version": "1", "source": "extract:example.rom",
       "device": {"vendor": 4660, "device": 4369, "class": 196608, "bars": [{"index": 0, "kind": "mem32", "size": 16777216, "prefetchable": True}, {"index": 4, "kind": "io", "size": 32, "prefetchable": False}], "vga_decode": True},
       "tool_version": "0.1.0"}
def E(seq, t, **k):
    d = {"seq": seq, "t_ns": t, "space": "io", "bar": 4, "offset": 16, "width": 8, "dir": "w", "value": 146}
    d.update(k); return {k2: v for k2, v in d.items() if v is not None}
def wtr(path, lines):
    open(path, "w").write("".join((l if isinstance(l, str) else json.dumps(l, separators=(",", ":"))) + "\n" for l in lines))
good = [hdr, E(0, 1200, cs_ip="c000:1a2b", icount=5012), E(1, 1300, dir="r", value=18, space="vga_io", bar=None, offset=965),
        {"seq": 2, "t_ns": 1400, "service": "int15_86", "wait_ns": 1000000, "cs_ip": "c000:0100"},
        E(3, 1001400, space="mmio", bar=0, offset=4096, width=32, dir="r", value=1, loop_exit=True, icount=6000),
        E(4, 1001500, space="config", bar=None, offset=4, width=16, value=7, op=9, rom_offset=1234)]
wtr("valid/trace-extract.jsonl", good)
wtr("valid/trace-header-only.jsonl", [{"trace_version": "1", "source": "replay:model"}])
def T(name, lines, where, frag):
    inv[name] = (where, frag); wtr(f"invalid/{name}.jsonl", lines)
T("trace-seq-not-increasing", [hdr, E(0, 10), E(0, 20)], "line 3/seq", "0 does not follow 0 (seq must increase)")
T("trace-time-goes-back", [hdr, E(0, 10), E(1, 5)], "line 3/t_ns", "5 is earlier than the previous event's 10")
T("trace-bad-dir", [hdr, E(0, 10, dir="x")], "line 2/dir", '"x" is not one of ["r","w"]')
T("trace-no-header", [E(0, 10), E(1, 20)], "line 1", 'the first line is not a trace header: it has no "trace_version"')
T("trace-newer-version", [dict(hdr, trace_version="2"), E(0, 10)], "line 1/trace_version", 'trace_version "2" is newer than this gpu-init reads (1)')
T("trace-bad-json-line", [hdr, E(0, 10), '{"seq": 1,'], "line 3", "not valid JSON")
T("trace-value-wider-than-width", [hdr, E(0, 10, value=256)], "line 2/value", "0x100 is wider than 8 bits")
T("trace-service-with-space", [hdr, {"seq": 0, "t_ns": 1, "service": "int15_86", "space": "vga_io"}], "line 2/space", 'property "space" is not allowed here')
T("trace-event-missing-width", [hdr, E(0, 10, width=None)], "line 2", 'missing required property "width"')
T("trace-offset-outside-bar", [hdr, E(0, 10, offset=32)], "line 2/offset", "0x20 + 1 bytes is outside BAR4 (size 0x20)")
T("trace-header-unknown-property", [dict(hdr, colour=1), E(0, 10)], "line 1/colour", 'unknown property "colour"')
open("invalid/trace-empty.jsonl", "w").write("\n\n")
inv["trace-empty"] = ("line 1", "empty trace: no header line")

# register maps
rdev = {"vendor": 4660, "device": 4369, "class": 196608,
        "bars": [{"index": 0, "kind": "mem32", "size": 16777216, "prefetchable": True}, {"index": 2, "kind": "mem32", "size": 4096, "prefetchable": False}, {"index": 4, "kind": "io", "size": 32, "prefetchable": False}],
        "vga_decode": True}
def R(name, off, **k):
    d = {"name": name, "space": "mmio", "bar": 2, "offset": off, "width": 32, "reset": 0, "access": "rw"}
    d.update(k); return {k2: v for k2, v in d.items() if v is not None}
regs = [R("ID", 0, access="ro", reset=305419896, description="chip id"),
        R("CTRL", 4, fields=[{"name": "ENABLE", "lsb": 0, "msb": 0}, {"name": "MODE", "lsb": 4, "msb": 7, "description": "mode select"}], write_side_effect=True),
        R("STATUS", 8, access="ro", fields=[{"name": "READY", "lsb": 0, "msb": 0}, {"name": "ERR", "lsb": 1, "msb": 1, "access": "w1c"}], read_sensitive=True),
        R("SCRATCH", 12),
        R("PLL_DIV", 3, space="ref_pll", bar=None, width=8, reset=2),
        R("PORT_CFG", 8, space="io", bar=4, width=16)]
ispaces = [{"name": "ref_pll", "index": {"space": "io", "bar": 4, "offset": 0, "width": 8}, "data": {"space": "io", "bar": 4, "offset": 4, "width": 32}, "size": 64}]
behs = [{"kind": "constant", "register": "ID", "mask": 4294967295, "value": 305419896, "description": "device id"},
        {"kind": "delayed_set", "register": "STATUS", "mask": 1, "value": 1, "trigger": "CTRL", "trigger_mask": 1, "trigger_value": 1, "delay_ns": 50000},
        {"kind": "readback", "register": "SCRATCH", "mask": 4294967295, "value": 1, "when_mask": 4294967295, "when_value": 2779096485, "else_value": 0}]
def regmap(**over):
    d = {"regmap_version": "1", "name": "example-card", "description": "an example", "device": rdev, "vga": True,
         "registers": copy.deepcopy(regs), "indexed_spaces": copy.deepcopy(ispaces), "behaviours": copy.deepcopy(behs)}
    d.update(over); return d
open("valid/regmap-example.json", "w").write(json.dumps(regmap(), indent=2) + "\n")
def M(name, where, frag, d):
    inv[name] = (where, frag); open(f"invalid/{name}.json", "w").write(json.dumps(d, indent=2) + "\n")
M("regmap-registers-overlap", "/registers/3", "BIG at 0x8 overlaps STATUS at 0x8", regmap(registers=regs[:3] + [R("BIG", 8, width=64)], indexed_spaces=[], behaviours=[]))
M("regmap-field-past-width", "/registers/0/fields/0/msb", "bit 40 is past the register's 32 bits", regmap(registers=[R("ID", 0, fields=[{"name": "X", "lsb": 32, "msb": 40}])], behaviours=[]))
M("regmap-fields-overlap", "/registers/0/fields/1", 'field "B" overlaps another field of ID (bits 0x8)', regmap(registers=[R("ID", 0, fields=[{"name": "A", "lsb": 0, "msb": 3}, {"name": "B", "lsb": 3, "msb": 4}])], behaviours=[]))
M("regmap-field-msb-below-lsb", "/registers/0/fields/0/msb", "msb 1 is below lsb 3", regmap(registers=[R("ID", 0, fields=[{"name": "A", "lsb": 3, "msb": 1}])], behaviours=[]))
M("regmap-reset-wider-than-width", "/registers/0/reset", "0x100 is wider than 8 bits", regmap(registers=[R("ID", 0, width=8, reset=256)], behaviours=[]))
M("regmap-duplicate-register-name", "/registers/1/name", '"ID" is also the name of /registers/0', regmap(registers=[R("ID", 0), R("ID", 4)], behaviours=[]))
M("regmap-behaviour-unknown-register", "/behaviours/0/register", 'no register is named "NOPE"', regmap(behaviours=[dict(behs[0], register="NOPE")]))
M("regmap-behaviour-unknown-trigger", "/behaviours/0/trigger", 'no register is named "GO"', regmap(behaviours=[dict(behs[1], trigger="GO")]))
M("regmap-behaviour-value-outside-mask", "/behaviours/0/value", "0x3 has bits outside mask 0x1", regmap(behaviours=[dict(behs[1], value=3)]))
M("regmap-indexed-port-is-register", "/indexed_spaces/0/index", 'the index port of "ref_pll" is also register IDX', regmap(registers=regs + [R("IDX", 0, space="io", bar=4, width=8)]))
M("regmap-indexed-data-outside-bar", "/indexed_spaces/0/data/offset", "0x20 + 4 bytes is outside BAR4 (size 0x20)", regmap(indexed_spaces=[dict(ispaces[0], data={"space": "io", "bar": 4, "offset": 32, "width": 32})]))
M("regmap-indexed-space-builtin-name", "/indexed_spaces/0/name", '"vga_seq" is a built-in space', regmap(registers=regs[:4], indexed_spaces=[dict(ispaces[0], name="vga_seq")]))
M("regmap-named-space-undeclared", "/registers/4/space", '"other_pll" is not one of the map\'s indexed_spaces', regmap(registers=regs[:4] + [R("PLL_DIV", 3, space="other_pll", bar=None, width=8)]))
M("regmap-bad-access", "/registers/0/access", '"rx" is not one of ["rw","ro","wo","w1c","w1s"]', regmap(registers=[R("ID", 0, access="rx")], behaviours=[]))
M("regmap-delayed-set-missing-delay", "/behaviours/1", 'missing required property "delay_ns"', regmap(behaviours=[behs[0], {k: v for k, v in behs[1].items() if k != "delay_ns"}]))
M("regmap-newer-version", "/regmap_version", 'regmap_version "2" is newer than this gpu-init reads (1)', regmap(regmap_version="2"))
M("regmap-register-unaligned", "/registers/0/offset", "0x2 is not aligned to its 32-bit width", regmap(registers=[R("ID", 2)], behaviours=[]))

# migrations
pre = {"init_sequence": [{"op": "WRITE", "space": "vga_io", "offset": 962, "width": 8, "value": 103}, {"op": "END"}]}
open("migrate/pre-1.0.json", "w").write(json.dumps(pre, indent=2) + "\n")
open("migrate/pre-1.0-no-end.json", "w").write(json.dumps({"init_sequence": [pre["init_sequence"][0]]}, indent=2) + "\n")
newer = seqdoc(full[:2] + [END], schema_version="1.3")
newer["init_sequence"][0] = dict(newer["init_sequence"][0], retries=3)
newer["future_field"] = {"x": 1}
wseq("migrate/newer-minor-1.3.json", newer)

with open("invalid/EXPECTED.tsv", "w") as f:
    f.write("# file\tpointer\tmessage fragment (each invalid example must fail with exactly this one problem)\n")
    for k in sorted(inv):
        ext = ".jsonl" if k.startswith("trace-") else ".json"
        f.write(f"{k}{ext}\t{inv[k][0]}\t{inv[k][1]}\n")
print(len(inv))

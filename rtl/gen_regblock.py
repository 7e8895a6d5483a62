#!/usr/bin/env python3
"""Generate a synthesizable SystemVerilog register block from a gpu-init register map.

    gen_regblock.py MAP.json OUT.sv [--module NAME] [--clock-mhz MHZ]

Standard library only: CMake runs it at configure time, because Verilator's CMake
package (verilate()) needs the SystemVerilog sources before the build starts.

The bus, the address encoding and the behaviour of every generated part are described
in docs/sim.md; this file is the single place that implements them in hardware.
Exit status: 0 written, 1 the map is malformed (message names the map file and the
register), 2 usage, 3 the map is valid but has a location this bus cannot express (a
register straddling a 64-bit bus word, two registers overlapping): no RTL for that map.
"""

import json
import math
import os
import re
import sys
import tempfile

# Bus word address = {region[3:0], offset[31:3]}: 33 bits. Regions:
REGION = {"config": 0, "vga_io": 7, "port": 8, "vga_mem": 9}
REGION_BAR0 = 1  # BAR n (mmio or io) is region 1 + n
ADDR_BITS = 33
OFFSET_LIMIT = 1 << 32
INDEXED_BUILTIN = ("vga_seq", "vga_crtc", "vga_gfx", "vga_attr", "vga_dac")
FLAT_SPACES = ("mmio", "io", "config", "vga_io", "vga_mem", "port")
POLICIES = ("rw", "ro", "wo", "w1c", "w1s")
MAX_REGISTERS = 4096      # a map is hand-written; beyond this it is not a register file
MAX_INDEXED_SIZE = 1 << 32  # indices of one indexed space
MAX_DELAY_CYCLES = 1 << 40
MAX_BLOCK_BYTES = 1 << 16  # a mapped data block is a ROM in the read decode: bounded
MAX_I2C_BYTES = 1 << 16

# Standard VGA ports (vga_io) claimed by the built-in register file when map.vga is set.
VGA_PORTS = {
    "attr_index": 0x3C0, "attr_rdata": 0x3C1, "misc_w_is0": 0x3C2,
    "seq_index": 0x3C4, "seq_data": 0x3C5, "dac_mask": 0x3C6, "dac_rindex": 0x3C7,
    "dac_windex": 0x3C8, "dac_data": 0x3C9, "feat_r": 0x3CA, "misc_r": 0x3CC,
    "gfx_index": 0x3CE, "gfx_data": 0x3CF,
    "crtc_index_mono": 0x3B4, "crtc_data_mono": 0x3B5, "is1_mono": 0x3BA,
    "crtc_index": 0x3D4, "crtc_data": 0x3D5, "is1": 0x3DA,
}
# Built-in indexed spaces: ((index ports), (data ports)), number of standard registers.
# Indices beyond the standard ones hold nothing and read 0 unless the map lists them.
VGA_BANKS = {
    "vga_seq": (((0x3C4,), (0x3C5,)), 5),
    "vga_crtc": (((0x3D4, 0x3B4), (0x3D5, 0x3B5)), 0x19),
    "vga_gfx": (((0x3CE,), (0x3CF,)), 9),
}
ATTR_COUNT = 0x15
VGA_INDEXED = VGA_BANKS


class MapError(Exception):
    pass


class BusError(MapError):
    """The map is valid but this generator cannot express it: a location that does not fit
    the bus, or a behaviour without an RTL form yet (exit status 3: no RTL for that map)."""


def ident(name):
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not s or s[0].isdigit():
        s = "r_" + s
    return s.lower()


def hexv(width, v):
    return "%d'h%x" % (width, v & ((1 << width) - 1))


def region_of(space, bar):
    if space in ("mmio", "io"):
        if not 0 <= bar <= 5:
            raise MapError("BAR %d out of range 0..5" % bar)
        return REGION_BAR0 + bar
    return REGION[space]


def word_addr(space, bar, offset):
    if offset >= OFFSET_LIMIT:
        raise MapError("offset 0x%x beyond the 32-bit offset field" % offset)
    return (region_of(space, bar) << 29) | (offset >> 3)


class Reg:
    """One register of the map with its per-bit policy masks."""

    def __init__(self, j, pos):
        self.pos = pos
        self.name = j["name"]
        self.id = "r%d_%s" % (pos, ident(self.name))
        self.space = j["space"]
        self.bar = int(j.get("bar", 0))
        self.offset = int(j["offset"])
        self.width = int(j.get("width", 32))
        if self.width not in (8, 16, 32, 64):
            raise MapError("width %d is not 8, 16, 32 or 64" % self.width)
        full = (1 << self.width) - 1
        self.reset = int(j.get("reset", 0)) & full
        acc = j.get("access", "rw")
        if acc not in POLICIES:
            raise MapError("unknown access policy '%s'" % acc)
        masks = {p: 0 for p in POLICIES}
        covered = 0
        for f in j.get("fields", []):
            lsb, msb = int(f["lsb"]), int(f["msb"])
            if not 0 <= lsb <= msb < self.width:
                raise MapError("field %s bits %d..%d outside the register" % (f.get("name"), lsb, msb))
            m = ((1 << (msb - lsb + 1)) - 1) << lsb
            fa = f.get("access")
            if fa is not None:
                if fa not in POLICIES:
                    raise MapError("unknown access policy '%s' in field %s" % (fa, f.get("name")))
                masks[fa] |= m & ~covered
                covered |= m
        masks[acc] |= full & ~covered
        self.m = masks
        # Bits with a flop: everything but ro. ro bits read their reset value (a strap).
        self.store = full & ~masks["ro"]
        self.readable = full & ~masks["wo"]
        self.writes_plain = masks["rw"] | masks["wo"]
        self.indexed = self.space not in FLAT_SPACES
        if self.indexed:
            self.word = None
            self.lane = 0
        else:
            if self.offset % (self.width // 8) and (self.offset % 8) + self.width // 8 > 8:
                raise BusError("crosses an 8-byte bus word")
            self.lane = self.offset % 8
            if self.lane + self.width // 8 > 8:
                raise MapError("crosses an 8-byte bus word")
            self.word = word_addr(self.space, self.bar, self.offset)


class Gen:
    def __init__(self, m, module, clock_mhz, src_name):
        self.m = m
        self.module = module
        self.clock_mhz = clock_mhz
        self.src = src_name
        self.out = []
        self.regs = []
        regs = m.get("registers", [])
        if len(regs) > MAX_REGISTERS:
            raise MapError("%d registers exceed the limit of %d" % (len(regs), MAX_REGISTERS))
        seen = {}
        for i, rj in enumerate(regs):
            try:
                r = Reg(rj, i)
            except MapError as e:
                raise MapError("register %s: %s" % (rj.get("name", "#%d" % i), e))
            key = (r.space, r.bar if r.space in ("mmio", "io") else 0, r.offset)
            if key in seen:
                raise MapError("register %s: same location as %s" % (r.name, seen[key]))
            seen[key] = r.name
            self.regs.append(r)
        self.by_name = {r.name: r for r in self.regs}
        self.vga = bool(m.get("vga", False))
        # Indexed spaces: name -> dict(index=(space,bar,off,width), data=..., size, regs)
        self.spaces = {}
        for s in m.get("indexed_spaces", []):
            name = s["name"]
            size = int(s.get("size", 256))
            if not 1 <= size <= MAX_INDEXED_SIZE:
                raise MapError("indexed space %s: size %d outside 1..%d" % (name, size, MAX_INDEXED_SIZE))
            loc = []
            for part in ("index", "data"):
                lj = s[part]
                sp = lj["space"]
                if sp not in FLAT_SPACES:
                    raise MapError("indexed space %s: %s port in space %s" % (name, part, sp))
                w = int(lj.get("width", 8))
                off = int(lj["offset"])
                if w not in (8, 16, 32):
                    raise MapError("indexed space %s: %s port width %d is not 8, 16 or 32" % (name, part, w))
                if part == "index" and (off % 8) + w // 8 > 8:
                    raise BusError("indexed space %s: index port crosses a 64-bit bus word" % name)
                if off + w // 8 > OFFSET_LIMIT:
                    raise MapError("indexed space %s: %s port beyond the 32-bit offset field" % (name, part))
                loc.append((sp, int(lj.get("bar", 0)) if sp in ("mmio", "io") else 0, off, w))
            self.spaces[name] = {"index": loc[0], "data": loc[1], "size": size}
        for r in self.regs:
            if r.indexed:
                if r.space in VGA_INDEXED or r.space == "vga_attr":
                    if not self.vga:
                        raise MapError("register %s: space %s needs \"vga\": true" % (r.name, r.space))
                    size = 32 if r.space == "vga_attr" else 256
                elif r.space == "vga_dac":
                    raise MapError("register %s: vga_dac registers are not supported" % r.name)
                elif r.space in self.spaces:
                    size = self.spaces[r.space]["size"]
                else:
                    raise MapError("register %s: unknown indexed space %s" % (r.name, r.space))
                if r.offset >= size:
                    raise MapError("register %s: index %d beyond the space's %d entries" % (r.name, r.offset, size))
        # Flat registers that sit on a port the built-in VGA file claims.
        if self.vga:
            claimed = set(VGA_PORTS.values())
            for r in self.regs:
                if r.space == "vga_io":
                    for b in range(r.width // 8):
                        if r.offset + b in claimed:
                            raise MapError("register %s: port 0x%x belongs to the standard VGA file" % (r.name, r.offset + b))
        self.beh = m.get("behaviours", [])
        for b in self.beh:
            if b["register"] not in self.by_name:
                raise MapError("behaviour %s: unknown register %s" % (b["kind"], b["register"]))
            if b["kind"] == "delayed_set" and b.get("trigger", "") not in self.by_name:
                raise MapError("behaviour delayed_set on %s: unknown trigger %s" % (b["register"], b.get("trigger")))
            if b["kind"] == "constant" and b.get("trigger") and b["trigger"] not in self.by_name:
                raise MapError("behaviour constant on %s: unknown trigger %s" % (b["register"], b["trigger"]))
            if b["kind"] not in ("delayed_set", "constant", "readback", "i2c_gpio"):
                raise MapError("unknown behaviour kind %s" % b["kind"])
        self.blocks = {}
        for bj in m.get("blocks", []):
            self.blocks[bj["name"]] = self.parse_block(bj)
        self.i2c_regs = {}  # register name -> behaviour index
        for k, b in enumerate(self.beh):
            if b["kind"] != "i2c_gpio":
                continue
            r = self.by_name[b["register"]]
            ij = b.get("i2c")
            if not isinstance(ij, dict):
                raise MapError("behaviour i2c_gpio on %s: no \"i2c\" object" % r.name)
            for f in ("scl_out", "sda_out", "scl_oe", "sda_oe", "scl_in", "sda_in"):
                if not 0 <= int(ij[f]) < r.width:
                    raise MapError("behaviour i2c_gpio on %s: %s bit %d outside the register" % (r.name, f, int(ij[f])))
            if not 0 <= int(ij.get("address", 0x50)) < 128:
                raise MapError("behaviour i2c_gpio on %s: address beyond 7 bits" % r.name)
            if ij.get("block") not in self.blocks:
                raise MapError("behaviour i2c_gpio on %s: unknown data block %s" % (r.name, ij.get("block")))
            if self.blocks[ij["block"]]["size"] > MAX_I2C_BYTES:
                raise BusError("behaviour i2c_gpio on %s: EEPROM of more than %d bytes" % (r.name, MAX_I2C_BYTES))
            if r.name in self.i2c_regs:
                raise BusError("register %s: two i2c_gpio buses on one register" % r.name)
            self.i2c_regs[r.name] = k
        # A data port that crosses a bus word is written in two bus cycles (docs/sim.md): the
        # registers behind it must not act on a write beyond storing it.
        write_beh = set(self.i2c_regs) | {b["register"] for b in self.beh if b["kind"] == "readback"} | \
            {b["trigger"] for b in self.beh if b["kind"] == "delayed_set"}
        for name, s in self.spaces.items():
            _, _, off, w = s["data"]
            if (off % 8) + w // 8 > 8:
                for r in self.regs:
                    if r.space == name and r.name in write_beh:
                        raise BusError("indexed space %s: register %s acts on writes but the data port crosses a "
                                       "bus word (written in two cycles)" % (name, r.name))

    def parse_block(self, bj):
        hexs = bj.get("data", "")
        if len(hexs) % 2 or re.fullmatch(r"[0-9A-Fa-f]*", hexs) is None:
            raise MapError("data block %s: data is not an even number of hex digits" % bj["name"])
        data = bytes.fromhex(hexs)
        size = int(bj.get("size", len(data)))
        if size < 0:
            raise MapError("data block %s: negative size" % bj["name"])
        blk = {"name": bj["name"], "data": data, "size": size, "mapped": "space" in bj}
        if blk["mapped"]:
            sp = bj["space"]
            if sp not in FLAT_SPACES:
                raise MapError("data block %s: space %s is not a direct space" % (bj["name"], sp))
            if sp == "vga_mem" and self.vga:
                raise BusError("data block %s: vga_mem belongs to the VGA file" % bj["name"])
            if size > MAX_BLOCK_BYTES:
                raise BusError("data block %s: %d bytes exceed the %d a mapped ROM may have" % (bj["name"], size, MAX_BLOCK_BYTES))
            off = int(bj["offset"])
            if off + size > OFFSET_LIMIT:
                raise MapError("data block %s beyond the 32-bit offset field" % bj["name"])
            blk.update(space=sp, bar=int(bj.get("bar", 0)) if sp in ("mmio", "io") else 0, offset=off)
        return blk

    def w(self, line=""):
        self.out.append(line)

    # Per-port helpers: a flat location as (word, lane, width).
    def port(self, loc):
        sp, bar, off, w = loc
        return word_addr(sp, bar, off), off % 8, w

    # ---- emission: one clocked process ----
    # Every bus decode lives in one always_ff: a case on the word address selects what an
    # access touches, so a cycle costs one dispatch, not an evaluation of every register's
    # decode. Values computed from the bus inputs are variables of that process (blocking
    # assignments inside the branch that needs them); the only continuous assignments left
    # are views of state (colour/mono select, CRTC lock, DAC addresses, busy).
    def wb(self, lane, nbytes):
        """Byte enables of lanes lane..lane+nbytes-1 widened to bits."""
        parts = ["{8{bus_be[%d]}}" % (lane + i) for i in range(nbytes - 1, -1, -1)]
        return parts[0] if nbytes == 1 else "{%s}" % ", ".join(parts)

    def be_any(self, lane, nbytes):
        if nbytes == 1:
            return "bus_be[%d]" % lane
        return "(|bus_be[%d:%d])" % (lane + nbytes - 1, lane)

    def local(self, decl):
        if decl not in self.locals:
            self.locals.append(decl)

    def on_write(self, word, lines, late=False):
        """Lines for a write to word. Late lines update state that other lines of the word
        read: in a process every read of a flop must come before the statements that assign
        it, or Verilator keeps a copy of the flop for the assignment (copied in and out on
        every cycle)."""
        (self.wr_late if late else self.wr).setdefault(word, []).extend(lines)

    def on_read(self, word, lines):
        self.rdfx.setdefault(word, []).extend(lines)


    @staticmethod
    def indent(lines, n=1):
        return ["  " * n + l for l in lines]

    def generate(self):
        m = self.m
        w = self.w
        cyc_ns = 1000.0 / self.clock_mhz
        self.locals, self.rst, self.init, self.dports, self.post, self.acc = [], [], [], [], [], []
        self.wr, self.wr_late, self.rdfx, self.rdprep = {}, {}, {}, {}
        w("// Generated by rtl/gen_regblock.py from register map '%s' (%s). Do not edit." % (m.get("name", "?"), self.src))
        w("// Bus: word address {region[3:0], offset[31:3]}, 64-bit data, byte enables; one")
        w("// access per cycle, rdata/ready registered. Timed behaviours count `tick` edges, one")
        w("// per %g ns of elapsed time (the %g MHz clock's period). All bus decode is one clocked")
        w("// process: a case on the word address, then the byte lanes of that word.")
        self.out[-2] = self.out[-2] % (cyc_ns, self.clock_mhz)
        w("module %s (" % self.module)
        w("  input  logic        clk,")
        w("  input  logic        rst_n,      // synchronous, active low")
        w("  // A map need not decode every bus bit (8-bit registers only, few regions).")
        w("  /* verilator lint_off UNUSEDSIGNAL */")
        w("  input  logic        tick,       // timebase: this edge is one clock period of elapsed time")
        w("  input  logic [%d:0] bus_addr,   // word address" % (ADDR_BITS - 1))
        w("  input  logic [63:0] bus_wdata,")
        w("  input  logic [7:0]  bus_be,")
        w("  input  logic        bus_wr,")
        w("  input  logic        bus_rd,")
        w("  input  logic        bus_seq,    // this cycle continues the previous access in the next word")
        w("  /* verilator lint_on UNUSEDSIGNAL */")
        w("  output logic [63:0] bus_rdata,")
        w("  output logic        bus_ready,")
        w("  output logic        busy        // a timed behaviour is counting")
        w(");")
        w()
        self.prepare_registers()
        self.gen_behaviours()
        self.gen_indexed()
        if self.vga:
            self.gen_vga_indexed_front()
            self.gen_vga()
        self.gen_flat_writes()
        self.gen_read_mux()
        self.emit_process()
        w("endmodule")
        return "\n".join(self.out) + "\n"

    def emit_process(self):
        """The block's one process. Order: the read (its value from the state before the
        edge), the write, then the counters and flags that both look at; each flop is read
        before it is assigned (see on_write)."""
        w = self.w
        w("  always_ff @(posedge clk) begin")
        if self.locals:
            w("    // values of this cycle's access, computed in the branch that needs them")
            w("    /* verilator tracing_off */")
            for d in self.locals:
                w("    " + d)
            w("    /* verilator tracing_on */")
        w("    if (!rst_n) begin")
        w("      bus_ready <= 1'b0;")
        w("      bus_rdata <= 64'h0;")
        for l in self.indent(self.rst, 3):
            w(l)
        w("    end else begin")
        w("      bus_ready <= bus_wr || bus_rd;")
        w("      bus_rdata <= 64'h0;")
        for l in self.indent(self.init, 3):
            w(l)
        rwords = sorted(set(self.rdfx) | set(self.rd_terms))
        if rwords:
            w("      if (bus_rd) begin")
            w("        case (bus_addr)")
            for word in rwords:
                w("          %s: begin  // region %d, offset 0x%x" % (hexv(ADDR_BITS, word), word >> 29, (word & ((1 << 29) - 1)) << 3))
                for l in self.indent(self.rdprep.get(word, []), 6):
                    w(l)
                terms = self.rd_terms.get(word)
                if terms:
                    w("            bus_rdata <= (%s) & %s;" % (" | ".join(terms), self.wb(0, 8)))
                for l in self.indent(self.rdfx.get(word, []), 6):
                    w(l)
                w("          end")
            w("          default: ;")
            w("        endcase")
            w("      end")
        wwords = sorted(set(self.wr) | set(self.wr_late))
        if wwords:
            w("      if (bus_wr) begin")
            w("        case (bus_addr)")
            for word in wwords:
                w("          %s: begin  // region %d, offset 0x%x" % (hexv(ADDR_BITS, word), word >> 29, (word & ((1 << 29) - 1)) << 3))
                for l in self.indent(self.wr.get(word, []) + self.wr_late.get(word, []), 6):
                    w(l)
                w("          end")
            w("          default: ;")
            w("        endcase")
            w("      end")
        for l in self.indent(self.dports + self.post, 3):
            w(l)
        if self.acc:
            w("      if (bus_wr || bus_rd) begin")
            for l in self.indent(self.acc, 4):
                w(l)
            w("      end")
        w("    end")
        w("  end")

    # ---- map registers ----
    def prepare_registers(self):
        w = self.w
        self.readback_regs = {b["register"] for b in self.beh if b["kind"] == "readback"}
        self.triggers = {b["trigger"] for b in self.beh if b["kind"] == "delayed_set"}
        self.hooks = {r.name: [] for r in self.regs}  # reg -> lines run when it is written
        for r in self.regs:
            W = r.width
            i2c = self.i2c_regs.get(r.name)
            # An i2c_gpio register keeps the line levels it computed in its mask bits (and the
            # level bits), whatever their policy: they get flops.
            extra = 0
            if i2c is not None:
                ij = self.beh[i2c]["i2c"]
                extra = (int(self.beh[i2c].get("mask", (1 << W) - 1)) | (1 << int(ij["scl_in"])) |
                         (1 << int(ij["sda_in"]))) & ((1 << W) - 1)
            r.store_eff = r.store | extra
            r.ro_eff = r.m["ro"] & ~extra
            if r.store_eff:
                w("  logic [%d:0] %s;  // %s: %s offset 0x%x, reset 0x%x" % (W - 1, r.id, r.name, r.space, r.offset, r.reset))
                self.rst.append("%s <= %s;" % (r.id, hexv(W, r.reset & r.store_eff)))
            else:
                w("  // %s: %s offset 0x%x, %d bits, read-only: no flop, reads 0x%x"
                  % (r.name, r.space, r.offset, W, r.reset & r.ro_eff & r.readable))
        w()

    def reg_write(self, r, data, mask):
        """Statements for a write of data under mask (expressions of r.width bits) to r."""
        W = r.width
        out = []
        store = r.store_eff
        i2c = self.i2c_regs.get(r.name)
        wired = r.name in self.readback_regs or r.name in self.triggers or i2c is not None
        if not store and not wired:
            return out
        if wired:
            self.local("logic [%d:0] %s_wd, %s_wm;" % (W - 1, r.id, r.id))
            out.append("%s_wd = %s;" % (r.id, data))
            out.append("%s_wm = %s;" % (r.id, mask))
            data, mask = r.id + "_wd", r.id + "_wm"
        nxt = r.id if store else hexv(W, 0)
        if store:
            plain = r.writes_plain & store
            if plain:
                expr = "((%s & ~(%s & %s)) | (%s & %s & %s))" % (r.id, mask, hexv(W, plain), data, mask, hexv(W, plain))
            else:
                expr = r.id
            if r.m["w1c"]:
                expr = "(%s & ~(%s & %s & %s))" % (expr, data, mask, hexv(W, r.m["w1c"]))
            if r.m["w1s"]:
                expr = "(%s | (%s & %s & %s))" % (expr, data, mask, hexv(W, r.m["w1s"]))
            newv = "%s & %s" % (expr, hexv(W, store))
            if i2c is not None:
                self.local("logic [%d:0] %s_pre, %s_i2c;  // after the write; after the I2C bus clocked" % (W - 1, r.id, r.id))
                out.append("%s_pre = %s;" % (r.id, newv))
                out.extend(self.i2c_step(r, i2c))
                newv = "%s_i2c" % r.id
            if r.name in self.triggers:
                self.local("logic [%d:0] %s_nxt;" % (W - 1, r.id))
                out.append("%s_nxt = %s;" % (r.id, newv))
                newv = nxt = "%s_nxt" % r.id
            out.append("%s <= %s;" % (r.id, newv))
        out.extend(l.replace("@NXT@", nxt) for l in self.hooks[r.name])
        return out

    def gen_flat_writes(self):
        for r in self.regs:
            if r.indexed:
                continue
            nb = r.width // 8
            body = self.reg_write(r, "bus_wdata[%d +: %d]" % (r.lane * 8, r.width), self.wb(r.lane, nb))
            if body:
                self.on_write(r.word, ["if (%s) begin  // %s" % (self.be_any(r.lane, nb), r.name)] +
                              self.indent(body) + ["end"])

    def data_port(self, space, words, setup, body):
        """A data port's write: inline in its word's branch when it has one location, else
        flagged there (with setup, the port's values of this access) and done once after
        the write case, so no branch reads a register another branch assigned."""
        if len(words) == 1:
            word, cond, lines = words[0]
            self.on_write(word, ["if (%s) begin  // %s data" % (cond, space)] + self.indent(lines + setup + body) + ["end"])
            return
        sid = ident(space)
        self.local("logic dt_%s_we;" % sid)
        self.init.append("dt_%s_we = 1'b0;" % sid)
        for word, cond, lines in words:
            self.on_write(word, ["if (%s) begin  // %s data" % (cond, space), "  dt_%s_we = 1'b1;" % sid] +
                          self.indent(lines) + ["end"])
        self.dports += ["if (dt_%s_we) begin  // %s data" % (sid, space)] + self.indent(setup + body) + ["end"]

    def member_writes(self, space, eff, iwid, wd, wm, dwid):
        """A case on the effective index over the map registers of an indexed space."""
        out = []
        for r in self.regs:
            if not (r.indexed and r.space == space):
                continue

            def fit(e):
                if dwid >= r.width:
                    return "%s[%d:0]" % (e, r.width - 1) if dwid > r.width else e
                return "{%d'h0, %s}" % (r.width - dwid, e)
            mask = fit(wm) if wm else hexv(r.width, (1 << r.width) - 1)
            guard = None
            if space == "vga_crtc" and r.offset < 7:
                guard = "!crtc_locked"
            if space == "vga_crtc" and r.offset == 7:
                mask = "(crtc_locked ? 8'h10 : 8'hff)"
            body = self.reg_write(r, fit(wd), mask)
            if not body:
                continue
            if guard:
                body = ["if (%s) begin" % guard] + self.indent(body) + ["end"]
            out += ["%s: begin  // %s" % (hexv(iwid, r.offset), r.name)] + self.indent(body) + ["end"]
        if not out:
            return []
        return ["case (%s)" % eff] + self.indent(out + ["default: ;"]) + ["endcase"]

    # ---- indexed spaces: index register in front of a bank ----
    def gen_indexed(self):
        """Index and data ports of the map's indexed spaces.

        A port answers an access that reaches its first byte, as the model's walk over the
        accessed bytes does: its first lane is enabled and no port starting at a lower lane
        of the same word (and hit) covers that lane (two ports may overlap: VMware's 32-bit
        index and value ports at offsets 0 and 1, Bochs' 16-bit DISPI ports at 0x1CE and
        0x1CF). Its bytes are the enabled lanes from there. A data port that runs past its
        word takes its remaining bytes from the next cycle when that cycle has bus_seq set
        and the previous access hit the port with its last lane (xing_* remembers it).
        Hit expressions hold inside the case branch of the port's word.
        """
        w = self.w
        self.idx_sel = {}  # space -> selection of the data port (read mux)
        ports = []  # (space, role, word, lane, nbytes)
        for name, s in self.spaces.items():
            for role in ("index", "data"):
                wd, ln, wid = self.port(s[role])
                ports.append((name, role, wd, ln, wid // 8))
        by_word = {}
        for p in ports:
            by_word.setdefault(p[2], []).append(p)
        hit = {}

        def hit_of(p):
            key = (p[0], p[1])
            if key not in hit:
                name, role, wd, ln, nb = p
                same = [q for q in by_word[wd] if q is not p and q[3] == ln]
                if same:
                    raise BusError("ports of %s and %s start at the same byte" % (name, same[0][0]))
                covers = [q for q in by_word[wd] if q is not p and q[3] < ln < q[3] + q[4]]
                cond = "bus_be[%d]" % ln
                for q in covers:
                    cond += " && !(%s)" % hit_of(q)
                hit[key] = cond
            return hit[key]
        for p in ports:
            hit_of(p)
        for name, s in self.spaces.items():
            sid = ident(name)
            iw, il, iwid = self.port(s["index"])
            dw, dl, dwid = self.port(s["data"])
            na = min(dwid // 8, 8 - dl)  # data bytes in the first word
            nb = dwid // 8 - na          # data bytes in the next word
            bits = max(1, (s["size"] - 1).bit_length())
            hix, hdt = hit[(name, "index")], hit[(name, "data")]
            w("  // indexed space %s: index %s, data %s, %d entries" % (name, s["index"], s["data"], s["size"]))
            w("  logic [%d:0] ix_%s;" % (iwid - 1, sid))
            self.rst.append("ix_%s <= '0;" % sid)
            ixm = self.wb(il, iwid // 8)
            ixnew = "((bus_wdata[%d +: %d] & %s) | (ix_%s & ~%s))" % (il * 8, iwid, ixm, sid, ixm)
            self.on_write(iw, ["if (%s) ix_%s <= %s;  // %s index" % (hix, sid, ixnew, name)], late=True)
            eff = "ix_%s_eff" % sid
            members = self.member_writes(name, eff, iwid, "dt_%s_wd" % sid, "dt_%s_wm" % sid, dwid)
            hitb = None
            if nb:
                w("  logic xing_%s;  // the data port runs into the next word: its bytes %d.. come with bus_seq" % (sid, na))
                self.rst.append("xing_%s <= 1'b0;" % sid)
                self.acc.append("xing_%s <= bus_addr == %s && %s && bus_be[7];" % (sid, hexv(ADDR_BITS, dw), hdt))
                hitb = "bus_seq && xing_%s && bus_be[0]" % sid
            if members:
                self.local("logic [%d:0] %s;  // index seen by the data port this cycle" % (iwid - 1, eff))
                self.local("logic [%d:0] dt_%s_wd, dt_%s_wm;" % (dwid - 1, sid, sid))

                def eff_in(word):
                    return "(%s) ? %s : ix_%s" % (hix, ixnew, sid) if word == iw else "ix_%s" % sid
                if nb:
                    wd1 = "{%d'h0, bus_wdata[%d +: %d]}" % (nb * 8, dl * 8, na * 8)
                    wm1 = "{%d'h0, %s}" % (nb * 8, self.wb(dl, na))
                else:
                    wd1, wm1 = "bus_wdata[%d +: %d]" % (dl * 8, dwid), self.wb(dl, na)
                locs = [(dw, hdt, ["%s = %s;" % (eff, eff_in(dw)), "dt_%s_wd = %s;" % (sid, wd1),
                                   "dt_%s_wm = %s;" % (sid, wm1)])]
                if nb:  # the second part of a port that crosses the word
                    locs.append((dw + 1, hitb, ["%s = %s;" % (eff, eff_in(dw + 1)),
                                                "dt_%s_wd = {bus_wdata[0 +: %d], %d'h0};" % (sid, nb * 8, na * 8),
                                                "dt_%s_wm = {%s, %d'h0};" % (sid, self.wb(0, nb), na * 8)]))
                self.data_port(name, locs, [], members)
            # No storage behind unlisted indices: they read 0, like any unknown register.
            w()
            self.idx_sel[name] = {"dwid": dwid, "iwid": iwid, "bits": min(bits, iwid), "bank": None, "inb": None,
                                  "dword": dw, "dlane": dl, "na": na, "nb": nb, "iword": iw, "ilane": il,
                                  "ix": "ix_%s" % sid, "hit_ix": hix, "hit_dt": hdt, "hitb": hitb}

    def raw(self, r):
        """The register's value as the model holds it: stored bits, ro bits at reset."""
        if not r.store_eff:
            return hexv(r.width, r.reset & r.ro_eff)
        return "((%s & %s) | %s)" % (r.id, hexv(r.width, r.store_eff), hexv(r.width, r.reset & r.ro_eff))

    def read_view(self, r):
        """The register as the bus reads it: stored bits, ro bits at reset, wo bits 0, then
        the behaviours' overlays (later ones win on overlapping bits). State only."""
        W = r.width
        if r.store_eff & r.readable:
            expr = "((%s & %s) | %s)" % (r.id, hexv(W, r.store_eff & r.readable), hexv(W, r.reset & r.ro_eff))
        else:
            expr = hexv(W, r.reset & r.ro_eff)
        base = expr
        for ovl in self.overlays[r.name]:
            mask, ov = ovl[0], ovl[1].replace("@BASE@", base)
            nxt = "((%s & %s) | (%s & %s))" % (expr, hexv(W, ~mask), ov, hexv(W, mask))
            expr = "(%s ? %s : %s)" % (ovl[2], nxt, expr) if len(ovl) > 2 else nxt
        return expr

    # ---- i2c_gpio: a bit-banged I2C responder (a DDC monitor's EEPROM) ----
    def i2c_step(self, r, k):
        """Statements, in the register's write branch: the next state of the responder for
        this write and the register's value after it (<reg>_i2c); the state flops take it
        when the write clocks the bus. Step for step the model's responder: SCL is driven
        first (a rising edge shifts a bit in or out, acknowledges, reads the master's ACK),
        then SDA (a change while SCL is high is a START or a STOP)."""
        w = self.w
        b = self.beh[k]
        ij = b["i2c"]
        W = r.width
        full = (1 << W) - 1
        mask = int(b.get("mask", full)) & full
        wm = int(b.get("when_mask", 0)) & full
        wv = int(b.get("when_value", 0)) & full
        blk = self.blocks[ij["block"]]
        size, data = blk["size"], blk["data"]
        addr = int(ij.get("address", 0x50))
        pw = max(1, (size - 1).bit_length())
        p = "bh%d" % k
        st = ("q_scl", "q_sda", "q_dev", "q_have", "q_reading", "q_first")
        w("  // behaviour %d: i2c_gpio on %s, responder at 0x%02x over block %s (%d bytes)"
          % (k, r.name, addr, blk["name"], size))
        w("  // states: 0 stopped, 1 to device, 2 address/byte ack, 3 from device, 4 master ack, 5 nacked")
        w("  logic %s;" % ", ".join("%s_%s" % (p, x) for x in st))
        w("  logic [2:0] %s_q_st;" % p)
        w("  logic [3:0] %s_q_bits;" % p)
        w("  logic [7:0] %s_q_shift, %s_q_out;" % (p, p))
        w("  logic [%d:0] %s_q_ptr;  // byte pointer modulo the EEPROM size" % (pw - 1, p))
        self.rst += ["%s_q_scl <= 1'b1; %s_q_sda <= 1'b1; %s_q_dev <= 1'b1;" % (p, p, p),
                     "%s_q_have <= 1'b0; %s_q_reading <= 1'b0; %s_q_first <= 1'b0;" % (p, p, p),
                     "%s_q_st <= 3'd0; %s_q_bits <= 4'd0; %s_q_shift <= 8'h0; %s_q_out <= 8'h0; %s_q_ptr <= '0;"
                     % (p, p, p, p, p)]
        self.local("logic %s;" % ", ".join("%s_%s" % (p, x[2:]) for x in st))
        self.local("logic [2:0] %s_st;" % p)
        self.local("logic [3:0] %s_bits;" % p)
        self.local("logic [7:0] %s_shift, %s_out;" % (p, p))
        self.local("logic [%d:0] %s_ptr;" % (pw - 1, p))
        self.local("logic %s_clk, %s_scl_m, %s_sda_m, %s_level;" % (p, p, p, p))
        pre = "%s_pre" % r.id
        o = []
        o.append("%s_clk = (%s & %s) == %s;  // this write clocks the bus" % (p, pre, hexv(W, wm), hexv(W, wv)))
        o.append("%s_scl_m = %s[%d] ? %s[%d] : 1'b1;  // driven when enabled, else released"
                 % (p, pre, int(ij["scl_oe"]), pre, int(ij["scl_out"])))
        o.append("%s_sda_m = %s[%d] ? %s[%d] : 1'b1;" % (p, pre, int(ij["sda_oe"]), pre, int(ij["sda_out"])))
        if size == 0:
            rom_read = "8'hff"  # no EEPROM bytes
        else:
            vals = [(data[i] if i < len(data) else 0) for i in range(size)]
            w("  localparam logic [7:0] %s_ROM [%d] = '{%s};" % (p.upper(), size, ", ".join("8'h%02x" % v for v in vals)))
            rom_read = "%s_ROM[%s_ptr]" % (p.upper(), p)
        if size >= 256 or size == 0:
            load = "%d'(%s_shift)" % (pw, p) if pw != 8 else "%s_shift" % p
        elif size & (size - 1) == 0:
            load = "%s_shift[%d:0]" % (p, pw - 1)
        else:
            load = "%d'(32'(%s_shift) %% 32'd%d)" % (pw, p, size)
        if size <= 1:
            inc = "%d'(0)" % pw
        else:
            inc = "(%s_ptr == %s) ? %s : %s_ptr + %s" % (p, hexv(pw, size - 1), hexv(pw, 0), p, hexv(pw, 1))
        for x in st + ("q_st", "q_bits", "q_shift", "q_out", "q_ptr"):
            o.append("%s_%s = %s_%s;" % (p, x[2:], p, x))
        o += [
            "if (%s_scl_m != %s_scl) begin  // SCL" % (p, p),
            "  %s_scl = %s_scl_m;" % (p, p),
            "  if (!%s_scl_m) %s_dev = 1'b1;  // SDA let go after each clock pulse" % (p, p),
            "  else begin",
            "    unique case (%s_st)" % p,
            "      3'd1: begin  // a bit to the device",
            "        %s_shift = {%s_shift[6:0], %s_sda};" % (p, p, p),
            "        %s_bits = %s_bits + 4'd1;" % (p, p),
            "        if (%s_bits == 4'd8) %s_st = 3'd2;" % (p, p),
            "        %s_dev = 1'b1;" % p,
            "      end",
            "      3'd2: begin  // acknowledge the address or a byte",
            "        %s_bits = 4'd0;" % p,
            "        if (!%s_have) begin" % p,
            "          %s_have = 1'b1;" % p,
            "          %s_reading = %s_shift[0];" % (p, p),
            "          if (%s_shift[7:1] != 7'h%02x) begin  // not ours: the transfer ends" % (p, addr),
            "            %s_st = 3'd0; %s_have = 1'b0; %s_dev = 1'b1;" % (p, p, p),
            "          end else begin",
            "            if (!%s_reading) %s_first = 1'b1;" % (p, p),
            "            %s_st = %s_reading ? 3'd3 : 3'd1;" % (p, p),
            "            %s_dev = 1'b0;" % p,
            "          end",
            "        end else begin",
            "          if (%s_first) begin %s_ptr = %s; %s_first = 1'b0; end" % (p, p, load, p),
            "          else %s_ptr = %s;  // further written bytes are ignored" % (p, inc),
            "          %s_st = %s_reading ? 3'd3 : 3'd1;" % (p, p),
            "          %s_dev = 1'b0;" % p,
            "        end",
            "      end",
            "      3'd3: begin  // a bit from the device, most significant first",
            "        if (%s_bits == 4'd0) begin %s_out = %s; %s_ptr = %s; end" % (p, p, rom_read, p, inc),
            "        %s_dev = %s_out[3'd7 - %s_bits[2:0]];" % (p, p, p),
            "        %s_bits = %s_bits + 4'd1;" % (p, p),
            "        if (%s_bits == 4'd8) begin %s_bits = 4'd0; %s_st = 3'd4; end" % (p, p, p),
            "      end",
            "      3'd4: begin  // the master's ACK (low) asks for another byte",
            "        %s_st = %s_sda ? 3'd5 : 3'd3;" % (p, p),
            "        %s_dev = 1'b1;" % p,
            "      end",
            "      default: %s_dev = 1'b1;  // stopped, nacked" % p,
            "    endcase",
            "  end",
            "end",
            "if (%s_sda_m != %s_sda) begin  // SDA: while SCL is high a START (falling) or STOP (rising)" % (p, p),
            "  %s_sda = %s_sda_m;" % (p, p),
            "  if (%s_scl) begin" % p,
            "    %s_st = %s_sda_m ? 3'd0 : 3'd1;" % (p, p),
            "    %s_bits = 4'd0; %s_have = 1'b0; %s_dev = 1'b1;" % (p, p, p),
            "  end",
            "end",
            "%s_level = %s_dev && %s_sda;" % (p, p, p),
            "if (%s_clk) begin" % p,
        ]
        for x in st + ("q_st", "q_bits", "q_shift", "q_out", "q_ptr"):
            o.append("  %s_%s <= %s_%s;" % (p, x, p, x[2:]))
        o.append("end")
        o.append("%s_i2c = %s_clk ? ((%s & %s) | (%d'(%s_scl_m) << %d) | (%d'(%s_level) << %d)) : %s;"
                 % (r.id, p, pre, hexv(W, ~mask), W, p, int(ij["scl_in"]), W, p, int(ij["sda_in"]), pre))
        return o

    # ---- standard VGA register file ----
    def gen_vga_indexed_front(self):
        """Seq/CRTC/GFX/attribute index registers over banks of the standard registers."""
        w = self.w
        w("  // ---- standard VGA register file ----")
        w("  // Misc output bit 0 selects the colour (0x3Dx) or mono (0x3Bx) CRTC and status ports;")
        w("  // the unselected ones read 0xFF and ignore writes.")
        w("  logic [7:0] vga_misc;")
        w("  logic mono_en, colour_en;")
        w("  assign colour_en = vga_misc[0];")
        w("  assign mono_en = !vga_misc[0];")
        crtc_lock = None
        for r in self.regs:
            if r.space == "vga_crtc" and r.offset == 0x11:
                crtc_lock = r
        for space, (ports, count) in VGA_BANKS.items():
            sid = space
            ip, dp = ports
            bits = max(1, (count - 1).bit_length())
            w("  // %s: index 0x%x, data 0x%x, %d standard registers" % (space, ip[0], dp[0], count))
            w("  logic [7:0] ix_%s;" % sid)
            w("  logic [7:0] bk_%s [%d];" % (sid, count))
            self.rst.append("ix_%s <= 8'h0;" % sid)
            self.rst.append("bk_%s <= '{default:'0};" % sid)
            eff = "ix_%s_eff" % sid
            self.local("logic [7:0] %s, dt_%s_wd;" % (eff, sid))
            members = self.member_writes(space, eff, 8, "dt_%s_wd" % sid, None, 8)
            setup = []
            if space == "vga_crtc":
                lock = ("(%s & 8'h80) != 8'h0" % self.read_view(crtc_lock)) if crtc_lock else "bk_vga_crtc[17][7]"
                # CR11 bit 7 write-protects CR0-CR6, and CR7 except its bit 4.
                self.local("logic crtc_locked;")
                setup = ["crtc_locked = %s;  // CR11 bit 7 protects CR0-CR6 and CR7 but its bit 4" % lock]
                val = ("(crtc_locked && %s == 8'd7) ? ((bk_vga_crtc[7] & 8'hef) | (dt_vga_crtc_wd & 8'h10)) "
                       ": dt_vga_crtc_wd" % eff)
                wen = "%s < 8'd%d && !(crtc_locked && %s < 8'd7)" % (eff, count, eff)
            else:
                val = "dt_%s_wd" % sid
                wen = "%s < 8'd%d" % (eff, count)
            locs = []
            for ipk, dpk in zip(ip, dp):
                iw, il, _ = self.port(("vga_io", 0, ipk, 8))
                dw, dl, _ = self.port(("vga_io", 0, dpk, 8))
                assert iw == dw
                en = "mono_en && " if 0x3B0 <= ipk <= 0x3BF else "colour_en && " if 0x3D0 <= ipk <= 0x3DF else ""
                self.on_write(iw, ["if (%sbus_be[%d]) ix_%s <= bus_wdata[%d +: 8];  // %s index 0x%x"
                                   % (en, il, sid, il * 8, space, ipk)], late=True)
                locs.append((iw, "%sbus_be[%d]" % (en, dl),
                             ["%s = bus_be[%d] ? bus_wdata[%d +: 8] : ix_%s;" % (eff, il, il * 8, sid),
                              "dt_%s_wd = bus_wdata[%d +: 8];" % (sid, dl * 8)]))
            self.data_port(space, locs, setup, ["if (%s) bk_%s[%s[%d:0]] <= %s;" % (wen, sid, eff, bits - 1, val)] + members)
            self.idx_sel[space] = {"dwid": 8, "iwid": 8, "bits": bits, "bank": "bk_%s" % sid,
                                   "inb": "ix_%s < 8'd%d" % (sid, count), "ix": "ix_%s" % sid}
        # Attribute controller: 0x3C0 alternates index/data (flip-flop), 0x3C1 reads data,
        # a read of input status 1 resets the flip-flop to "index" and toggles its retrace
        # and display-enable bits (0x09) so that wait-for-retrace loops end.
        w("  logic attr_ff;        // 0: next 0x3C0 write is the index, 1: the data")
        w("  logic [5:0] attr_ix;  // bit 5 = palette address source")
        w("  logic [7:0] vga_st01;")
        w("  logic [7:0] bk_vga_attr [%d];" % ATTR_COUNT)
        self.rst += ["attr_ff <= 1'b0;", "attr_ix <= 6'h0;", "vga_st01 <= 8'h0;", "bk_vga_attr <= '{default:'0};"]
        self.local("logic [7:0] dt_vga_attr_wd;")
        members = self.member_writes("vga_attr", "attr_ix[4:0]", 5, "dt_vga_attr_wd", None, 8)
        aw, al, _ = self.port(("vga_io", 0, 0x3C0, 8))
        self.on_write(aw, [
            "if (bus_be[%d]) begin  // attribute index/data 0x3c0" % al,
            "  if (attr_ff) begin",
            "    dt_vga_attr_wd = bus_wdata[%d +: 8];" % (al * 8),
            "    if (attr_ix[4:0] < 5'd%d) bk_vga_attr[attr_ix[4:0]] <= dt_vga_attr_wd;" % ATTR_COUNT] +
            self.indent(members, 2) + [
            "  end else attr_ix <= bus_wdata[%d +: 6];" % (al * 8),
            "  attr_ff <= ~attr_ff;",
            "end"], late=True)
        for port, en in ((0x3DA, "colour_en"), (0x3BA, "mono_en")):
            ww, ll, _ = self.port(("vga_io", 0, port, 8))
            self.on_read(ww, ["if (%s && bus_be[%d]) begin  // input status 1 0x%x" % (en, ll, port),
                              "  attr_ff <= 1'b0;", "  vga_st01 <= vga_st01 ^ 8'h09;", "end"])
        self.idx_sel["vga_attr"] = {"dwid": 8, "iwid": 5, "bits": 5, "bank": "bk_vga_attr",
                                    "inb": "attr_ix[4:0] < 5'd%d" % ATTR_COUNT, "ix": "attr_ix[4:0]"}
        w()

    def gen_vga(self):
        w = self.w

        def loc(port):
            ww, ll, _ = self.port(("vga_io", 0, port, 8))
            return ww, ll

        def lane(port):
            return (port % 8) * 8
        # Misc output (write 0x3C2, read 0x3CC), feature control (write 0x3DA/0x3BA, read
        # 0x3CA), DAC: pel mask 0x3C6, read index 0x3C7, write index 0x3C8, data 0x3C9; one
        # red/green/blue position shared by reads and writes; 8 bits per component.
        w("  logic [7:0] vga_feat, dac_mask, dac_widx, dac_ridx;")
        w("  logic [1:0] dac_sub;")
        w("  logic dac_read_mode;")
        w("  logic [7:0] dac_c0, dac_c1;  // components held until the third completes an entry")
        w("  logic [7:0] dac_pal [768];")
        self.rst += ["vga_misc <= 8'h0; vga_feat <= 8'h0; dac_mask <= 8'hff;",
                     "dac_widx <= 8'h0; dac_ridx <= 8'h0; dac_sub <= 2'd0;",
                     "dac_read_mode <= 1'b0; dac_c0 <= 8'h0; dac_c1 <= 8'h0;",
                     "dac_pal <= '{default:'0};"]
        ww, ll = loc(0x3C2)
        self.on_write(ww, ["if (bus_be[%d]) vga_misc <= bus_wdata[%d +: 8];  // misc output 0x3c2" % (ll, lane(0x3C2))])
        for port, en in ((0x3DA, "colour_en"), (0x3BA, "mono_en")):
            ww, ll = loc(port)
            self.on_write(ww, ["if (%s && bus_be[%d]) vga_feat <= bus_wdata[%d +: 8];  // feature control 0x%x"
                               % (en, ll, lane(port), port)])
        ww, ll = loc(0x3C6)
        self.on_write(ww, ["if (bus_be[%d]) dac_mask <= bus_wdata[%d +: 8];  // pel mask 0x3c6" % (ll, lane(0x3C6))])
        w7, l7 = loc(0x3C7)
        self.on_write(w7, ["if (bus_be[%d]) begin  // DAC read index 0x3c7" % l7,
                           "  dac_ridx <= bus_wdata[%d +: 8]; dac_sub <= 2'd0; dac_read_mode <= 1'b1;" % lane(0x3C7),
                           "end"])
        w8, l8 = loc(0x3C8)
        w9, l9 = loc(0x3C9)
        assert w8 == w9 and w7 != w8
        self.local("logic [1:0] dac_sub_q;")
        self.on_write(w8, [
            "if (!bus_be[%d] && bus_be[%d]) begin  // DAC data 0x3c9 (the write index 0x3c8 wins)" % (l8, l9),
            "  dac_sub_q = dac_sub;",
            "  dac_wbase = {dac_widx, 1'b0} + {2'b00, dac_widx};  // entry * 3",
            "  if (dac_sub_q == 2'd2) begin",
            "    dac_pal[dac_wbase] <= dac_c0;",
            "    dac_pal[dac_wbase + 10'd1] <= dac_c1;",
            "    dac_pal[dac_wbase + 10'd2] <= bus_wdata[%d +: 8];" % lane(0x3C9),
            "    dac_sub <= 2'd0; dac_widx <= dac_widx + 8'h1;",
            "  end else begin",
            "    if (dac_sub_q == 2'd0) dac_c0 <= bus_wdata[%d +: 8];" % lane(0x3C9),
            "    if (dac_sub_q == 2'd1) dac_c1 <= bus_wdata[%d +: 8];" % lane(0x3C9),
            "    dac_sub <= dac_sub_q + 2'd1;",
            "  end",
            "end",
            "if (bus_be[%d]) begin  // DAC write index 0x3c8" % l8,
            "  dac_widx <= bus_wdata[%d +: 8]; dac_sub <= 2'd0; dac_read_mode <= 1'b0;" % lane(0x3C8),
            "end"], late=True)
        self.on_read(w9, [
            "if (bus_be[%d]) begin  // DAC data 0x3c9" % l9,
            "  if (dac_sub == 2'd2) begin dac_sub <= 2'd0; dac_ridx <= dac_ridx + 8'h1; end",
            "  else dac_sub <= dac_sub + 2'd1;",
            "end"])
        self.local("logic [9:0] dac_wbase, dac_raddr;")
        w()

    # ---- behaviours ----
    def gen_behaviours(self):
        w = self.w
        self.overlays = {r.name: [] for r in self.regs}  # reg -> list of (mask, expr[, cond])
        self.busy_terms = []
        cyc_ns = 1000.0 / self.clock_mhz
        for k, b in enumerate(self.beh):
            r = self.by_name[b["register"]]
            W = r.width
            full = (1 << W) - 1
            mask = int(b.get("mask", full)) & full
            value = int(b.get("value", 0)) & full
            kind = b["kind"]
            w("  // behaviour %d: %s on %s" % (k, kind, r.name))
            if kind == "constant":
                if b.get("trigger"):
                    t = self.by_name[b["trigger"]]
                    tfull = (1 << t.width) - 1
                    tm = int(b.get("trigger_mask", 0)) & tfull
                    tv = int(b.get("trigger_value", 0)) & tfull
                    # the constant shows while its trigger condition holds
                    self.overlays[r.name].append((mask, hexv(W, value & mask), "((%s & %s) == %s)"
                                                  % (self.raw(t), hexv(t.width, tm), hexv(t.width, tv))))
                else:
                    self.overlays[r.name].append((mask, hexv(W, value & mask)))
            elif kind == "i2c_gpio":
                w("  // (the responder is generated with the register's write)")
            elif kind == "readback":
                wm = int(b.get("when_mask", 0)) & full
                wv = int(b.get("when_value", 0)) & full
                ev = int(b.get("else_value", 0)) & full
                w("  logic [1:0] bh%d_state;  // 0: no write yet, 1: last write matched, 2: did not" % k)
                self.rst.append("bh%d_state <= 2'd0;" % k)
                self.hooks[r.name].append("bh%d_state <= ((%s_wd & %s_wm & %s) == %s) ? 2'd1 : 2'd2;"
                                          % (k, r.id, r.id, hexv(W, wm), hexv(W, wv)))
                self.overlays[r.name].append(
                    (mask, "(bh%d_state == 2'd1 ? %s : bh%d_state == 2'd2 ? %s : (@BASE@ & %s))"
                     % (k, hexv(W, value & mask), k, hexv(W, ev & mask), hexv(W, mask))))
            elif kind == "delayed_set":
                t = self.by_name[b["trigger"]]
                TW = t.width
                tfull = (1 << TW) - 1
                tm = int(b.get("trigger_mask", 0)) & tfull
                tv = int(b.get("trigger_value", 0)) & tfull
                delay_ns = int(b.get("delay_ns", 0))
                n = int(math.ceil(delay_ns / cyc_ns - 1e-9)) if delay_ns else 0
                if n > MAX_DELAY_CYCLES:
                    raise MapError("behaviour on %s: %d ns is more than %d cycles" % (r.name, delay_ns, MAX_DELAY_CYCLES))
                cw = max(1, n.bit_length())  # counts timebase ticks, loaded with n
                w("  // %d ns = %d cycles at %g MHz; armed by a write of %s" % (delay_ns, n, self.clock_mhz, t.name))
                w("  logic bh%d_run, bh%d_done;" % (k, k))
                w("  logic [%d:0] bh%d_cnt;" % (cw - 1, k))
                self.rst.append("bh%d_run <= 1'b0; bh%d_done <= 1'b0; bh%d_cnt <= '0;" % (k, k, k))
                # A write of the trigger clears or arms the behaviour (flags set in the write's
                # branch); otherwise a running one counts the timebase ticks.
                self.local("logic bh%d_clear, bh%d_arm;" % (k, k))
                self.init.append("bh%d_clear = 1'b0; bh%d_arm = 1'b0;" % (k, k))
                cond = "((((@NXT@ & %s) | %s) & %s) == %s)" % (hexv(TW, t.store_eff), hexv(TW, t.reset & t.ro_eff),
                                                               hexv(TW, tm), hexv(TW, tv))
                hook = ["if (!%s) bh%d_clear = 1'b1;  // behaviour %d" % (cond, k, k)]
                if n == 0:
                    hook.append("else if (!bh%d_run) bh%d_arm = 1'b1;" % (k, k))
                else:
                    hook.append("else if (!bh%d_run && !bh%d_done) bh%d_arm = 1'b1;" % (k, k, k))
                self.hooks[t.name].extend(hook)
                self.post += ["if (bh%d_clear) begin bh%d_run <= 1'b0; bh%d_done <= 1'b0; end  // behaviour %d"
                              % (k, k, k, k)]
                if n == 0:
                    self.post.append("else if (bh%d_arm) bh%d_done <= 1'b1;" % (k, k))
                else:
                    self.post.append("else if (bh%d_arm) begin bh%d_run <= 1'b1; bh%d_cnt <= %s; end"
                                     % (k, k, k, hexv(cw, n)))
                # (the counter's state is read before this statement assigns it)
                self.local("logic bh%d_count, bh%d_last;" % (k, k))
                self.local("logic [%d:0] bh%d_dec;" % (cw - 1, k))
                self.init.append("bh%d_count = bh%d_run && tick; bh%d_last = bh%d_cnt == '0; bh%d_dec = bh%d_cnt - 1'b1;"
                                 % (k, k, k, k, k, k))
                self.post += ["else if (bh%d_count) begin" % k,
                              "  if (bh%d_last) begin bh%d_run <= 1'b0; bh%d_done <= 1'b1; end" % (k, k, k),
                              "  else bh%d_cnt <= bh%d_dec;" % (k, k),
                              "end"]
                self.overlays[r.name].append(
                    (mask, "((bh%d_done || (bh%d_run && bh%d_cnt == '0)) ? %s : %s)"
                     % (k, k, k, hexv(W, value & mask), hexv(W, r.reset & mask))))
                self.busy_terms.append("bh%d_run" % k)
            w()
        w("  assign busy = %s;" % (" || ".join(self.busy_terms) if self.busy_terms else "1'b0"))
        w()

    # ---- read path ----
    def gen_read_mux(self):
        """rdata is registered: a read's value is taken in the read's own case branch, from
        the state before the edge."""
        words = {}  # word -> list of (lane, expr of 8*k bits, nbytes, is_port)
        self._rdp = 0

        def put(word, lane, expr, nbytes, port=False, prep=()):
            # Every lane source gets a variable of its own width, so the zero extension to
            # 64 bits is of a plain signal. Ports are gated by their hit (they may overlap).
            name = "rdp_%d" % self._rdp
            self._rdp += 1
            self.local("logic [%d:0] %s;" % (nbytes * 8 - 1, name))
            self.rdprep.setdefault(word, []).extend(list(prep) + ["%s = %s;" % (name, expr)])
            words.setdefault(word, []).append((lane, name, nbytes, port))

        flat_regs = [r for r in self.regs if not r.indexed]
        for r in flat_regs:
            put(r.word, r.lane, self.read_view(r), r.width // 8)

        def data_read(name, sel):
            """Statements that set dt_<space>_rv to the data port's value at the index."""
            sid = ident(name)
            dwid, iwid = sel["dwid"], sel["iwid"]
            rv = "dt_%s_rv" % sid
            self.local("logic [%d:0] %s;" % (dwid - 1, rv))
            if sel["bank"] is None:
                dflt = hexv(dwid, 0)
            else:
                dflt = "(%s) ? %s[%s[%d:0]] : %s" % (sel["inb"], sel["bank"], sel["ix"], sel["bits"] - 1, hexv(dwid, 0))
            items = []
            for r in self.regs:
                if r.indexed and r.space == name:
                    v = self.read_view(r)
                    if r.width > dwid:
                        v = "%d'(%s)" % (dwid, v)
                    elif r.width < dwid:
                        v = "{%d'h0, %s}" % (dwid - r.width, v)
                    items.append("  %s: %s = %s;  // %s" % (hexv(iwid, r.offset), rv, v, r.name))
            if not items:
                return [rv + " = " + dflt + ";"]
            return ["case (%s)" % sel["ix"]] + items + ["  default: %s = %s;" % (rv, dflt), "endcase"]

        for name, sel in self.idx_sel.items():
            if name in VGA_BANKS or name == "vga_attr":
                continue  # ports placed with the VGA file below
            sid = ident(name)
            na, nb, dwid = sel["na"], sel["nb"], sel["dwid"]
            put(sel["dword"], sel["dlane"], "(%s) ? dt_%s_rv[%d:0] : %s" % (sel["hit_dt"], sid, na * 8 - 1, hexv(na * 8, 0)),
                na, True, data_read(name, sel))
            if nb:
                put(sel["dword"] + 1, 0, "(%s) ? dt_%s_rv[%d:%d] : %s" % (sel["hitb"], sid, dwid - 1, na * 8, hexv(nb * 8, 0)),
                    nb, True, data_read(name, sel))
            put(sel["iword"], sel["ilane"], "(%s) ? %s : %s" % (sel["hit_ix"], sel["ix"], hexv(sel["iwid"], 0)),
                sel["iwid"] // 8, True)
        # Mapped data blocks: read-only bytes (a ROM); writes change nothing, as in the model.
        for blk in self.blocks.values():
            if not blk["mapped"] or blk["size"] == 0:
                continue
            data, off, size = blk["data"], blk["offset"], blk["size"]
            self.w("  // data block %s: %d read-only bytes at %s offset 0x%x (in the read decode)"
                   % (blk["name"], size, blk["space"], off))
            p = off
            while p < off + size:
                lane = p % 8
                n = min(8 - lane, off + size - p)
                val = 0
                for i in range(n):
                    k = p - off + i
                    val |= (data[k] if k < len(data) else 0) << (8 * i)
                words.setdefault(word_addr(blk["space"], blk["bar"], p), []).append((lane, hexv(n * 8, val), n, False))
                p += n
        if self.vga:
            def vp(port, expr, prep=()):
                ww, ll, _ = self.port(("vga_io", 0, port, 8))
                if 0x3B0 <= port <= 0x3BF:
                    expr = "(mono_en ? %s : 8'hff)" % expr
                elif 0x3D0 <= port <= 0x3DF:
                    expr = "(colour_en ? %s : 8'hff)" % expr
                put(ww, ll, expr, 1, False, prep)
            for space, ((ip, dp), _) in VGA_BANKS.items():
                for port in ip:
                    vp(port, "ix_%s" % space)
                for port in dp:
                    vp(port, "dt_%s_rv" % space, data_read(space, self.idx_sel[space]))
            vp(0x3C0, "{2'b00, attr_ix}")
            vp(0x3C1, "dt_vga_attr_rv", data_read("vga_attr", self.idx_sel["vga_attr"]))
            vp(0x3BA, "(vga_st01 ^ 8'h09)")
            vp(0x3DA, "(vga_st01 ^ 8'h09)")
            vp(0x3CC, "vga_misc")
            vp(0x3CA, "vga_feat")
            vp(0x3C6, "dac_mask")
            vp(0x3C7, "{6'h0, dac_read_mode ? 2'b11 : 2'b00}")
            vp(0x3C8, "dac_widx")
            vp(0x3C9, "dac_pal[dac_raddr]", ["dac_raddr = {dac_ridx, 1'b0} + {2'b00, dac_ridx} + {8'h0, dac_sub};"])
        # Check no two things claim the same byte lane of one word.
        # Ports may overlap ports (each answers only when hit) but nothing else.
        for word, items in words.items():
            used = 0
            ports = 0
            for lane, _, nb, is_port in items:
                m = ((1 << nb) - 1) << lane
                if used & m or (not is_port and ports & m):
                    raise BusError("two registers share bytes of bus word 0x%x (region %d, offset 0x%x)"
                                   % (word, word >> 29, (word & ((1 << 29) - 1)) << 3))
                if is_port:
                    ports |= m
                else:
                    used |= m
            if used & ports:
                raise BusError("a register shares bytes with a port in bus word 0x%x (region %d, offset 0x%x)"
                               % (word, word >> 29, (word & ((1 << 29) - 1)) << 3))
        self.rd_terms = {}
        for word in words:
            self.rd_terms[word] = ["(64'(%s) << %d)" % (expr, lane * 8) for lane, expr, nb, _ in sorted(words[word])]


def main(argv):
    args = argv[1:]
    module = None
    clock_mhz = 100.0
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--module", "--clock-mhz") and i + 1 < len(args):
            if a == "--module":
                module = args[i + 1]
            else:
                clock_mhz = float(args[i + 1])
            i += 2
            continue
        if a.startswith("-"):
            sys.stderr.write("gen_regblock: unknown option %s\n" % a)
            return 2
        pos.append(a)
        i += 1
    if len(pos) != 2 or not clock_mhz > 0:
        sys.stderr.write(__doc__)
        return 2
    src, dst = pos
    try:
        with open(src, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("%s: cannot read register map: %s\n" % (src, e))
        return 1
    if module is None:
        module = "gpuinit_regblock_" + ident(m.get("name", "map"))
    try:
        text = Gen(m, module, clock_mhz, os.path.basename(src)).generate()
    except BusError as e:
        sys.stderr.write("%s: %s\n" % (src, e))
        return 3
    except (MapError, KeyError, TypeError, ValueError) as e:
        what = "missing field %s" % e if isinstance(e, KeyError) else str(e)
        sys.stderr.write("%s: %s\n" % (src, what))
        return 1
    # An unchanged block keeps its file (and time stamp): a re-configure then re-verilates
    # and recompiles nothing.
    try:
        with open(dst, encoding="utf-8") as f:
            if f.read() == text:
                return 0
    except OSError:
        pass
    # Atomic write: a temporary file in the same folder, then rename.
    d = os.path.dirname(os.path.abspath(dst))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".gen_regblock.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

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

    def lanes_hit(self, word, lane, width):
        """Expression: this location's word is addressed and one of its lanes enabled."""
        be = ((1 << (width // 8)) - 1) << lane
        return "(bus_addr == %s && (bus_be & 8'h%02x) != 8'h0)" % (hexv(ADDR_BITS, word), be)

    def generate(self):
        m = self.m
        w = self.w
        cyc_ns = 1000.0 / self.clock_mhz
        w("// Generated by rtl/gen_regblock.py from register map '%s' (%s). Do not edit." % (m.get("name", "?"), self.src))
        w("// Bus: word address {region[3:0], offset[31:3]}, 64-bit data, byte enables; one")
        w("// access per cycle, rdata/ready registered. Timed behaviours count `tick` edges, one")
        w("// per %g ns of elapsed time (the %g MHz clock's period)." % (cyc_ns, self.clock_mhz))
        w("module %s (" % self.module)
        w("  input  logic        clk,")
        w("  input  logic        rst_n,      // synchronous, active low")
        w("  input  logic        tick,       // timebase: this edge is one clock period of elapsed time")
        w("  input  logic [%d:0] bus_addr,   // word address" % (ADDR_BITS - 1))
        w("  input  logic [63:0] bus_wdata,")
        w("  input  logic [7:0]  bus_be,")
        w("  input  logic        bus_wr,")
        w("  input  logic        bus_rd,")
        w("  input  logic        bus_seq,    // this cycle continues the previous access in the next word")
        w("  output logic [63:0] bus_rdata,")
        w("  output logic        bus_ready,")
        w("  output logic        busy        // a timed behaviour is counting")
        w(");")
        w()
        w("  // A map need not decode every bus bit (8-bit registers only, few regions): the")
        w("  // bus is consumed here once, Verilator's idiom for ports used by some blocks only.")
        w("  /* verilator lint_off UNUSEDSIGNAL */")
        w("  logic unused_bus_bits;")
        w("  assign unused_bus_bits = ^{bus_addr, bus_wdata, bus_be, bus_rd, bus_seq, tick};")
        w("  /* verilator lint_on UNUSEDSIGNAL */")
        w()
        w("  logic [63:0] wbits;  // byte enables widened to bits")
        w("  assign wbits = {%s};" % ", ".join("{8{bus_be[%d]}}" % i for i in range(7, -1, -1)))
        w()
        self.gen_indexed()
        self.gen_registers()
        self.gen_vga()
        self.gen_behaviours()
        self.gen_read_mux()
        w("endmodule")
        return "\n".join(self.out) + "\n"

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
        """
        w = self.w
        self.idx_sel = {}  # space -> selection of the data port (see reg_access)
        ports = []  # (space, role, word, lane, nbytes)
        for name, s in self.spaces.items():
            for role in ("index", "data"):
                wd, ln, wid = self.port(s[role])
                ports.append((name, role, wd, ln, wid // 8))
        self.ports = ports
        by_word = {}
        for p in ports:
            by_word.setdefault(p[2], []).append(p)
        hit = {}
        for p in ports:
            hit[(p[0], p[1])] = "hit_%s_%s" % (ident(p[0]), "ix" if p[1] == "index" else "dt")
        if ports:
            w("  // ports of indexed spaces: hit when the access reaches the port's first byte")
            w("  logic %s;" % ", ".join(hit[(p[0], p[1])] for p in ports))
        for p in ports:
            name, role, wd, ln, nb = p
            covers = [q for q in by_word[wd] if q is not p and q[3] < ln < q[3] + q[4]]
            same = [q for q in by_word[wd] if q is not p and q[3] == ln]
            if same:
                raise BusError("ports of %s and %s start at the same byte" % (name, same[0][0]))
            cond = "bus_addr == %s && bus_be[%d]" % (hexv(ADDR_BITS, wd), ln)
            for q in covers:
                cond += " && !%s" % hit[(q[0], q[1])]
            w("  assign %s = %s;" % (hit[(name, role)], cond))
        for name, s in self.spaces.items():
            sid = ident(name)
            iw, il, iwid = self.port(s["index"])
            dw, dl, dwid = self.port(s["data"])
            na = min(dwid // 8, 8 - dl)  # data bytes in the first word
            nb = dwid // 8 - na          # data bytes in the next word
            bits = max(1, (s["size"] - 1).bit_length())
            w("  // indexed space %s: index %s, data %s, %d entries" % (name, s["index"], s["data"], s["size"]))
            w("  logic [%d:0] ix_%s;" % (iwid - 1, sid))
            w("  logic ix_%s_we, dt_%s_we;" % (sid, sid))
            w("  logic [%d:0] ix_%s_eff;  // index seen by the data port this cycle" % (iwid - 1, sid))
            w("  logic [%d:0] dt_%s_wdata, dt_%s_wmask;" % (dwid - 1, sid, sid))
            w("  assign ix_%s_we = bus_wr && hit_%s_ix;" % (sid, sid))
            if nb:
                w("  // the data port runs into the next word: its bytes %d.. come with bus_seq" % na)
                w("  logic xing_%s, hitb_%s_dt;" % (sid, sid))
                w("  assign hitb_%s_dt = bus_seq && xing_%s && bus_addr == %s && bus_be[0];"
                  % (sid, sid, hexv(ADDR_BITS, dw + 1)))
                w("  always_ff @(posedge clk) begin")
                w("    if (!rst_n) xing_%s <= 1'b0;" % sid)
                w("    else if (bus_wr || bus_rd) xing_%s <= hit_%s_dt && bus_be[7];" % (sid, sid))
                w("  end")
                w("  assign dt_%s_we = bus_wr && (hit_%s_dt || hitb_%s_dt);" % (sid, sid, sid))
                for v, src in (("wdata", "bus_wdata"), ("wmask", "wbits")):
                    w("  assign dt_%s_%s = hitb_%s_dt ? {%s[0 +: %d], %d'h0} : {%d'h0, %s[%d +: %d]};"
                      % (sid, v, sid, src, nb * 8, na * 8, nb * 8, src, dl * 8, na * 8))
            else:
                w("  assign dt_%s_we = bus_wr && hit_%s_dt;" % (sid, sid))
                w("  assign dt_%s_wdata = bus_wdata[%d +: %d];" % (sid, dl * 8, dwid))
                w("  assign dt_%s_wmask = wbits[%d +: %d];" % (sid, dl * 8, dwid))
            w("  assign ix_%s_eff = ix_%s_we ? ((bus_wdata[%d +: %d] & wbits[%d +: %d]) | (ix_%s & ~wbits[%d +: %d])) : ix_%s;"
              % (sid, sid, il * 8, iwid, il * 8, iwid, sid, il * 8, iwid, sid))
            w("  always_ff @(posedge clk) begin")
            w("    if (!rst_n) ix_%s <= '0;" % sid)
            w("    else if (ix_%s_we) ix_%s <= ix_%s_eff;" % (sid, sid, sid))
            w("  end")
            # No storage behind unlisted indices: they read 0, like any unknown register.
            w()
            self.idx_sel[name] = {"eff": f"ix_{sid}_eff", "we": f"dt_{sid}_we",
                                  "wdata": f"dt_{sid}_wdata", "wmask": f"dt_{sid}_wmask",
                                  "dwid": dwid, "iwid": iwid, "bits": min(bits, iwid),
                                  "bank": None, "inb": None, "dword": dw, "dlane": dl, "na": na, "nb": nb,
                                  "iword": iw, "ilane": il, "ix": f"ix_{sid}"}

    def in_bank(self, expr, width, size):
        if size >= (1 << width):
            return "1'b1"
        return "(%s < %s)" % (expr, hexv(width, size))

    # ---- map registers ----
    def reg_access(self, r):
        """(write strobe, write data [w], write bit mask [w]) expressions for a register."""
        if not r.indexed:
            we = "bus_wr && bus_addr == %s && (bus_be & 8'h%02x) != 8'h0" % (
                hexv(ADDR_BITS, r.word), ((1 << (r.width // 8)) - 1) << r.lane)
            return we, "bus_wdata[%d +: %d]" % (r.lane * 8, r.width), "wbits[%d +: %d]" % (r.lane * 8, r.width)
        sel = self.indexed_sel(r.space)
        we = "%s && %s == %s" % (sel["we"], sel["eff"], hexv(sel["iwid"], r.offset))
        if r.space == "vga_crtc" and r.offset < 7:
            we += " && !crtc_locked"
        if r.space == "vga_crtc" and r.offset == 7:
            return we, "%s" % sel["wdata"], "(crtc_locked ? 8'h10 : 8'hff)"
        dwid = sel["dwid"]

        def fit(e):
            if dwid >= r.width:
                return "%s[%d:0]" % (e, r.width - 1) if dwid > r.width else e
            return "{%d'h0, %s}" % (r.width - dwid, e)
        # Byte enables reach the register through the data port (a byte written to a 32-bit
        # data port changes the register's low byte only, as in the model).
        mask = fit(sel["wmask"]) if sel.get("wmask") else hexv(r.width, (1 << r.width) - 1)
        return we, fit(sel["wdata"]), mask

    def indexed_sel(self, space):
        if space in self.idx_sel:
            return self.idx_sel[space]
        raise MapError("no index/data pair for space %s" % space)  # checked in __init__

    def gen_registers(self):
        w = self.w
        if self.vga:
            self.gen_vga_indexed_front()
        readback_regs = {b["register"] for b in self.beh if b["kind"] == "readback"}
        triggers = {b["trigger"] for b in self.beh if b["kind"] == "delayed_set"}
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
            store = r.store | extra
            ro = r.m["ro"] & ~extra
            r.store_eff, r.ro_eff = store, ro
            w("  // %s: %s offset 0x%x, %d bits, reset 0x%x" % (r.name, r.space, r.offset, W, r.reset))
            w("  logic [%d:0] %s, %s_rd;" % (W - 1, r.id, r.id))
            wired = r.name in readback_regs or r.name in triggers or i2c is not None
            we, data, mask = self.reg_access(r) if (store or wired) else (None, None, None)
            # Wires only where a behaviour looks at the write; otherwise the decode stays in
            # the clocked process, so nothing is evaluated for it between edges.
            if wired:
                w("  logic [%d:0] %s_wd, %s_wm;" % (W - 1, r.id, r.id))
                w("  logic %s_we;" % r.id)
                w("  assign %s_we = %s;" % (r.id, we))
                w("  assign %s_wd = %s;" % (r.id, data))
                w("  assign %s_wm = %s;" % (r.id, mask))
                we, data, mask = r.id + "_we", r.id + "_wd", r.id + "_wm"
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
                    w("  logic [%d:0] %s_pre, %s_i2c;  // after the write; after the I2C bus clocked" % (W - 1, r.id, r.id))
                    w("  assign %s_pre = %s;" % (r.id, newv))
                    self.gen_i2c(r, i2c)
                    newv = "%s_i2c" % r.id
                if r.name in triggers:
                    w("  logic [%d:0] %s_nxt;" % (W - 1, r.id))
                    w("  assign %s_nxt = (%s) ? (%s) : %s;" % (r.id, we, newv, r.id))
                w("  always_ff @(posedge clk) begin")
                w("    if (!rst_n) %s <= %s;" % (r.id, hexv(W, r.reset & store)))
                w("    else if (%s) %s <= %s;" % (we, r.id, newv))
                w("  end")
            else:
                w("  assign %s = %s;  // read-only: no flop" % (r.id, hexv(W, 0)))
                if r.name in triggers:
                    w("  logic [%d:0] %s_nxt;" % (W - 1, r.id))
                    w("  assign %s_nxt = %s;" % (r.id, r.id))
            # Bus view before behaviours: stored bits, ro bits at reset, wo bits read 0.
            w("  logic [%d:0] %s_base;" % (W - 1, r.id))
            w("  assign %s_base = (%s & %s) | %s;" % (r.id, r.id, hexv(W, store & r.readable), hexv(W, r.reset & ro)))
            w()

    def raw(self, r):
        """The register's value as the model holds it: stored bits, ro bits at reset."""
        return "((%s & %s) | %s)" % (r.id, hexv(r.width, r.store_eff), hexv(r.width, r.reset & r.ro_eff))

    # ---- i2c_gpio: a bit-banged I2C responder (a DDC monitor's EEPROM) ----
    def gen_i2c(self, r, k):
        """Combinational next state of the responder for the write in this cycle, and the
        register's value after it (<reg>_i2c); the state flops take it on the register's
        write strobe when the write clocks the bus. Step for step the model's responder:
        SCL is driven first (a rising edge shifts a bit in or out, acknowledges, reads the
        master's ACK), then SDA (a change while SCL is high is a START or a STOP)."""
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
        w("  logic %s;" % ", ".join("%s_%s" % (p, x[2:]) for x in st))
        w("  logic [2:0] %s_q_st, %s_st;" % (p, p))
        w("  logic [3:0] %s_q_bits, %s_bits;" % (p, p))
        w("  logic [7:0] %s_q_shift, %s_shift, %s_q_out, %s_out;" % (p, p, p, p))
        w("  logic [%d:0] %s_q_ptr, %s_ptr;  // byte pointer modulo the EEPROM size" % (pw - 1, p, p))
        w("  logic %s_clk, %s_scl_m, %s_sda_m, %s_level;" % (p, p, p, p))
        pre = "%s_pre" % r.id
        w("  assign %s_clk = (%s & %s) == %s;  // this write clocks the bus" % (p, pre, hexv(W, wm), hexv(W, wv)))
        w("  assign %s_scl_m = %s[%d] ? %s[%d] : 1'b1;  // driven when enabled, else released"
          % (p, pre, int(ij["scl_oe"]), pre, int(ij["scl_out"])))
        w("  assign %s_sda_m = %s[%d] ? %s[%d] : 1'b1;" % (p, pre, int(ij["sda_oe"]), pre, int(ij["sda_out"])))
        if size == 0:
            w("  logic [7:0] %s_byte;" % p)
            w("  assign %s_byte = 8'hff;  // no EEPROM bytes" % p)
            w("  logic %s_unused_ptr;" % p)
            w("  assign %s_unused_ptr = ^%s_ptr;" % (p, p))
            rom_read = "%s_byte" % p
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
        w("  always_comb begin")
        for x in st + ("q_st", "q_bits", "q_shift", "q_out", "q_ptr"):
            w("    %s_%s = %s_%s;" % (p, x[2:], p, x))
        w("    if (%s_scl_m != %s_scl) begin  // SCL" % (p, p))
        w("      %s_scl = %s_scl_m;" % (p, p))
        w("      if (!%s_scl_m) %s_dev = 1'b1;  // SDA let go after each clock pulse" % (p, p))
        w("      else begin")
        w("        unique case (%s_st)" % p)
        w("          3'd1: begin  // a bit to the device")
        w("            %s_shift = {%s_shift[6:0], %s_sda};" % (p, p, p))
        w("            %s_bits = %s_bits + 4'd1;" % (p, p))
        w("            if (%s_bits == 4'd8) %s_st = 3'd2;" % (p, p))
        w("            %s_dev = 1'b1;" % p)
        w("          end")
        w("          3'd2: begin  // acknowledge the address or a byte")
        w("            %s_bits = 4'd0;" % p)
        w("            if (!%s_have) begin" % p)
        w("              %s_have = 1'b1;" % p)
        w("              %s_reading = %s_shift[0];" % (p, p))
        w("              if (%s_shift[7:1] != 7'h%02x) begin  // not ours: the transfer ends" % (p, addr))
        w("                %s_st = 3'd0; %s_have = 1'b0; %s_dev = 1'b1;" % (p, p, p))
        w("              end else begin")
        w("                if (!%s_reading) %s_first = 1'b1;" % (p, p))
        w("                %s_st = %s_reading ? 3'd3 : 3'd1;" % (p, p))
        w("                %s_dev = 1'b0;" % p)
        w("              end")
        w("            end else begin")
        w("              if (%s_first) begin %s_ptr = %s; %s_first = 1'b0; end" % (p, p, load, p))
        w("              else %s_ptr = %s;  // further written bytes are ignored" % (p, inc))
        w("              %s_st = %s_reading ? 3'd3 : 3'd1;" % (p, p))
        w("              %s_dev = 1'b0;" % p)
        w("            end")
        w("          end")
        w("          3'd3: begin  // a bit from the device, most significant first")
        w("            if (%s_bits == 4'd0) begin %s_out = %s; %s_ptr = %s; end" % (p, p, rom_read, p, inc))
        w("            %s_dev = %s_out[3'd7 - %s_bits[2:0]];" % (p, p, p))
        w("            %s_bits = %s_bits + 4'd1;" % (p, p))
        w("            if (%s_bits == 4'd8) begin %s_bits = 4'd0; %s_st = 3'd4; end" % (p, p, p))
        w("          end")
        w("          3'd4: begin  // the master's ACK (low) asks for another byte")
        w("            %s_st = %s_sda ? 3'd5 : 3'd3;" % (p, p))
        w("            %s_dev = 1'b1;" % p)
        w("          end")
        w("          default: %s_dev = 1'b1;  // stopped, nacked" % p)
        w("        endcase")
        w("      end")
        w("    end")
        w("    if (%s_sda_m != %s_sda) begin  // SDA: while SCL is high a START (falling) or STOP (rising)" % (p, p))
        w("      %s_sda = %s_sda_m;" % (p, p))
        w("      if (%s_scl) begin" % p)
        w("        %s_st = %s_sda_m ? 3'd0 : 3'd1;" % (p, p))
        w("        %s_bits = 4'd0; %s_have = 1'b0; %s_dev = 1'b1;" % (p, p, p))
        w("      end")
        w("    end")
        w("    %s_level = %s_dev && %s_sda;" % (p, p, p))
        w("  end")
        w("  always_ff @(posedge clk) begin")
        w("    if (!rst_n) begin")
        w("      %s_q_scl <= 1'b1; %s_q_sda <= 1'b1; %s_q_dev <= 1'b1;" % (p, p, p))
        w("      %s_q_have <= 1'b0; %s_q_reading <= 1'b0; %s_q_first <= 1'b0;" % (p, p, p))
        w("      %s_q_st <= 3'd0; %s_q_bits <= 4'd0; %s_q_shift <= 8'h0; %s_q_out <= 8'h0; %s_q_ptr <= '0;" % (p, p, p, p, p))
        w("    end else if (%s_we && %s_clk) begin" % (r.id, p))
        for x in st + ("q_st", "q_bits", "q_shift", "q_out", "q_ptr"):
            w("      %s_%s <= %s_%s;" % (p, x, p, x[2:]))
        w("    end")
        w("  end")
        w("  assign %s_i2c = %s_clk ? ((%s & %s) | (%d'(%s_scl_m) << %d) | (%d'(%s_level) << %d)) : %s;"
          % (r.id, p, pre, hexv(W, ~mask), W, p, int(ij["scl_in"]), W, p, int(ij["sda_in"]), pre))

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
        self.vga_hit = {}
        for name, port in VGA_PORTS.items():
            ww, ll, _ = self.port(("vga_io", 0, port, 8))
            cond = self.lanes_hit(ww, ll, 8)
            if 0x3B0 <= port <= 0x3BF:
                cond = "(mono_en && %s)" % cond
            elif 0x3D0 <= port <= 0x3DF:
                cond = "(colour_en && %s)" % cond
            self.vga_hit[port] = cond
        hit = self.vga_hit
        crtc_lock = None
        for r in self.regs:
            if r.space == "vga_crtc" and r.offset == 0x11:
                crtc_lock = r
        self.crtc_lock_reg = crtc_lock
        for space, (ports, count) in VGA_BANKS.items():
            sid = space
            ip, dp = ports
            hits_i = " || ".join(hit[p] for p in ip)
            hits_d = " || ".join(hit[p] for p in dp)
            il, dl = ip[0] % 8, dp[0] % 8
            bits = max(1, (count - 1).bit_length())
            w("  // %s: index 0x%x, data 0x%x, %d standard registers" % (space, ip[0], dp[0], count))
            w("  logic [7:0] ix_%s, ix_%s_eff, dt_%s_wdata;" % (sid, sid, sid))
            w("  logic ix_%s_we, dt_%s_we, ix_%s_inb;" % (sid, sid, sid))
            w("  assign ix_%s_we = bus_wr && (%s);" % (sid, hits_i))
            w("  assign dt_%s_we = bus_wr && (%s);" % (sid, hits_d))
            w("  assign dt_%s_wdata = bus_wdata[%d +: 8];" % (sid, dl * 8))
            w("  assign ix_%s_eff = ix_%s_we ? bus_wdata[%d +: 8] : ix_%s;" % (sid, sid, il * 8, sid))
            w("  assign ix_%s_inb = ix_%s_eff < 8'd%d;" % (sid, sid, count))
            w("  always_ff @(posedge clk) begin")
            w("    if (!rst_n) ix_%s <= 8'h0;" % sid)
            w("    else if (ix_%s_we) ix_%s <= ix_%s_eff;" % (sid, sid, sid))
            w("  end")
            w("  logic [7:0] bk_%s [%d];" % (sid, count))
            wen = "dt_%s_we && ix_%s_inb" % (sid, sid)
            if space == "vga_crtc":
                lock = ("%s_rd[7]" % crtc_lock.id) if crtc_lock else "bk_vga_crtc[17][7]"
                w("  // CR11 bit 7 write-protects CR0-CR6, and CR7 except its bit 4.")
                w("  logic crtc_locked;")
                w("  assign crtc_locked = %s;" % lock)
                w("  logic [7:0] crtc_wval;")
                w("  assign crtc_wval = (crtc_locked && ix_vga_crtc_eff == 8'd7) ? "
                  "((bk_vga_crtc[7] & 8'hef) | (dt_vga_crtc_wdata & 8'h10)) : dt_vga_crtc_wdata;")
                wen += " && !(crtc_locked && ix_vga_crtc_eff < 8'd7)"
                val = "crtc_wval"
            else:
                val = "dt_%s_wdata" % sid
            w("  always_ff @(posedge clk) begin")
            w("    if (!rst_n) bk_%s <= '{default:'0};" % sid)
            w("    else if (%s) bk_%s[ix_%s_eff[%d:0]] <= %s;" % (wen, sid, sid, bits - 1, val))
            w("  end")
            self.idx_sel[space] = {"eff": "ix_%s_eff" % sid, "we": "dt_%s_we" % sid,
                                   "wdata": "dt_%s_wdata" % sid, "dwid": 8, "iwid": 8, "bits": bits,
                                   "bank": "bk_%s" % sid, "inb": "ix_%s_inb" % sid, "ix": "ix_%s" % sid,
                                   "ports": (ip, dp)}
        # Attribute controller: 0x3C0 alternates index/data (flip-flop), 0x3C1 reads data,
        # a read of input status 1 resets the flip-flop to "index" and toggles its retrace
        # and display-enable bits (0x09) so that wait-for-retrace loops end.
        w("  logic attr_ff;        // 0: next 0x3C0 write is the index, 1: the data")
        w("  logic [5:0] attr_ix;  // bit 5 = palette address source")
        w("  logic [7:0] vga_st01;")
        w("  logic attr_port_we, attr_data_we, is1_re, attr_inb;")
        w("  logic [7:0] dt_vga_attr_wdata;")
        w("  logic [4:0] ix_vga_attr_eff;")
        w("  assign attr_port_we = bus_wr && %s;" % hit[0x3C0])
        w("  assign attr_data_we = attr_port_we && attr_ff;")
        w("  assign is1_re = bus_rd && (%s || %s);" % (hit[0x3DA], hit[0x3BA]))
        w("  assign dt_vga_attr_wdata = bus_wdata[%d +: 8];" % (0x3C0 % 8 * 8))
        w("  assign ix_vga_attr_eff = attr_ix[4:0];")
        w("  assign attr_inb = attr_ix[4:0] < 5'd%d;" % ATTR_COUNT)
        w("  logic [7:0] bk_vga_attr [%d];" % ATTR_COUNT)
        w("  always_ff @(posedge clk) begin")
        w("    if (!rst_n) begin")
        w("      attr_ff <= 1'b0;")
        w("      attr_ix <= 6'h0;")
        w("      vga_st01 <= 8'h0;")
        w("      bk_vga_attr <= '{default:'0};")
        w("    end else begin")
        w("      if (is1_re) begin attr_ff <= 1'b0; vga_st01 <= vga_st01 ^ 8'h09; end")
        w("      else if (attr_port_we) attr_ff <= ~attr_ff;")
        w("      if (attr_port_we && !attr_ff) attr_ix <= bus_wdata[%d +: 6];" % (0x3C0 % 8 * 8))
        w("      if (attr_data_we && attr_inb) bk_vga_attr[attr_ix[4:0]] <= dt_vga_attr_wdata;")
        w("    end")
        w("  end")
        self.idx_sel["vga_attr"] = {"eff": "ix_vga_attr_eff", "we": "attr_data_we",
                                    "wdata": "dt_vga_attr_wdata", "dwid": 8, "iwid": 5, "bits": 5,
                                    "bank": "bk_vga_attr", "inb": "attr_inb", "ix": None}
        w()

    def gen_vga(self):
        if not self.vga:
            return
        w = self.w
        hit = self.vga_hit

        def wr(port):
            return "bus_wr && %s" % hit[port]

        def rd(port):
            return "bus_rd && %s" % hit[port]

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
        w("  logic dac_data_we, dac_data_re;")
        w("  assign dac_data_we = %s;" % wr(0x3C9))
        w("  assign dac_data_re = %s;" % rd(0x3C9))
        w("  always_ff @(posedge clk) begin")
        w("    if (!rst_n) begin")
        w("      vga_misc <= 8'h0; vga_feat <= 8'h0; dac_mask <= 8'hff;")
        w("      dac_widx <= 8'h0; dac_ridx <= 8'h0; dac_sub <= 2'd0;")
        w("      dac_read_mode <= 1'b0; dac_c0 <= 8'h0; dac_c1 <= 8'h0;")
        w("      dac_pal <= '{default:'0};")
        w("    end else begin")
        w("      if (%s) vga_misc <= bus_wdata[%d +: 8];" % (wr(0x3C2), lane(0x3C2)))
        w("      if ((%s) || (%s)) vga_feat <= bus_wdata[%d +: 8];" % (wr(0x3DA), wr(0x3BA), lane(0x3DA)))
        w("      if (%s) dac_mask <= bus_wdata[%d +: 8];" % (wr(0x3C6), lane(0x3C6)))
        w("      if (%s) begin" % wr(0x3C7))
        w("        dac_ridx <= bus_wdata[%d +: 8]; dac_sub <= 2'd0; dac_read_mode <= 1'b1;" % lane(0x3C7))
        w("      end else if (%s) begin" % wr(0x3C8))
        w("        dac_widx <= bus_wdata[%d +: 8]; dac_sub <= 2'd0; dac_read_mode <= 1'b0;" % lane(0x3C8))
        w("      end else if (dac_data_we) begin")
        w("        if (dac_sub == 2'd0) dac_c0 <= bus_wdata[%d +: 8];" % lane(0x3C9))
        w("        if (dac_sub == 2'd1) dac_c1 <= bus_wdata[%d +: 8];" % lane(0x3C9))
        w("        if (dac_sub == 2'd2) begin")
        w("          dac_pal[dac_wbase] <= dac_c0;")
        w("          dac_pal[dac_wbase + 10'd1] <= dac_c1;")
        w("          dac_pal[dac_wbase + 10'd2] <= bus_wdata[%d +: 8];" % lane(0x3C9))
        w("          dac_sub <= 2'd0; dac_widx <= dac_widx + 8'h1;")
        w("        end else dac_sub <= dac_sub + 2'd1;")
        w("      end else if (dac_data_re) begin")
        w("        if (dac_sub == 2'd2) begin dac_sub <= 2'd0; dac_ridx <= dac_ridx + 8'h1; end")
        w("        else dac_sub <= dac_sub + 2'd1;")
        w("      end")
        w("    end")
        w("  end")
        w("  logic [9:0] dac_wbase, dac_raddr;")
        w("  assign dac_wbase = {dac_widx, 1'b0} + {2'b00, dac_widx};  // entry * 3")
        w("  assign dac_raddr = {dac_ridx, 1'b0} + {2'b00, dac_ridx} + {8'h0, dac_sub};")
        w("  logic [7:0] dac_rdata;")
        w("  assign dac_rdata = dac_pal[dac_raddr];")
        w()

    # ---- behaviours ----
    def gen_behaviours(self):
        w = self.w
        self.overlays = {r.name: [] for r in self.regs}  # reg -> list of (mask, expr)
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
                    w("  logic bh%d_on;  // the constant shows while its trigger condition holds" % k)
                    w("  assign bh%d_on = (%s & %s) == %s;" % (k, self.raw(t), hexv(t.width, tm), hexv(t.width, tv)))
                    self.overlays[r.name].append((mask, hexv(W, value & mask), "bh%d_on" % k))
                else:
                    self.overlays[r.name].append((mask, hexv(W, value & mask)))
            elif kind == "i2c_gpio":
                w("  // (the responder is generated with the register)")
            elif kind == "readback":
                wm = int(b.get("when_mask", 0)) & full
                wv = int(b.get("when_value", 0)) & full
                ev = int(b.get("else_value", 0)) & full
                w("  logic [1:0] bh%d_state;  // 0: no write yet, 1: last write matched, 2: did not" % k)
                w("  always_ff @(posedge clk) begin")
                w("    if (!rst_n) bh%d_state <= 2'd0;" % k)
                w("    else if (%s_we) bh%d_state <= ((%s_wd & %s_wm & %s) == %s) ? 2'd1 : 2'd2;"
                  % (r.id, k, r.id, r.id, hexv(W, wm), hexv(W, wv)))
                w("  end")
                self.overlays[r.name].append(
                    (mask, "(bh%d_state == 2'd1 ? %s : bh%d_state == 2'd2 ? %s : (%s_base & %s))"
                     % (k, hexv(W, value & mask), k, hexv(W, ev & mask), r.id, hexv(W, mask))))
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
                w("  // %d ns = %d cycles at %g MHz" % (delay_ns, n, self.clock_mhz))
                w("  logic bh%d_run, bh%d_done, bh%d_cond;" % (k, k, k))
                w("  logic [%d:0] bh%d_cnt;" % (cw - 1, k))
                w("  assign bh%d_cond = ((((%s_nxt & %s) | %s) & %s) == %s);"
                  % (k, t.id, hexv(TW, t.store_eff), hexv(TW, t.reset & t.ro_eff), hexv(TW, tm), hexv(TW, tv)))
                w("  always_ff @(posedge clk) begin")
                w("    if (!rst_n) begin")
                w("      bh%d_run <= 1'b0; bh%d_done <= 1'b0; bh%d_cnt <= '0;" % (k, k, k))
                w("    end else if (%s_we) begin" % t.id)
                w("      if (!bh%d_cond) begin bh%d_run <= 1'b0; bh%d_done <= 1'b0; end" % (k, k, k))
                if n == 0:
                    w("      else if (!bh%d_run) bh%d_done <= 1'b1;" % (k, k))
                else:
                    w("      else if (!bh%d_run && !bh%d_done) begin bh%d_run <= 1'b1; bh%d_cnt <= %s; end"
                      % (k, k, k, k, hexv(cw, n)))
                w("      else if (bh%d_run && tick) begin" % k)
                w("        if (bh%d_cnt == '0) begin bh%d_run <= 1'b0; bh%d_done <= 1'b1; end" % (k, k, k))
                w("        else bh%d_cnt <= bh%d_cnt - 1'b1;" % (k, k))
                w("      end")
                w("    end else if (bh%d_run && tick) begin" % k)
                w("      if (bh%d_cnt == '0) begin bh%d_run <= 1'b0; bh%d_done <= 1'b1; end" % (k, k, k))
                w("      else bh%d_cnt <= bh%d_cnt - 1'b1;" % (k, k))
                w("    end")
                w("  end")
                self.overlays[r.name].append(
                    (mask, "((bh%d_done || (bh%d_run && bh%d_cnt == '0)) ? %s : %s)"
                     % (k, k, k, hexv(W, value & mask), hexv(W, r.reset & mask))))
                self.busy_terms.append("bh%d_run" % k)
            w()
        w("  assign busy = %s;" % (" || ".join(self.busy_terms) if self.busy_terms else "1'b0"))
        w()
        # Final read view of every register: later behaviours win on overlapping bits.
        for r in self.regs:
            W = r.width
            expr = "%s_base" % r.id
            for ovl in self.overlays[r.name]:
                mask, ov = ovl[0], ovl[1]
                nxt = "((%s & %s) | (%s & %s))" % (expr, hexv(W, ~mask), ov, hexv(W, mask))
                expr = "(%s ? %s : %s)" % (ovl[2], nxt, expr) if len(ovl) > 2 else nxt
            w("  assign %s_rd = %s;" % (r.id, expr))
        w()

    # ---- read path ----
    def gen_read_mux(self):
        w = self.w
        words = {}  # word -> list of (lane, expr of 8*k bits)
        self._rdp = []

        def put(word, lane, expr, nbytes, port=False):
            # Every lane source gets a wire of its own width, so the zero extension to 64
            # bits below is of a plain signal. Ports are gated by their hit (they may overlap).
            name = "rdp_%d" % len(self._rdp)
            self._rdp.append(name)
            w("  logic [%d:0] %s;" % (nbytes * 8 - 1, name))
            w("  assign %s = %s;" % (name, expr))
            words.setdefault(word, []).append((lane, name, nbytes, port))

        flat_regs = [r for r in self.regs if not r.indexed]
        for r in flat_regs:
            put(r.word, r.lane, "%s_rd" % r.id, r.width // 8)
        # Data ports of indexed spaces: the listed register at the effective index, else
        # the bank. Index ports read back the index register.
        data_exprs = {}
        for name, sel in self.idx_sel.items():
            members = [r for r in self.regs if r.indexed and r.space == name]
            dwid = sel["dwid"]
            if sel["bank"] is None:
                expr = hexv(dwid, 0)
            else:
                expr = "(%s ? %s[%s] : %s)" % (sel["inb"], sel["bank"], "%s[%d:0]" % (sel["eff"], sel["bits"] - 1), hexv(dwid, 0))
            for r in members:
                rv = "%s_rd" % r.id
                if r.width > dwid:
                    rv = "%s[%d:0]" % (rv, dwid - 1)
                elif r.width < dwid:
                    rv = "{%d'h0, %s}" % (dwid - r.width, rv)
                expr = "(%s == %s ? %s : %s)" % (sel["eff"], hexv(sel["iwid"], r.offset), rv, expr)
            data_exprs[name] = expr
            sid = ident(name)
            w("  logic [%d:0] dt_%s_rd;" % (dwid - 1, sid))
            w("  assign dt_%s_rd = %s;" % (sid, expr))
            if name in VGA_BANKS:
                continue  # ports placed with the VGA file below
            if name == "vga_attr":
                continue
            na, nb = sel["na"], sel["nb"]
            put(sel["dword"], sel["dlane"], "(hit_%s_dt ? dt_%s_rd[%d:0] : %s)" % (sid, sid, na * 8 - 1, hexv(na * 8, 0)),
                na, True)
            if nb:
                put(sel["dword"] + 1, 0, "(hitb_%s_dt ? dt_%s_rd[%d:%d] : %s)" % (sid, sid, dwid - 1, na * 8, hexv(nb * 8, 0)),
                    nb, True)
            put(sel["iword"], sel["ilane"], "(hit_%s_ix ? %s : %s)" % (sid, sel["ix"], hexv(sel["iwid"], 0)),
                sel["iwid"] // 8, True)
        # Mapped data blocks: read-only bytes (a ROM); writes change nothing, as in the model.
        for blk in self.blocks.values():
            if not blk["mapped"] or blk["size"] == 0:
                continue
            data, off, size = blk["data"], blk["offset"], blk["size"]
            w("  // data block %s: %d read-only bytes at %s offset 0x%x" % (blk["name"], size, blk["space"], off))
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
            def vp(port, expr):
                ww, ll, _ = self.port(("vga_io", 0, port, 8))
                if 0x3B0 <= port <= 0x3BF:
                    expr = "(mono_en ? %s : 8'hff)" % expr
                elif 0x3D0 <= port <= 0x3DF:
                    expr = "(colour_en ? %s : 8'hff)" % expr
                put(ww, ll, expr, 1)
            for space, ((ip, dp), _) in VGA_BANKS.items():
                for port in ip:
                    vp(port, "ix_%s" % space)
                for port in dp:
                    vp(port, "dt_%s_rd" % space)
            vp(0x3C0, "{2'b00, attr_ix}")
            vp(0x3C1, "dt_vga_attr_rd")
            vp(0x3BA, "(vga_st01 ^ 8'h09)")
            vp(0x3DA, "(vga_st01 ^ 8'h09)")
            vp(0x3CC, "vga_misc")
            vp(0x3CA, "vga_feat")
            vp(0x3C6, "dac_mask")
            vp(0x3C7, "{6'h0, dac_read_mode ? 2'b11 : 2'b00}")
            vp(0x3C8, "dac_widx")
            vp(0x3C9, "dac_rdata")
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
        # The read mux lives in the clocked process: it is evaluated at the edge of a read
        # only, not whenever an input or a register changes.
        w("  always_ff @(posedge clk) begin")
        w("    if (!rst_n) begin")
        w("      bus_ready <= 1'b0;")
        w("      bus_rdata <= 64'h0;")
        w("    end else begin")
        w("      bus_ready <= bus_wr || bus_rd;")
        w("      bus_rdata <= 64'h0;")
        w("      if (bus_rd) begin")
        w("        unique case (bus_addr)")
        for word in sorted(words):
            terms = []
            for lane, expr, nb, _ in sorted(words[word]):
                terms.append("(64'(%s) << %d)" % (expr, lane * 8))
            w("          %s: bus_rdata <= (%s) & wbits;" % (hexv(ADDR_BITS, word), " | ".join(terms)))
        w("          default: bus_rdata <= 64'h0;")
        w("        endcase")
        w("      end")
        w("    end")
        w("  end")


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

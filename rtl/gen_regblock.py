#!/usr/bin/env python3
"""Generate a synthesizable SystemVerilog register block from a gpu-init register map.

    gen_regblock.py MAP.json OUT.sv [--module NAME] [--clock-mhz MHZ]

Standard library only: CMake runs it at configure time, because Verilator's CMake
package (verilate()) needs the SystemVerilog sources before the build starts.

The bus, the address encoding and the behaviour of every generated part are described
in docs/sim.md; this file is the single place that implements them in hardware.
Exit status: 0 written, 1 the map is malformed (message names the map file and the
register), 2 usage, 3 the map is valid but has a location this bus cannot express (a
port straddling a 64-bit bus word, two registers overlapping): no RTL for that map.
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
                if w not in (8, 16, 32) or (off % 8) + w // 8 > 8:
                    raise BusError("indexed space %s: %s port width/offset not on one bus word" % (name, part))
                loc.append((sp, int(lj.get("bar", 0)), off, w))
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
            if b["kind"] == "i2c_gpio":
                raise BusError("behaviour i2c_gpio on %s (an I2C responder) has no RTL form yet" % b["register"])
            if b["kind"] == "constant" and b.get("trigger"):
                raise BusError("triggered constant on %s has no RTL form yet" % b["register"])
            if b["kind"] not in ("delayed_set", "constant", "readback"):
                raise MapError("unknown behaviour kind %s" % b["kind"])
        if any(blk.get("space") for blk in m.get("blocks", [])):
            raise BusError("mapped data blocks have no RTL form yet")

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
        w("  output logic [63:0] bus_rdata,")
        w("  output logic        bus_ready,")
        w("  output logic        busy        // a timed behaviour is counting")
        w(");")
        w()
        w("  // A map need not decode every bus bit (8-bit registers only, few regions): the")
        w("  // bus is consumed here once, Verilator's idiom for ports used by some blocks only.")
        w("  /* verilator lint_off UNUSEDSIGNAL */")
        w("  logic unused_bus_bits;")
        w("  assign unused_bus_bits = ^{bus_addr, bus_wdata, bus_be, bus_rd, tick};")
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
        w = self.w
        self.idx_sel = {}  # space -> (effective index expr, data-write strobe, data-read strobe, data width)
        for name, s in self.spaces.items():
            sid = ident(name)
            iw, il, iwid = self.port(s["index"])
            dw, dl, dwid = self.port(s["data"])
            bits = max(1, (s["size"] - 1).bit_length())
            w("  // indexed space %s: index %s, data %s, %d entries" % (name, s["index"], s["data"], s["size"]))
            w("  logic [%d:0] ix_%s;" % (iwid - 1, sid))
            w("  logic ix_%s_we, dt_%s_we;" % (sid, sid))
            w("  logic [%d:0] ix_%s_eff;  // index seen by the data port this cycle" % (iwid - 1, sid))
            w("  logic [%d:0] dt_%s_wdata;" % (dwid - 1, sid))
            w("  assign ix_%s_we = bus_wr && %s;" % (sid, self.lanes_hit(iw, il, iwid)))
            w("  assign dt_%s_we = bus_wr && %s;" % (sid, self.lanes_hit(dw, dl, dwid)))
            w("  assign dt_%s_wdata = bus_wdata[%d +: %d];" % (sid, dl * 8, dwid))
            w("  assign ix_%s_eff = ix_%s_we ? ((bus_wdata[%d +: %d] & wbits[%d +: %d]) | (ix_%s & ~wbits[%d +: %d])) : ix_%s;"
              % (sid, sid, il * 8, iwid, il * 8, iwid, sid, il * 8, iwid, sid))
            w("  always_ff @(posedge clk) begin")
            w("    if (!rst_n) ix_%s <= '0;" % sid)
            w("    else if (ix_%s_we) ix_%s <= ix_%s_eff;" % (sid, sid, sid))
            w("  end")
            # No storage behind unlisted indices: they read 0, like any unknown register.
            w()
            self.idx_sel[name] = {"eff": f"ix_{sid}_eff", "we": f"dt_{sid}_we",
                                  "wdata": f"dt_{sid}_wdata", "dwid": dwid, "iwid": iwid, "bits": min(bits, iwid),
                                  "bank": None, "inb": None, "dword": dw, "dlane": dl,
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
        if dwid >= r.width:
            data = "%s[%d:0]" % (sel["wdata"], r.width - 1) if dwid > r.width else sel["wdata"]
        else:
            data = "{%d'h0, %s}" % (r.width - dwid, sel["wdata"])
        return we, data, hexv(r.width, (1 << r.width) - 1)

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
            w("  // %s: %s offset 0x%x, %d bits, reset 0x%x" % (r.name, r.space, r.offset, W, r.reset))
            w("  logic [%d:0] %s, %s_rd;" % (W - 1, r.id, r.id))
            we, data, mask = self.reg_access(r) if (r.store or r.name in readback_regs or r.name in triggers) else (None, None, None)
            # Wires only where a behaviour looks at the write; otherwise the decode stays in
            # the clocked process, so nothing is evaluated for it between edges.
            if r.name in readback_regs or r.name in triggers:
                w("  logic [%d:0] %s_wd, %s_wm;" % (W - 1, r.id, r.id))
                w("  logic %s_we;" % r.id)
                w("  assign %s_we = %s;" % (r.id, we))
                w("  assign %s_wd = %s;" % (r.id, data))
                w("  assign %s_wm = %s;" % (r.id, mask))
                we, data, mask = r.id + "_we", r.id + "_wd", r.id + "_wm"
            if r.store:
                plain = r.writes_plain & r.store
                if plain:
                    expr = "((%s & ~(%s & %s)) | (%s & %s & %s))" % (r.id, mask, hexv(W, plain), data, mask, hexv(W, plain))
                else:
                    expr = r.id
                if r.m["w1c"]:
                    expr = "(%s & ~(%s & %s & %s))" % (expr, data, mask, hexv(W, r.m["w1c"]))
                if r.m["w1s"]:
                    expr = "(%s | (%s & %s & %s))" % (expr, data, mask, hexv(W, r.m["w1s"]))
                if r.name in triggers:
                    w("  logic [%d:0] %s_nxt;" % (W - 1, r.id))
                    w("  assign %s_nxt = (%s) ? (%s & %s) : %s;" % (r.id, we, expr, hexv(W, r.store), r.id))
                w("  always_ff @(posedge clk) begin")
                w("    if (!rst_n) %s <= %s;" % (r.id, hexv(W, r.reset & r.store)))
                w("    else if (%s) %s <= %s & %s;" % (we, r.id, expr, hexv(W, r.store)))
                w("  end")
            else:
                w("  assign %s = %s;  // read-only: no flop" % (r.id, hexv(W, 0)))
                if r.name in triggers:
                    w("  logic [%d:0] %s_nxt;" % (W - 1, r.id))
                    w("  assign %s_nxt = %s;" % (r.id, r.id))
            # Bus view before behaviours: stored bits, ro bits at reset, wo bits read 0.
            ro = r.m["ro"]
            w("  logic [%d:0] %s_base;" % (W - 1, r.id))
            w("  assign %s_base = (%s & %s) | %s;" % (r.id, r.id, hexv(W, r.store & r.readable), hexv(W, r.reset & ro)))
            w()

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
                self.overlays[r.name].append((mask, hexv(W, value & mask)))
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
                  % (k, t.id, hexv(TW, t.store), hexv(TW, t.reset & t.m["ro"]), hexv(TW, tm), hexv(TW, tv)))
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
            for mask, ov in self.overlays[r.name]:
                expr = "((%s & %s) | (%s & %s))" % (expr, hexv(W, ~mask), ov, hexv(W, mask))
            w("  assign %s_rd = %s;" % (r.id, expr))
        w()

    # ---- read path ----
    def gen_read_mux(self):
        w = self.w
        words = {}  # word -> list of (lane, expr of 8*k bits)
        self._rdp = []

        def put(word, lane, expr, nbytes):
            # Every lane source gets a wire of its own width, so the zero extension to 64
            # bits below is of a plain signal.
            name = "rdp_%d" % len(self._rdp)
            self._rdp.append(name)
            w("  logic [%d:0] %s;" % (nbytes * 8 - 1, name))
            w("  assign %s = %s;" % (name, expr))
            words.setdefault(word, []).append((lane, name, nbytes))

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
            put(sel["dword"], sel["dlane"], "dt_%s_rd" % sid, dwid // 8)
            put(sel["iword"], sel["ilane"], sel["ix"], sel["iwid"] // 8)
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
        for word, items in words.items():
            used = 0
            for lane, _, nb in items:
                m = ((1 << nb) - 1) << lane
                if used & m:
                    raise BusError("two registers share bytes of bus word 0x%x (region %d, offset 0x%x)"
                                   % (word, word >> 29, (word & ((1 << 29) - 1)) << 3))
                used |= m
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
            for lane, expr, nb in sorted(words[word]):
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
    # Atomic write: a temporary file in the same folder, then rename.
    d = os.path.dirname(os.path.abspath(dst))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".gen_regblock.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

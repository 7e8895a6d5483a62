#!/usr/bin/env python3
"""Check that a generated register block keeps its bus decode in one clocked process.

    check_rtl_structure.py BLOCK.sv

The simulation's speed rests on it (docs/sim.md, "How the block is laid out"): exactly
one always_ff, no always_comb or plain always, and continuous assignments only for the
state views the generator documents (busy, the colour/mono select). Exit 1 naming what
breaks the layout.
"""
import re
import sys

ALLOWED_ASSIGNS = {"busy", "colour_en", "mono_en"}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        text = f.read()
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    problems = []
    n_ff = len(re.findall(r"\balways_ff\b", code))
    if n_ff != 1:
        problems.append("%d always_ff processes (expected 1)" % n_ff)
    for kw in ("always_comb", "always_latch"):
        if re.search(r"\b%s\b" % kw, code):
            problems.append("has %s" % kw)
    if re.search(r"\balways\s*@", code):
        problems.append("has a plain always block")
    for m in re.finditer(r"\bassign\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        if m.group(1) not in ALLOWED_ASSIGNS:
            problems.append("continuous assignment to %s" % m.group(1))
    if problems:
        sys.stderr.write("%s: %s\n" % (argv[1], "; ".join(problems)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env bash
# The reference card end to end in simulation: the pipeline with --target sim passes every
# stage, and the sim's replay trace equals the C++ model's, read values and times included.
set -u
bin="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" pipeline --target sim -q -o "$out/sim" >"$out/log" 2>&1 || { cat "$out/log"; echo "FAIL: pipeline --target sim"; exit 1; }
"$bin" pipeline --target model -q -o "$out/model" >"$out/log" 2>&1 || { cat "$out/log"; echo "FAIL: pipeline --target model"; exit 1; }
"$bin" diff "$out/sim/replay.trace.jsonl" "$out/model/replay.trace.jsonl" >"$out/diff" 2>&1 || {
  cat "$out/diff"; echo "FAIL: sim and model replay traces differ"; exit 1; }
echo "ok: pipeline --target sim; sim and model replay traces equal"

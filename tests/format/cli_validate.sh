#!/bin/sh
# gpu-init validate end to end: verdict lines, their streams, exit codes, --json, --mode.
# Usage: cli_validate.sh GPU_INIT_BINARY EXAMPLES_DIR
set -u
bin=$1
cd "$2" || exit 2
out=$(mktemp -d) || exit 2
trap 'rm -rf "$out"' EXIT
fail=0
expect() {  # expect WHAT ACTUAL EXPECTED
  if [ "$2" != "$3" ]; then echo "FAIL: $1: got [$2], want [$3]"; fail=1; fi
}
contains() {  # contains WHAT FILE TEXT
  if ! grep -qF -- "$3" "$2"; then echo "FAIL: $1: [$3] not in:"; cat "$2"; fail=1; fi
}

"$bin" validate valid/seq-full.json valid/trace-extract.jsonl valid/regmap-example.json >"$out/o" 2>"$out/e"
expect "all valid: exit" $? 0
expect "all valid: stdout" "$(cat "$out/o")" "✅ valid/seq-full.json: valid
✅ valid/trace-extract.jsonl: valid
✅ valid/regmap-example.json: valid"
expect "all valid: stderr" "$(cat "$out/e")" ""

"$bin" validate valid/seq-full.json invalid/seq-width-not-allowed.json >"$out/o" 2>"$out/e"
expect "one invalid: exit" $? 1
expect "one invalid: stdout" "$(cat "$out/o")" "✅ valid/seq-full.json: valid"
expect "one invalid: stderr" "$(cat "$out/e")" \
  "❌ invalid/seq-width-not-allowed.json: /init_sequence/1/width: 24 is not one of [8,16,32,64]"

"$bin" validate migrate/pre-1.0.json >"$out/o" 2>"$out/e"
expect "migrated: exit" $? 0
contains "migrated: warning" "$out/e" "⚠️ migrate/pre-1.0.json: no schema_version"

"$bin" validate --json invalid/trace-time-goes-back.jsonl valid/seq-minimal.json >"$out/o" 2>"$out/e"
expect "json: exit" $? 1
contains "json: report" "$out/o" '"where": "line 3/t_ns"'
contains "json: kind" "$out/o" '"kind": "trace"'
contains "json: verdict" "$out/o" '"valid": false'
contains "json: human lines on stderr" "$out/e" "✅ valid/seq-minimal.json: valid"
if grep -q "✅" "$out/o"; then echo "FAIL: json: human line on stdout"; fail=1; fi

for mode in model sim hardware; do
  "$bin" validate --mode $mode valid/seq-full.json >"$out/o" 2>"$out/e"
  expect "mode $mode: exit" $? 2
  contains "mode $mode: says so" "$out/e" "--mode $mode is not built yet"
done
"$bin" validate --mode schema valid/seq-full.json >/dev/null 2>&1
expect "mode schema: exit" $? 0
"$bin" validate >/dev/null 2>&1
expect "no files: exit" $? 2
"$bin" validate does-not-exist.json >/dev/null 2>"$out/e"
expect "missing file: exit" $? 2
contains "missing file: says so" "$out/e" "does-not-exist.json"
printf '{"hello": 1}\n' >"$out/unknown.json"
"$bin" validate "$out/unknown.json" >/dev/null 2>"$out/e"
expect "unknown kind: exit" $? 1
contains "unknown kind: says so" "$out/e" "not an init sequence, trace or register map"
exit $fail

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

# Beyond the schema: the sequence is replayed. On the generic model its READ expectation
# and its POLL cannot be met (nothing sets those registers), and both are named.
"$bin" validate --mode model valid/seq-full.json >"$out/o" 2>"$out/e"
expect "mode model: exit" $? 1
contains "mode model: names the failed expectation" "$out/e" "/init_sequence/5: op 5: READ"
contains "mode model: names the timed-out poll" "$out/e" "/init_sequence/6: op 6: POLL"
"$bin" validate --mode model valid/seq-minimal.json >"$out/o" 2>"$out/e"
expect "mode model: a sequence without checks passes" $? 0
contains "mode model: says where" "$out/o" "valid on model"
"$bin" validate --mode hardware valid/seq-full.json >"$out/o" 2>"$out/e"
expect "mode hardware: exit" $? 1
contains "mode hardware: needs a card" "$out/e" "no card selected"
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

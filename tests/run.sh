#!/usr/bin/env bash
# Run every test program and script; each prints "ok - NAME" / "not ok - NAME"
# lines. Ends with the line "N passed, N failed". Usage: tests/run.sh [FILTER]
set -u
cd "$(dirname "$0")/.."
filter=${1:-}
build=${BUILD:-build}
passed=0 failed=0
log=$build/test-logs
mkdir -p "$log"

run_one() {	# NAME CMD...
	local name=$1; shift
	[ -n "$filter" ] && [[ $name != *$filter* ]] && return
	local out="$log/${name//\//_}.log"
	printf '== %s\n' "$name"
	local t0=$SECONDS
	"$@" >"$out" 2>&1
	local rc=$?
	echo "# $name: $((SECONDS - t0)) s"
	grep -E '^(not )?ok - |^#' "$out"
	local p f
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name (exit $rc; log: $out)"
		tail -n 20 "$out" | sed 's/^/#   /'
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
}

for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$build"/tests/bpf/test_*; do
	[ -x "$t" ] && run_one "bpf/$(basename "$t")" "$t"
done
# libFuzzer targets (tests/fuzz/fuzz.mk), each for a bounded time.
for t in "$build"/fuzz/fuzz_*; do
	[ -x "$t" ] && run_one "fuzz/$(basename "$t")" tests/fuzz/run.sh "$t" "${FUZZ_TEST_SECONDS:-10}"
done
for t in tests/layout/check_*.py; do
	[ -f "$t" ] && run_one "layout/$(basename "$t" .py)" python3 "$t"
done
for t in tests/integration/test_*.py; do
	[ -f "$t" ] && run_one "integration/$(basename "$t" .py)" python3 "$t"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

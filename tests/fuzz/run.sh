#!/usr/bin/env bash
# Run one libFuzzer target for a bounded time over its committed seeds and
# print one line, "ok - fuzz_NAME" or "not ok - fuzz_NAME", then "#" lines
# (runs, exec/s; on a finding the report and the input that caused it).
# New inputs go to build/fuzz/work/NAME/, never into the committed corpus.
# Usage: tests/fuzz/run.sh BUILD/fuzz/fuzz_NAME [SECONDS]
set -u
cd "$(dirname "$0")/../.."
bin=$1 seconds=${2:-10}
name=$(basename "$bin")
target=${name#fuzz_}
build=${BUILD:-build}
work=$build/fuzz/work/$target
log=$build/fuzz/logs/$name.log
mkdir -p "$work" "$build/fuzz/logs" "$build/fuzz/crashes"
rm -f "$build/fuzz/crashes/$target"-*
# -timeout: one input taking 30 s is a hang; rss_limit: a leak or a blow-up.
"$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$build/fuzz/crashes/$target-" "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
if [ "$rc" -eq 0 ]; then
	echo "ok - $name"
	echo "# $name: ${runs:-?} runs in ${seconds} s (${speed:-?} exec/s), corpus $(ls "$work" | wc -l) + $(ls "tests/fuzz/corpus/$target" | wc -l) seeds"
	exit 0
fi
echo "not ok - $name (exit $rc; log: $log)"
grep -E 'ERROR|SUMMARY|runtime error|contract broken|#[0-9]+ in |Test unit written' "$log" | head -n 30 | sed 's/^/#   /'
exit 1

#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang-14, ASan+UBSan) and runs each for a bounded time
# on its seed corpus (fuzz/corpus/<target>) plus every regression input (fuzz/regressions/<target>),
# which are replayed first. A crash, leak, sanitizer report or timeout fails the run; the input that
# caused it is left in build/fuzz/artifacts/ — fix the bug and add the input to fuzz/regressions/.
#   PAHLAWAN_FUZZ_SECONDS   seconds per target (default 20)
#   PAHLAWAN_FUZZ_TARGETS   which targets (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${PAHLAWAN_FUZZ_SECONDS:-20}
targets=${PAHLAWAN_FUZZ_TARGETS:-"fuzz_request_json fuzz_request_target fuzz_rfc3339 fuzz_traceparent fuzz_osrm_table fuzz_http_server"}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/pahlawan-fuzz-corpus-XXXXXX)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in $targets; do
  echo "=== ${t}: ${seconds} s"
  mkdir -p "$work/$t" "fuzz/regressions/$t"
  # New inputs go to a scratch corpus; the seeds and regressions in the repository are only read.
  log="$work/$t.log"
  status=0
  build/fuzz/fuzz/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "$work/$t" "fuzz/regressions/$t" "fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE" "$log" || true
  if [ "$status" -ne 0 ] || ls "$artifacts/$t-"* >/dev/null 2>&1; then
    grep -vE "^#[0-9]+ +(NEW|REDUCE|pulse)|^pahlawan listening|^admin token" "$log" | tail -60 >&2
    echo "fuzz: ${t} failed (exit ${status}); inputs: $(ls "$artifacts/$t-"* 2>/dev/null || echo none)" >&2
    exit 1
  fi
done
echo "fuzz: every target ran ${seconds} s without a finding"

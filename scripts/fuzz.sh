#!/usr/bin/env bash
# Builds the libFuzzer harnesses of test/fuzz/ and runs each for a short
# time, starting from its seed corpus in test/fuzz/corpus/.
#
#   bash scripts/fuzz.sh [seconds]     seconds per harness, default 5
#
# Prints TAP, one line per harness ("ok N - kdf: 123456 runs, no crash"),
# and exits non-zero when a harness crashes, trips a sanitizer or breaks an
# invariant; the input that did it is kept under /tmp and named.  New
# corpus entries found by a run stay in the temporary directory, so the
# working tree only gains the (git-ignored) harness binaries.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-5}
harnesses="imei imeisv iccid imsi recv kdf"
work=$(mktemp -d /tmp/mtcbind-fuzz.XXXXXX)

echo "1..$(echo $harnesses | wc -w)"

if ! command -v clang >/dev/null 2>&1; then
    echo "Bail out! clang not found (Debian: apt-get install clang libclang-rt-14-dev)"
    exit 1
fi
if ! make -s -C test/fuzz >"$work/build.log" 2>&1; then
    sed 's/^/# /' "$work/build.log" | head -40
    echo "Bail out! the harnesses do not build (log: $work/build.log)"
    exit 1
fi

n=0
failed=0
for h in $harnesses; do
    n=$((n + 1))
    corpus="$work/corpus/$h"
    mkdir -p "$corpus"
    cp test/fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
    # -timeout: one input taking this long is a failure (a hang), not a slow run
    "test/fuzz/${h}_fuzz" -max_total_time="$seconds" -timeout=20 \
        -print_final_stats=1 -artifact_prefix="$work/$h-" "$corpus" \
        >"$work/$h.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/$h.log" | tail -1)
    if [ $rc -eq 0 ] && [ -n "$runs" ]; then
        echo "ok $n - $h: $runs runs, no crash"
    else
        failed=$((failed + 1))
        echo "not ok $n - $h: exit code $rc after ${runs:-?} runs"
        grep -E 'invariant broken|ERROR: |SUMMARY: |runtime error|Test unit written to' \
            "$work/$h.log" | head -10 | sed 's/^/# /'
        echo "# log: $work/$h.log; replay: test/fuzz/${h}_fuzz <the test unit above>"
    fi
done

if [ $failed -eq 0 ]; then
    rm -rf "$work"
    exit 0
fi
echo "# $failed of $n harnesses failed; everything is kept in $work"
exit 1

#!/usr/bin/env bash
# The whole test suite: pg_regress, isolation, TAP (prove) and the KDF unit
# test.  Starts and stops its own PostgreSQL; ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
export PATH=/usr/lib/postgresql/15/bin:$PATH

passed=0
failed=0
log=$(mktemp -d /tmp/mtcbind-test.XXXXXX)
chmod 755 "$log"

# Prints the numbers of "ok" and "not ok" lines of TAP output in file $1.
count_tap() {
    echo "$(grep -cE '^[[:space:]]*ok [0-9]+' "$1") $(grep -cE '^[[:space:]]*not ok [0-9]+' "$1")"
}

# 1. KDF unit test: no server.
echo "== unit tests"
if make -s test/unit/kdf_test >"$log/unit.out" 2>&1 && test/unit/kdf_test >>"$log/unit.out" 2>&1; then
    rc=0
else
    rc=1
fi
read -r ok notok < <(count_tap "$log/unit.out")
passed=$((passed + ok)); failed=$((failed + notok))
if [ $rc -ne 0 ] && [ "$notok" -eq 0 ]; then failed=$((failed + 1)); fi
grep -E '^(not ok|# )' "$log/unit.out" || true
echo "unit: $ok passed, $notok failed"

# 1b. libFuzzer harnesses: a short run of each, no server.
echo "== fuzz"
bash scripts/fuzz.sh 3 >"$log/fuzz.out" 2>&1
rc=$?
read -r ok notok < <(count_tap "$log/fuzz.out")
passed=$((passed + ok)); failed=$((failed + notok))
if [ $rc -ne 0 ] && [ "$notok" -eq 0 ]; then failed=$((failed + 1)); fi
grep -E '^(not ok|# |Bail out)' "$log/fuzz.out" || true
echo "fuzz: $ok passed, $notok failed"

# 2. pg_regress and isolation, against a throwaway cluster.
echo "== pg_regress and isolation"
rm -rf results output_iso test/isolation/output_iso regression.diffs
# Both suites run even when the first fails, against one server.
pg_virtualenv -t -o "log_min_messages=warning" bash -c '
    make -s installcheck PG_CONFIG="$PG_CONFIG" ISOLATION= ; regress=$?
    make -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS= ; isolation=$?
    exit $((regress | isolation))' >"$log/installcheck.out" 2>&1
rc=$?
grep -E '^(test |     |=+$| [0-9]+ of | All )|\.\.\. ' "$log/installcheck.out" | grep -v '^     *$' || true
ok=$(grep -cE '\.\.\. ok' "$log/installcheck.out")
bad=$(grep -cE '\.\.\. FAILED|failed \(ignored\)' "$log/installcheck.out")
passed=$((passed + ok)); failed=$((failed + bad))
if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then failed=$((failed + 1)); fi
for d in regression.diffs output_iso/regression.diffs test/isolation/output_iso/regression.diffs; do
    [ -s "$d" ] && { echo "--- $d"; head -200 "$d"; }
done

# 3. TAP tests: PostgreSQL::Test::Cluster runs initdb, so not as root.
echo "== TAP tests"
if ls test/t/*.pl >/dev/null 2>&1; then
    tapdir="$log/tap"
    mkdir -p "$tapdir"
    cp -r test/t "$tapdir/t"
    cp -r test/bench test/fuzz test/drivers README.md docs monitoring "$tapdir/" 2>/dev/null || true
    chown -R postgres:postgres "$tapdir"
    runuser -u postgres -- env PATH="$PATH" PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
        PERL5LIB=/usr/lib/postgresql/15/lib/pgxs/src/test/perl \
        bash -c "cd '$tapdir' && prove -v t/*.pl" >"$log/tap.out" 2>&1
    rc=$?
    grep -E '^(t/|not ok|[[:space:]]*# |Files=|Result:)' "$log/tap.out" | grep -v '^# *$' | head -300
    read -r ok notok < <(count_tap "$log/tap.out")
    passed=$((passed + ok)); failed=$((failed + notok))
    if [ $rc -ne 0 ] && [ "$notok" -eq 0 ]; then failed=$((failed + 1)); fi
    echo "tap: $ok passed, $notok failed"
fi

# 4. The fleet simulator: unit tests, a short simulation, bad input, server faults.
echo "== simulator (scripts/test_sim.sh)"
bash scripts/test_sim.sh >"$log/sim.out" 2>&1
rc=$?
grep -E '^(not ok|# )' "$log/sim.out" || true
read -r ok notok < <(count_tap "$log/sim.out")
passed=$((passed + ok)); failed=$((failed + notok))
if [ $rc -ne 0 ] && [ "$notok" -eq 0 ]; then failed=$((failed + 1)); fi
echo "simulator: $ok passed, $notok failed"

# 5. The Debian package: built from the tree, installed on its own, used,
# purged, and the source build put back.  Last: it briefly removes the
# installed extension.
echo "== Debian package (scripts/test_deb.sh)"
bash scripts/test_deb.sh >"$log/deb.out" 2>&1
rc=$?
grep -E '^(not ok|# )' "$log/deb.out" || true
read -r ok notok < <(count_tap "$log/deb.out")
passed=$((passed + ok)); failed=$((failed + notok))
if [ $rc -ne 0 ] && [ "$notok" -eq 0 ]; then failed=$((failed + 1)); fi
echo "deb: $ok passed, $notok failed"

echo "logs in $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/usr/bin/env bash
# Benchmarks of mtcbind.request_key against PostgreSQL's own floors and the
# PL/pgSQL + pgcrypto alternative, all in one run on one throwaway server,
# reported as ratios (2-core machines are noisy: compare within a run).
#   usage: bash scripts/bench_binding.sh [seconds per run, default 10; each runs twice]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
if [ -z "${MTCBIND_BENCH_IN_VENV:-}" ]; then
    bash scripts/setup.sh
    export PATH=/usr/lib/postgresql/15/bin:$PATH
    MTCBIND_BENCH_IN_VENV=1 exec pg_virtualenv -t -o fsync=on -o shared_buffers=256MB -o max_connections=50 \
        bash "$0" "$secs"
fi

psql -X -q -v ON_ERROR_STOP=1 -f test/bench/binding_setup.sql >/dev/null
# The PL/pgSQL alternative must do the same work: its key equals ks_local's.
same=$(psql -X -At -c "
    SELECT r.ks_local = mtcbind.ks_local('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
             'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org', c.iccid, 'dev-7', '', '', r.rand_x, r.rand_y)
      FROM bench_card c, LATERAL bench_plpgsql_request_key('\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
             'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org', c.iccid, 'dev-7') r WHERE c.n = 7")
[ "$same" = t ] || { echo "bench: the PL/pgSQL alternative does not derive the same key" >&2; exit 1; }

# Runs one pgbench script twice (the machine is noisy); prints and returns
# the better tps.
run() {
    local label=$1 script=$2 clients=$3; shift 3
    local tps
    tps=$(for round in 1 2; do
              env "$@" pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "test/bench/$script" 2>/dev/null
          done | awk '/^tps = / { if ($3 > best) best = $3 } END { if (best > 0) printf "%.0f", best }')
    [ -n "$tps" ] || { echo "bench: $script failed" >&2; exit 1; }
    printf '%-58s %10s tps\n' "$label" "$tps" >&2
    echo "$tps"
}

echo "pgbench -M prepared, ${secs}s per run, one server; $(nproc) cores" >&2
sel=$(run "SELECT 1 (2 clients)" bench_select1.sql 2)
pk=$(run "primary-key lookup, 10 000 rows (4 clients)" bench_pk_lookup.sql 4)
read=$(run "indexed read of the binding by ICCID (4 clients)" bench_binding_read.sql 4)
off=$(run "request_key granted, log_key_issue=off (4 clients)" bench_request_granted.sql 4 PGOPTIONS="-c mtcbind.log_key_issue=off")
on=$(run "request_key granted, log_key_issue=on (4 clients)" bench_request_granted.sql 4)
onasync=$(run "  same, synchronous_commit=off" bench_request_granted.sql 4 PGOPTIONS="-c synchronous_commit=off")
rej=$(run "request_key rejected (event + NOTIFY) (4 clients)" bench_request_rejected.sql 4)
ins=$(run "INSERT, primary key + 2 UNIQUE text indexes (4 clients)" bench_insert.sql 4)
bound=$(run "request_key first use: bound (insert + audit event) (4 clients)" bench_request_bound.sql 4)
plp=$(run "PL/pgSQL + pgcrypto granted path (4 clients)" bench_plpgsql_granted.sql 4)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo >&2
echo "ratios (same run):" >&2
echo "  request_key granted (log off) / indexed read of binding  : $(ratio "$off" "$read")" >&2
echo "  request_key granted (log off) / primary-key lookup floor : $(ratio "$off" "$pk")" >&2
echo "  request_key granted (log off) / PL/pgSQL + pgcrypto       : $(ratio "$off" "$plp")" >&2
echo "  PL/pgSQL + pgcrypto / primary-key lookup floor            : $(ratio "$plp" "$pk")" >&2
echo "  request_key granted (log on) / (log off)                  : $(ratio "$on" "$off")" >&2
echo "  request_key first use (bound) / single-row INSERT floor   : $(ratio "$bound" "$ins")" >&2
echo "  first-use bindings made: $(psql -X -At -c "SELECT count(*) FROM mtcbind.binding WHERE terminal_id LIKE 'new-%'")" >&2
# The granted and rejected runs must not have bound anything: every new
# binding comes from the first-use script (its terminal_ids start "new-").
stray=$(psql -X -At -c "SELECT count(*) FROM mtcbind.binding WHERE terminal_id NOT LIKE 'new-%'")
[ "$stray" = 10000 ] || { echo "bench: granted/rejected requests bound new pairs: the ICCIDs do not match" >&2; exit 1; }

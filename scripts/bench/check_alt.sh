#!/usr/bin/env bash
# check_alt.sh: checks the PL/pgSQL alternative (test/bench/plpgsql_contract.sql)
# against mtcbind, on a throwaway server, before anything times it:
#   1. test/bench/plpgsql_check.sql: one sequence of requests through both,
#      comparing answers, keys, expiries, events, tables and errors;
#   2. the NOTIFY of every refusal: the same reasons in the same order on
#      mtcbind_rejected and alt_rejected, each payload naming a 'rejected'
#      event of its own log with that reason;
#   3. concurrent requests (2 clients, 3 s, each implementation) racing for
#      the same cards and devices: no error, every binding made once.
# With --tps [seconds] (default 10) it then times both with pgbench, 2 clients,
# on binding_setup.sql's 10 000 pairs: re-key (log_key_issue on and off),
# first use, refusal.  Needs PostgreSQL 15 with mtcbind installed (make
# install) and pgcrypto.
#   usage: bash scripts/bench/check_alt.sh [--tps [seconds]]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${ALT_CHECK_IN_VENV:-}" ]; then
    export PATH=/usr/lib/postgresql/15/bin:$PATH
    if [ ! -e "$(pg_config --sharedir)/extension/mtcbind.control" ]; then
        echo "check_alt: mtcbind is not installed (make install)" >&2
        exit 1
    fi
    ALT_CHECK_IN_VENV=1 exec pg_virtualenv -t -o fsync=on -o shared_buffers=256MB \
        -o max_connections=20 bash "$0" "$@"
fi

tps=
secs=10
if [ "${1:-}" = --tps ]; then
    tps=1
    secs=${2:-10}
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PGDATABASE=alt_check
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "check_alt: $*" >&2; exit 1; }

createdb alt_check
psql -c 'CREATE EXTENSION mtcbind' -c 'CREATE EXTENSION pgcrypto' \
     -c 'SELECT mtcbind.maintain_event_log(1)' >/dev/null
psql -f test/bench/plpgsql_contract.sql

# 1. The sequence.
if ! psql -f test/bench/plpgsql_check.sql >"$work/check.out" 2>&1; then
    grep -v '^Asynchronous notification' "$work/check.out" >&2
    fail "plpgsql_check.sql failed"
fi
summary=$(grep '^plpgsql_check:' "$work/check.out") || fail "plpgsql_check.sql printed no summary"
echo "$summary"
refusals=${summary##*; }
refusals=${refusals%% refusals}

# 2. The notifications, as psql printed them.
for channel in mtcbind_rejected alt_rejected; do
    sed -n "s/^Asynchronous notification \"$channel\" with payload \"\(.*\)\" received from server process with PID [0-9]*\.\$/\1/p" \
        "$work/check.out" >"$work/$channel"
    n=$(wc -l <"$work/$channel")
    [ "$n" = "$refusals" ] || fail "$n notifications on $channel for $refusals refusals"
done
psql -c 'CREATE TABLE notify_mtcbind (n serial, payload jsonb)' \
     -c 'CREATE TABLE notify_alt (n serial, payload jsonb)'
psql -c "\\copy notify_mtcbind (payload) FROM '$work/mtcbind_rejected'"
psql -c "\\copy notify_alt (payload) FROM '$work/alt_rejected'"
psql <<'SQL' || fail "the notifications differ"
DO $$
BEGIN
    IF EXISTS (SELECT FROM notify_mtcbind m FULL JOIN notify_alt a USING (n)
                WHERE (m.payload ->> 'reason') IS DISTINCT FROM (a.payload ->> 'reason'))
       OR EXISTS (SELECT FROM notify_mtcbind p
                   WHERE NOT EXISTS (SELECT FROM mtcbind.binding_event e
                                      WHERE e.event_id = (p.payload ->> 'event_id')::bigint
                                        AND e.event = 'rejected' AND e.reason = p.payload ->> 'reason'))
       OR EXISTS (SELECT FROM notify_alt p
                   WHERE NOT EXISTS (SELECT FROM alt.binding_event e
                                      WHERE e.event_id = (p.payload ->> 'event_id')::bigint
                                        AND e.event = 'rejected' AND e.reason = p.payload ->> 'reason'))
       OR EXISTS (SELECT FROM notify_mtcbind WHERE payload - 'reason' - 'event_id' <> '{}')
       OR EXISTS (SELECT FROM notify_alt WHERE payload - 'reason' - 'event_id' <> '{}') THEN
        RAISE EXCEPTION 'notifications differ or name no refusal of their log';
    END IF;
END
$$;
SQL
echo "notifications: $refusals on mtcbind_rejected and on alt_rejected, same reasons in the same order, each naming its log's refusal"

# 3. Races: 3 devices and 40 cards, device 'race-d-(n % 10)' asks with card n.
psql <<'SQL'
CREATE FUNCTION public.race_iccid(n int) RETURNS mtcbind.iccid LANGUAGE sql IMMUTABLE AS $$
    SELECT (body || ((10 - (SELECT sum(CASE WHEN i % 2 = 1
                                            THEN (2 * substr(reverse(body), i, 1)::int) / 10
                                                 + (2 * substr(reverse(body), i, 1)::int) % 10
                                            ELSE substr(reverse(body), i, 1)::int END)
                              FROM generate_series(1, length(body)) i) % 10) % 10)::text)::mtcbind.iccid
      FROM (SELECT '8949' || lpad((70000000 + n)::text, 14, '0') AS body) b
$$;
SQL
for impl in mtcbind alt; do
    cat >"$work/race_$impl.sql" <<EOF
\set n random(1, 40)
\set d random(1, 3)
SELECT outcome, reason
  FROM $impl.request_key('\x6e61662e6578616d706c652e6f72670100000002',
                         'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                         '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                         now() + interval '1 day', 'race-' || :d || '-' || (:n % 10),
                         public.race_iccid(:n));
EOF
    pgbench -n -c 2 -j 2 -T 3 -f "$work/race_$impl.sql" >"$work/race_$impl.out" 2>&1 \
        || { cat "$work/race_$impl.out" >&2; fail "$impl: a racing request failed"; }
    if grep -q 'number of failed transactions: [1-9]' "$work/race_$impl.out"; then
        cat "$work/race_$impl.out" >&2
        fail "$impl: a racing request failed"
    fi
    done_n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/race_$impl.out")
    psql -At -v impl="$impl" -v done_n="$done_n" <<'SQL' || fail "$impl: the race broke an invariant"
SELECT format($q$
    SELECT (SELECT count(*) FROM %1$I.binding WHERE terminal_id LIKE 'race-%%') AS bindings,
           (SELECT count(*) FROM %1$I.binding_event WHERE event = 'bound' AND terminal_id LIKE 'race-%%') AS bound_events,
           (SELECT count(DISTINCT binding_id) FROM %1$I.binding_event WHERE event = 'bound' AND terminal_id LIKE 'race-%%') AS bound_bindings,
           (SELECT string_agg(reason || ' ' || c, ', ' ORDER BY reason)
              FROM (SELECT reason, count(*) c FROM %1$I.binding_event
                     WHERE event = 'rejected' AND terminal_id LIKE 'race-%%' GROUP BY reason) r) AS refusals,
           (SELECT count(*) FROM %1$I.binding_event WHERE event = 'rejected' AND terminal_id LIKE 'race-%%'
               AND reason NOT IN ('uicc_bound_elsewhere', 'device_bound_elsewhere', 'both_bound_elsewhere')) AS odd$q$,
    :'impl') AS q \gset
:q \gset
\echo race :impl: :done_n requests, :bindings bindings made, :refusals
SELECT :bindings = :bound_events AND :bound_events = :bound_bindings AND :odd = 0 AND :bindings > 0 AS ok \gset
\if :ok
\else
\echo 'each race binding must have exactly one bound event, and refusals only for bindings in the way'
SELECT 1/0;
\endif
SQL
done

[ -n "$tps" ] || exit 0

# Timing: the same 10 000 pairs in both, a fresh database.
export PGDATABASE=alt_bench
createdb alt_bench
psql -c 'CREATE EXTENSION mtcbind' -c 'SELECT mtcbind.maintain_event_log(1)' >/dev/null
psql -f test/bench/binding_setup.sql >/dev/null
psql -f test/bench/plpgsql_setup.sql
# The alternative's scripts are mtcbind's with alt.request_key in its place,
# as scripts/bench/run.sh makes them: the same requests, the same pairs.
for s in bench_request_granted bench_request_bound bench_request_rejected; do
    sed 's/mtcbind\.request_key(/alt.request_key(/' "test/bench/$s.sql" > "$work/alt_$s.sql"
done
run() {
    local script=$1; shift
    command psql -X -q -c CHECKPOINT          # no checkpoint of an earlier run inside this one
    env "$@" pgbench -n -M prepared -c 2 -j 2 -T "$secs" -f "$script" 2>&1 |
        awk '/^tps = / { printf "%.0f", $3 } /failed transactions: [1-9]/ { print "FAILED"; exit 1 }'
}
echo "pgbench -M prepared, 2 clients, ${secs}s each, $(nproc) cores"
printf '%-30s %10s %10s %8s\n' "" mtcbind alt "ratio"
row() {
    local label=$1 m=$2 a=$3
    printf '%-30s %10s %10s %8s\n' "$label" "$m" "$a" "$(awk -v m="$m" -v a="$a" 'BEGIN { if (a > 0) printf "%.2f", m / a }')"
}
tb=test/bench
row "re-key, log_key_issue = on" "$(run $tb/bench_request_granted.sql)" "$(run "$work/alt_bench_request_granted.sql")"
row "re-key, log_key_issue = off" "$(run $tb/bench_request_granted.sql PGOPTIONS='-c mtcbind.log_key_issue=off')" \
    "$(run "$work/alt_bench_request_granted.sql" PGOPTIONS='-c mtcbind.log_key_issue=off')"
row "first use" "$(run $tb/bench_request_bound.sql)" "$(run "$work/alt_bench_request_bound.sql")"
row "refusal" "$(run $tb/bench_request_rejected.sql)" "$(run "$work/alt_bench_request_rejected.sql")"

#!/usr/bin/env bash
# Backend CPU time per transaction of a pgbench script, for A/B comparisons
# of one path (docs/performance.md, "What 1.1 changed").  Throughput on a
# 2-core machine moves with commit flushes and the scheduler; the CPU a
# backend spends per request moves much less, and is what a code change
# changes.
#
#   bash scripts/bench/cpu_per_request.sh DB SCRIPT [TRANSACTIONS] [pgbench options...]
#
# Runs SCRIPT TRANSACTIONS times (default 20000) on one connection to DB with
# synchronous_commit = off (no flush waits), counting with perf the CPU of
# every process the server forks meanwhile, and prints microseconds per
# transaction.  That is the pgbench backend, and any autovacuum worker: a
# path that inserts wakes autovacuum, whose work would land in whichever run
# it falls in, so compare on a server started with autovacuum = off.  Needs
# perf and root (or perf_event_paranoid <= 0), and a running server on this
# machine reachable by psql and pgbench (PGHOST, PGPORT, PGUSER).
# Example, three alternating runs of a path and its floor:
#   for i in 1 2 3; do for s in test/bench/fleet_first_use.sql floor.sql; do
#     bash scripts/bench/cpu_per_request.sh bench "$s" 20000 -D pairs=10000; done; done
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DB SCRIPT [TRANSACTIONS] [pgbench options...]" >&2; exit 2; }
db=$1 script=$2 n=${3:-20000}
shift $(( $# >= 3 ? 3 : 2 ))
command -v perf >/dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 1; }
datadir=$(psql -d "$db" -XAtc "SHOW data_directory")
postmaster=$(head -1 "$datadir/postmaster.pid")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# perf stat attached to the postmaster counts the children it forks from now
# on (inherit), not the ones already running (checkpointer, WAL writer).
perf stat -x, -e task-clock -p "$postmaster" -o "$out" &
perf_pid=$!
sleep 0.5
PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c 1 -t "$n" "$@" -f "$script" "$db" >/dev/null
kill -INT "$perf_pid"
wait "$perf_pid" 2>/dev/null || true
ms=$(grep task-clock "$out" | cut -d, -f1)
awk -v ms="$ms" -v n="$n" -v s="$script" 'BEGIN { printf "%-40s %7.1f us of backend CPU per transaction (%d transactions)\n", s, ms * 1000 / n, n }'

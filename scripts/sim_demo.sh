#!/usr/bin/env bash
# The main job at fleet scale: mtcbind-sim plays a fleet of MTC devices with
# their UICCs, the BSF and the NAF front end against mtcbind on a throwaway
# PostgreSQL, through onboarding, re-keying, theft, an expired bootstrap and
# field replacement, and prints what the database decided and why.
#
#   bash scripts/sim_demo.sh                  5 000 devices on 8 connections
#   bash scripts/sim_demo.sh --devices 20000  any mtcbind-sim options (docs/simulator.md)
#
# Needs mtcbind installed into PostgreSQL 15 (scripts/setup.sh does that; so
# does make demo, which runs this after its walkthrough).  Starts its own
# server in a temporary directory (as user postgres when run as root, Unix
# socket only) and stops it again.  Exits with the simulator's status.
#
#   MTCBIND_PG_BINDIR  PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=${MTCBIND_PG_BINDIR:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_config" ]; then
    echo "sim_demo: no PostgreSQL 15 server binaries in $bindir: run scripts/setup.sh (or set MTCBIND_PG_BINDIR)" >&2
    exit 2
fi
if [ ! -f "$("$bindir/pg_config" --sharedir)/extension/mtcbind.control" ]; then
    echo "sim_demo: mtcbind is not installed into $("$bindir/pg_config" --sharedir): run scripts/setup.sh first" >&2
    exit 2
fi

make -s -C sim

work=$(mktemp -d /tmp/mtcbind-sim-demo.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    [ -f "$work/data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"

as_pg "$bindir/initdb" -D "$work/data" -A trust -U postgres -E UTF8 --locale=C >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log" >&2; exit 1; }
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
    -o "-p 5432 -k $work -c listen_addresses='' -c max_connections=50" start >/dev/null ||
    { cat "$work/server.log" >&2; exit 1; }
export PGHOST=$work PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
unset PGSERVICE PGPASSWORD PGOPTIONS
"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION mtcbind'

echo "== mtcbind-sim on a throwaway PostgreSQL ($work)"
status=0
sim/mtcbind-sim --devices 5000 --clients 8 --seed 1 "$@" || status=$?
exit $status

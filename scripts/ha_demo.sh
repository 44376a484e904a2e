#!/usr/bin/env bash
# The high-availability recipe of docs/operations.md, exercised on one machine:
# a pg_auto_failover monitor and two PostgreSQL 15 nodes (a primary and a
# synchronous standby) with mtcbind, a NAF front end under load
# (test/ha/naf_load.py), a planned failover, then a crash of the primary, and
# the NAF answering on the new primary.  Prints a transcript.  Not part of CI.
#
# Run as root on Debian 12: installs what it needs, runs PostgreSQL and
# pg_autoctl as user postgres, in a temporary directory it removes again.
#   HA_DEMO_PORT=6100     the monitor's port; the nodes take the next two
#   HA_DEMO_SKIP_SETUP=1  use the mtcbind already installed (no build)
#   HA_DEMO_KEEP=1        keep the temporary directory (logs) after the run
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "ha_demo: run as root (it installs packages and runs PostgreSQL as user postgres)" >&2
    exit 1
fi
started=$(date +%s)
say() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
section() { printf '\n== %s\n' "$*"; }

if [ "${HA_DEMO_SKIP_SETUP:-0}" != 1 ]; then
    bash scripts/setup.sh
fi
. scripts/packages.sh
need_packages ha_demo pg-auto-failover-cli postgresql-15-auto-failover
bindir=/usr/lib/postgresql/15/bin
libdir=$("$bindir/pg_config" --pkglibdir)
[ -f "$libdir/mtcbind.so" ] || { echo "ha_demo: mtcbind is not installed: run scripts/setup.sh" >&2; exit 1; }

base=${HA_DEMO_PORT:-6100}
declare -A port=([monitor]=$base [node1]=$((base + 1)) [node2]=$((base + 2)))
for p in "${port[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "ha_demo: port $p is in use; set HA_DEMO_PORT to a free range" >&2
        exit 1
    fi
done

tmp=$(mktemp -d /tmp/mtcbind-ha.XXXXXX)
chown postgres:postgres "$tmp"
declare -A group=()          # node name -> process group of its `pg_autoctl run`
client_pid=
drill_pid=

# pg_autoctl keeps its configuration and state under the XDG directories:
# here, inside the temporary directory.
as_pg() {
    (cd "$tmp" && runuser -u postgres -- env XDG_CONFIG_HOME="$tmp/xdg/config" \
        XDG_DATA_HOME="$tmp/xdg/data" XDG_RUNTIME_DIR="$tmp/xdg/run" \
        PATH="$bindir:/usr/bin:/bin" "$@")
}

group_alive() { [ -n "${group[$1]:-}" ] && kill -0 -- "-${group[$1]}" 2>/dev/null; }

cleanup() {
    local rc=$? n pid
    set +e
    trap - EXIT INT TERM
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
    [ -n "$drill_pid" ] && kill "$drill_pid" 2>/dev/null && wait "$drill_pid" 2>/dev/null
    for n in node2 node1 monitor; do
        group_alive "$n" && as_pg timeout 60 pg_autoctl stop --pgdata "$tmp/$n" >/dev/null 2>&1
    done
    for _ in $(seq 1 30); do
        group_alive node1 || group_alive node2 || group_alive monitor || break
        sleep 1
    done
    for n in node2 node1 monitor; do
        group_alive "$n" && kill -KILL -- "-${group[$n]}" 2>/dev/null
    done
    # A postmaster killed hard leaves its children to notice and exit.
    for n in node2 node1 monitor; do
        pid=$(head -n1 "$tmp/$n/postmaster.pid" 2>/dev/null)
        for _ in $(seq 1 10); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
    done
    if [ "${HA_DEMO_KEEP:-0}" = 1 ]; then
        echo "ha_demo: kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts `pg_autoctl run` for a node in a process group of its own.
start_run() {
    local n=$1
    (cd "$tmp" && exec setsid runuser -u postgres -- env XDG_CONFIG_HOME="$tmp/xdg/config" \
        XDG_DATA_HOME="$tmp/xdg/data" XDG_RUNTIME_DIR="$tmp/xdg/run" PATH="$bindir:/usr/bin:/bin" \
        pg_autoctl run --pgdata "$tmp/$n" >>"$tmp/$n.log" 2>&1 </dev/null) &
    group[$n]=$!
    disown "$!"               # no job notice from bash when it is killed on purpose
}

monitor_sql() {
    as_pg psql -X -At -h localhost -p "${port[monitor]}" -d pg_auto_failover -c "$1"
}
# "node1:primary/primary node2:secondary/secondary": reported/assigned states.
states() {
    monitor_sql "SELECT string_agg(nodename || ':' || reportedstate || '/' || goalstate, ' ' ORDER BY nodeid)
                   FROM pgautofailover.node" 2>/dev/null || true
}
wait_states() {               # wait_states REGEX SECONDS
    local s
    for _ in $(seq 1 "$2"); do
        s=$(states)
        [[ $s =~ $1 ]] && return 0
        sleep 1
    done
    say "timed out waiting for $1; states: $s"
    tail -n 20 "$tmp"/*.log
    return 1
}
show_state() { as_pg pg_autoctl show state --pgdata "$tmp/monitor" 2>&1 | sed 's/^/    /'; }
fail_with_log() { echo "ha_demo: $1 failed:" >&2; tail -n 30 "$2" >&2; exit 1; }

section "pg_auto_failover $(pg_autoctl --version | head -n1 | awk '{print $3}'), PostgreSQL $("$bindir/postgres" -V | awk '{print $3}'), mtcbind $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$("$bindir/pg_config" --sharedir)/extension/mtcbind.control"); data under $tmp"

say "monitor: pg_autoctl create monitor --pgport ${port[monitor]} --auth trust --ssl-self-signed"
as_pg pg_autoctl create monitor --pgdata "$tmp/monitor" --pgport "${port[monitor]}" --hostname localhost \
    --auth trust --ssl-self-signed >"$tmp/monitor.log" 2>&1 || fail_with_log "create monitor" "$tmp/monitor.log"
# pg_autoctl sizes shared_buffers to a quarter of the RAM; three servers share one machine here.
echo "shared_buffers = '128MB'" >>"$tmp/monitor/postgresql.conf"
start_run monitor
monitor_uri=$(as_pg pg_autoctl show uri --pgdata "$tmp/monitor" --formation monitor)
say "monitor: $monitor_uri"
for _ in $(seq 1 30); do monitor_sql "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done

create_node() {
    local n=$1
    say "$n: pg_autoctl create postgres --name $n --pgport ${port[$n]} --dbname naf --monitor ..."
    as_pg pg_autoctl create postgres --pgdata "$tmp/$n" --pgport "${port[$n]}" --hostname localhost \
        --name "$n" --dbname naf --monitor "$monitor_uri" --auth trust --ssl-self-signed \
        >>"$tmp/$n.log" 2>&1 || fail_with_log "create postgres $n" "$tmp/$n.log"
    # Settings of our own go after pg_autoctl's include (the first line of
    # postgresql.conf), which they override; node2 inherits node1's file
    # through pg_basebackup.  mtcbind in shared_preload_libraries is optional
    # (its request counters); pg_autoctl's own list is pg_stat_statements.
    if ! grep -q "^# ha_demo" "$tmp/$n/postgresql.conf"; then
        printf '%s\n' "# ha_demo" "shared_buffers = '128MB'" \
            "shared_preload_libraries = 'pg_stat_statements,mtcbind'" >>"$tmp/$n/postgresql.conf"
    fi
    start_run "$n"
}
create_node node1
wait_states '^node1:single/single$' 60
create_node node2
wait_states '^node1:primary/primary node2:secondary/secondary$' 120
say "formation ready"
show_state
as_pg pg_autoctl show settings --pgdata "$tmp/monitor" 2>&1 | sed 's/^/    /'
naf_uri=$(as_pg pg_autoctl show uri --pgdata "$tmp/monitor" --formation default)
say "the formation's URI (what a front end connects to): $naf_uri"

naf_dsn="host=localhost,localhost port=${port[node1]},${port[node2]} dbname=naf user=naf_app target_session_attrs=read-write connect_timeout=2 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 application_name=naf"
admin_dsn="host=localhost,localhost port=${port[node1]},${port[node2]} dbname=naf user=postgres target_session_attrs=read-write connect_timeout=2"
psql_on() { as_pg psql -X -v ON_ERROR_STOP=1 "$@"; }

section "mtcbind on the primary; the standby gets it by replication (its .so is installed on both)"
psql_on -q "$admin_dsn" <<'SQL'
CREATE EXTENSION mtcbind;
SELECT mtcbind.maintain_event_log() \g /dev/null
CREATE ROLE naf_app LOGIN IN ROLE mtcbind_naf;
ALTER ROLE naf_app SET log_statement = 'none';
ALTER ROLE naf_app SET log_min_duration_statement = -1;
ALTER ROLE naf_app SET log_min_error_statement = 'panic';
ALTER ROLE naf_app SET log_parameter_max_length_on_error = 0;
SQL
say "primary :${port[node1]}"
psql_on -h localhost -p "${port[node1]}" -d naf -c "SHOW shared_preload_libraries" -c "SHOW synchronous_standby_names" \
    -c "SELECT application_name, state, sync_state FROM pg_stat_replication" | sed 's/^/    /'
sleep 1
say "standby :${port[node2]}"
psql_on -h localhost -p "${port[node2]}" -d naf -c "SELECT pg_is_in_recovery() AS standby, extversion,
        mtcbind.naf_id('naf.example.org', '\x0100000002') AS naf_id_from_the_so
   FROM pg_extension WHERE extname = 'mtcbind'" | sed 's/^/    /'

# One request in psql, as the NAF's role, through the multi-host string.
request() {     # request TERMINAL_ID ICCID
    psql_on "$naf_dsn" -c "SELECT inet_server_port() AS answered_by, pg_is_in_recovery() AS standby,
           outcome, reason, binding_id, length(ks_local) AS key_octets
      FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
             'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org',
             '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
             now() + interval '1 day', '$1', '$2')" | sed 's/^/    /'
}
section "before any failover: meter-ha-1 and its card are bound on first use"
request meter-ha-1 89441000000000000018

section "NAF load: test/ha/naf_load.py, 6 front-end connections"
/usr/bin/python3 test/ha/naf_load.py load "$naf_dsn" "$admin_dsn" "$tmp/stop" 6 50 &
client_pid=$!
sleep 8

section "planned failover under load: pg_autoctl perform failover"
t0=$(date +%s%3N)
as_pg pg_autoctl perform failover --pgdata "$tmp/monitor" >"$tmp/failover.out" 2>"$tmp/failover.err" \
    || fail_with_log "perform failover" "$tmp/failover.err"
ms=$(( $(date +%s%3N) - t0 ))
say "pg_autoctl perform failover returned after $((ms / 1000)).$((ms % 1000 / 100)) s; the monitor's events:"
sed 's/^/    /' "$tmp/failover.out"
wait_states '^node1:secondary/secondary node2:primary/primary$' 60
show_state
sleep 8

section "crash under load: SIGKILL to the primary's pg_autoctl and postmaster (a machine that died)"
primary=$(monitor_sql "SELECT nodename FROM pgautofailover.node WHERE reportedstate = 'primary'")
standby=$( [ "$primary" = node1 ] && echo node2 || echo node1)
say "the monitor's failure detection (defaults):"
monitor_sql "SELECT name || ' = ' || setting || coalesce(' ' || unit, '') FROM pg_settings
              WHERE name LIKE 'pgautofailover.%' AND (name LIKE '%health_check%' OR name LIKE '%timeout%')
              ORDER BY name" | sed 's/^/    /'
# A drill for the case the load rarely hits: a commit that reached the standby
# but whose answer never reached the NAF.  Replay on the standby is paused and
# the drill's session waits for remote_apply, so its first use is committed on
# the primary and flushed on the standby, but not answered, when the crash comes.
say "drill: pausing WAL replay on $standby; a first use whose session waits for remote_apply"
psql_on -q -h localhost -p "${port[$standby]}" -d naf -c "SELECT pg_wal_replay_pause()" >/dev/null
/usr/bin/python3 test/ha/naf_load.py drill "$naf_dsn" "$admin_dsn" meter-drill-1 89441000000000000034 &
drill_pid=$!
for _ in $(seq 1 50); do
    waiting=$(psql_on -At -h localhost -p "${port[$primary]}" -d naf -c \
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'naf-drill' AND wait_event = 'SyncRep'")
    [ "$waiting" -gt 0 ] && break
    sleep 0.2
done
say "drill: $waiting drill session on $primary committed locally and waiting for the standby to apply it"
say "killing $primary (process group ${group[$primary]}, port ${port[$primary]})"
t0=$(date +%s)
kill -KILL -- "-${group[$primary]}"
while kill -0 "${group[$primary]}" 2>/dev/null; do sleep 0.1; done
group[$primary]=
psql_on -q -h localhost -p "${port[$standby]}" -d naf -c "SELECT pg_wal_replay_resume()" >/dev/null
say "drill: replay resumed on $standby, which has the drill's commit on disk"
wait_states "$standby:(wait_primary|primary)/(wait_primary|primary)" 180
say "$standby promoted by the monitor $(( $(date +%s) - t0 )) s after the crash"
show_state
drill_rc=0
wait "$drill_pid" || drill_rc=$?
drill_pid=
sleep 5

section "the crashed node comes back: pg_autoctl run rejoins it as a standby (pg_rewind if needed)"
t0=$(date +%s)
logged=$(wc -l <"$tmp/$primary.log")
start_run "$primary"
wait_states "(^| )$primary:secondary/secondary( |$)" 180
wait_states "$standby:primary/primary" 60
say "$primary is a synchronous standby again after $(( $(date +%s) - t0 )) s; its pg_autoctl said:"
tail -n +"$((logged + 1))" "$tmp/$primary.log" | grep -E 'FSM transition|pg_rewind' | cut -c1-150 | sed "s/^/    /"
show_state
psql_on -h localhost -p "${port[$standby]}" -d naf -c "SHOW synchronous_standby_names" | sed 's/^/    /'
sleep 5

section "load stopped: what the NAF saw"
touch "$tmp/stop"
client_rc=0
wait "$client_pid" || client_rc=$?
client_pid=

section "the NAF answering on the new primary"
say "a pair bound before both failovers: granted"
request meter-ha-1 89441000000000000018
say "a new pair: bound"
request meter-ha-2 89441000000000000026
say "meter-ha-1's card in another device: rejected"
request tracker-666 89441000000000000018

if [ "$(psql_on -At "$admin_dsn" -c "SELECT to_regprocedure('mtcbind.request_counts()') IS NOT NULL")" = t ]; then
    say "the new primary's request counters (shared memory of this server, counted since it started):"
    psql_on "$admin_dsn" -c "SELECT inet_server_port() AS server, outcome, reason, requests
                               FROM mtcbind.request_counts() ORDER BY 2, 3" | sed 's/^/    /'
fi

section "done in $(( $(date +%s) - started )) s; load client exit status $client_rc, drill $drill_rc"
[ "$client_rc" -eq 0 ] && [ "$drill_rc" -eq 0 ]

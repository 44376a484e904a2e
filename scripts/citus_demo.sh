#!/usr/bin/env bash
# The load-bearing steps of docs/scale-out.md, tried for real on Citus: a
# coordinator and two workers on this machine, the device claim and the card
# claim distributed each by its own key, a first bind whose two claims land on
# different workers (two-phase commit), racing binds of one card, the
# deadlock the claim order avoids, re-keying delegated to the worker holding
# the card (Ks_local derived there by mtcbind.ks_local), and the measured
# cost of a cross-node bind against a same-node bind and plain PostgreSQL.
# Prints a transcript and a summary of what held.  Not part of CI.
#
#   usage: bash scripts/citus_demo.sh [CITUS_SOURCE]
#
# CITUS_SOURCE (or $CITUS_SRC): a Citus source tree, or a git directory of
# citusdata/citus (a bare mirror will do) from which tag $CITUS_TAG (default
# v13.0.0) is exported.  Needed only when Citus is not installed yet in
# PostgreSQL 15; it is then built and installed (5 minutes or less on two
# cores).  Run as root on Debian 12: installs build packages, runs PostgreSQL
# as user postgres in a temporary directory that it removes again.
#   CITUS_DEMO_PORT=9700     the coordinator's port; the workers take the next two
#   CITUS_DEMO_SECONDS=10    seconds per pgbench run
#   CITUS_DEMO_SKIP_SETUP=1  use the mtcbind already installed (no build)
#   CITUS_DEMO_BUILD=1       build and install Citus even if it is installed
#   CITUS_DEMO_KEEP=1        keep the temporary directory (logs) after the run
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ "$(id -u)" -ne 0 ]; then
    echo "citus_demo: run as root (it installs packages and runs PostgreSQL as user postgres)" >&2
    exit 1
fi
started=$(date +%s)
section() { printf '\n== %s\n' "$*"; }
bindir=/usr/lib/postgresql/15/bin
secs=${CITUS_DEMO_SECONDS:-10}
tag=${CITUS_TAG:-v13.0.0}

# ---------------------------------------------------------------- install
if [ "${CITUS_DEMO_SKIP_SETUP:-0}" != 1 ]; then
    bash scripts/setup.sh
fi
libdir=$("$bindir/pg_config" --pkglibdir)
[ -f "$libdir/mtcbind.so" ] || { echo "citus_demo: mtcbind is not installed: run scripts/setup.sh" >&2; exit 1; }

if [ ! -f "$libdir/citus.so" ] || [ "${CITUS_DEMO_BUILD:-0}" = 1 ]; then
    src=${1:-${CITUS_SRC:-}}
    [ -n "$src" ] || { echo "citus_demo: Citus is not installed; give its source (a tree or a git directory of citusdata/citus) as argument or CITUS_SRC" >&2; exit 1; }
    . scripts/packages.sh
    need_packages citus_demo liblz4-dev libzstd-dev libcurl4-openssl-dev libkrb5-dev libssl-dev \
        postgresql-server-dev-15 make gcc
    build=$(mktemp -d /tmp/citus-build.XXXXXX)
    if git --git-dir="$src" rev-parse --verify -q "$tag^{commit}" >/dev/null 2>&1; then
        git --git-dir="$src" archive "$tag" | tar -x -C "$build"
    elif [ -d "$src/.git" ] && git -C "$src" rev-parse --verify -q "$tag^{commit}" >/dev/null 2>&1; then
        git -C "$src" archive "$tag" | tar -x -C "$build"
    elif [ -x "$src/configure" ]; then
        cp -a "$src/." "$build/"
    else
        echo "citus_demo: $src is neither a Citus source tree nor a git directory with tag $tag" >&2
        exit 1
    fi
    echo "citus_demo: building Citus ($tag) in $build"
    t0=$(date +%s)
    (cd "$build" && ./configure -q PG_CONFIG="$bindir/pg_config" >"$build/configure.out" 2>&1 \
        && make -s -j"$(nproc)" >"$build/make.out" 2>&1 && make -s install >"$build/install.out" 2>&1) \
        || { echo "citus_demo: the Citus build failed; see $build/*.out" >&2; exit 1; }
    echo "citus_demo: Citus built and installed in $(( $(date +%s) - t0 )) s"
    rm -rf "$build"
fi

# ---------------------------------------------------------------- cluster
base=${CITUS_DEMO_PORT:-9700}
coord=$base w1=$((base + 1)) w2=$((base + 2))
for p in $coord $w1 $w2; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "citus_demo: port $p is in use; set CITUS_DEMO_PORT to a free range" >&2
        exit 1
    fi
done
tmp=$(mktemp -d /tmp/mtcbind-citus.XXXXXX)
chmod 755 "$tmp"
cp -r test/citus "$tmp/sql"
chown -R postgres:postgres "$tmp"
bg_pids=()

as_pg() { (cd "$tmp" && runuser -u postgres -- "$@"); }
cleanup() {
    local rc=$? p
    set +e
    trap - EXIT INT TERM
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for p in $w2 $w1 $coord; do
        [ -f "$tmp/n$p/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$tmp/n$p" -m fast -w stop >/dev/null 2>&1
    done
    if [ "${CITUS_DEMO_KEEP:-0}" = 1 ]; then
        echo "citus_demo: kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# psql as postgres against a node: sql PORT [psql options...]
sql() { local p=$1; shift; as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp" -p "$p" -d postgres "$@"; }
val() { sql "$1" -At -c "$2"; }
# The remote commands Citus logged (citus.log_remote_commands), one a line:
# "  -> port: command", long commands cut.
remote_log() {
    awk '/NOTICE:  issuing / { sub(/.*NOTICE:  issuing /, ""); cmd = $0; next }
         /DETAIL:  on server / { match($0, /:[0-9]+ /); port = substr($0, RSTART + 1, RLENGTH - 2);
                                 if (length(cmd) > 110) cmd = substr(cmd, 1, 107) "...";
                                 printf "    -> %s: %s\n", port, cmd }'
}

secs_between() { awk -v a="$1" -v b="$2" -v d="${3:-0}" 'BEGIN { printf "%.1f", b - a - d }'; }

declare -a verdicts=()
failed=0
verdict() {   # verdict held|FAILED text
    verdicts+=("$(printf '%-6s %s' "$1" "$2")")
    [ "$1" = held ] || [ "$1" = NOTE ] || failed=1
    printf '   [%s] %s\n' "$1" "$2"
}

section "a coordinator ($coord) and two workers ($w1, $w2), PostgreSQL 15 with Citus"
for p in $coord $w1 $w2; do
    as_pg "$bindir/initdb" -D "$tmp/n$p" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$tmp/n$p/postgresql.conf" <<EOF
port = $p
listen_addresses = 'localhost'
unix_socket_directories = '$tmp'
shared_preload_libraries = 'citus'
max_connections = 100
max_prepared_transactions = 100
shared_buffers = 128MB
fsync = on
synchronous_commit = on
# fast enough to show a distributed deadlock being broken
deadlock_timeout = 1s
EOF
    as_pg "$bindir/pg_ctl" -D "$tmp/n$p" -l "$tmp/n$p.log" -w start >/dev/null
    sql "$p" -c "CREATE EXTENSION citus"
done
sql "$coord" -c "SELECT citus_set_coordinator_host('localhost', $coord)" \
    -c "SELECT citus_add_node('localhost', $w1)" -c "SELECT citus_add_node('localhost', $w2)" >/dev/null
val "$coord" "SELECT citus_version()"

section "the claims, distributed (test/citus/schema.sql, test/citus/functions.sql)"
sql "$coord" -f "$tmp/sql/schema.sql" >/dev/null
sql "$coord" -f "$tmp/sql/functions.sql" >/dev/null
for p in $w1 $w2; do
    printf '   worker %s: %s\n' "$p" "$(val "$p" "SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) FROM pg_extension WHERE extname IN ('citus', 'mtcbind', 'pgcrypto')")"
done
sql "$coord" -c "
    SELECT logicalrelid AS claim, column_to_column_name(logicalrelid, partkey) AS distributed_by,
           format_type(a.atttypid, NULL) AS type, count(DISTINCT s.shardid) AS shards,
           string_agg(DISTINCT n.nodeport::text, ', ') AS workers
      FROM pg_dist_partition d
      JOIN pg_attribute a ON a.attrelid = d.logicalrelid AND a.attname = column_to_column_name(logicalrelid, partkey)
      JOIN pg_dist_shard s USING (logicalrelid)
      JOIN pg_dist_placement pl USING (shardid) JOIN pg_dist_node n USING (groupid)
     GROUP BY 1, 2, 3 ORDER BY 1"
n_ext=$(val "$w1" "SELECT count(*) FROM pg_extension WHERE extname = 'mtcbind'")$(val "$w2" "SELECT count(*) FROM pg_extension WHERE extname = 'mtcbind'")
[ "$n_ext" = 11 ] && verdict held "CREATE EXTENSION mtcbind on the coordinator reached both workers; claims distributed by mtcbind.iccid and text" \
                  || verdict FAILED "mtcbind did not reach the workers"

echo "   mtcbind.binding itself, as it is:"
for guc in off on; do
    out=$(sql "$coord" -c "SET citus.enable_unsafe_triggers = $guc" \
              -c "SELECT create_distributed_table('mtcbind.binding', 'iccid')" 2>&1 || true)
    printf '     enable_unsafe_triggers=%s: %s\n' "$guc" "$(echo "$out" | grep -m1 ERROR | sed 's/^.*ERROR: *//')"
done

section "a first bind whose claims land on different workers"
n=$(val "$coord" "SELECT n FROM generate_series(20001, 21000) n
                   WHERE scaleout.node_of('scaleout.card_claim', scaleout.iccid_of(n))
                      <> scaleout.node_of('scaleout.device_claim', 'meter-' || n) ORDER BY n LIMIT 1")
dev="meter-$n" card=$(val "$coord" "SELECT scaleout.iccid_of($n)")
card_port=$(val "$coord" "SELECT scaleout.node_of('scaleout.card_claim', '$card'::mtcbind.iccid)")
dev_port=$(val "$coord" "SELECT scaleout.node_of('scaleout.device_claim', '$dev'::text)")
echo "   pair: device $dev (shard on $dev_port), card $card (shard on $card_port)"
echo "   SELECT scaleout.bind('$dev', '$card') on the coordinator; Citus's remote commands:"
sql "$coord" -c "SET citus.log_remote_commands = on" -c "SELECT scaleout.bind('$dev', '$card')" 2>&1 >/dev/null | remote_log
# Each claim read from its shard table, on the worker that holds it.
card_shard=$(val "$coord" "SELECT shard_name('scaleout.card_claim', get_shard_id_for_distribution_column('scaleout.card_claim', '$card'::mtcbind.iccid))")
dev_shard=$(val "$coord" "SELECT shard_name('scaleout.device_claim', get_shard_id_for_distribution_column('scaleout.device_claim', '$dev'::text))")
on_card=$(val "$card_port" "SELECT format('%s, binding %s, device %s', iccid, binding_id, terminal_id) FROM $card_shard WHERE iccid = '$card'")
on_dev=$(val "$dev_port" "SELECT format('%s, binding %s, card %s', terminal_id, binding_id, iccid) FROM $dev_shard WHERE terminal_id = '$dev'")
echo "   worker $card_port, $card_shard: ${on_card:-nothing}"
echo "   worker $dev_port, $dev_shard: ${on_dev:-nothing}"
left=$(val "$w1" "SELECT count(*) FROM pg_prepared_xacts")$(val "$w2" "SELECT count(*) FROM pg_prepared_xacts")
if [ "$card_port" != "$dev_port" ] && [ -n "$on_card" ] && [ -n "$on_dev" ] && [ "$left" = 00 ]; then
    verdict held "cross-node bind: card claim on $card_port, device claim on $dev_port, one transaction (PREPARE/COMMIT PREPARED), no prepared transaction left"
else
    verdict FAILED "cross-node bind (card on $card_port: '$on_card', device on $dev_port: '$on_dev', prepared left: $left)"
fi

section "two racing binds of one card"
# A holds a fresh bind open for 2 s; B binds the same card into another
# device meanwhile.  B waits on the card's shard, then loses.
race() {   # race LABEL N B_SQL : prints B's answer and how long B waited
    local label=$1 k=$2 b_sql=$3 icc t0 t1 out
    icc=$(val "$coord" "SELECT scaleout.iccid_of($k)")
    sql "$coord" -c "BEGIN" -c "SELECT scaleout.bind('$label-A', '$icc')" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null &
    bg_pids+=($!)
    sleep 0.5
    t0=$(date +%s.%N)
    out=$(sql "$coord" -At -c "${b_sql//@ICCID@/$icc}" 2>&1 || true)
    t1=$(date +%s.%N)
    wait "${bg_pids[-1]}"
    unset 'bg_pids[-1]'
    printf '   B: %s\n   B waited %s s\n' "$(echo "$out" | grep -v '^CONTEXT\|^SQL statement\|^PL/pgSQL' | head -2 | tr '\n' ' ')" \
        "$(secs_between "$t0" "$t1")"
    RACE_CARD=$icc
}
echo "   1. B calls scaleout.bind (coordinator-driven) for card $(val "$coord" "SELECT scaleout.iccid_of(2000001)")"
race race1 2000001 "SELECT scaleout.bind('race1-B', '@ICCID@')"
r1=$(val "$coord" "SELECT (SELECT terminal_id FROM scaleout.card_claim WHERE iccid = '$RACE_CARD') || ' ' ||
                          (SELECT count(*) FROM scaleout.device_claim WHERE terminal_id = 'race1-B')")
[ "$r1" = "race1-A 0" ] && verdict held "racing bind: A kept the card, B waited, then failed with unique_violation; no device claim of B" \
                        || verdict FAILED "racing bind: card holder and B's device claims: $r1"
echo "   2. B calls scaleout.first_use (delegated to the card's worker)"
race race2 2000002 "SELECT outcome, reason, served_by FROM scaleout.first_use('race2-B', '@ICCID@')"
r2=$(val "$coord" "SELECT (SELECT terminal_id FROM scaleout.card_claim WHERE iccid = '$RACE_CARD') || ' ' ||
                          (SELECT count(*) FROM scaleout.device_claim WHERE terminal_id = 'race2-B')")
[ "$r2" = "race2-A 0" ] && verdict held "racing first use: A kept the card, B waited, then got rejected/uicc_bound_elsewhere (subtransaction on the worker); no device claim of B" \
                        || verdict FAILED "racing first use: card holder and B's device claims: $r2"

echo "   3. a burst: 200 cards, two sessions binding each card into their own devices at once"
for side in A B; do
    val "$coord" "SELECT format('SELECT outcome FROM scaleout.first_use(%L, %L);', 'burst-$side-' || k, scaleout.iccid_of(k))
                    FROM generate_series(3000001, 3000200) k" >"$tmp/burst_$side.sql"
done
chown postgres "$tmp"/burst_*.sql
sql "$coord" -At -f "$tmp/burst_A.sql" >"$tmp/burst_A.out" 2>&1 &
pa=$!
sql "$coord" -At -f "$tmp/burst_B.sql" >"$tmp/burst_B.out" 2>&1 &
pb=$!
bg_pids+=($pa $pb)
wait $pa $pb || true
bg_pids=()
printf '   answers: %s\n' "$(cat "$tmp"/burst_*.out | sort | uniq -c | awk '{ printf "%s %s; ", $2, $1 }')"
# The two claim tables are not co-located: join them on the coordinator.
burst=$(val "$coord" "
    WITH c AS MATERIALIZED (SELECT iccid, terminal_id, binding_id FROM scaleout.card_claim WHERE terminal_id LIKE 'burst-%'),
         d AS MATERIALIZED (SELECT iccid, terminal_id, binding_id FROM scaleout.device_claim WHERE terminal_id LIKE 'burst-%')
    SELECT count(*) || ' of 200 cards held by exactly one device'
      FROM generate_series(3000001, 3000200) k
     WHERE (SELECT count(*) FROM c WHERE c.iccid = scaleout.iccid_of(k)) = 1
       AND (SELECT count(*) FROM d WHERE d.iccid = scaleout.iccid_of(k)) = 1
       AND EXISTS (SELECT 1 FROM c JOIN d USING (iccid, terminal_id, binding_id) WHERE c.iccid = scaleout.iccid_of(k))")
bound_n=$(cat "$tmp"/burst_*.out | grep -c '^bound$' || true)
# The delegated calls drew binding ids on the workers: each node has its own
# range of the sequence (group id << 48).
echo "   binding ids drawn on the workers: top 16 bits $(val "$coord" "SELECT string_agg(DISTINCT (binding_id >> 48)::text, ', ') FROM scaleout.card_claim WHERE terminal_id LIKE 'burst-%'"); the workers' group ids $(val "$coord" "SELECT string_agg(groupid::text, ', ' ORDER BY groupid) FROM pg_dist_node WHERE groupid > 0")"
if [ "$burst" = "200 of 200 cards held by exactly one device" ] && [ "$bound_n" = 200 ]; then
    verdict held "burst race: 200 cards, 200 bound, 200 rejected, each card held by exactly one device"
else
    verdict FAILED "burst race: $burst; bound answers: $bound_n"
fi

echo "   4. the order that the design forbids: A takes card then device, B device then card"
k=4000001
icc=$(val "$coord" "SELECT scaleout.iccid_of($k)")
echo "      card on $(val "$coord" "SELECT scaleout.node_of('scaleout.card_claim', '$icc'::mtcbind.iccid)"), device on $(val "$coord" "SELECT scaleout.node_of('scaleout.device_claim', 'dl-$k'::text)")"
t0=$(date +%s.%N)
sql "$coord" -c "BEGIN" -c "INSERT INTO scaleout.card_claim (iccid, binding_id, terminal_id) VALUES ('$icc', -1, 'dl-$k')" \
    -c "SELECT pg_sleep(1)" -c "INSERT INTO scaleout.device_claim (terminal_id, binding_id, iccid) VALUES ('dl-$k', -1, '$icc')" \
    -c "COMMIT" >"$tmp/dl_A.out" 2>&1 &
pa=$!
sleep 0.3
sql "$coord" -c "BEGIN" -c "INSERT INTO scaleout.device_claim (terminal_id, binding_id, iccid) VALUES ('dl-$k', -2, '$icc')" \
    -c "SELECT pg_sleep(1)" -c "INSERT INTO scaleout.card_claim (iccid, binding_id, terminal_id) VALUES ('$icc', -2, 'dl-$k')" \
    -c "COMMIT" >"$tmp/dl_B.out" 2>&1 &
pb=$!
bg_pids+=($pa $pb)
wait $pa || true
wait $pb || true
bg_pids=()
t1=$(date +%s.%N)
for s in A B; do
    e=$(grep -m1 'ERROR' "$tmp/dl_$s.out" | sed 's/^.*ERROR: *//' || true)
    printf '      %s: %s\n' "$s" "${e:-committed}"
done
printf '      both finished %s s after A began (the cycle closed at 1.3 s)\n' "$(secs_between "$t0" "$t1")"
if grep -q 'deadlock' "$tmp"/dl_*.out; then
    verdict held "the forbidden order deadlocks across workers, invisible to each worker; Citus's distributed deadlock detector cancelled one, $(secs_between "$t0" "$t1" 1.3) s after the cycle closed"
else
    verdict FAILED "the forbidden order did not deadlock as expected: $(cat "$tmp"/dl_*.out | grep ERROR | head -2 | tr '\n' ' ')"
fi

echo "   5. a bound device asks with a new card: the card claim is written, then the device claim fails"
k=$(val "$coord" "SELECT k FROM generate_series(5000001, 5001000) k
                   WHERE scaleout.node_of('scaleout.card_claim', scaleout.iccid_of(k)) <> $dev_port ORDER BY k LIMIT 1")
icc=$(val "$coord" "SELECT scaleout.iccid_of($k)")
echo "      device $dev (bound, on $dev_port), new card $icc (on $(val "$coord" "SELECT scaleout.node_of('scaleout.card_claim', '$icc'::mtcbind.iccid)"))"
a1=$(val "$coord" "SELECT outcome || ' ' || reason || ' on ' || served_by FROM scaleout.first_use_here('$dev', '$icc')")
a2=$(val "$coord" "SELECT outcome || ' ' || reason || ' on ' || served_by FROM scaleout.first_use('$dev', '$icc')")
left_card=$(val "$coord" "SELECT count(*) FROM scaleout.card_claim WHERE iccid = '$icc'")
echo "      on the coordinator: $a1; delegated: $a2; card claims of the new card left: $left_card"
if [ "$a1" = "rejected device_bound_elsewhere on $coord" ] && [ "${a2% on *}" = "rejected device_bound_elsewhere" ] && [ "$left_card" = 0 ]; then
    verdict held "a failed second claim rolls back the first on the other worker (subtransaction): device_bound_elsewhere, no card claim left"
else
    verdict FAILED "rollback of the first claim: $a1 / $a2, card claims left: $left_card"
fi

section "re-keying delegated to the worker holding the card"
ks='\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
btid='I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'
echo "   EXPLAIN SELECT scaleout.rekey('$dev', '$card', ...) on the coordinator:"
sql "$coord" -c "EXPLAIN (COSTS OFF) SELECT scaleout.rekey('$dev', '$card', '$ks', '$btid')" | sed 's/^/     /'
echo "   the call, with citus.log_remote_commands:"
sql "$coord" -c "SET citus.log_remote_commands = on" \
    -c "SELECT outcome, length(ks_local) AS key_octets, served_by FROM scaleout.rekey('$dev', '$card', '$ks', '$btid')" 2>"$tmp/rk.err" | sed 's/^/     /'
remote_log <"$tmp/rk.err"
served=$(val "$coord" "SELECT served_by FROM scaleout.rekey('$dev', '$card', '$ks', '$btid')")
same_key=$(val "$coord" "SELECT r.ks_local = mtcbind.ks_local('$ks', '$btid', '$card', '$dev', '', '', r.rand_x, r.rand_y)
                          FROM scaleout.rekey('$dev', '$card', '$ks', '$btid') r")
other=$([ "$card_port" = "$w1" ] && echo "$w2" || echo "$w1")
from_worker=$(val "$other" "SELECT served_by FROM scaleout.rekey('$dev', '$card', '$ks', '$btid')")
wrong=$(val "$coord" "SELECT outcome || ' on ' || served_by FROM scaleout.rekey('tracker-0666', '$card', '$ks', '$btid')")
echo "   called on the coordinator: served by $served; called on worker $other: served by $from_worker; another device: $wrong"
echo "   key derived on the worker = mtcbind.ks_local on the coordinator with the same RANDs: $same_key"
if [ "$served" = "$card_port" ] && [ "$from_worker" = "$card_port" ] && [ "$same_key" = t ] && [ "$wrong" = "rejected on $card_port" ]; then
    verdict held "re-keying pushed down to the card's worker $card_port (from the coordinator and from the other worker); Ks_local by mtcbind.ks_local there"
else
    verdict FAILED "re-keying delegation: served by $served / $from_worker (card on $card_port), same key $same_key, refusal: $wrong"
fi
fu=$(val "$coord" "SELECT outcome || ' on ' || served_by FROM scaleout.first_use('$dev', '$card')")
[ "$fu" = "granted on $card_port" ] && verdict held "first use delegated too: the bound pair asked again answers granted, on the card's worker" \
                                     || verdict FAILED "delegated first use of a bound pair: $fu"

section "the cost of a cross-node bind (pgbench -n -c 4 -j 2 -T $secs, fsync = on, all on one machine)"
# Pools of fresh pairs whose two claims fall on different workers (cross)
# or on the same worker (same); each pgbench transaction takes the next pair
# of its kind.  Slices of $slice pairs: two for the coordinator's runs of each
# kind (sequence pool_cross/pool_same), a third of the cross pairs copied to
# worker $w1 for a client connected there, and pool_single for the baseline.
slice=$(( secs * 3000 ))
sql "$coord" -c "
    CREATE TABLE scaleout.pool (kind text, id bigint, terminal_id text, iccid mtcbind.iccid, PRIMARY KEY (kind, id));
    INSERT INTO scaleout.pool
    SELECT kind, row_number() OVER (PARTITION BY kind ORDER BY n), terminal_id, iccid
      FROM (SELECT n, terminal_id, iccid,
                   CASE WHEN scaleout.node_of('scaleout.card_claim', iccid)
                           = scaleout.node_of('scaleout.device_claim', terminal_id)
                        THEN 'same' ELSE 'cross' END AS kind
              FROM (SELECT n, 'dev-' || n AS terminal_id, scaleout.iccid_of(n) AS iccid
                      FROM generate_series(10000000, 10000000 + 7 * $slice - 1) n OFFSET 0) g) c;
    CREATE SEQUENCE scaleout.pool_cross; CREATE SEQUENCE scaleout.pool_same; CREATE SEQUENCE scaleout.pool_single;
    ANALYZE scaleout.pool;
    -- 10 000 bound pairs to re-key, in both the distributed and the single-node claims
    INSERT INTO scaleout.card_claim (iccid, binding_id, terminal_id)
        SELECT scaleout.iccid_of(n), n, 'rk-' || n FROM generate_series(1, 10000) n;
    INSERT INTO scaleout.device_claim (terminal_id, binding_id, iccid)
        SELECT 'rk-' || n, n, scaleout.iccid_of(n) FROM generate_series(1, 10000) n;
    INSERT INTO single.card_claim (iccid, binding_id, terminal_id)
        SELECT scaleout.iccid_of(n), n, 'rk-' || n FROM generate_series(1, 10000) n;
    INSERT INTO single.device_claim (terminal_id, binding_id, iccid)
        SELECT 'rk-' || n, n, scaleout.iccid_of(n) FROM generate_series(1, 10000) n;
    ANALYZE single.card_claim; ANALYZE single.device_claim;" >/dev/null
# The worker's copy: a plain table of its own there.
sql "$w1" -c "CREATE TABLE scaleout.worker_pool (kind text, id bigint, terminal_id text, iccid mtcbind.iccid, PRIMARY KEY (kind, id));
              CREATE SEQUENCE scaleout.worker_pool_cross START $(( 2 * slice + 1 ))"
sql "$coord" -c "\copy (SELECT * FROM scaleout.pool WHERE kind = 'cross' AND id > 2 * $slice) TO STDOUT" \
    | sql "$w1" -c "\copy scaleout.worker_pool FROM STDIN"
echo "   pools: $(val "$coord" "SELECT string_agg(kind || ' ' || count, ', ') FROM (SELECT kind, count(*) FROM scaleout.pool GROUP BY kind ORDER BY kind) p") pairs ($slice a run)"

declare -A tps=() lat=()
sessions() { val "$1" "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'"; }
bench() {   # bench KEY LABEL PORT SCRIPT [-D var=value ...]
    local key=$1 label=$2 p=$3 script=$4 out s0 s1 n_tx failed_tx; shift 4
    s0=$(( $(sessions "$w1") + $(sessions "$w2") ))
    out=$(as_pg "$bindir/pgbench" -n -c 4 -j 2 -T "$secs" -h "$tmp" -p "$p" -d postgres \
              -f "$tmp/sql/$script" "$@" 2>&1) || { echo "$out" | tail -5; echo "citus_demo: pgbench $key failed" >&2; }
    s1=$(( $(sessions "$w1") + $(sessions "$w2") - 1 ))   # less this query's own session
    tps[$key]=$(echo "$out" | awk '/^tps = / { printf "%.0f", $3 }')
    lat[$key]=$(echo "$out" | awk '/^latency average = / { printf "%.2f", $4 }')
    n_tx=$(echo "$out" | awk '/actually processed/ { split($NF, a, "/"); print a[1] }')
    failed_tx=$(echo "$out" | awk '/number of failed transactions/ { print $5 }')
    # Sessions opened on the workers per transaction, beyond pgbench's own.
    printf '   %-68s %6s tps %6s ms %5s%s\n' "$label" "${tps[$key]:-?}" "${lat[$key]:-?}" \
        "$(awk -v d=$(( s1 - s0 - ( p == coord ? 0 : 4 ) - 1 )) -v n="${n_tx:-0}" 'BEGIN { if (n > 0) printf "%.2f", (d < 0 ? 0 : d) / n; else print "?" }')" \
        "$([ -n "$failed_tx" ] && [ "$failed_tx" != 0 ] && echo "  ($failed_tx failed)")"
}
printf '   %-68s %10s %9s %5s\n' "" "" "latency" "conn/tx"
bench single "first use, plain PostgreSQL (coordinator's own tables)"   $coord bench_bind.sql -D fn=single.bind -D kind=cross -D pool=scaleout.pool -D seq=scaleout.pool_single
bench same   "first use, coordinator-driven, claims on one worker"       $coord bench_bind.sql -D fn=scaleout.bind -D kind=same -D pool=scaleout.pool -D seq=scaleout.pool_same
bench cross  "first use, coordinator-driven, claims on two workers"      $coord bench_bind.sql -D fn=scaleout.bind -D kind=cross -D pool=scaleout.pool -D seq=scaleout.pool_cross
bench dsame  "first use delegated to the card's worker, one worker"      $coord bench_bind.sql -D fn=scaleout.first_use -D kind=same -D pool=scaleout.pool -D seq=scaleout.pool_same
bench dcross "first use delegated to the card's worker, two workers"     $coord bench_bind.sql -D fn=scaleout.first_use -D kind=cross -D pool=scaleout.pool -D seq=scaleout.pool_cross
bench wcross "first use by a client of worker $w1, decided there, two workers" $w1 bench_bind.sql -D fn=scaleout.first_use_here -D kind=cross -D pool=scaleout.worker_pool -D seq=scaleout.worker_pool_cross
bench ksingle "re-keying, plain PostgreSQL"                              $coord bench_rekey.sql -D fn=single.rekey
bench kdeleg  "re-keying via the coordinator, delegated to the card's worker" $coord bench_rekey.sql -D fn=scaleout.rekey
bench kworker "re-keying by a client of worker $w1 (half there, half delegated)" $w1 bench_rekey.sql -D fn=scaleout.rekey
ratio() { awk -v a="${tps[$1]:-0}" -v b="${tps[$2]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
diff_ms() { awk -v a="${lat[$1]:-0}" -v b="${lat[$2]:-0}" 'BEGIN { printf "%+.2f", a - b }'; }
echo "   conn/tx: sessions opened on the workers per transaction (Citus keeps no connection cache"
echo "   in a backend that serves a delegated call, so a delegated call that writes to another"
echo "   worker connects to it anew, TLS included)"
echo "   ratios (same run): cross/same $(ratio cross same), cross/plain $(ratio cross single), delegated cross/same $(ratio dcross dsame), worker-driven cross/coordinator-driven cross $(ratio wcross cross), delegated re-keying/plain $(ratio kdeleg ksingle)"
echo "   latency of the second worker (2PC): coordinator-driven $(diff_ms cross same) ms, delegated $(diff_ms dcross dsame) ms per bind"
[ -n "${tps[cross]:-}" ] && [ -n "${tps[dcross]:-}" ] && [ -n "${tps[wcross]:-}" ] && [ -n "${tps[kdeleg]:-}" ] \
    && verdict held "measured: cross-node bind ${tps[cross]} tps (${lat[cross]} ms) vs same-node ${tps[same]} tps (${lat[same]} ms) vs plain PostgreSQL ${tps[single]} tps (${lat[single]} ms)" \
    || verdict FAILED "a measurement did not complete"
if [ -n "${tps[dcross]:-}" ] && [ -n "${tps[cross]:-}" ] && [ "${tps[dcross]}" -lt "${tps[cross]}" ]; then
    verdict "NOTE" "a delegated first use whose device claim is on another worker is the slowest path (${tps[dcross]} tps, ${lat[dcross]} ms): a new connection per call"
fi

section "the invariant after all of this"
inv=$(val "$coord" "
    WITH d AS MATERIALIZED (SELECT terminal_id, iccid, binding_id FROM scaleout.device_claim),
         c AS MATERIALIZED (SELECT terminal_id, iccid, binding_id FROM scaleout.card_claim)
    SELECT (SELECT count(*) FROM c) || ' card claims, ' || (SELECT count(*) FROM d) || ' device claims, '
           || (SELECT count(*) FROM d WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.iccid = d.iccid AND c.terminal_id = d.terminal_id AND c.binding_id = d.binding_id))
           || ' device claims without their card claim, '
           || (SELECT count(*) FROM c WHERE NOT EXISTS (SELECT 1 FROM d WHERE c.iccid = d.iccid AND c.terminal_id = d.terminal_id AND c.binding_id = d.binding_id))
           || ' card claims without their device claim'")
prepared=$(( $(val "$w1" "SELECT count(*) FROM pg_prepared_xacts") + $(val "$w2" "SELECT count(*) FROM pg_prepared_xacts") ))
echo "   $inv; prepared transactions left on the workers: $prepared"
case "$inv" in
    *" 0 device claims without their card claim, 0 card claims without their device claim")
        [ "$prepared" = 0 ] && verdict held "no orphan claim on either side, nothing left prepared" \
                            || verdict FAILED "prepared transactions left: $prepared" ;;
    *) verdict FAILED "orphan claims: $inv" ;;
esac

section "summary ($(( $(date +%s) - started )) s)"
printf '   %s\n' "${verdicts[@]}"
exit "$failed"

#!/usr/bin/env bash
# Tests of the fleet simulator, mtcbind-sim (sim/, docs/simulator.md):
#   - it and its unit tests build with -Wall -Wextra -Werror;
#   - test/sim/test_units.c: Milenage against the TS 35.208 test sets, the
#     card's AKA checks, the BSF, the KDF (no server);
#   - test/sim/test_server.c: the simulator's GBA-U and Ks_local against
#     mtcbind.gba_naf_keys and mtcbind.ks_local for the same inputs;
#   - a short simulation of every scenario with the exact expected counts;
#   - the same seed gives the same fleet and run;
#   - bad options and unusable servers: exit 2 with a message naming the problem;
#   - the server going away mid-run: exit 3 within seconds.
# Starts its own throwaway PostgreSQL (initdb in a temporary directory, run
# as user postgres when started as root, Unix socket only) and stops it.
# Prints TAP lines; exits non-zero if any test failed.
#
#   MTCBIND_PG_BINDIR  PostgreSQL 15 binaries with mtcbind installed
#                      (default /usr/lib/postgresql/15/bin; scripts/setup.sh installs there)
set -uo pipefail
cd "$(dirname "$0")/.."

bindir=${MTCBIND_PG_BINDIR:-/usr/lib/postgresql/15/bin}
sim=sim/mtcbind-sim
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
finish() {
    echo "1..$n"
    echo "# test_sim: $((n - failed)) passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
    exit $?
}

# Runs a TAP program and renumbers its lines into ours.
tap_of() {
    local out rc line
    out=$("$@" 2>&1)
    rc=$?
    while IFS= read -r line; do
        if [[ $line =~ ^(not\ )?ok(\ [0-9]+)?\ -\ (.*)$ ]]; then
            if [ -n "${BASH_REMATCH[1]}" ]; then notok "${BASH_REMATCH[3]}"; else ok "${BASH_REMATCH[3]}"; fi
        elif [[ $line == "#"* ]]; then
            echo "$line"
        fi
    done <<<"$out"
    if [ "$rc" -ne 0 ] && ! grep -q '^not ok' <<<"$out"; then
        notok "$* exited with status $rc"
        tail -20 <<<"$out" | diag
    fi
}

work=$(mktemp -d /tmp/mtcbind-sim-test.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    [ -f "$work/data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# 1. Build.
if make -s -C sim tests >"$work/build.log" 2>&1; then
    ok "sim/mtcbind-sim and its unit tests build (C11, -Wall -Wextra -Werror)"
else
    notok "sim/mtcbind-sim and its unit tests build"
    tail -40 "$work/build.log" | diag
    finish
fi

# 2. Unit tests without a server.
tap_of sim/test-units

# 3. A throwaway server with the extension.
if [ ! -x "$bindir/initdb" ]; then
    notok "PostgreSQL 15 server binaries in $bindir (set MTCBIND_PG_BINDIR, or run scripts/setup.sh)"
    finish
fi
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
port=5432
if as_pg "$bindir/initdb" -D "$work/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$work/initdb.log" 2>&1 &&
    as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
        -o "-p $port -k $work -c listen_addresses='' -c fsync=off -c max_connections=60" start >/dev/null 2>&1; then
    ok "a throwaway PostgreSQL server in $work"
else
    notok "a throwaway PostgreSQL server in $work"
    cat "$work/initdb.log" "$work/server.log" 2>/dev/null | tail -20 | diag
    finish
fi
export PGHOST=$work PGPORT=$port PGUSER=postgres PGDATABASE=postgres
unset PGSERVICE PGPASSWORD PGOPTIONS
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
if psql -c 'CREATE EXTENSION mtcbind' >"$work/ext.log" 2>&1 &&
    psql -c 'CREATE DATABASE noext' -c 'CREATE DATABASE same_a' -c 'CREATE DATABASE same_b' \
        -c 'CREATE ROLE sim_naf_only LOGIN IN ROLE mtcbind_naf' >>"$work/ext.log" 2>&1 &&
    psql -d same_a -c 'CREATE EXTENSION mtcbind' >>"$work/ext.log" 2>&1 &&
    psql -d same_b -c 'CREATE EXTENSION mtcbind' >>"$work/ext.log" 2>&1; then
    ok "CREATE EXTENSION mtcbind ($(psql -At -c "SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'"))"
else
    notok "CREATE EXTENSION mtcbind (is it installed for $bindir?)"
    diag <"$work/ext.log"
    finish
fi

# 4. The simulator's derivations against the extension's.
tap_of sim/test-server

# 5. A short simulation of every scenario, with the exact expected counts.
devices=300
t0=$(date +%s)
"$sim" --devices $devices --clients 6 --seed 42 --json >"$work/short.json" 2>"$work/short.err"
rc=$?
if [ $rc -eq 0 ]; then
    ok "short simulation: $devices devices, 6 clients, scenarios 1-5: exit 0 in $(($(date +%s) - t0)) s"
else
    notok "short simulation: $devices devices, 6 clients, scenarios 1-5: exit $rc"
    diag <"$work/short.err"
fi
# The expected counts, computed here from the issue's rules, not read from the simulator.
tap_of perl -MJSON::PP -e '
    my ($file, $n) = @ARGV;
    open my $fh, "<", $file or do { print "not ok - read $file: $!\n"; exit 1 };
    my $j = eval { local $/; decode_json(<$fh>) } or do { print "not ok - $file is JSON\n"; exit 1 };
    sub at_least_one { $_[0] > 0 ? $_[0] : 1 }
    my ($k, $p, $m, $r) = (at_least_one(int($n / 40)), at_least_one(int($n / 80)),
                           at_least_one(int($n / 20)), at_least_one(int($n / 20)));
    my %want = (
        1 => [["bound", $n]],
        2 => [["granted", $n], ["valid key, nothing sent", $n]],
        3 => [["rejected:uicc_bound_elsewhere", $k], ["rejected:both_bound_elsewhere", 2 * $p],
              ["rejected:device_bound_elsewhere", $k], ["rejected:identity_mismatch", $k]],
        4 => [["granted", $m], ["rejected:bootstrap_expired", $m], ["granted", $m]],
        5 => [["authorized", $r], ["bound", $r], ["free", $r], ["rejected:uicc_bound_elsewhere", $r],
              ["granted", $r]],
    );
    my %seen;
    for my $sc (@{ $j->{scenarios} }) {
        my $id = $sc->{id};
        $seen{$id} = 1;
        my @w = @{ $want{$id} || [] };
        my @s = @{ $sc->{steps} };
        my $good = @w == @s;
        my @said;
        for my $i (0 .. $#w) {
            my ($key, $count) = @{ $w[$i] };
            my $o = $s[$i] ? $s[$i]{outcomes} : {};
            $good &&= keys(%$o) == 1 && defined $o->{$key} && $o->{$key} == $count;
            push @said, "$key $count";
        }
        $good &&= !grep { !$_->{ok} } @{ $sc->{checks} };
        $good &&= $sc->{key_mismatches} == 0;
        my $checks = @{ $sc->{checks} } ? "; its " . scalar(@{ $sc->{checks} }) . " audit checks hold" : "";
        print(($good ? "ok" : "not ok") . " - scenario $id ($sc->{name}): exactly " . join(", ", @said)
              . "$checks; key mismatches 0\n");
        print "# got: " . encode_json([map { $_->{outcomes} } @s]) . "\n" unless $good;
    }
    print((keys(%seen) == 5 ? "ok" : "not ok") . " - all five scenarios ran\n");
    my $sum = $j->{summary};
    my $requests = 2 * $n + 3 * $k + 2 * $p + 3 * $m + 3 * $r;
    my $keys = 2 * $n + 2 * $m + 2 * $r;
    print(($sum->{requests} == $requests ? "ok" : "not ok")
          . " - $requests requests to request_key in all (got $sum->{requests})\n");
    print(($sum->{keys_issued} == $keys && $sum->{keys_matched} == $keys && $sum->{key_mismatches} == 0
           ? "ok" : "not ok") . " - $keys keys issued, each equal to the card'\''s own Ks_local; 0 mismatches\n");
    print(($sum->{invariant_breaks} == 0 && !grep({ !$_->{ok} } @{ $j->{invariants} }) ? "ok" : "not ok")
          . " - invariant breaks 0 (" . scalar(@{ $j->{invariants} }) . " invariants checked at the end)\n");
    print(($j->{result} eq "pass" ? "ok" : "not ok") . " - result: $j->{result}\n");
' "$work/short.json" $devices

# The event log and the bindings seen directly in the database.
got=$(psql -At -c "SELECT count(*) || ' ' || count(*) FILTER (WHERE terminal_id LIKE 'sim0042-new-%')
                     FROM mtcbind.binding WHERE terminal_id LIKE 'sim0042-%'")
want="$devices $((devices / 20))"
if [ "$got" = "$want" ]; then
    ok "the database holds the run's $devices bindings, $((devices / 20)) of them moved to new devices"
else
    notok "the database holds the run's $devices bindings, $((devices / 20)) moved (got $got)"
fi
got=$(psql -At -c "SELECT count(*) FROM mtcbind.binding_event WHERE event = 'rejected' AND terminal_id LIKE 'sim0042-%'")
want=$((3 * (devices / 40) + 2 * (devices / 80) + 2 * (devices / 20)))
if [ "$got" = "$want" ]; then ok "the event log holds the run's $want refusals"; else notok "the event log holds the run's $want refusals (got $got)"; fi

# 6. The human report, on a terminal-less stdout: sections, no progress bar.
"$sim" --devices 40 --seed 43 --scenario 1,3 >"$work/human.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^== 1\. Onboarding' "$work/human.out" && grep -q '^== 3\. Theft' "$work/human.out" &&
    grep -q '^== 6\. Summary' "$work/human.out" && ! grep -q '^== [245]\.' "$work/human.out" &&
    grep -q 'result *PASS' "$work/human.out" && ! grep -q $'\r' "$work/human.out"; then
    ok "--scenario 1,3 prints sections 1, 3 and 6 only, no progress bar off a terminal, result PASS"
else
    notok "--scenario 1,3 prints sections 1, 3 and 6 only (exit $rc)"
    diag <"$work/human.out"
fi

# 7. The same seed gives the same fleet and the same run.
for db in same_a same_b; do
    "$sim" --dsn "dbname=$db" --devices 60 --clients 3 --seed 7 --json >"$work/$db.json" 2>&1
    echo $? >"$work/$db.rc"
done
digest() { perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
    print join("|", map { my $s = $_; "$s->{id}:$s->{bootstraps}:$s->{keys_issued}:" .
        join(",", map { my $o = $_->{outcomes}; join(";", map { "$_=$o->{$_}" } sort keys %$o) } @{ $s->{steps} }) }
        @{ $j->{scenarios} })' <"$1"; }
fleet() { psql -d "$1" -At -c "SELECT md5(string_agg(terminal_id || ' ' || iccid || ' ' || imei || ' ' || imsi, ',' ORDER BY iccid)) FROM mtcbind.binding"; }
if [ "$(cat "$work/same_a.rc")" = 0 ] && [ "$(cat "$work/same_b.rc")" = 0 ] &&
    [ "$(digest "$work/same_a.json")" = "$(digest "$work/same_b.json")" ] && [ "$(fleet same_a)" = "$(fleet same_b)" ]; then
    ok "--seed 7 in two databases: the same bindings, bootstraps and outcomes, step by step"
else
    notok "--seed 7 in two databases: the same bindings, bootstraps and outcomes"
    { digest "$work/same_a.json"; echo; digest "$work/same_b.json"; echo; fleet same_a; fleet same_b; } | diag
fi

# 8. Bad options and unusable servers: exit 2, a message naming the problem.
bad() {
    local phrase=$1 out rc
    shift
    out=$(timeout 30 "$sim" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$phrase" <<<"$out"; then
        ok "mtcbind-sim $*: exit 2, \"$phrase\""
    else
        notok "mtcbind-sim $*: exit 2, \"$phrase\" (got exit $rc)"
        diag <<<"$out"
    fi
}
bad "--devices must be a whole number from 10 to 200000, not '0'" --devices 0
bad "--devices must be a whole number" --devices 12abc
bad "--devices must be a whole number" --devices 200001
bad "--clients must be a whole number from 1 to 200" --clients 0
bad "--scenario must be 'all' or scenario numbers 1 to 6" --scenario 7
bad "--scenario must be" --scenario 2-
bad "--seed must be a whole number" --seed -1
bad "--timeout must be a whole number" --timeout 0
bad "unknown option --bogus" --bogus
bad "option --devices needs a value" --devices
bad "unexpected argument 'extra'" extra
bad "--dsn is not a valid connection string or URI" --dsn "host"
bad "could not connect" --dsn "host=127.0.0.1 port=1 connect_timeout=3"
bad "could not connect" --dsn "dbname=no_such_database"
bad "has no mtcbind extension: as a superuser, run CREATE EXTENSION mtcbind" --dsn "dbname=noext"
bad "lacks" --dsn "user=sim_naf_only"
bad "already holds 300 bindings with the identities of run 0042" --seed 42 --devices 300

# 9. The server goes away mid-run, or stops answering: exit 3 within seconds, saying so.
gone() {
    local how=$1 seed=$2 limit=$3 phrase=$4 pid rc t0 t1 i count pids ms
    shift 4
    "$sim" --devices 30000 --clients 4 --seed "$seed" "$@" >"$work/gone.out" 2>"$work/gone.err" &
    pid=$!
    for i in $(seq 1 200); do
        count=$(psql -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mtcbind-sim' AND state <> 'idle'" 2>/dev/null || echo 0)
        [ "${count:-0}" -ge 1 ] && break
        sleep 0.05
    done
    sleep 0.5
    pids=$(psql -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mtcbind-sim'")
    t0=$(date +%s%N)
    case $how in
        terminate) psql -At -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'mtcbind-sim'" >/dev/null ;;
        freeze) kill -STOP $pids ;;
        stop) as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 ;;
    esac
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    t1=$(date +%s%N)
    [ "$how" = freeze ] && kill -CONT $pids 2>/dev/null
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
        notok "server $how: mtcbind-sim still running 30 s later"
        return
    fi
    wait "$pid"
    rc=$?
    ms=$(((t1 - t0) / 1000000))
    if [ $rc -eq 3 ] && [ $ms -le "$limit" ] && grep -q "$phrase" "$work/gone.err"; then
        ok "server $how mid-run${*:+ ($*)}: exit 3 after $ms ms: \"$(grep -m1 -o "$phrase[^:]*" "$work/gone.err")\""
    else
        notok "server $how mid-run${*:+ ($*)}: exit 3 within $limit ms (got exit $rc after $ms ms)"
        diag <"$work/gone.err"
    fi
}
gone terminate 9 10000 "lost the connection to the server"
gone freeze 10 10000 "no answer from the server" --timeout 1
gone stop 11 10000 "lost the connection to the server"

finish

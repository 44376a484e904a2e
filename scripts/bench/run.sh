#!/usr/bin/env bash
# The mtcbind benchmark (docs/performance.md): each request_key path against
# a floor doing the same writes in plain SQL, and against the PL/pgSQL +
# pgcrypto alternative, at 1 to 16 clients, several runs each; scale to a
# million (ten million) bindings, bytes per binding and per event, a
# backend's memory over a million requests, bulk provisioning against COPY.
# One throwaway cluster (pg_virtualenv), stopped at the end.
#
#   bash scripts/bench/run.sh               full run (about 21 minutes on 2 cores)
#   BENCH_QUICK=1 bash scripts/bench/run.sh quick run (about 3 minutes)
#   BENCH_SCALE_10M=1 ...                   also 10 000 000 bindings (about 5 minutes
#                                           and 7 GB of disk more)
#
# Other settings (environment): BENCH_RESULTS (results directory, default
# /tmp/mtcbind-bench-<date>), BENCH_RUNS, BENCH_SECONDS, BENCH_CLIENTS,
# BENCH_PAIRS, BENCH_SCALE_CLIENTS, BENCH_SAMPLING (share of transactions
# whose latency is logged), BENCH_PHASES (subset of "matrix scale events
# memory provision"), BENCH_TCP=1 (connect over TCP instead of a socket),
# BENCH_SHARED_BUFFERS (default 1GB).
# Needs PostgreSQL 15 with pgbench and mtcbind installed (scripts/setup.sh).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_DIR/../.." && pwd)
TB=$TOP/test/bench
. "$BENCH_DIR/lib.sh"
export PATH=/usr/lib/postgresql/15/bin:$PATH

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
    RUNS=${BENCH_RUNS:-2}; SECS=${BENCH_SECONDS:-2}; CLIENTS=${BENCH_CLIENTS:-"1 4"}
    SCALES="10000 100000"; MEM_REQUESTS=${BENCH_MEMORY_REQUESTS:-100000}
    PROV_ROWS=${BENCH_PROVISION_ROWS:-100000}; EVENTS_PER_TYPE=${BENCH_EVENTS:-10000}
else
    RUNS=${BENCH_RUNS:-3}; SECS=${BENCH_SECONDS:-5}; CLIENTS=${BENCH_CLIENTS:-"1 2 4 8 16"}
    SCALES="10000 1000000"; MEM_REQUESTS=${BENCH_MEMORY_REQUESTS:-1000000}
    PROV_ROWS=${BENCH_PROVISION_ROWS:-1000000}; EVENTS_PER_TYPE=${BENCH_EVENTS:-50000}
fi
[ "${BENCH_SCALE_10M:-0}" != 0 ] && SCALES="$SCALES 10000000"
PAIRS=${BENCH_PAIRS:-10000}
SCALE_CLIENTS=${BENCH_SCALE_CLIENTS:-4}
SAMPLING=${BENCH_SAMPLING:-1}
PHASES=${BENCH_PHASES:-"matrix scale events memory provision"}
NCPU=$(nproc)

# The server's settings, fixed for every run and printed at the start.
# BENCH_SHARED_BUFFERS (default 1GB) sizes the buffer cache, e.g. to hold
# 10 000 000 bindings (3.5 GB) as a server of that size would be set up.
SETTINGS=(shared_buffers=${BENCH_SHARED_BUFFERS:-1GB} max_connections=40 fsync=on synchronous_commit=on full_page_writes=on
          wal_level=replica max_wal_size=8GB min_wal_size=1GB checkpoint_timeout=30min
          jit=off autovacuum=on log_checkpoints=on shared_preload_libraries=mtcbind)

if [ -z "${MTCBIND_BENCH_INNER:-}" ]; then
    for tool in pgbench pg_virtualenv psql; do
        command -v "$tool" >/dev/null || die "$tool not found: install postgresql-15 and postgresql-client-15 (scripts/setup.sh)"
    done
    [ -f "$(pg_config --sharedir)/extension/mtcbind.control" ] ||
        die "mtcbind is not installed: run scripts/setup.sh (make test and make demo do) first"
    RES=${BENCH_RESULTS:-/tmp/mtcbind-bench-$(date +%Y%m%d-%H%M%S)}
    mkdir -p "$RES"
    RES=$(cd "$RES" && pwd)
    # A socket directory of our own: the clients reach only this server.
    SOCKDIR=$(mktemp -d /tmp/mtcbind-bench-sock.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$SOCKDIR"
    opts=(-o "unix_socket_directories=$SOCKDIR")
    for s in "${SETTINGS[@]}"; do opts+=(-o "$s"); done
    rc=0
    MTCBIND_BENCH_INNER=1 BENCH_RESULTS=$RES MTCBIND_BENCH_SOCKDIR=$SOCKDIR \
        pg_virtualenv -t "${opts[@]}" bash "${BASH_SOURCE[0]}" || rc=$?
    rm -rf "$SOCKDIR"
    [ "$rc" -eq 0 ] && progress "bench: results in $RES"
    exit "$rc"
fi

##############################################################################
# Inside the throwaway cluster.
##############################################################################
RES=$BENCH_RESULTS
LOGDIR=$RES/pgbench-logs
SCRIPTS=$RES/scripts
mkdir -p "$LOGDIR" "$SCRIPTS"
cd "$RES"
exec > >(tee -a "$RES/report.txt")
STARTED=$(now)

# Clients connect over the private socket (trusted: only root and the
# server's owner can open that directory), unless BENCH_TCP=1.
if [ "${BENCH_TCP:-0}" = 0 ]; then
    hba=$(sql postgres -c "SHOW hba_file")
    sed -i '1i local all all trust' "$hba"
    sql postgres -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    export PGHOST=$MTCBIND_BENCH_SOCKDIR
    CONNECTION="Unix socket"
else
    CONNECTION="TCP to localhost"
fi
sql postgres -c "SELECT 1" >/dev/null

printf 'phase\tscript\tclients\trun\tpairs\ttps\tp50_ms\tp99_ms\tlogged\tfailed\n' > "$RES/runs.tsv"
# A value of the run, for env.tsv and the report.
envline() { printf '%s\t%s\n' "$1" "$2" >> "$RES/env.tsv"; printf '  %-28s %s\n' "$1" "$2"; }

header() {
    : > "$RES/env.tsv"
    say "mtcbind benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')${QUICK:+ — QUICK RUN (figures indicative only)}"
    say ""
    say "Machine and versions:"
    envline cpu "$(lscpu | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }'), $NCPU cores$(lscpu | grep -q '^Hypervisor' && echo " ($(lscpu | awk -F: '/^Hypervisor vendor/ { gsub(/^ +/, "", $2); print $2 }'))")"
    envline memory "$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)"
    envline kernel "$(uname -r)"
    envline postgresql "$(sql postgres -c 'SELECT version()')"
    envline pgbench "$(pgbench --version)"
    envline openssl "$(openssl version 2>/dev/null || echo '?'); mtcbind.so links $(ldd "$(pg_config --pkglibdir)/mtcbind.so" | awk '/libcrypto/ { print $1 }')"
    envline mtcbind "$(sql postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'mtcbind'") (installed $(stat -c %y "$(pg_config --pkglibdir)/mtcbind.so" | cut -d. -f1))"
    local tree
    tree=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')
    git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || tree="$tree (src/ modified)"
    if [ -f "$TOP/mtcbind.so" ]; then
        cmp -s "$TOP/mtcbind.so" "$(pg_config --pkglibdir)/mtcbind.so" && tree="$tree, installed mtcbind.so = tree's build" ||
            tree="$tree, installed mtcbind.so differs from the tree's build"
    else
        tree="$tree, not built here: the installed mtcbind.so is not compared with it (make bench builds and installs first)"
    fi
    envline tree "$tree"
    say ""
    say "Server settings (one cluster for every run):"
    sql postgres -F $'\t' -c "
        SELECT name, current_setting(name) FROM pg_settings
         WHERE name IN ('shared_buffers', 'max_connections', 'fsync', 'synchronous_commit', 'full_page_writes',
                        'wal_level', 'wal_buffers', 'max_wal_size', 'checkpoint_timeout', 'jit', 'autovacuum',
                        'huge_pages', 'work_mem', 'shared_preload_libraries', 'max_parallel_workers_per_gather',
                        'effective_io_concurrency', 'wal_compression')
         ORDER BY name" | while IFS=$'\t' read -r k v; do envline "$k" "$v"; done
    say ""
    say "Run:"
    envline connection "$CONNECTION"
    envline pgbench "-M prepared, -j min(clients, $NCPU), per-transaction log sampled at $SAMPLING"
    envline clients "$CLIENTS"
    envline runs "$RUNS of ${SECS}s each (median reported)"
    envline pairs "$PAIRS bound pairs for the client matrix"
    envline scales "$SCALES bindings, $SCALE_CLIENTS clients"
    envline memory_requests "$MEM_REQUESTS"
    envline provision_rows "$PROV_ROWS"
    envline events_per_type "$EVENTS_PER_TYPE"
    envline results "$RES"
    say ""
}

# A fresh database with mtcbind, the identity helpers and the floor
# functions, and pairs 1 .. $2 bound.
make_db() {
    local db=$1 pairs=$2
    sql postgres -c "CREATE DATABASE $db"
    sql "$db" -f "$TB/fleet_setup.sql" >/dev/null
    sql "$db" -f "$TB/floor_setup.sql" >/dev/null
    if [ "$pairs" -gt 0 ]; then
        sql "$db" -c "CALL public.fleet_load(1, $pairs)" -c "VACUUM ANALYZE"
    fi
}

# The \set lines of a pgbench script (they compute :n and the ICCID's check digit).
set_lines() { grep '^\\set' "$1"; }

##############################################################################
# The paths, their floors, the alternative
##############################################################################
# name | script | PGOPTIONS
declare -A SCRIPT OPTS LABEL FLOOR ALT
PATHS="rekey_off rekey_on first_use refusal"
LABEL[rekey_off]="re-keying, log off"; LABEL[rekey_on]="re-keying, logged"
LABEL[first_use]="first use"; LABEL[refusal]="refusal"
SCRIPT[rekey_off]=$TB/fleet_rekey.sql;  OPTS[rekey_off]="-c mtcbind.log_key_issue=off"
SCRIPT[rekey_on]=$TB/fleet_rekey.sql;   OPTS[rekey_on]="-c mtcbind.log_key_issue=on"
SCRIPT[first_use]=$TB/fleet_first_use.sql; OPTS[first_use]=""
SCRIPT[refusal]=$TB/fleet_refusal.sql;  OPTS[refusal]=""
# The floor of re-keying with log_key_issue = off; also timed at each size
# of the scale phase, where what the hardware and PostgreSQL's buffers cost
# a larger table shows in it as much as in the paths.
SCRIPT[read]=$TB/floor_read.sql; OPTS[read]=${OPTS[rekey_off]}; LABEL[read]="indexed read"
declare -A PROBE_KIND
PROBE_KIND[rekey_off]=rekey; PROBE_KIND[rekey_on]=rekey; PROBE_KIND[first_use]=first_use; PROBE_KIND[refusal]=refusal
declare -A PROBE_N
PROBE_N[rekey_off]=1; PROBE_N[rekey_on]=1; PROBE_N[first_use]=999999999999; PROBE_N[refusal]=1
declare -A EXPECT
EXPECT[rekey_off]=granted; EXPECT[rekey_on]=granted; EXPECT[first_use]=bound; EXPECT[refusal]=rejected

# Runs one path once in a transaction of its own on a fresh connection and
# records what it wrote (floor_setup.sql), and what it announced.
probe() {
    local db=$1 path=$2 out outcome
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<EOF
LISTEN mtcbind_rejected;
BEGIN;
$( [ "$path" = rekey_off ] && echo "SET LOCAL mtcbind.log_key_issue = off;" || echo "SET LOCAL mtcbind.log_key_issue = on;" )
SELECT public.floor_snapshot();
SELECT 'outcome:' || outcome || ':' || coalesce(reason, '') FROM public.fleet_request('${PROBE_KIND[$path]}', ${PROBE_N[$path]});
SELECT public.floor_capture('$path');
COMMIT;
SELECT 1;
EOF
)
    outcome=$(awk -F: '/^outcome:/ { print $2; exit }' <<<"$out")
    [ "$outcome" = "${EXPECT[$path]}" ] || die "probe of $path: outcome '$outcome', expected ${EXPECT[$path]}: $out"
    # Asynchronous notification "mtcbind_rejected" with payload "{...}" received from server process with PID 123.
    sed -n 's/^Asynchronous notification "\([^"]*\)" with payload "\(.*\)" received from server process.*/\1\t\2/p' <<<"$out" |
        while IFS=$'\t' read -r channel payload; do
            echo "INSERT INTO public.floor_probe_notify VALUES ('$path', :'ch', :'pl');" |
                sql "$db" -v ch="$channel" -v pl="$payload"
        done
}

# Loads test/bench/plpgsql_contract.sql (schema alt) if present and checks
# that it answers as mtcbind does; copies the bindings and events into it.
setup_alt() {
    local db=$1 f=$TB/plpgsql_contract.sql check
    ALT_OK=
    if [ ! -f "$f" ]; then
        say "PL/pgSQL alternative: $f not found — HOOK: the alt columns stay empty"
        return 0
    fi
    if ! sql "$db" -f "$f" >"$LOGDIR/alt_setup.log" 2>&1; then
        say "PL/pgSQL alternative: loading $f failed (see $LOGDIR/alt_setup.log); alt columns stay empty"
        return 0
    fi
    # Same rows as mtcbind's tables, column by column where names match.
    sql "$db" >/dev/null <<'EOF'
DO $$
DECLARE
    pair record;
    cols text;
BEGIN
    FOR pair IN SELECT * FROM (VALUES ('mtcbind.binding', 'alt.binding'),
                                      ('mtcbind.binding_event', 'alt.binding_event')) v(src, dst) LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
         WHERE a.attrelid = pair.dst::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND EXISTS (SELECT FROM pg_attribute b WHERE b.attrelid = pair.src::regclass
                          AND b.attname = a.attname AND NOT b.attisdropped);
        EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %s', pair.dst, cols, cols, pair.src);
    END LOOP;
END
$$;
SELECT setval(pg_get_serial_sequence('alt.binding', 'binding_id'), (SELECT max(binding_id) FROM alt.binding));
SELECT setval(pg_get_serial_sequence('alt.binding_event', 'event_id'), (SELECT max(event_id) FROM alt.binding_event));
VACUUM ANALYZE alt.binding;
VACUUM ANALYZE alt.binding_event;
EOF
    # Same answers, same key for the same RANDs.
    check=$(sql "$db" -c "
        WITH g AS (SELECT * FROM alt.request_key('\x6e61662e6578616d706c652e6f72670100000002'::bytea,
                        'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                        '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea,
                        now() + interval '1 day', 'dev-2', public.fleet_iccid(2),
                        imei => public.fleet_imei(2), imsi => public.fleet_imsi(2)))
        SELECT g.outcome || ':' || (g.ks_local = mtcbind.ks_local(
                   '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea,
                   'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                   public.fleet_iccid(2), 'dev-2', '', '', g.rand_x, g.rand_y))::text FROM g" 2>&1) || true
    if [ "$check" != "granted:true" ]; then
        say "PL/pgSQL alternative: a re-keying of pair 2 gave '$check', not a granted key equal to mtcbind.ks_local's; alt columns stay empty"
        return 0
    fi
    check=$(sql "$db" -c "
        SELECT string_agg(r.outcome || '/' || coalesce(r.reason, ''), ' ' ORDER BY k)
          FROM (VALUES (1, 'new-', 999999999997::bigint, '3'), (2, 'thief-', 3, '4')) v(k, prefix, n, imei_prefix),
               LATERAL alt.request_key('\x6e61662e6578616d706c652e6f72670100000002'::bytea,
                        'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                        '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea,
                        now() + interval '1 day', v.prefix || v.n, public.fleet_iccid(v.n),
                        imei => public.fleet_imei(v.n, v.imei_prefix), imsi => public.fleet_imsi(v.n)) r" 2>&1) || true
    if [ "$check" != "bound/ rejected/uicc_bound_elsewhere" ]; then
        say "PL/pgSQL alternative: first use and refusal gave '$check'; alt columns stay empty"
        return 0
    fi
    for p in $PATHS; do
        sed 's/mtcbind\.request_key(/alt.request_key(/' "${SCRIPT[$p]}" > "$SCRIPTS/alt_$p.sql"
        SCRIPT[alt_$p]=$SCRIPTS/alt_$p.sql
        OPTS[alt_$p]=${OPTS[$p]}
        ALT[$p]=alt_$p
    done
    ALT_OK=1
    say "PL/pgSQL alternative: test/bench/plpgsql_contract.sql loaded (schema alt), same answers and keys as mtcbind"
}

# Compares the rows written by one transaction of a path's script and of its
# floor's (pgbench -t 1, statistics counters), table family by family.
check_writes() {
    local db=$1 path=$2 floor=$3 pw fw
    pw=$(writes_of "$db" "${SCRIPT[$path]}" "${OPTS[$path]}" "$PAIRS")
    fw=$(writes_of "$db" "${SCRIPT[$floor]}" "${OPTS[$floor]}" "$PAIRS")
    local ps fs
    # inserted, updated, of which HOT, deleted: a floor whose updates are not
    # HOT (or are when the path's are not) pays other index work
    ps=$(awk 'NF { print $1, $2, $3, $4, $5 }' <<<"$pw" | sed -E 's/^floor_//; s/_(p[0-9]{8}|default) / /' | sort | tr '\n' ';')
    fs=$(awk 'NF { print $1, $2, $3, $4, $5 }' <<<"$fw" | sed -E 's/^floor_//; s/_(p[0-9]{8}|default) / /' | sort | tr '\n' ';')
    local pdesc fdesc
    pdesc=$(awk 'NF { printf "%s%s: %s ins, %s upd (%s HOT)", (NR > 1 ? "; " : ""), $1, $2, $3, $4 }' <<<"$pw")
    fdesc=$(awk 'NF { printf "%s%s: %s ins, %s upd (%s HOT)", (NR > 1 ? "; " : ""), $1, $2, $3, $4 }' <<<"$fw")
    say "  $(printf '%-16s' "$path") ${pdesc:-no rows written}"
    say "  $(printf '%-16s' "$floor") ${fdesc:-no rows written}"
    if [ "$ps" = "$fs" ]; then
        say "  $(printf '%-16s' '') same rows per table: yes"
    else
        say "  $(printf '%-16s' '') same rows per table: NO — the floor does not mirror the path"
        WRITE_MISMATCH=1
    fi
}

phase_matrix() {
    local db=bench
    say "== Paths against their floors ($PAIRS bound pairs) =="
    make_db "$db" "$PAIRS"
    # Warm-up calls: anything a path writes only once (a cache, a first
    # sighting) is written now, not in the probes.
    sql "$db" -c "SELECT * FROM public.fleet_request('first_use', 999999999998)" \
              -c "SELECT * FROM public.fleet_request('rekey', 2)" \
              -c "SELECT * FROM public.fleet_request('refusal', 2)" >/dev/null
    for p in first_use rekey_on rekey_off refusal; do probe "$db" "$p"; done
    say "What each path writes (probe: one call in its own transaction; rows found by xmin and xmax, counters from pg_stat_xact_all_tables):"
    sql "$db" -F $'\t' -c "
        SELECT s.path, s.rel::text, s.ins, s.upd, s.hot_upd, s.del
          FROM public.floor_probe_stat s ORDER BY array_position(ARRAY['rekey_off','rekey_on','first_use','refusal'], s.path), s.rel::text" |
        while IFS=$'\t' read -r path rel ins upd hot del; do
            say "  $(printf '%-10s %-34s' "$path" "$rel") inserted $ins, updated $upd ($hot HOT), deleted $del"
        done
    sql "$db" -F $'\t' -c "SELECT path, rel::text, count(*) FROM public.floor_probe_row WHERE op = 'lock' GROUP BY 1, 2 ORDER BY 1, 2" |
        while IFS=$'\t' read -r path rel n; do
            say "  $(printf '%-10s %-34s' "$path" "$rel") locked $n row(s) (SELECT ... FOR UPDATE: xmax set, WAL written)"
        done
    sql "$db" -F $'\t' -c "SELECT path, rel::text, op, after FROM public.floor_probe_row ORDER BY path, ord" > "$RES/probe_rows.tsv"
    sql "$db" -F $'\t' -c "SELECT path, channel, payload FROM public.floor_probe_notify" | while IFS=$'\t' read -r path ch pl; do
        say "  $(printf '%-10s' "$path") NOTIFY $ch '$pl'"
    done
    say "  (every row written: $RES/probe_rows.tsv)"
    [ -z "$(sql "$db" -c "SELECT 1 FROM public.floor_probe_stat WHERE path = 'rekey_off' LIMIT 1")" ] ||
        say "  NOTE: re-keying with log_key_issue = off wrote rows; its floor (a read) writes none"

    # The floors.
    sql "$db" -c "SELECT public.floor_make()" >/dev/null
    FLOOR[rekey_off]=read
    local p stmt
    for p in rekey_on first_use refusal; do
        stmt=$(sql "$db" -c "SELECT public.floor_statement('$p', public.floor_idmap('${PROBE_KIND[$p]}', ${PROBE_N[$p]}))")
        [ -n "$stmt" ] || die "the probe of $p wrote nothing: no floor to build"
        {
            echo "-- Floor of ${LABEL[$p]} (generated by scripts/bench/run.sh from the probe's rows; test/bench/floor_setup.sql)."
            set_lines "${SCRIPT[$p]}"
            printf '%s\n' "$stmt"
        } > "$SCRIPTS/floor_$p.sql"
        SCRIPT[floor_$p]=$SCRIPTS/floor_$p.sql; OPTS[floor_$p]=""; FLOOR[$p]=floor_$p
    done
    say ""
    say "The floors (generated into $SCRIPTS/):"
    say "  read             test/bench/floor_read.sql: SELECT * FROM mtcbind.binding WHERE iccid = ..."
    for p in rekey_on first_use refusal; do
        say "  floor_$p:"
        grep -v '^\\set\|^--' "$SCRIPTS/floor_$p.sql" | sed 's/^/      /'
    done

    setup_alt "$db"
    say ""
    say "Rows written by one pgbench transaction of each script (statistics counters):"
    WRITE_MISMATCH=
    for p in $PATHS; do check_writes "$db" "$p" "${FLOOR[$p]}"; done
    say ""

    # Every script of the matrix, each pair's path, floor and alternative side by side.
    local list=() s
    for p in $PATHS; do
        list+=("$p" "${FLOOR[$p]}")
        [ -n "$ALT_OK" ] && list+=("${ALT[$p]}")
    done
    progress "warm-up: each script 1 s at 2 clients"
    for s in "${list[@]}"; do
        pgbench_once "$db" "${SCRIPT[$s]}" 2 1 "$PAIRS" "${OPTS[$s]}" warmup >/dev/null || die "warm-up of $s failed"
    done
    sql "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"

    local total=0 k=0 c r res t0
    for c in $CLIENTS; do total=$((total + RUNS * ${#list[@]})); done
    t0=$(now)
    for c in $CLIENTS; do
        for r in $(seq 1 "$RUNS"); do
            for s in "${list[@]}"; do
                k=$((k + 1))
                local left
                left=$(awk -v e="$(elapsed "$t0")" -v k="$k" -v t="$total" -v d="$SECS" \
                           'BEGIN { if (k > 1) printf "%d", e / (k - 1) * (t - k + 1); else printf "%d", t * (d + 1) }')
                printf '[%d/%d] %s c=%s run %d/%d (~%s left) ... ' "$k" "$total" "$s" "$c" "$r" "$RUNS" "$(hms "$left")" >&2
                if ! res=$(pgbench_once "$db" "${SCRIPT[$s]}" "$c" "$SECS" "$PAIRS" "${OPTS[$s]}" "$s"); then
                    progress "failed; once more"
                    res=$(pgbench_once "$db" "${SCRIPT[$s]}" "$c" "$SECS" "$PAIRS" "${OPTS[$s]}" "$s") || die "$s at $c clients failed twice"
                fi
                progress "$(awk '{ printf "%.0f tps, p50 %s ms, p99 %s ms", $1, $2, $3 }' <<<"$res")"
                printf 'matrix\t%s\t%s\t%s\t%s\t%s\n' "$s" "$c" "$r" "$PAIRS" "$(tr ' ' '\t' <<<"$res")" >> "$RES/runs.tsv"
            done
        done
    done
    summarize_matrix
}

# Median of one column of runs.tsv for a phase, script, clients (and pairs).
med() {
    awk -F'\t' -v ph="$1" -v s="$2" -v c="$3" -v col="$4" -v pairs="${5:-}" \
        'NR > 1 && $1 == ph && $2 == s && $3 == c && (pairs == "" || $5 == pairs) { print $col }' "$RES/runs.tsv" | median
}

summarize_matrix() {
    printf 'path\tlabel\tclients\ttps\tp50_ms\tp99_ms\tfloor\tfloor_tps\tfloor_p50_ms\tfloor_p99_ms\tratio_floor\talt_tps\talt_p50_ms\talt_p99_ms\tratio_alt\n' > "$RES/summary.tsv"
    say "== Results: median of $RUNS run(s) of ${SECS}s; ratio = path tps / floor tps (and / PL/pgSQL tps), same run =="
    say ""
    local p c f a tps p50 p99 ftps fp50 fp99 atps ap50 ap99 rf ra
    for p in $PATHS; do
        f=${FLOOR[$p]}; a=${ALT[$p]:-}
        say "${LABEL[$p]}  (floor: $f${a:+; alternative: $a})"
        say "  clients |   path tps  p50 ms  p99 ms |  floor tps  p50 ms  p99 ms | ratio |    alt tps  p50 ms  p99 ms | path/alt"
        for c in $CLIENTS; do
            tps=$(med matrix "$p" "$c" 6); p50=$(med matrix "$p" "$c" 7); p99=$(med matrix "$p" "$c" 8)
            ftps=$(med matrix "$f" "$c" 6); fp50=$(med matrix "$f" "$c" 7); fp99=$(med matrix "$f" "$c" 8)
            rf=$(ratio "$tps" "$ftps")
            atps=; ap50=; ap99=; ra=
            if [ -n "$a" ]; then
                atps=$(med matrix "$a" "$c" 6); ap50=$(med matrix "$a" "$c" 7); ap99=$(med matrix "$a" "$c" 8)
                ra=$(ratio "$tps" "$atps")
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "${LABEL[$p]}" "$c" "$tps" "$p50" "$p99" \
                "$f" "$ftps" "$fp50" "$fp99" "$rf" "$atps" "$ap50" "$ap99" "$ra" >> "$RES/summary.tsv"
            say "$(printf '  %7s | %10.0f %7.3f %7.3f | %10.0f %7.3f %7.3f | %5s | %10s %7s %7s | %s' \
                "$c" "$tps" "$p50" "$p99" "$ftps" "$fp50" "$fp99" "$rf" \
                "$( [ -n "$atps" ] && printf '%.0f' "$atps" || echo -)" "${ap50:--}" "${ap99:--}" "${ra:--}")"
        done
        say ""
    done
}

# Bytes of the binding table and of the event log, per row.
sizes() {
    local db=$1 label=$2
    sql "$db" -F $'\t' -c "
        WITH b AS (SELECT count(*) AS n, pg_relation_size('mtcbind.binding') AS heap,
                          pg_indexes_size('mtcbind.binding') AS idx,
                          pg_total_relation_size('mtcbind.binding') AS total FROM mtcbind.binding),
             leaves AS (SELECT relid FROM pg_partition_tree('mtcbind.binding_event') WHERE isleaf),
             e AS (SELECT (SELECT count(*) FROM mtcbind.binding_event) AS n,
                          sum(pg_relation_size(relid)) AS heap, sum(pg_indexes_size(relid)) AS idx,
                          sum(pg_total_relation_size(relid)) AS total FROM leaves)
        SELECT '$label', b.n, b.heap, b.idx, b.total, round(b.heap::numeric / b.n, 1), round(b.idx::numeric / b.n, 1),
               round(b.total::numeric / b.n, 1),
               e.n, e.heap, e.idx, e.total, round(e.heap::numeric / nullif(e.n, 0), 1), round(e.idx::numeric / nullif(e.n, 0), 1),
               round(e.total::numeric / nullif(e.n, 0), 1)
          FROM b, e" >> "$RES/sizes.tsv"
    tail -1 "$RES/sizes.tsv" | awk -F'\t' '{
        printf "  sizes after the %s step (the load, then the runs'\'' first uses): %d bindings, table %.1f MB + indexes %.1f MB = %.0f + %.0f = %.0f bytes per binding\n", $1, $2, $3 / 1048576, $4 / 1048576, $6, $7, $8
        printf "  %s events (the load'\''s bound events and the runs'\'' events), heap %.1f MB + indexes %.1f MB = %.0f + %.0f = %.0f bytes per event\n", $9, $10 / 1048576, $11 / 1048576, $13, $14, $15 }'
}

phase_scale() {
    local db=scale loaded=0 n p r res t0 took
    say "== Scale: re-keying and first use with more bindings ($SCALE_CLIENTS clients, median of $RUNS) =="
    printf 'label\tbindings\theap\tindexes\ttotal\theap_per_binding\tindexes_per_binding\ttotal_per_binding\tevents\tevent_heap\tevent_indexes\tevent_total\theap_per_event\tindexes_per_event\ttotal_per_event\n' > "$RES/sizes.tsv"
    printf 'bindings\tload_s\tvacuum_s\n' > "$RES/scale_load.tsv"
    make_db "$db" 0
    for n in $SCALES; do
        progress "scale: loading bindings $((loaded + 1)) .. $n"
        t0=$(now)
        sql "$db" -c "CALL public.fleet_load($((loaded + 1)), $n)"
        took=$(elapsed "$t0")
        t0=$(now)
        sql "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
        local vac
        vac=$(elapsed "$t0")
        printf '%s\t%s\t%s\n' "$n" "$took" "$vac" >> "$RES/scale_load.tsv"
        say "  loaded $((n - loaded)) pairs in one INSERT ... SELECT (bindings and their audit events) in ${took}s; VACUUM ANALYZE + CHECKPOINT ${vac}s"
        loaded=$n
        for r in $(seq 1 "$RUNS"); do
            for p in rekey_off read rekey_on first_use; do
                progress "scale $n: $p c=$SCALE_CLIENTS run $r/$RUNS"
                res=$(pgbench_once "$db" "${SCRIPT[$p]}" "$SCALE_CLIENTS" "$SECS" "$n" "${OPTS[$p]}" "scale_$p") ||
                    res=$(pgbench_once "$db" "${SCRIPT[$p]}" "$SCALE_CLIENTS" "$SECS" "$n" "${OPTS[$p]}" "scale_$p") ||
                    die "scale $n: $p failed twice"
                printf 'scale\t%s\t%s\t%s\t%s\t%s\n' "$p" "$SCALE_CLIENTS" "$r" "$n" "$(tr ' ' '\t' <<<"$res")" >> "$RES/runs.tsv"
            done
        done
        sizes "$db" "$n"
    done
    printf 'path\tbindings\ttps\tp50_ms\tp99_ms\tratio_to_smallest\n' > "$RES/scale.tsv"
    local first=${SCALES%% *}
    say ""
    say "  path                  bindings        tps  p50 ms  p99 ms  / at $first"
    for p in rekey_off read rekey_on first_use; do
        local base
        base=$(med scale "$p" "$SCALE_CLIENTS" 6 "$first")
        for n in $SCALES; do
            local tps p50 p99
            tps=$(med scale "$p" "$SCALE_CLIENTS" 6 "$n"); p50=$(med scale "$p" "$SCALE_CLIENTS" 7 "$n"); p99=$(med scale "$p" "$SCALE_CLIENTS" 8 "$n")
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$n" "$tps" "$p50" "$p99" "$(ratio "$tps" "$base")" >> "$RES/scale.tsv"
            say "$(printf '  %-20s %9s %10.0f %7.3f %7.3f  %s' "${LABEL[$p]}" "$n" "$tps" "$p50" "$p99" "$(ratio "$tps" "$base")")"
        done
    done
    say "  (first use adds bindings as it runs: the table holds more than the label by the end of each step;"
    say "   the indexed read, the floor of re-keying with log_key_issue = off, is no target: it shows what"
    say "   a larger table costs PostgreSQL itself on this machine)"
    say ""
}

# Bytes on disk per key_issued and per rejected event: the growth of the
# event log's partitions (heap, indexes) over N events of one kind.
phase_events() {
    local db=evsize half=$((EVENTS_PER_TYPE / 2)) s0 s1 s2
    say "== Bytes per event on disk ($EVENTS_PER_TYPE events of each kind, growth of the event partitions) =="
    make_db "$db" 1000
    sql "$db" -c "CHECKPOINT" >/dev/null
    # Sizes after VACUUM: two clients inserting at once make PostgreSQL
    # extend a table by several empty pages at a time, which later rows fill;
    # VACUUM returns the empty tail, so that what is measured is the rows.
    evsize() {
        sql "$db" -c "VACUUM mtcbind.binding_event" >/dev/null
        sql "$db" -F ' ' -c "SELECT (SELECT count(*) FROM mtcbind.binding_event), sum(pg_relation_size(relid)), sum(pg_indexes_size(relid)),
                                    sum(pg_total_relation_size(relid))
                               FROM pg_partition_tree('mtcbind.binding_event') WHERE isleaf"
    }
    s0=$(evsize)
    progress "events: $EVENTS_PER_TYPE key_issued"
    PGOPTIONS="-c mtcbind.log_key_issue=on" pgbench -n -M prepared -c 2 -j 2 -t "$half" -D pairs=1000 -f "${SCRIPT[rekey_on]}" "$db" >/dev/null 2>&1 ||
        die "events: re-keying failed"
    s1=$(evsize)
    progress "events: $EVENTS_PER_TYPE rejected"
    pgbench -n -M prepared -c 2 -j 2 -t "$half" -D pairs=1000 -f "${SCRIPT[refusal]}" "$db" >/dev/null 2>&1 || die "events: refusals failed"
    s2=$(evsize)
    # The size of a compact log (1.1): rows, then heap, indexes and total of
    # its partitions and its table of codes (after VACUUM, as above).
    compact_size() { # log, codes
        sql "$db" -c "VACUUM mtcbind.$1, mtcbind.$2" >/dev/null
        sql "$db" -F ' ' -c "SELECT (SELECT count(*) FROM mtcbind.$1),
                                    sum(pg_relation_size(relid)) + pg_relation_size('mtcbind.$2'),
                                    sum(pg_indexes_size(relid)) + pg_indexes_size('mtcbind.$2'),
                                    sum(pg_total_relation_size(relid)) + pg_total_relation_size('mtcbind.$2')
                               FROM pg_partition_tree('mtcbind.$1') WHERE isleaf"
    }
    kisize() { compact_size key_issue key_issuer; }
    rfsize() { compact_size refusal refusal_subject; }
    # The same key issues in the compact log (mtcbind.key_issue_log =
    # compact): its partitions and the table of issuer codes.
    local c0="" c1=""
    if [ "$(sql "$db" -c "SELECT to_regclass('mtcbind.key_issue') IS NOT NULL")" = t ]; then
        c0=$(kisize)
        progress "events: $EVENTS_PER_TYPE key issues, compact log"
        PGOPTIONS="-c mtcbind.log_key_issue=on -c mtcbind.key_issue_log=compact" \
            pgbench -n -M prepared -c 2 -j 2 -t "$half" -D pairs=1000 -f "${SCRIPT[rekey_on]}" "$db" >/dev/null 2>&1 ||
            die "events: re-keying (compact) failed"
        c1=$(kisize)
    fi
    # The same refusals in the compact refusal log (mtcbind.refusal_log =
    # compact, 1.1): its partitions and the table of codes.  Once as above
    # (each card refused 50 times in a day, with the same device: one code
    # each), once with every refusal different (a new code each time).
    local r0="" r1="" r2=""
    if [ "$(sql "$db" -c "SELECT to_regclass('mtcbind.refusal') IS NOT NULL")" = t ]; then
        r0=$(rfsize)
        progress "events: $EVENTS_PER_TYPE refusals, compact log"
        PGOPTIONS="-c mtcbind.refusal_log=compact" \
            pgbench -n -M prepared -c 2 -j 2 -t "$half" -D pairs=1000 -f "${SCRIPT[refusal]}" "$db" >/dev/null 2>&1 ||
            die "events: refusals (compact) failed"
        r1=$(rfsize)
        progress "events: $EVENTS_PER_TYPE refusals, compact log, each one different"
        PGOPTIONS="-c mtcbind.refusal_log=compact" \
            pgbench -n -M prepared -c 2 -j 2 -t "$half" -D pairs=1000 -f "$TB/fleet_refusal_unique.sql" "$db" >/dev/null 2>&1 ||
            die "events: refusals (compact, each different) failed"
        r2=$(rfsize)
    fi
    printf 'event\tcount\theap_per_event\tindexes_per_event\ttotal_per_event\n' > "$RES/events.tsv"
    { echo "key_issued $s0 $s1"; echo "rejected $s1 $s2"; [ -n "$c1" ] && echo "key_issued(compact) $c0 $c1"
      [ -n "$r1" ] && echo "rejected(compact) $r0 $r1" && echo "rejected(compact,all-new) $r1 $r2"; } | awk '{
        n = $6 - $2; printf "%s\t%d\t%.1f\t%.1f\t%.1f\n", $1, n, ($7 - $3) / n, ($8 - $4) / n, ($9 - $5) / n }' >> "$RES/events.tsv"
    tail -n +2 "$RES/events.tsv" | awk -F'\t' '{ printf "  %-26s %d events: heap %.1f + indexes %.1f = %.1f bytes per event\n", $1, $2, $3, $4, $5 }' |
        while IFS= read -r l; do say "$l"; done
    say ""
}

# One session, MEM_REQUESTS requests over the protocol (PREPARE/EXECUTE), its
# memory read from inside at fixed counts: the memory contexts
# (pg_backend_memory_contexts) and the process (/proc/self/status).
phase_memory() {
    local db=mem t0 took
    say "== A backend's memory over $MEM_REQUESTS requests (one session; per 100: 98 logged re-keyings, 1 first use, 1 refusal; synchronous_commit = off) =="
    make_db "$db" "$PAIRS"
    printf 'requests\tcontexts_total_bytes\tcontexts_used_bytes\tcontexts\tvmrss_kb\trssanon_kb\tvmhwm_kb\n' > "$RES/memory.tsv"
    progress "memory: $MEM_REQUESTS requests in one session"
    t0=$(now)
    awk -v total="$MEM_REQUESTS" -v pairs="$PAIRS" '
        function iccid(n,    body, s, i, k, d) {
            body = "8949" sprintf("%014.0f", n); s = 0; k = 0
            for (i = length(body); i >= 1; i--) {
                d = substr(body, i, 1) + 0; k++
                if (k % 2 == 1) { d *= 2; if (d > 9) d -= 9 }
                s += d
            }
            return body ((10 - s % 10) % 10)
        }
        function sample(i) {
            print "\\o"
            print "SELECT '\''mem'\'', " i ", (SELECT sum(total_bytes) FROM pg_backend_memory_contexts), (SELECT sum(used_bytes) FROM pg_backend_memory_contexts), (SELECT count(*) FROM pg_backend_memory_contexts), substring(s from '\''VmRSS:\\s+(\\d+)'\''), substring(s from '\''RssAnon:\\s+(\\d+)'\''), substring(s from '\''VmHWM:\\s+(\\d+)'\'') FROM pg_read_file('\''/proc/self/status'\'') s;"
            print "SELECT '\''ctx'\'', " i ", name, total_bytes FROM pg_backend_memory_contexts ORDER BY total_bytes DESC LIMIT 5;"
            print "\\o /dev/null"
        }
        BEGIN {
            print "SET synchronous_commit = off;"
            print "PREPARE rk(text, mtcbind.iccid, mtcbind.imei, mtcbind.imsi) AS SELECT outcome FROM mtcbind.request_key('\''\\x6e61662e6578616d706c652e6f72670100000002'\''::bytea, '\''I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'\'', '\''\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'\''::bytea, now() + interval '\''1 day'\'', $1, $2, imei => $3, imsi => $4);"
            print "\\o /dev/null"
            sample(0)
            for (i = 1; i <= total; i++) {
                if (i % 100 == 50) { n = 5000000000000 + i; t = "new-" n; p = "3" }
                else if (i % 100 == 99) { n = int(i / 100) % pairs + 1; t = "thief-" n; p = "4" }
                else { n = i % pairs + 1; t = "dev-" n; p = "3" }
                printf "EXECUTE rk('\''%s'\'', '\''%s'\'', '\''%s%013.0f'\'', '\''00%013.0f'\'');\n", t, iccid(n), p, n, n
                if (i == 1000 || i == 10000 || i == 100000 || i == 1000000 || i == total) sample(i)
            }
        }' | psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" > "$LOGDIR/memory.out" || die "memory: the session failed (see $LOGDIR/memory.out)"
    took=$(elapsed "$t0")
    awk -F'|' '$1 == "mem" { print $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 }' "$LOGDIR/memory.out" | sort -un >> "$RES/memory.tsv"
    say "  $MEM_REQUESTS requests in ${took}s ($(awk -v n="$MEM_REQUESTS" -v t="$took" 'BEGIN { printf "%.0f", n / t }') a second, one session)"
    say "  requests   contexts total  contexts used  contexts   VmRSS kB  RssAnon kB  VmHWM kB"
    tail -n +2 "$RES/memory.tsv" | awk -F'\t' '{ printf "  %8s %15s %14s %9s %10s %11s %9s\n", $1, $2, $3, $4, $5, $6, $7 }' |
        while IFS= read -r l; do say "$l"; done
    awk -F'\t' 'NR > 1 && $1 == 1000 { c0 = $2; a0 = $6 } NR > 1 { c1 = $2; a1 = $6; n1 = $1 }
                END { printf "  growth from 1000 to %d requests: memory contexts %+d bytes, RssAnon %+d kB\n", n1, c1 - c0, a1 - a0 }' "$RES/memory.tsv" |
        while IFS= read -r l; do say "$l"; done
    say "  largest contexts at the end: $(awk -F'|' -v n="$MEM_REQUESTS" '$1 == "ctx" && $2 == n { printf "%s%s %d", (k++ ? ", " : ""), $3, $4 }' "$LOGDIR/memory.out")"
    say ""
}

# Bulk pre-provisioning of PROV_ROWS pairs: plain COPY into a plain table with
# the binding's indexes, against COPY into a staging table + mtcbind.provision
# (or, before 1.1, COPY straight into mtcbind.binding).
phase_provision() {
    local db=prov file=$LOGDIR/provision.tsv t0 plain staging prov direct refused n
    say "== Bulk pre-provisioning of $PROV_ROWS pairs =="
    make_db "$db" 0
    sql "$db" -c "COPY (SELECT 'prov-' || n, public.fleet_iccid(2000000000000 + n), public.fleet_imei(2000000000000 + n),
                               public.fleet_imsi(2000000000000 + n) FROM generate_series(1, $PROV_ROWS) n) TO STDOUT" > "$file"
    sql "$db" -c "SELECT public.floor_copy_table('mtcbind.binding', 'floor_provision', false)" >/dev/null
    sql "$db" -c "CREATE TABLE public.staging (terminal_id text, iccid mtcbind.iccid, imei mtcbind.imei, imsi mtcbind.imsi)" -c "CHECKPOINT"
    printf 'step\tseconds\n' > "$RES/provision.tsv"
    progress "provision: plain COPY"
    t0=$(now); sql "$db" -c "\\copy public.floor_provision (terminal_id, iccid, imei, imsi) FROM '$file'"; plain=$(elapsed "$t0")
    printf 'plain_copy\t%s\n' "$plain" >> "$RES/provision.tsv"
    sql "$db" -c "CHECKPOINT"
    if [ -n "$(sql "$db" -c "SELECT 1 FROM pg_proc WHERE proname = 'provision' AND pronamespace = 'mtcbind'::regnamespace")" ]; then
        progress "provision: COPY into staging, mtcbind.provision"
        t0=$(now); sql "$db" -c "\\copy public.staging FROM '$file'"; staging=$(elapsed "$t0")
        t0=$(now); refused=$(sql "$db" -c "SELECT count(*) FROM mtcbind.provision('public.staging'::regclass)"); prov=$(elapsed "$t0")
        n=$(sql "$db" -c "SELECT count(*) FROM mtcbind.binding")
        printf 'staging_copy\t%s\nprovision\t%s\n' "$staging" "$prov" >> "$RES/provision.tsv"
        PROV_RATIO=$(awk -v a="$staging" -v b="$prov" -v c="$plain" 'BEGIN { printf "%.2f", (a + b) / c }')
        say "  plain COPY into a copy of mtcbind.binding (same indexes, no triggers): ${plain}s"
        say "  COPY into a staging table: ${staging}s; mtcbind.provision('staging'): ${prov}s ($n bound, $refused lines refused)"
        say "  provisioning (staging COPY + provision) / plain COPY: $PROV_RATIO  (provision alone / plain COPY: $(ratio "$prov" "$plain"))"
        # The same load into a second, empty database with audit => 'per_load'
        # (1.1): one 'bound' event for the load instead of one per binding.
        if [ -n "$(sql "$db" -c "SELECT 1 FROM pg_proc WHERE proname = 'provision' AND pronamespace = 'mtcbind'::regnamespace AND pronargs = 4")" ]; then
            progress "provision: COPY into staging, mtcbind.provision(audit => 'per_load')"
            make_db prov_load 0
            sql prov_load -c "CREATE TABLE public.staging (terminal_id text, iccid mtcbind.iccid, imei mtcbind.imei, imsi mtcbind.imsi)" -c "CHECKPOINT"
            t0=$(now); sql prov_load -c "\\copy public.staging FROM '$file'"; staging_load=$(elapsed "$t0")
            t0=$(now); refused=$(sql prov_load -c "SELECT count(*) FROM mtcbind.provision('public.staging'::regclass, audit => 'per_load')"); prov_load=$(elapsed "$t0")
            n=$(sql prov_load -c "SELECT count(*) FROM mtcbind.binding")
            printf 'staging_copy_per_load\t%s\nprovision_per_load\t%s\n' "$staging_load" "$prov_load" >> "$RES/provision.tsv"
            PROV_LOAD_RATIO=$(awk -v a="$staging_load" -v b="$prov_load" -v c="$plain" 'BEGIN { printf "%.2f", (a + b) / c }')
            say "  with audit => 'per_load': COPY into staging ${staging_load}s; provision ${prov_load}s ($n bound, $refused lines refused)"
            say "  provisioning per load (staging COPY + provision) / plain COPY: $PROV_LOAD_RATIO"
            say "  events of the per-load database: $(sql prov_load -c "SELECT string_agg(event || ' ' || n, ', ') FROM (SELECT event, count(*) n FROM mtcbind.binding_event GROUP BY event ORDER BY event) e")"
        fi
    else
        progress "provision: mtcbind.provision missing; COPY into mtcbind.binding"
        t0=$(now); sql "$db" -c "\\copy mtcbind.binding (terminal_id, iccid, imei, imsi) FROM '$file'"; direct=$(elapsed "$t0")
        printf 'copy_into_binding\t%s\n' "$direct" >> "$RES/provision.tsv"
        PROV_RATIO=$(ratio "$direct" "$plain")
        say "  mtcbind.provision is MISSING from the installed extension: timed COPY into mtcbind.binding instead"
        say "  plain COPY: ${plain}s; COPY into mtcbind.binding (with its triggers): ${direct}s; ratio $PROV_RATIO"
    fi
    rm -f "$file"
    say ""
}

# Every target of docs/performance.md against this run's figures.
targets() {
    say "== Targets =="
    printf 'target\tmeasured\tverdict\n' > "$RES/targets.tsv"
    verdict() { # name, measured, ok (1/0)
        local v=MISSED
        [ "$3" = 1 ] && v=met
        [ "$2" = "n/a" ] || [ -z "$2" ] && v="not measured"
        printf '%s\t%s\t%s\n' "$1" "$2" "$v" >> "$RES/targets.tsv"
        say "$(printf '  %-58s %-26s %s' "$1" "$2" "$v")"
    }
    minof() { awk -F'\t' -v p="$1" -v col="$2" 'NR > 1 && $1 == p && $col != "n/a" && $col != "" { if (m == "" || $col < m) m = $col } END { print (m == "" ? "n/a" : m) }' "$RES/summary.tsv"; }
    if [ -f "$RES/summary.tsv" ]; then
        local p m
        for p in $PATHS; do
            m=$(minof "$p" 11)
            verdict "${LABEL[$p]} >= 0.85 x ${FLOOR[$p]}" "min $m over clients" "$(awk -v m="$m" 'BEGIN { print (m + 0 >= 0.85) }')"
        done
        for p in $PATHS; do
            m=$(minof "$p" 15)
            verdict "${LABEL[$p]} >= 1.5 x PL/pgSQL" "$( [ "$m" = n/a ] && echo n/a || echo "min $m over clients")" "$(awk -v m="$m" 'BEGIN { print (m + 0 >= 1.5) }')"
        done
    fi
    if [ -f "$RES/scale.tsv" ]; then
        awk -F'\t' 'NR > 1 && $1 != "read" && $2 != "'"${SCALES%% *}"'" { print $1 "\t" $2 "\t" $6 }' "$RES/scale.tsv" | while IFS=$'\t' read -r p n r; do
            verdict "${LABEL[$p]} at $n >= 0.8 x at ${SCALES%% *}" "$r" "$(awk -v m="$r" 'BEGIN { print (m + 0 >= 0.8) }')"
        done
    fi
    [ -n "${PROV_RATIO:-}" ] && verdict "provisioning $PROV_ROWS <= 2 x plain COPY" "$PROV_RATIO" "$(awk -v m="$PROV_RATIO" 'BEGIN { print (m + 0 <= 2) }')"
    [ -n "${PROV_LOAD_RATIO:-}" ] && verdict "provisioning $PROV_ROWS <= 2 x plain COPY, audit => 'per_load'" "$PROV_LOAD_RATIO" "$(awk -v m="$PROV_LOAD_RATIO" 'BEGIN { print (m + 0 <= 2) }')"
    if [ -f "$RES/events.tsv" ]; then
        tail -n +2 "$RES/events.tsv" | while IFS=$'\t' read -r ev n heap idx total; do
            verdict "$ev event <= 120 bytes on disk (heap + indexes)" "$total (heap $heap)" "$(awk -v m="$total" 'BEGIN { print (m + 0 <= 120) }')"
        done
    fi
    [ -n "${WRITE_MISMATCH:-}" ] && say "  WARNING: some floor does not write the same rows as its path (see above)"
    say ""
}

header
for phase in $PHASES; do
    case $phase in
        matrix) phase_matrix ;;
        scale) phase_scale ;;
        events) phase_events ;;
        memory) phase_memory ;;
        provision) phase_provision ;;
        *) die "unknown phase $phase" ;;
    esac
done
targets
if command -v gnuplot >/dev/null && [ -f "$RES/summary.tsv" ]; then
    bash "$BENCH_DIR/plot.sh" "$RES" "$RES/performance-tps.png" 2>/dev/null && say "plot: $RES/performance-tps.png"
fi
say "Took $(hms "$(elapsed "$STARTED")"); results in $RES (report.txt, env.tsv, runs.tsv, summary.tsv, scale.tsv, sizes.tsv, events.tsv, memory.tsv, provision.tsv, targets.tsv, scripts/)"

# Helpers of scripts/bench/run.sh (sourced, not run).

# A line of the report: stdout (and report.txt, through run.sh's tee).
say() { printf '%s\n' "$*"; }
# A progress line: stderr only.
progress() { printf '%s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# psql against database $1, unaligned, stopping at the first error.
sql() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
hms() { awk -v s="$1" 'BEGIN { s = int(s); if (s >= 60) printf "%dm%02ds", s / 60, s % 60; else printf "%ds", s }'; }

# The median of the numbers on stdin (the mean of the middle two for an even count).
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
                                         else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# p50 and p99 in ms (nearest rank) of the per-transaction latencies in
# pgbench log files $@ (third field, µs; "failed" or skipped lines are left
# out), and how many were logged.
latency_percentiles() {
    cat "$@" 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n |
        awk '{ v[NR] = $1 }
             END { if (NR == 0) { print "nan nan 0"; exit }
                   r50 = int(NR * 0.50); if (r50 < NR * 0.50) r50++; if (r50 < 1) r50 = 1
                   r99 = int(NR * 0.99); if (r99 < NR * 0.99) r99++; if (r99 < 1) r99 = 1
                   printf "%.3f %.3f %d\n", v[r50] / 1000, v[r99] / 1000, NR }'
}

# Runs pgbench once: database, script, clients, seconds, pairs, PGOPTIONS,
# tag (names the log files).  Prints "tps p50_ms p99_ms logged failed" and
# returns 0, or prints pgbench's output to stderr and returns 1.
# -M prepared; one thread per core at most; the per-transaction log is
# sampled at BENCH_SAMPLING (1 = every transaction).
pgbench_once() {
    local db=$1 script=$2 clients=$3 secs=$4 pairs=$5 opts=$6 tag=$7
    local threads=$clients out rc=0 tps failed lat
    [ "$threads" -gt "$NCPU" ] && threads=$NCPU
    rm -f "$LOGDIR/$tag".*
    out=$(cd "$LOGDIR" && PGOPTIONS="$opts" pgbench -n -M prepared -c "$clients" -j "$threads" -T "$secs" \
              -D pairs="$pairs" -f "$script" -l --log-prefix="$LOGDIR/$tag" --sampling-rate="$SAMPLING" \
              "$db" 2>&1) || rc=$?
    tps=$(awk '/^tps = / { printf "%.1f", $3; exit }' <<<"$out")
    failed=$(awk '/^number of failed transactions:/ { print $5; exit }' <<<"$out")
    if [ "$rc" -ne 0 ] || [ -z "$tps" ] || grep -q 'aborted' <<<"$out"; then
        printf '%s\n' "$out" | tail -15 >&2
        rm -f "$LOGDIR/$tag".*
        return 1
    fi
    lat=$(latency_percentiles "$LOGDIR/$tag".*)
    rm -f "$LOGDIR/$tag".*
    printf '%s %s %s\n' "$tps" "$lat" "${failed:-0}"
}

# Rows written per table (inserted, updated, HOT-updated, deleted) by one
# transaction of a pgbench script, from the statistics counters before and
# after pgbench -t 1 (a backend flushes its counters when it exits; we wait
# for them).  Prints "table ins upd hot del" lines, tables of schema mtcbind
# and the floor tables, sorted.
stat_counters() {
    sql "$1" -F ' ' -c "SELECT pg_stat_clear_snapshot()" -c "
        SELECT s.relname, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
          FROM pg_stat_all_tables s
         WHERE s.schemaname = 'mtcbind' OR s.relname LIKE 'floor\_%'
         ORDER BY 1" | tail -n +2
}
writes_of() {
    local db=$1 script=$2 opts=$3 pairs=$4 before after i out
    before=$(stat_counters "$db")
    out=$(cd "$LOGDIR" && PGOPTIONS="$opts" pgbench -n -M prepared -c 1 -t 1 -D pairs="$pairs" -f "$script" "$db" 2>&1) ||
        { printf '%s\n' "$out" >&2; return 1; }
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        sleep 0.1
        after=$(stat_counters "$db")
        [ "$after" != "$before" ] && [ "$i" -ge 3 ] && break
    done
    LC_ALL=C join -a 2 <(printf '%s\n' "$before" | LC_ALL=C sort) <(printf '%s\n' "$after" | LC_ALL=C sort) |
        awk 'NF == 9 { i = $6 - $2; u = $7 - $3; h = $8 - $4; d = $9 - $5 }
             NF == 5 { i = $2; u = $3; h = $4; d = $5 }
             i + u + d > 0 { print $1, i, u, h, d }'
}

# "binding_event_p20261128" -> "binding_event": the parent of a day
# partition, so that the writes of a path and of its floor compare.
table_family() {
    sed -E 's/^floor_//; s/_(p[0-9]{8}|default)$//'
}

#!/usr/bin/env bash
# Micro-benchmark of the key derivation (not a test; figures in docs/kdf.md).
# Builds and installs mtcbind (scripts/setup.sh), runs the raw OpenSSL loop
# of test/bench/kdf_raw.c, then test/bench/kdf_bench.sql on a throwaway
# server started with pg_virtualenv, and prints µs per call and ratios.
#
#   make bench                    1 000 000 derivations per query
#   BENCH_ROWS=200000 make bench  fewer
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-1000000}
bash scripts/setup.sh
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
export PATH=/usr/lib/postgresql/15/bin:$PATH

work=$(mktemp -d /tmp/mtcbind-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== raw OpenSSL loop (test/bench/kdf_raw.c), $rows calls each, µs per call"
${CC:-cc} -O2 -Wall -Wextra -Werror -DMTCBIND_KDF_STANDALONE -Isrc -o "$work/kdf_raw" \
    test/bench/kdf_raw.c src/kdf.c -lcrypto
"$work/kdf_raw" "$rows" | tee "$work/raw.txt"
raw_us=$(awk '$1 == "raw_rekey" { print $2 }' "$work/raw.txt")

echo "== SQL on a throwaway PostgreSQL 15 server"
pg_virtualenv -t -o "jit=off" -o "max_parallel_workers_per_gather=0" \
    psql -X -q -v rows="$rows" -v raw_us="$raw_us" -f test/bench/kdf_bench.sql

echo "OpenSSL: $(openssl version); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"

#!/usr/bin/env bash
# The regression and isolation suites against a server whose mtcbind
# module is built with AddressSanitizer and UBSan.
#
#   bash scripts/sanitize.sh
#
# Builds a copy of the source tree (MTCBIND_SRC, default this checkout)
# with -fsanitize=address,undefined, installs it into a private relocated
# copy of PostgreSQL 15 under a temporary directory (never into the system
# installation), starts a server there with the sanitizer runtime preloaded
# (PostgreSQL itself is not instrumented, so the runtime must come first),
# runs `make installcheck` for pg_regress and then for the isolation specs,
# stops the server and scans its log and the sanitizer report files.
# Prints TAP; exits non-zero on a failed suite or any sanitizer report.
# Everything is kept under /tmp/mtcbind-sanitize.* when something fails.
#
# The server listens on a Unix socket in its own directory only, so it can
# run beside other test runs; run as root, it runs as user postgres.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=${MTCBIND_SRC:-$top}
port=${MTCBIND_SANITIZE_PORT:-54329}
sysbin=/usr/lib/postgresql/15/bin
export PG_CONFIG=$sysbin/pg_config

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
# with_llvm=no: no bitcode, so JIT inlining cannot run uninstrumented copies
# of our functions (the server also runs with jit = off)
build=(PG_CONFIG="$PG_CONFIG" with_llvm=no COPT="$sanitize")

work=$(mktemp -d /tmp/mtcbind-sanitize.XXXXXX)
chmod 755 "$work"
pg="$work/pg"
bin="$pg/usr/lib/postgresql/15/bin"
n=0
failed=0

# Prints one TAP line; $1 is the status of the check (0 is ok).
tap() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        failed=$((failed + 1))
        echo "not ok $n - $2"
    fi
}

# Runs a command as the server's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Stops the server; after a backend died, a fast shutdown can stall in crash
# recovery, so an immediate one follows if it has not ended in 30 seconds.
stop_server() {
    as_owner "$bin/pg_ctl" -D "$work/data" -m fast -t 30 -w stop >/dev/null 2>&1 ||
        as_owner "$bin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1
    server_started=
}

finish() {
    [ -n "${server_started:-}" ] && stop_server
    echo "1..$n"
    if [ $failed -eq 0 ]; then
        rm -rf "$work"
        exit 0
    fi
    echo "# $failed of $n failed; logs, results and the build are in $work"
    exit 1
}

echo "# source: $src; work: $work"

# 1. A copy of the source without build products, built with the sanitizers.
mkdir -p "$work/src"
tar -C "$src" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
    --exclude=./results --exclude=./output_iso --exclude=./tmp_check --exclude=./log \
    --exclude=./regression.diffs --exclude=./regression.out \
    --exclude=./test/isolation/output_iso --exclude=./test/unit/kdf_test \
    --exclude='./test/fuzz/*_fuzz' -cf - . | tar -C "$work/src" -xf -
make -C "$work/src" "${build[@]}" >"$work/build.log" 2>&1
rc=$?
tap $rc "build with $sanitize"
[ $rc -eq 0 ] || { tail -30 "$work/build.log" | sed 's/^/# /'; finish; }

# 2. A private PostgreSQL 15 that finds lib and share relative to its binaries.
mkdir -p "$pg/usr/lib/postgresql" "$pg/usr/share/postgresql"
cp -a /usr/lib/postgresql/15 "$pg/usr/lib/postgresql/" &&
    cp -a /usr/share/postgresql/15 "$pg/usr/share/postgresql/" &&
    make -C "$work/src" "${build[@]}" install DESTDIR="$pg" >"$work/install.log" 2>&1
rc=$?
module="$pg/usr/lib/postgresql/15/lib/mtcbind.so"
if [ $rc -eq 0 ]; then
    # the module must really be instrumented, or a clean run proves nothing
    symbols=$(nm -D --undefined-only "$module")
    grep -q '__asan_report' <<<"$symbols" && grep -q '__ubsan_handle' <<<"$symbols" || rc=1
fi
tap $rc "installed into a private PostgreSQL copy, module instrumented"
[ $rc -eq 0 ] || finish

# The runtime the module was linked against: preloaded into every process.
asan_lib=$(ldd "$module" | awk '/libasan\.so/ { print $3 }')
[ -n "$asan_lib" ] || asan_lib=$(gcc -print-file-name=libasan.so)
mkdir -p "$work/data" "$work/sock" "$work/reports" "$work/log"

# A preloaded runtime initialises itself at the first malloc, which in the
# postgres binary comes from a library constructor (libgpg-error's, via
# libsystemd) inside glibc's bindtextdomain, with the gettext lock held.
# The runtime's start-up then looks up swift_demangle with dlsym, fails, and
# dlerror() translates the message under the same lock: the lock is
# corrupted and the next gettext call hangs (`postgres -V` never returns;
# see llvm/llvm-project#49223 for the family).  A stub swift_demangle makes
# the lookup succeed; the runtime only calls it for Swift symbols.
cat >"$work/swift_stub.c" <<'STUB'
#include <stddef.h>
char *swift_demangle(const char *, size_t, char *, size_t *, unsigned);
char *swift_demangle(const char *m, size_t l, char *o, size_t *ol, unsigned f)
{ (void) m; (void) l; (void) o; (void) ol; (void) f; return NULL; }
STUB
gcc -shared -fPIC -o "$work/swift_stub.so" "$work/swift_stub.c" || finish
[ "$(id -u)" -eq 0 ] && chown postgres: "$work/data" "$work/sock" "$work/reports" "$work/log"

# detect_leaks=0: PostgreSQL leaves memory for process exit to free
san_env=(LD_PRELOAD="$asan_lib $work/swift_stub.so"
    ASAN_OPTIONS="detect_leaks=0:log_path=$work/reports/asan:print_stacktrace=1"
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$work/reports/ubsan")

as_owner "$bin/initdb" -D "$work/data" --encoding=UTF8 --locale=C.UTF-8 -A trust \
    >"$work/initdb.log" 2>&1 &&
    as_owner env "${san_env[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/log/server.log" -w \
        -o "-c port=$port -c listen_addresses= -c unix_socket_directories=$work/sock -c jit=off" \
        start >"$work/pg_ctl.log" 2>&1
rc=$?
[ $rc -eq 0 ] && server_started=1
tap $rc "server started with $(basename "$asan_lib") preloaded"
[ $rc -eq 0 ] || { tail -20 "$work/log/server.log" "$work/initdb.log" 2>/dev/null | sed 's/^/# /'; finish; }

# 3. The suites, each run even if the other fails.
export PGHOST="$work/sock" PGPORT="$port" PGUSER=postgres
cd "$work/src"
make installcheck "${build[@]}" ISOLATION= >"$work/regress.log" 2>&1
rc=$?
grep -E '^(test |ok |not ok )' "$work/regress.log" | sed 's/^/# /'
tap $rc "pg_regress suite"
[ -s regression.diffs ] && head -100 regression.diffs | sed 's/^/# /'

# a backend stopped by a sanitizer sends the server through crash recovery
for _ in $(seq 60); do "$sysbin/pg_isready" -q && break; sleep 1; done
make installcheck "${build[@]}" REGRESS= >"$work/isolation.log" 2>&1
rc=$?
grep -E '^(test |ok |not ok )' "$work/isolation.log" | sed 's/^/# /'
tap $rc "isolation suite"
[ -s output_iso/regression.diffs ] && head -100 output_iso/regression.diffs | sed 's/^/# /'

stop_server

# 4. What the sanitizers and the postmaster said.
# (a backend the runtime stops exits with code 1; the logical replication
# launcher's exit code 1 at shutdown is normal and not matched)
pattern='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|server process .* (terminated by signal|exited with exit code)|terminating any other active server processes'
reports=$(ls "$work/reports" | wc -l)
grep -E "$pattern" "$work/log/server.log" >"$work/findings.txt"
cat "$work"/reports/* >>"$work/findings.txt" 2>/dev/null
if [ "$reports" -eq 0 ] && [ ! -s "$work/findings.txt" ]; then
    tap 0 "no sanitizer report, no crashed backend"
else
    tap 1 "sanitizer reports: $reports file(s), $(grep -cE "$pattern" "$work/log/server.log") log line(s)"
    grep -E 'ERROR: AddressSanitizer|runtime error:|SUMMARY:|terminated by signal|exited with exit code|#[0-9]+ .* in ' \
        "$work/findings.txt" | head -60 | sed 's/^/# /'
fi
finish

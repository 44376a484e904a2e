#!/usr/bin/env bash
# The Debian package alone suffices (docs/packaging.md): builds
# postgresql-15-mtcbind with scripts/deb.sh (or takes the .deb given), takes
# the files "make install" put on this machine out of PostgreSQL's
# directories, installs the package with dpkg, runs CREATE EXTENSION and a
# key request in a throwaway cluster started outside the source tree, purges
# the package, and puts the source build's files back exactly as they were,
# also when a step fails or the script is interrupted.
#
#   scripts/test_deb.sh [postgresql-15-mtcbind_VERSION_ARCH.deb]
#
# Needs root (dpkg -i).  Prints TAP; exits non-zero when a test failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

pgc=/usr/lib/postgresql/15/bin/pg_config
pkg=postgresql-15-mtcbind
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP installing a package needs root"
    exit 0
fi

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# Prints the tail of file $1 as TAP diagnostics, less compiler command lines.
diag() { grep -vE '^(gcc|cc|clang|/usr/bin/clang)[-0-9]* ' "$1" | tail -40 | sed -e 's/^/# /'; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

work=$(mktemp -d /tmp/mtcbind-test-deb.XXXXXX)
chmod 755 "$work"
log="$work/log"
trap 'rm -rf "$work"' EXIT

# --- the package -----------------------------------------------------------
if [ $# -ge 1 ]; then
    deb=$(readlink -f "$1")
    if [ -f "$deb" ]; then pass "package given: $(basename "$deb")"; else fail "package $1 exists"; finish; fi
else
    if bash scripts/deb.sh "$work/deb" >"$log" 2>&1; then
        deb=$(ls "$work"/deb/${pkg}_*.deb 2>/dev/null | head -1)
    fi
    if [ -n "${deb:-}" ]; then
        pass "scripts/deb.sh builds $(basename "$deb")"
    else
        fail "scripts/deb.sh builds a $pkg .deb"
        diag "$log"
        finish
    fi
fi

# --- what the package holds ------------------------------------------------
dpkg-deb -c "$deb" 2>/dev/null | awk '{ print $6 }' | sed -e 's|^\./|/|' | grep -v '/$' | sort >"$work/contents"
libdir=$($pgc --pkglibdir)
extdir=$($pgc --sharedir)/extension
docdir=/usr/share/doc/$pkg

# Only the extension (library, bitcode, control file, scripts) and its docs:
# no simulator, no test program.
grep -vE "^($libdir/mtcbind\.so|$libdir/bitcode/mtcbind(/.*|\.index\.bc)|$extdir/mtcbind(\.control|--.*\.sql)|$docdir/.*)$" \
    "$work/contents" >"$work/foreign"
if [ ! -s "$work/foreign" ] && grep -qx "$libdir/mtcbind.so" "$work/contents" &&
   grep -qx "$extdir/mtcbind.control" "$work/contents"; then
    pass "package holds the library, control file and scripts, nothing else but docs"
else
    fail "package holds the library, control file and scripts, nothing else but docs"
    diag "$work/foreign"
fi

# Every install or upgrade script of the tree (held or built), and the full
# script of the default version, which CREATE EXTENSION runs.
default_version=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" mtcbind.control)
: >"$work/missing"
for s in $( (cd "$top" && ls mtcbind--*.sql 2>/dev/null; echo "mtcbind--$default_version.sql") | sort -u); do
    grep -qx "$extdir/$s" "$work/contents" || echo "$s" >>"$work/missing"
done
if [ ! -s "$work/missing" ]; then
    pass "package holds every mtcbind--*.sql, mtcbind--$default_version.sql among them"
else
    fail "package holds every mtcbind--*.sql"
    diag "$work/missing"
fi

# PGXN's META.json: JSON, with the keys meta-spec 1.0.2 requires, and a
# provided file that the package holds.
if python3 - "$extdir" "$work/contents" >"$log" 2>&1 <<'EOF'
import json, re, sys
meta = json.load(open("META.json"))
missing = [k for k in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec")
           if k not in meta]
assert not missing, "missing keys: %s" % missing
assert meta["meta-spec"]["version"] == "1.0.2", meta["meta-spec"]
semver = re.compile(r"^\d+\.\d+\.\d+$")
assert semver.match(meta["version"]), meta["version"]
contents = set(open(sys.argv[2]).read().split())
for name, p in meta["provides"].items():
    assert semver.match(p["version"]), (name, p["version"])
    assert sys.argv[1] + "/" + p["file"] in contents, "%s not in the package" % p["file"]
EOF
then
    pass "META.json: PGXN meta-spec 1.0.2 keys, provided file in the package"
else
    fail "META.json: PGXN meta-spec 1.0.2 keys, provided file in the package"
    diag "$log"
fi

# One version everywhere: the package's, PGXN's and the extension's.
deb_version=$(dpkg-deb -f "$deb" Version 2>/dev/null)
meta_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' META.json 2>/dev/null)
if [ "${deb_version%%[-+]*}" = "$default_version" ] && [ "$meta_version" = "$default_version.0" ]; then
    pass "debian/changelog ($deb_version), META.json ($meta_version) and default_version ($default_version) agree"
else
    fail "debian/changelog ($deb_version), META.json ($meta_version) and default_version ($default_version) agree"
fi

# --- take the source build's files away, keeping a copy --------------------
# The files "make install" put there, and the package if a run before this
# one was cut short.
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
    echo "# $pkg was installed: purging it first"
    dpkg --purge "$pkg" >/dev/null 2>&1
fi
installed_files() {
    find "$libdir" "$extdir" -maxdepth 1 -name 'mtcbind*' ! -type d 2>/dev/null
    find "$libdir/bitcode" -maxdepth 1 -name 'mtcbind*' 2>/dev/null
}
installed_files | sort >"$work/source-build"
(tar -C / -cf "$work/source-build.tar" -T <(sed -e 's|^/||' "$work/source-build") 2>/dev/null ||
    [ ! -s "$work/source-build" ]) || { fail "source build's files saved"; finish; }
# Every file under those names, with its checksum, to compare after the restore.
checksums() {
    find "$libdir" "$extdir" "$libdir/bitcode" -maxdepth 1 -name 'mtcbind*' -exec find {} -type f \; |
        sort | xargs -r md5sum
}
checksums >"$work/source-build.files"
restored=0
# Runs on every exit: the package goes, the source build's files come back.
restore() {
    [ "$restored" = 1 ] && return 0
    restored=1
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
        dpkg --purge "$pkg" >/dev/null 2>&1
    fi
    installed_files | xargs -r rm -rf
    [ -s "$work/source-build" ] && tar -C / -xpf "$work/source-build.tar"
    checksums >"$work/restored.files"
    cmp -s "$work/source-build.files" "$work/restored.files"
}
trap 'restore; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

installed_files | xargs -r rm -rf
if [ -z "$(installed_files)" ]; then
    pass "the source build's $(wc -l <"$work/source-build.files") files are gone from $libdir and $extdir"
else
    fail "the source build's files are gone"
fi

# --- install the package ---------------------------------------------------
if dpkg -i "$deb" >"$log" 2>&1 ||
   DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq --no-install-recommends >>"$log" 2>&1 &&
   dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
    pass "dpkg -i installs $pkg"
else
    fail "dpkg -i installs $pkg"
    diag "$log"
    finish
fi

owner_so=$(dpkg -S "$libdir/mtcbind.so" 2>/dev/null | cut -d: -f1)
owner_control=$(dpkg -S "$extdir/mtcbind.control" 2>/dev/null | cut -d: -f1)
if [ "$owner_so" = "$pkg" ] && [ "$owner_control" = "$pkg" ]; then
    pass "dpkg -S: $pkg owns mtcbind.so and mtcbind.control"
else
    fail "dpkg -S: $pkg owns mtcbind.so ('$owner_so') and mtcbind.control ('$owner_control')"
fi

depends=$(dpkg-query -W -f='${Depends}' "$pkg")
if [[ ", $depends" == *", postgresql-15 "* ]] && [[ "$depends" == *libssl3* ]]; then
    pass "depends on postgresql-15 and libssl3: $depends"
else
    fail "depends on postgresql-15 and libssl3: $depends"
fi

if ldd "$libdir/mtcbind.so" >"$log" 2>&1 && ! grep -q 'not found' "$log" && grep -q libcrypto "$log"; then
    pass "mtcbind.so finds its libraries (libcrypto among them)"
else
    fail "mtcbind.so finds its libraries"
    diag "$log"
fi

# --- use it, in a cluster started away from the source tree ----------------
cat >"$work/use.sh" <<'EOF'
set -e
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
q -c 'CREATE EXTENSION mtcbind'
echo "extversion=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'")"
request="SELECT outcome || '|' || coalesce(reason, '') || '|' || coalesce(length(ks_local), 0)
                || '|' || coalesce((expires_at > now())::text, '')
           FROM mtcbind.request_key(mtcbind.naf_id('naf.example.org', '\x0100000002'),
                'I1U8vpY3qJ0hiuRNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org',
                '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
                now() + interval '7 days', :'terminal', '89441000000000000018')"
# psql fills in :'terminal' on standard input only, not in -c.
echo "first=$(echo "$request" | q -v terminal=meter-0001)"
echo "stolen=$(echo "$request" | q -v terminal=tracker-0666)"
# An upgrade from the oldest full script the package ships to the default.
if [ -n "$OLDEST" ] && [ "$OLDEST" != "$DEFAULT" ]; then
    q -c 'CREATE DATABASE upgrade'
    q -d upgrade -c "CREATE EXTENSION mtcbind VERSION '$OLDEST'"
    q -d upgrade -c 'ALTER EXTENSION mtcbind UPDATE'
    echo "upgraded=$(q -d upgrade -c "SELECT extversion FROM pg_extension WHERE extname = 'mtcbind'")"
fi
EOF
pkg_default=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$extdir/mtcbind.control")
oldest=$(sed -n "s|^$extdir/mtcbind--\([^-]*\)\.sql$|\1|p" "$work/contents" | sort -V | head -1)
if (cd / && OLDEST="$oldest" DEFAULT="$pkg_default" \
        pg_virtualenv -t -v 15 -o log_min_messages=warning bash "$work/use.sh") >"$log" 2>&1; then
    pass "CREATE EXTENSION mtcbind in a cluster started from /"
else
    fail "CREATE EXTENSION mtcbind in a cluster started from /"
    diag "$log"
fi
got() { sed -n "s/^$1=//p" "$log" | tail -1; }
if [ -n "$pkg_default" ] && [ "$(got extversion)" = "$pkg_default" ]; then
    pass "extversion is the control file's default_version ($pkg_default)"
else
    fail "extversion '$(got extversion)' is the control file's default_version '$pkg_default'"
fi
if [[ "$(got first)" == 'bound||32|true' ]] && [[ "$(got stolen)" == 'rejected|uicc_bound_elsewhere|'* ]]; then
    pass "request_key binds a pair, issues a 32-octet Ks_local and refuses the card in another device"
else
    fail "request_key: first '$(got first)', card in another device '$(got stolen)'"
fi
if [ -n "$oldest" ] && [ "$oldest" != "$pkg_default" ]; then
    if [ "$(got upgraded)" = "$pkg_default" ]; then
        pass "ALTER EXTENSION mtcbind UPDATE from $oldest to $pkg_default with the packaged scripts"
    else
        fail "ALTER EXTENSION mtcbind UPDATE from $oldest: got '$(got upgraded)', want $pkg_default"
    fi
fi

# --- purge -----------------------------------------------------------------
dpkg --purge "$pkg" >"$log" 2>&1
left=$(grep -E "^($libdir|$extdir)/" "$work/contents" | while read -r f; do [ -e "$f" ] && echo "$f"; done)
if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' && [ -z "$left" ] &&
   [ -z "$(installed_files)" ]; then
    pass "dpkg --purge $pkg removes its files"
else
    fail "dpkg --purge $pkg removes its files"
    echo "$left" | sed -e 's/^/# left: /'
fi

# --- the source build back -------------------------------------------------
if restore; then
    pass "the source build's $(wc -l <"$work/restored.files") files are back, unchanged"
else
    fail "the source build's files are back"
fi
finish

#!/usr/bin/env bash
# Builds the Debian package postgresql-15-mtcbind from the current working
# tree (debian/, Debian's pg_buildext convention) and leaves the .deb files in
# OUTDIR, by default build/deb/.  See docs/packaging.md.
#
#   scripts/deb.sh [OUTDIR]
#   MTCBIND_DEB_CHECK=1 scripts/deb.sh   also run pg_regress and isolation
#                                        at build time (dh_pgxs_test)
#
# As root it installs the build dependencies it misses; otherwise it says
# which are missing.  The build runs in a copy of the tree under /tmp, so the
# tree itself gets no build products and no debian/ debris.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

out=${1:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
check=${MTCBIND_DEB_CHECK:-0}

# dpkg-buildpackage and debhelper; make and gcc; the Build-Depends of
# debian/control (postgresql-server-dev-all brings pg_buildext's dh add-ons
# and postgresql-server-dev-15, with clang and llvm for the JIT bitcode).
packages=(dpkg-dev debhelper make gcc libssl-dev postgresql-server-dev-all)
# Testing at build time needs the servers themselves.
[ "$check" = 1 ] && packages+=(postgresql-all)
. scripts/packages.sh
need_packages deb "${packages[@]}"

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
work=$(mktemp -d /tmp/mtcbind-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/mtcbind-$version"
mkdir -p "$src"

# The copy: every file git tracks or would track (so also new files not yet
# committed), none that .gitignore names (objects, libraries, test output),
# and not build/, where the packages land.  Without git: the whole tree
# less the usual build products.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$top" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            case "$f" in build/*) continue ;; esac
            [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
        done |
        tar -C "$top" --null --no-recursion -T - -cf - | tar -C "$src" -xf -
else
    tar -C "$top" --exclude=./build --exclude=./.git --exclude='*.o' --exclude='*.so' \
        --exclude='*.bc' --exclude=./results --exclude=./output_iso --exclude=./tmp_check \
        --exclude=./sim/mtcbind-sim -cf - . | tar -C "$src" -xf -
fi

buildopts="parallel=$(nproc)"
profiles=()
if [ "$check" != 1 ]; then
    # make test runs these suites already; a package build need not.
    buildopts="$buildopts nocheck"
    profiles=(-Pnocheck)
fi

echo "deb: building mtcbind $version in $src"
(cd "$src" && DEB_BUILD_OPTIONS="$buildopts" dpkg-buildpackage -us -uc -b "${profiles[@]}") \
    >"$out/build-$version.log" 2>&1 || {
    grep -vE '^(gcc|/usr/bin/clang)' "$out/build-$version.log" | tail -60 >&2
    echo "deb: dpkg-buildpackage failed; the whole log is $out/build-$version.log" >&2
    exit 1
}

shopt -s nullglob
debs=("$work"/*.deb)
if [ ${#debs[@]} -eq 0 ]; then
    echo "deb: dpkg-buildpackage made no .deb" >&2
    exit 1
fi
cp "${debs[@]}" "$work"/*.buildinfo "$work"/*.changes "$out/"
for d in "${debs[@]}"; do
    echo "deb: $out/$(basename "$d")"
done

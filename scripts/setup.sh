#!/usr/bin/env bash
# Installs what mtcbind needs to build and test on Debian 12, builds it and
# installs it into the system's PostgreSQL 15.  Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(make gcc postgresql-15 postgresql-server-dev-15 postgresql-client-15
          libssl-dev openssl libipc-run-perl perl libpq-dev pkg-config clang libclang-rt-14-dev
          python3 python3-psycopg python3-psycopg2 libpostgresql-jdbc-java openjdk-17-jre-headless
          dpkg-dev debhelper postgresql-server-dev-all pgbouncer gnuplot-nox
          prometheus-postgres-exporter)
. scripts/packages.sh
need_packages setup "${packages[@]}"
# The tests start their own pgbouncer and exporter; the packages' own
# services must not hold the ports.
for s in pgbouncer prometheus-postgres-exporter; do
    [[ " ${PACKAGES_INSTALLED[*]} " == *" $s "* ]] && { systemctl disable --now "$s" >/dev/null 2>&1 || true; }
done


export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s PG_CONFIG="$PG_CONFIG" WERROR=1 all
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

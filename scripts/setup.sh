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
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing packages ${missing[*]}; run as root to install them" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    # Installing postgresql-15 must not start a cluster of its own here.
    mkdir -p /etc/postgresql-common
    [ -f /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
    # The tests start their own pgbouncer and exporter; the packages' own
    # services must not hold the ports.
    for s in pgbouncer prometheus-postgres-exporter; do
        [[ " ${missing[*]} " == *" $s "* ]] && { systemctl disable --now "$s" >/dev/null 2>&1 || true; }
    done
fi


export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s PG_CONFIG="$PG_CONFIG" WERROR=1 all
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

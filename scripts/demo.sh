#!/usr/bin/env bash
# The main job, end to end on a throwaway PostgreSQL: install, build, create
# the extension, and walk through what a NAF Key Center does with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH=/usr/lib/postgresql/15/bin:$PATH
pg_virtualenv -t psql -X -v ON_ERROR_STOP=1 -f scripts/demo.sql
echo
bash scripts/sim_demo.sh

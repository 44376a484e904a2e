# mtcbind: PGXS build, plus the two entry points of the README.
#
#   make demo   install what is needed, build, and show mtcbind at work
#   make test   install what is needed, build, run every test, print a summary
#
# Both work on a fresh Debian 12 machine as root, before pg_config exists.

EXTENSION = mtcbind
EXTVERSION = 1.1

MODULE_big = mtcbind
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# Install and upgrade scripts; a released script is never edited again.
# The install script of the current version is built (the pgvector way):
# the 1.0 script followed by every upgrade since, so that a fresh install
# runs exactly what an upgraded database ran (test/t/150_upgrade.pl).
UPGRADE_SCRIPTS = mtcbind--1.0--1.1.sql
DATA = mtcbind--1.0.sql $(UPGRADE_SCRIPTS)
DATA_built = mtcbind--$(EXTVERSION).sql

# pg_regress: one file per topic in sql/, expected output in expected/.
REGRESS = types kdf binding admin contract security blocks policy events key_issue refusal_log drivers edge_cases provision constraints
REGRESS_OPTS = --inputdir=. --load-extension=pgcrypto

# Isolation specs live under test/isolation.
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation

SHLIB_LINK += -lcrypto
PG_CFLAGS += -Wall -Wmissing-prototypes -Wpointer-arith -Wendif-labels -Wformat-security
ifdef WERROR
PG_CFLAGS += -Werror
endif

EXTRA_CLEAN = test/unit/kdf_test results/ output_iso/ regression.diffs regression.out \
	test/isolation/output_iso tmp_check $(wildcard test/fuzz/*_fuzz)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)

# PGXS does not track headers: a change to one rebuilds every object and
# its JIT bitcode (a struct that grew, compiled into some objects only,
# corrupts memory).
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*.h)

# The fleet simulator (docs/simulator.md), built with the extension.
all: sim/mtcbind-sim
sim/mtcbind-sim: $(wildcard sim/*.c sim/*.h) sim/Makefile
	$(MAKE) -C sim
clean: clean-sim
clean-sim:
	$(MAKE) -C sim clean
.PHONY: clean-sim
else
all:
	@echo "pg_config not found: run 'make demo' or 'make test' (they install PostgreSQL 15), or set PG_CONFIG" >&2
	@exit 1
endif

mtcbind--$(EXTVERSION).sql: mtcbind--1.0.sql $(UPGRADE_SCRIPTS)
	cat $^ > $@

# The KDF unit test builds src/kdf.c (plain C) without a server.
test/unit/kdf_test: test/unit/kdf_test.c src/kdf.c src/kdf.h
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Isrc -o $@ \
		test/unit/kdf_test.c src/kdf.c -lcrypto

.PHONY: demo test bench bench-quick fuzz sanitize deb citus-demo ha-demo
demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# Benchmarks (docs/performance.md): the KDF, then every request_key path
# against its floor and the PL/pgSQL alternative, 1 to 16 clients, at scale.
bench:
	bash scripts/bench.sh
	bash scripts/bench/run.sh

# A first look in a few minutes.
bench-quick:
	BENCH_QUICK=1 bash scripts/bench/run.sh

# libFuzzer harnesses of test/fuzz/, each for FUZZ_SECONDS (default 5); needs clang.
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# pg_auto_failover on one machine: monitor, primary, synchronous standby,
# failover and crash under NAF load (docs/operations.md).  Not CI.
ha-demo:
	bash scripts/ha_demo.sh

# The scale-out trial on Citus (docs/scale-out.md); not CI.  CITUS_SRC: a
# Citus source tree or git directory.
citus-demo:
	bash scripts/citus_demo.sh $(CITUS_SRC)

# The Debian package postgresql-15-mtcbind, into build/deb/ (docs/packaging.md).
deb:
	bash scripts/deb.sh $(DEB_OUTDIR)

# pg_regress and isolation against an ASan/UBSan build in a private server.
sanitize:
	bash scripts/sanitize.sh

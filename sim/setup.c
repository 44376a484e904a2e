/*
 * setup.c: connecting to the server and checking that it can take the
 * run (extension, version, privileges, settings, a clean fleet range),
 * opening the NAF's connection pool and the LISTEN connection, and
 * building the fleet, its cards and the BSF's subscribers from the seed.
 * Every problem found here ends the program with exit status 2 and a
 * message naming it.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "setup.h"

#include "fleet.h"
#include "milenage.h"

/* The Ua security protocol of the NAF Key Center: shared-key TLS (TS 33.222),
 * TLS_PSK_WITH_AES_128_CBC_SHA (0x008C), in the form 01 00 01 yy zz of TS 33.220 Annex H. */
static const uint8_t ua_protocol[5] = {0x01, 0x00, 0x01, 0x00, 0x8c};

static const char *
target(const Sim *sim)
{
	return sim->opt.dsn ? "the server named by --dsn" : "the server of libpq's environment (PGHOST, PGPORT, ...; no --dsn given)";
}

/* One row of text from a query that must work; exits 2 if it does not. */
static PGresult *
must_query(Sim *sim, NafConn *c, const char *what, const char *sql, int n, const char *const *params)
{
	PGresult   *res;
	DbError		err;
	DbStatus	s = naf_query(c, sql, n, params, &res, &err);

	if (s != DB_OK)
		fatal(EXIT_USAGE, "%s failed on %s: %s%s%s%s", what, target(sim),
			  err.sqlstate[0] ? "SQLSTATE " : "", err.sqlstate, err.sqlstate[0] ? ": " : "", err.message);
	return res;
}

static bool
version_known(const char *v)
{
	char		known[] = SIM_KNOWN_VERSIONS;

	for (char *tok = strtok(known, " "); tok; tok = strtok(NULL, " "))
		if (strcmp(tok, v) == 0)
			return true;
	return false;
}

static void
check_server(Sim *sim, NafConn *c)
{
	ServerInfo *si = &sim->server;
	PGconn	   *pg = naf_pg(c);
	PGresult   *res;
	const char *host = PQhost(pg);
	const char *port = PQport(pg);
	char		pt[32], pc[32], pe[32], ps[32];
	const char *patterns[4] = {pt, pc, pe, ps};
	int64_t		best_rtt = INT64_MAX;

	snprintf(si->where, sizeof(si->where), "%s%s", host && host[0] == '/' ? "socket " : "",
			 host ? host : "?");
	if (port && port[0])
		snprintf(si->where + strlen(si->where), sizeof(si->where) - strlen(si->where), ":%s", port);

	res = must_query(sim, c, "reading the server's version",
					 "SELECT current_setting('server_version'), current_database(),"
					 " (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'mtcbind'),"
					 " (SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'mtcbind'),"
					 " current_setting('integer_datetimes')", 0, NULL);
	snprintf(si->version, sizeof(si->version), "%s", PQgetvalue(res, 0, 0));
	snprintf(si->database, sizeof(si->database), "%s", PQgetvalue(res, 0, 1));
	if (PQgetisnull(res, 0, 2))
	{
		if (PQgetisnull(res, 0, 3))
			fatal(EXIT_USAGE, "the server at %s (PostgreSQL %s) has no mtcbind extension installed: "
				  "build and install it there (make install), then CREATE EXTENSION mtcbind in database \"%s\"",
				  si->where, si->version, si->database);
		fatal(EXIT_USAGE, "database \"%s\" at %s has no mtcbind extension: as a superuser, run "
			  "CREATE EXTENSION mtcbind; in it (version %s is installed on the server)",
			  si->database, si->where, PQgetvalue(res, 0, 3));
	}
	snprintf(si->mtcbind, sizeof(si->mtcbind), "%s", PQgetvalue(res, 0, 2));
	if (!version_known(si->mtcbind))
		fatal(EXIT_USAGE, "database \"%s\" at %s has mtcbind version %s, which this simulator does not know "
			  "(it knows %s): use the mtcbind-sim built from the same source tree as the extension",
			  si->database, si->where, si->mtcbind, SIM_KNOWN_VERSIONS);
	if (strcmp(PQgetvalue(res, 0, 4), "on") != 0)
		fatal(EXIT_USAGE, "the server does not use integer timestamps; mtcbind-sim reads them in binary");
	PQclear(res);

	/* The public interface of mtcbind, and what this role may do with it. */
	res = must_query(sim, c, "checking privileges",
					 "SELECT to_regprocedure('mtcbind.request_key(bytea,text,bytea,timestamptz,text,"
					 "mtcbind.iccid,mtcbind.imei,mtcbind.imeisv,mtcbind.imsi,text,text)') IS NOT NULL,"
					 " has_function_privilege(to_regprocedure('mtcbind.request_key(bytea,text,bytea,"
					 "timestamptz,text,mtcbind.iccid,mtcbind.imei,mtcbind.imeisv,mtcbind.imsi,text,text)'), 'EXECUTE'),"
					 " has_function_privilege(to_regprocedure('mtcbind.authorize_transfer(mtcbind.iccid,"
					 "text,interval,text)'), 'EXECUTE'),"
					 " has_function_privilege(to_regprocedure('mtcbind.bind(text,mtcbind.iccid,mtcbind.imei,"
					 "mtcbind.imeisv,mtcbind.imsi,text)'), 'EXECUTE'),"
					 " has_table_privilege('mtcbind.binding', 'SELECT'),"
					 " has_table_privilege('mtcbind.binding_event', 'SELECT'),"
					 " current_user", 0, NULL);
	{
		static const char *what[6] = {
			"function mtcbind.request_key with the signature of mtcbind 1.0",
			"EXECUTE on mtcbind.request_key (role mtcbind_naf)",
			"EXECUTE on mtcbind.authorize_transfer (role mtcbind_admin; scenario 5)",
			"EXECUTE on mtcbind.bind (role mtcbind_admin; needed when mtcbind.first_use = reject)",
			"SELECT on mtcbind.binding (role mtcbind_auditor; the invariant checks)",
			"SELECT on mtcbind.binding_event (role mtcbind_auditor; the event log checks)"
		};
		char		missing[1200] = "";

		for (int i = 0; i < 6; i++)
		{
			bool		needed = i != 2 || (sim->opt.scenarios & (1u << 5));

			if (i == 3)
				continue;		/* decided below, once first_use is known */
			if (needed && strcmp(PQgetvalue(res, 0, i), "t") != 0)
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "\n  - %s", what[i]);
		}
		if (missing[0])
			fatal(EXIT_USAGE, "role \"%s\" cannot run the simulation in database \"%s\"; it lacks:%s\n"
				  "Grant it mtcbind_naf, mtcbind_admin and mtcbind_auditor, or use a superuser on a test database.",
				  PQgetvalue(res, 0, 6), si->database, missing);
	}
	{
		bool		can_bind = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		char		role[128];

		snprintf(role, sizeof(role), "%s", PQgetvalue(res, 0, 6));
		PQclear(res);

		/* Loading the library defines the settings; then read them. */
		PQclear(must_query(sim, c, "loading mtcbind",
						   "SELECT mtcbind.b_tid('\\x00000000000000000000000000000000'::bytea, 'x')", 0, NULL));
		/*
		 * What request_key runs with: mtcbind.settings() combines the
		 * settings with the database's policy (which can only tighten
		 * them); a role that may not call it reads the settings alone.
		 */
		res = must_query(sim, c, "checking for mtcbind.settings()",
						 "SELECT coalesce(has_function_privilege("
						 "to_regprocedure('mtcbind.settings()'), 'EXECUTE'), false)", 0, NULL);
		if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		{
			PQclear(res);
			res = must_query(sim, c, "reading the mtcbind settings and policy",
							 "SELECT max(in_effect) FILTER (WHERE name = 'first_use'),"
							 " max(in_effect) FILTER (WHERE name = 'key_lifetime'),"
							 " max(in_effect) FILTER (WHERE name = 'log_key_issue'),"
							 " coalesce((extract(epoch FROM (max(in_effect) FILTER (WHERE name = 'key_lifetime'))::interval)"
							 "  * 1000000)::bigint, 0)"
							 " FROM mtcbind.settings()", 0, NULL);
		}
		else
		{
			PQclear(res);
			res = must_query(sim, c, "reading the mtcbind settings",
							 "SELECT coalesce(current_setting('mtcbind.first_use', true), ''),"
							 " coalesce(current_setting('mtcbind.key_lifetime', true), ''),"
							 " coalesce(current_setting('mtcbind.log_key_issue', true), ''),"
							 " coalesce((extract(epoch FROM current_setting('mtcbind.key_lifetime', true)::interval)"
							 "  * 1000000)::bigint, 0)", 0, NULL);
		}
		snprintf(si->first_use, sizeof(si->first_use), "%s", PQgetvalue(res, 0, 0));
		snprintf(si->key_lifetime, sizeof(si->key_lifetime), "%s", PQgetvalue(res, 0, 1));
		snprintf(si->log_key_issue, sizeof(si->log_key_issue), "%s", PQgetvalue(res, 0, 2));
		si->key_lifetime_us = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		PQclear(res);
		sim->provisioned = strcmp(si->first_use, "reject") == 0;
		if (sim->provisioned && !can_bind)
			fatal(EXIT_USAGE, "first use is refused in database \"%s\" (mtcbind.first_use or the database policy): the fleet must be pre-provisioned "
				  "with mtcbind.bind, but role \"%s\" may not call it (grant it mtcbind_admin)",
				  si->database, role);
	}

	/* The server's clock against ours: the best of three round trips. */
	for (int i = 0; i < 3; i++)
	{
		int64_t		t0 = clock_real_us();
		int64_t		t1, server;

		res = must_query(sim, c, "reading the server's clock",
						 "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint", 0, NULL);
		t1 = clock_real_us();
		server = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		if (t1 - t0 < best_rtt)
		{
			best_rtt = t1 - t0;
			si->clock_offset_us = server - (t0 + t1) / 2;
		}
	}
	set_server_clock_offset(si->clock_offset_us);

	/* A fresh range of identities: this seed must not have left bindings here. */
	fleet_patterns(sim->run, pt, pc, pe, ps);
	res = must_query(sim, c, "looking for an earlier run",
					 "SELECT count(*) FROM mtcbind.binding WHERE terminal_id LIKE $1"
					 " OR iccid::text LIKE $2 OR imei::text LIKE $3 OR imsi::text LIKE $4", 4, patterns);
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		fatal(EXIT_USAGE, "database \"%s\" already holds %s binding%s with the identities of run %04u "
			  "(terminal_id sim%04u-..., ICCID 89990%04u...): a run with --seed %" PRIu64 " (or another seed "
			  "with the same value modulo 10000) was made here before. Use another --seed, or a fresh database.",
			  si->database, PQgetvalue(res, 0, 0), strcmp(PQgetvalue(res, 0, 0), "1") == 0 ? "" : "s",
			  sim->run, sim->run, sim->run, sim->opt.seed);
	PQclear(res);
}

static NafConn *
open_connection(Sim *sim, unsigned i, unsigned total)
{
	DbError		err;
	NafConn    *c = naf_connect(&err);

	if (c == NULL)
		fatal(EXIT_USAGE, "could not open connection %u of %u to %s: %s%s", i + 1, total, target(sim),
			  err.message, i > 0 ? " (is max_connections large enough for --clients?)" : "");
	return c;
}

static void
build_fleet(Sim *sim)
{
	uint8_t		op[16];
	unsigned	n = sim->n;

	fleet_prf("OP", 0, 0, op, 16);	/* the operator's OP */
	sim->bsf = bsf_new(BSF_DOMAIN, BSF_LIFETIME_US);

	sim->ncards = n + sim->k;
	sim->cards = xcalloc(sim->ncards, sizeof(Uicc *));
	sim->holder = xcalloc(sim->ncards, sizeof(unsigned));
	for (unsigned c = 0; c < sim->ncards; c++)
	{
		char		iccid[21], imsi[16], impi[64];
		uint8_t		k[16], opc[16];

		fleet_iccid(sim->run, c, iccid);
		fleet_imsi(sim->run, c, imsi);
		fleet_impi(imsi, impi, sizeof(impi));
		fleet_prf("K", c, 0, k, 16);
		if (milenage_opc(k, op, opc) != 0)
			fatal(EXIT_ABORTED, "OpenSSL could not compute AES-128");
		sim->cards[c] = uicc_new(iccid, imsi, impi, UICC_APPLI_ID, k, opc);
		bsf_add_subscriber(sim->bsf, c, impi, k, opc, 1 + fleet_prf_u64("SEQ", c, 0) % 1000);
		sim->holder[c] = c < n ? c : UINT_MAX;
		memset(k, 0, sizeof(k));
		memset(opc, 0, sizeof(opc));
	}

	sim->ndevices = n + 2 * sim->k + sim->r;
	sim->devices = xcalloc(sim->ndevices, sizeof(Device));
	for (unsigned i = 0; i < sim->ndevices; i++)
	{
		Device	   *d = &sim->devices[i];
		unsigned	serial;

		d->index = i;
		if (i < n)
			d->kind = "dev", serial = i;
		else if (i < n + sim->k)
			d->kind = "thief", serial = i - n;
		else if (i < n + 2 * sim->k)
			d->kind = "clone", serial = i - n - sim->k;
		else
			d->kind = "new", serial = i - n - 2 * sim->k;
		fleet_terminal_id(sim->run, d->kind, serial, d->terminal_id, sizeof(d->terminal_id));
		fleet_imei(sim->run, i, d->imei);
		if (i < n)
			d->card = sim->cards[i];
	}

	sim->order = xcalloc(n, sizeof(unsigned));
	fleet_shuffle("order", sim->order, n);

	memcpy(sim->naf_id, NAF_FQDN, strlen(NAF_FQDN));
	memcpy(sim->naf_id + strlen(NAF_FQDN), ua_protocol, sizeof(ua_protocol));
	sim->naf_id_len = strlen(NAF_FQDN) + sizeof(ua_protocol);
}

void
sim_setup(Sim *sim)
{
	unsigned	n = sim->opt.devices;
	DbError		err;
	NafConn    *first;

	sim->run = fleet_run(sim->opt.seed);
	sim->n = n;
	sim->k = n / 40 > 0 ? n / 40 : 1;
	sim->p = n / 80 > 0 ? n / 80 : 1;
	sim->m = n / 20 > 0 ? n / 20 : 1;
	sim->r = n / 20 > 0 ? n / 20 : 1;
	sim->notices = strmap_new(256);
	pthread_mutex_init(&sim->abort_mu, NULL);
	atomic_init(&sim->aborted, false);
	fleet_seed(sim->opt.seed);

	naf_configure(sim->opt.dsn, sim->opt.timeout_s);
	first = naf_connect(&err);
	if (first == NULL)
		fatal(EXIT_USAGE, "could not connect to %s: %s", target(sim), err.message);
	check_server(sim, first);

	sim->npool = sim->opt.clients;
	sim->pool = xcalloc(sim->npool, sizeof(NafConn *));
	sim->pool[0] = first;
	for (unsigned i = 1; i < sim->npool; i++)
		sim->pool[i] = open_connection(sim, i, sim->npool + 1);
	for (unsigned i = 0; i < sim->npool; i++)
		if (naf_prepare(sim->pool[i], &err) != DB_OK)
			fatal(EXIT_USAGE, "could not prepare the NAF's statements on %s: %s%s%s%s", target(sim),
				  err.sqlstate[0] ? "SQLSTATE " : "", err.sqlstate, err.sqlstate[0] ? ": " : "", err.message);
	sim->listener = open_connection(sim, sim->npool, sim->npool + 1);
	if (naf_listen(sim->listener, &err) != DB_OK)
		fatal(EXIT_USAGE, "LISTEN mtcbind_rejected failed: %s", err.message);

	build_fleet(sim);
}

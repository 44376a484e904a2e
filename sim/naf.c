/* naf.c: see naf.h. */
#include "naf.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gba.h"
#include "util.h"

/* Type OIDs of the built-in types we bind (pg_type.h, fixed since 7.x). */
#define BYTEAOID       17
#define TEXTOID        25
#define TIMESTAMPTZOID 1184

/* PostgreSQL's epoch, 2000-01-01, in Unix microseconds. */
#define PG_EPOCH_UNIX_US INT64_C(946684800000000)

struct NafConn
{
	PGconn	   *pg;
};

static const char *conf_dsn;
static int	conf_timeout_s = 10;
static atomic_bool stop_requested;

void
naf_configure(const char *dsn, int timeout_s)
{
	conf_dsn = dsn;
	conf_timeout_s = timeout_s;
}

void
naf_request_stop(void)
{
	atomic_store(&stop_requested, true);
}

bool
naf_stop_requested(void)
{
	return atomic_load(&stop_requested);
}

const char *
db_status_name(DbStatus s)
{
	switch (s)
	{
		case DB_OK:
			return "ok";
		case DB_SQL_ERROR:
			return "error";
		case DB_LOST:
			return "connection lost";
		case DB_TIMEOUT:
			return "no answer";
		case DB_STOPPED:
			return "stopped";
	}
	return "?";
}

static void
set_error(DbError *err, const char *sqlstate, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_error(DbError *err, const char *sqlstate, const char *fmt, ...)
{
	va_list		ap;
	size_t		n;

	snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", sqlstate ? sqlstate : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	n = strlen(err->message);
	while (n > 0 && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
		err->message[--n] = '\0';
}

static DbStatus
lost(NafConn *c, DbError *err)
{
	const char *msg = PQerrorMessage(c->pg);
	char		flat[sizeof(err->message)];
	size_t		o = 0;

	/* libpq's lines joined with "; ", without its indented explanations. */
	while (*msg && o + 3 < sizeof(flat))
	{
		size_t		n = strcspn(msg, "\n");

		if (msg[0] != '\t' && n > 0)
		{
			if (o)
				flat[o++] = ';', flat[o++] = ' ';
			for (size_t i = 0; i < n && o + 1 < sizeof(flat); i++)
				if (!(msg[i] == ' ' && o > 0 && flat[o - 1] == ' '))
					flat[o++] = msg[i];
		}
		msg += n;
		if (*msg == '\n')
			msg++;
	}
	flat[o] = '\0';
	set_error(err, "08006", "%s", flat);
	if (err->message[0] == '\0')
		set_error(err, "08006", "the connection to the server was lost");
	return DB_LOST;
}

/* Notices (and errors that arrive between queries) are not for the report. */
static void
quiet(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

/*
 * Waits for the results of the query just sent, with a deadline of the
 * statement timeout plus five seconds.  Keeps the first error, or the last
 * result.
 */
static DbStatus
await_result(NafConn *c, PGresult **out, DbError *err)
{
	int64_t		deadline = clock_mono_us() + (int64_t) (conf_timeout_s + 5) * USEC_PER_SEC;
	PGresult   *keep = NULL;
	DbStatus	status = DB_OK;

	if (out)
		*out = NULL;
	for (;;)
	{
		PGresult   *res;

		while (PQisBusy(c->pg))
		{
			struct pollfd pfd = {PQsocket(c->pg), POLLIN, 0};
			int64_t		left = deadline - clock_mono_us();
			int			rc;

			if (naf_stop_requested())
			{
				PQclear(keep);
				set_error(err, "", "the run is being stopped");
				return DB_STOPPED;
			}
			if (left <= 0)
			{
				PQclear(keep);
				set_error(err, "", "it did not answer within %d s (--timeout %d plus 5 s)", conf_timeout_s + 5, conf_timeout_s);
				return DB_TIMEOUT;
			}
			rc = pfd.fd < 0 ? -1 : poll(&pfd, 1, left > 200000 ? 200 : (int) (left / 1000) + 1);
			if ((rc < 0 && (pfd.fd < 0 || errno != EINTR)) || !PQconsumeInput(c->pg))
			{
				PQclear(keep);
				return lost(c, err);
			}
		}
		res = PQgetResult(c->pg);
		if (res == NULL)
			break;
		switch (PQresultStatus(res))
		{
			case PGRES_TUPLES_OK:
			case PGRES_COMMAND_OK:
				if (status == DB_OK)
				{
					PQclear(keep);
					keep = res;
				}
				else
					PQclear(res);
				break;
			default:
				if (status == DB_OK)
				{
					const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
					const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

					set_error(err, state, "%s", msg ? msg : PQresultErrorMessage(res));
					status = DB_SQL_ERROR;
				}
				PQclear(res);
				break;
		}
	}
	if (PQstatus(c->pg) == CONNECTION_BAD)
	{
		PQclear(keep);
		if (status == DB_SQL_ERROR)
			return DB_LOST;		/* e.g. 57P01: the backend was terminated */
		return lost(c, err);
	}
	if (status != DB_OK)
	{
		PQclear(keep);
		return status;
	}
	if (out)
		*out = keep;
	else
		PQclear(keep);
	return DB_OK;
}

NafConn *
naf_connect(DbError *err)
{
	char		timeout[32];
	const char *keys[16];
	const char *values[16];
	int			n = 0;
	NafConn    *c;
	DbStatus	status;

	/* Defaults first: the DSN, expanded last, overrides them. */
	keys[n] = "connect_timeout", values[n++] = "5";
	keys[n] = "keepalives", values[n++] = "1";
	keys[n] = "keepalives_idle", values[n++] = "5";
	keys[n] = "keepalives_interval", values[n++] = "2";
	keys[n] = "keepalives_count", values[n++] = "3";
	keys[n] = "tcp_user_timeout", values[n++] = "10000";
	keys[n] = "application_name", values[n++] = NAF_APPLICATION_NAME;
	if (conf_dsn && conf_dsn[0])
		keys[n] = "dbname", values[n++] = conf_dsn;
	keys[n] = NULL, values[n] = NULL;

	c = xcalloc(1, sizeof(NafConn));
	c->pg = PQconnectdbParams(keys, values, 1);
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
	{
		set_error(err, "08001", "%s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
		naf_close(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->pg, quiet, NULL);
	snprintf(timeout, sizeof(timeout), "%ds", conf_timeout_s);
	{
		const char *params[1] = {timeout};

		/*
		 * request_key wants READ COMMITTED; a server or role default of
		 * REPEATABLE READ or SERIALIZABLE must not change what we measure.
		 */
		status = naf_query(c, "SELECT pg_catalog.set_config('default_transaction_isolation', 'read committed', false),"
						   " pg_catalog.set_config('statement_timeout', $1, false)",
						   1, params, NULL, err);
	}
	if (status != DB_OK)
	{
		naf_close(c);
		return NULL;
	}
	return c;
}

void
naf_close(NafConn *c)
{
	if (c == NULL)
		return;
	if (c->pg)
		PQfinish(c->pg);
	free(c);
}

PGconn *
naf_pg(NafConn *c)
{
	return c->pg;
}

DbStatus
naf_query(NafConn *c, const char *sql, int nparams, const char *const *values,
		  PGresult **result, DbError *err)
{
	if (!PQsendQueryParams(c->pg, sql, nparams, NULL, values, NULL, NULL, 0))
		return lost(c, err);
	return await_result(c, result, err);
}

static const char request_key_sql[] =
	"SELECT outcome, reason, binding_id, ks_local, rand_x, rand_y, expires_at"
	"  FROM mtcbind.request_key(naf_id => $1, b_tid => $2, ks_int_naf => $3,"
	"       ks_int_naf_expiry => $4, terminal_id => $5, iccid => $6, imei => $7,"
	"       imeisv => $8, imsi => $9, terminal_appli_id => $10, uicc_appli_id => $11)";

static DbStatus
prepare_one(NafConn *c, const char *name, const char *sql, int nparams,
			const Oid *types, DbError *err)
{
	if (!PQsendPrepare(c->pg, name, sql, nparams, types))
		return lost(c, err);
	return await_result(c, NULL, err);
}

DbStatus
naf_prepare(NafConn *c, DbError *err)
{
	/* The identifier types have no fixed OIDs: 0 lets the server take the argument's type. */
	static const Oid request_types[11] = {BYTEAOID, TEXTOID, BYTEAOID, TIMESTAMPTZOID, TEXTOID,
	0, 0, 0, 0, TEXTOID, TEXTOID};
	DbStatus	s;

	s = prepare_one(c, "request_key", request_key_sql, 11, request_types, err);
	if (s != DB_OK)
		return s;
	s = prepare_one(c, "authorize_transfer",
					"SELECT mtcbind.authorize_transfer(iccid => $1, new_terminal_id => $2,"
					" valid_for => interval '1 hour', reason => $3)", 3, NULL, err);
	if (s != DB_OK)
		return s;
	s = prepare_one(c, "bind",
					"SELECT mtcbind.bind(terminal_id => $1, iccid => $2, imei => $3,"
					" imsi => $4, note => $5)", 5, NULL, err);
	if (s != DB_OK)
		return s;
	return prepare_one(c, "terminal_is_free",
					   "SELECT NOT EXISTS (SELECT FROM mtcbind.binding b"
					   " WHERE b.terminal_id OPERATOR(pg_catalog.=) $1)", 1, NULL, err);
}

static int64_t
be_int64(const char *p)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (unsigned char) p[i];
	return (int64_t) v;
}

/* Copies a binary column of exactly n octets; false if NULL or another length. */
static bool
get_octets(const PGresult *res, int col, uint8_t *out, int n)
{
	if (col < 0 || PQgetisnull(res, 0, col) || PQgetlength(res, 0, col) != n)
		return false;
	memcpy(out, PQgetvalue(res, 0, col), (size_t) n);
	return true;
}

static void
get_text(const PGresult *res, int col, char *out, size_t len)
{
	int			n;

	out[0] = '\0';
	if (col < 0 || PQgetisnull(res, 0, col))
		return;
	n = PQgetlength(res, 0, col);
	if ((size_t) n >= len)
		n = (int) len - 1;
	memcpy(out, PQgetvalue(res, 0, col), (size_t) n);
	out[n] = '\0';
}

void
naf_key_request(NafConn *c, Bsf *bsf, const uint8_t *naf_id, size_t naf_id_len,
				const KeyRequest *req, KeyResponse *resp)
{
	uint8_t		ks_int_naf[32], ks_ext_naf[32];
	int64_t		expiry;
	char		expiry_text[64];
	const char *values[11];
	int			lengths[11] = {0};
	int			formats[11] = {0};
	PGresult   *res = NULL;
	int64_t		t0;
	BsfStatus	zn;

	memset(resp, 0, sizeof(*resp));

	/* Zn: Ks_int_NAF and its expiry for the device's B-TID. */
	zn = bsf_zn(bsf, req->b_tid, naf_id, naf_id_len, ks_int_naf, ks_ext_naf, &expiry);
	if (zn != BSF_OK)
	{
		resp->status = zn == BSF_UNKNOWN ? NAF_UNKNOWN_B_TID : NAF_INTERNAL;
		return;
	}
	resp->ks_int_naf_expires_us = expiry;
	/* Ua: the shared-key TLS tunnel only comes up when both hold Ks_ext_NAF. */
	if (req->ks_ext_naf == NULL || CRYPTO_memcmp(req->ks_ext_naf, ks_ext_naf, 32) != 0)
	{
		resp->status = NAF_UA_FAILED;
		goto wipe;
	}

	format_timestamp(expiry, expiry_text, sizeof(expiry_text));
	values[0] = (const char *) naf_id;
	lengths[0] = (int) naf_id_len;
	formats[0] = 1;
	values[1] = req->b_tid;
	values[2] = (const char *) ks_int_naf;
	lengths[2] = 32;
	formats[2] = 1;
	values[3] = expiry_text;
	values[4] = req->terminal_id;
	values[5] = req->iccid;
	values[6] = req->imei;
	values[7] = NULL;			/* imeisv */
	values[8] = req->imsi;
	values[9] = req->terminal_appli_id;
	values[10] = req->uicc_appli_id;

	t0 = clock_mono_us();
	if (!PQsendQueryPrepared(c->pg, "request_key", 11, values, lengths, formats, 1))
		resp->db_status = lost(c, &resp->err);
	else
		resp->db_status = await_result(c, &res, &resp->err);
	resp->latency_us = clock_mono_us() - t0;

	if (resp->db_status == DB_SQL_ERROR)
		resp->status = NAF_DB_ERROR;
	else if (resp->db_status != DB_OK)
		resp->status = NAF_DB_LOST;
	else if (PQntuples(res) != 1)
	{
		resp->status = NAF_ANSWERED;
		snprintf(resp->outcome, sizeof(resp->outcome), "%d rows", PQntuples(res));
		resp->malformed = true;
	}
	else
	{
		int			col_outcome = PQfnumber(res, "outcome");
		int			col_reason = PQfnumber(res, "reason");
		int			col_binding = PQfnumber(res, "binding_id");
		int			col_expires = PQfnumber(res, "expires_at");
		bool		key_ok;

		resp->status = NAF_ANSWERED;
		get_text(res, col_outcome, resp->outcome, sizeof(resp->outcome));
		get_text(res, col_reason, resp->reason, sizeof(resp->reason));
		if (col_binding >= 0 && !PQgetisnull(res, 0, col_binding) &&
			PQgetlength(res, 0, col_binding) == 8)
			resp->binding_id = be_int64(PQgetvalue(res, 0, col_binding));
		key_ok = get_octets(res, PQfnumber(res, "ks_local"), resp->ks_local, 32) &&
			get_octets(res, PQfnumber(res, "rand_x"), resp->rand_x, 16) &&
			get_octets(res, PQfnumber(res, "rand_y"), resp->rand_y, 16) &&
			col_expires >= 0 && !PQgetisnull(res, 0, col_expires) &&
			PQgetlength(res, 0, col_expires) == 8;
		/* A key with every issue, none with a refusal. */
		if (strcmp(resp->outcome, "rejected") == 0)
		{
			int			col_key = PQfnumber(res, "ks_local");

			if (col_key < 0 || !PQgetisnull(res, 0, col_key))
				resp->malformed = true;
		}
		else if (!key_ok)
			resp->malformed = true;
		else
		{
			resp->has_key = true;
			resp->expires_us = be_int64(PQgetvalue(res, 0, col_expires)) + PG_EPOCH_UNIX_US;
		}
		/* The key came over the wire in this result: wipe our copy of it. */
		if (col_outcome >= 0)
		{
			int			col_key = PQfnumber(res, "ks_local");

			if (col_key >= 0 && !PQgetisnull(res, 0, col_key))
				OPENSSL_cleanse(PQgetvalue(res, 0, col_key), (size_t) PQgetlength(res, 0, col_key));
		}
	}
	PQclear(res);
wipe:
	OPENSSL_cleanse(ks_int_naf, sizeof(ks_int_naf));
	OPENSSL_cleanse(ks_ext_naf, sizeof(ks_ext_naf));
}

static DbStatus
exec_prepared_text(NafConn *c, const char *name, int n, const char *const *values,
				   PGresult **res, DbError *err)
{
	if (!PQsendQueryPrepared(c->pg, name, n, values, NULL, NULL, 0))
		return lost(c, err);
	return await_result(c, res, err);
}

DbStatus
naf_authorize_transfer(NafConn *c, const char *iccid, const char *new_terminal_id,
					   const char *reason, int64_t *authorization_id, DbError *err)
{
	const char *values[3] = {iccid, new_terminal_id, reason};
	PGresult   *res;
	DbStatus	s = exec_prepared_text(c, "authorize_transfer", 3, values, &res, err);

	if (s == DB_OK)
	{
		*authorization_id = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		PQclear(res);
	}
	return s;
}

DbStatus
naf_bind(NafConn *c, const char *terminal_id, const char *iccid, const char *imei,
		 const char *imsi, const char *note, int64_t *binding_id, DbError *err)
{
	const char *values[5] = {terminal_id, iccid, imei, imsi, note};
	PGresult   *res;
	DbStatus	s = exec_prepared_text(c, "bind", 5, values, &res, err);

	if (s == DB_OK)
	{
		*binding_id = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		PQclear(res);
	}
	return s;
}

DbStatus
naf_terminal_is_free(NafConn *c, const char *terminal_id, bool *is_free, DbError *err)
{
	const char *values[1] = {terminal_id};
	PGresult   *res;
	DbStatus	s = exec_prepared_text(c, "terminal_is_free", 1, values, &res, err);

	if (s == DB_OK)
	{
		*is_free = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	return s;
}

DbStatus
naf_listen(NafConn *c, DbError *err)
{
	return naf_query(c, "LISTEN mtcbind_rejected", 0, NULL, NULL, err);
}

DbStatus
naf_drain_notifications(NafConn *c, int timeout_ms,
						bool (*fn) (void *arg, const char *payload), void *arg,
						DbError *err)
{
	int64_t		deadline = clock_mono_us() + (int64_t) timeout_ms * 1000;

	for (;;)
	{
		PGnotify   *n;
		struct pollfd pfd = {PQsocket(c->pg), POLLIN, 0};
		int64_t		left;

		if (!PQconsumeInput(c->pg))
			return lost(c, err);
		bool		enough = false;

		while ((n = PQnotifies(c->pg)) != NULL)
		{
			if (fn(arg, n->extra))
				enough = true;
			PQfreemem(n);
		}
		left = deadline - clock_mono_us();
		if (enough || left <= 0 || naf_stop_requested())
			return naf_stop_requested() ? DB_STOPPED : DB_OK;
		if (pfd.fd < 0)
			return lost(c, err);
		if (poll(&pfd, 1, left > 100000 ? 100 : (int) (left / 1000) + 1) < 0 && errno != EINTR)
			return lost(c, err);
	}
}

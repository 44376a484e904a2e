/*
 * audit.c
 *		The event log: writing events, building their jsonb detail, the
 *		reason and NAF a call's changes are recorded with, the NOTIFY of
 *		refusals, the append-only guard, and the one way past it
 *		(mtcbind.purge_events).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "audit.h"
#include "catalog.h"
#include "errcodes.h"
#include "settings.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_event_append_only);
PG_FUNCTION_INFO_V1(mtcbind_delete_events);
PG_FUNCTION_INFO_V1(mtcbind_refusal_fingerprint);

/* What the current call records its changes with (see audit.h). */
typedef struct AuditContext
{
	bool		active;
	SubTransactionId owner;		/* the subtransaction it began in */
	char	   *reason;			/* in TopMemoryContext */
	bytea	   *naf_id;			/* in TopMemoryContext */
	char	   *load_source;	/* in TopMemoryContext: a per-load provision's source */
} AuditContext;

static AuditContext context;
static bool callbacks_registered = false;

/* True only while mtcbind_delete_events deletes: the append-only guard yields. */
static bool deleting_events = false;

/*
 * True while a request moves the last_used of its issuer or refusal code on
 * (the one UPDATE of key_issuer and refusal_subject).
 */
static bool refreshing_code = false;


/* ---------- context ---------- */

/* Forgets the context's values. */
void
audit_context_clear(void)
{
	if (context.reason)
		pfree(context.reason);
	if (context.naf_id)
		pfree(context.naf_id);
	if (context.load_source)
		pfree(context.load_source);
	memset(&context, 0, sizeof(context));
}

/* A failed call must not lend its reason to later statements. */
static void
audit_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE)
	{
		audit_context_clear();
		deleting_events = false;
		refreshing_code = false;
	}
}

static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && context.active && context.owner == mySubid)
		audit_context_clear();
}

/* See audit.h. */
void
audit_context_begin(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(audit_xact_callback, NULL);
		RegisterSubXactCallback(audit_subxact_callback, NULL);
		callbacks_registered = true;
	}
	audit_context_clear();
	context.active = true;
	context.owner = GetCurrentSubTransactionId();
}

void
audit_context_set_reason(const char *reason)
{
	Assert(context.active);
	if (context.reason)
		pfree(context.reason);
	context.reason = reason ? MemoryContextStrdup(TopMemoryContext, reason) : NULL;
}

void
audit_context_set_naf(const char *naf_id, size_t len)
{
	Assert(context.active);
	if (context.naf_id)
		pfree(context.naf_id);
	context.naf_id = (bytea *) MemoryContextAlloc(TopMemoryContext, VARHDRSZ + len);
	SET_VARSIZE(context.naf_id, VARHDRSZ + len);
	memcpy(VARDATA(context.naf_id), naf_id, len);
}

void
audit_context_set_load(const char *source)
{
	Assert(context.active);
	if (context.load_source)
		pfree(context.load_source);
	context.load_source = source ? MemoryContextStrdup(TopMemoryContext, source) : NULL;
}

/* The call's reason, else mtcbind.reason, else NULL. */
const char *
audit_current_reason(void)
{
	if (context.active)
		return context.reason;
	if (mtcbind_reason != NULL && mtcbind_reason[0] != '\0')
		return mtcbind_reason;
	return NULL;
}


/* The NAF_Id of the current call, or NULL outside mtcbind's calls. */
bytea *
audit_current_naf(void)
{
	return context.active ? context.naf_id : NULL;
}

/* The source of a per-load provision in progress, or NULL. */
const char *
audit_current_load(void)
{
	return context.active ? context.load_source : NULL;
}


/* ---------- detail ---------- */

/* Pushes a string key. */
static void
push_key(AuditDetail *d, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = pstrdup(key);
	k.val.string.len = strlen(key);
	pushJsonbValue(&d->state, WJB_KEY, &k);
	d->fields++;
}

void
audit_detail_begin(AuditDetail *d)
{
	memset(d, 0, sizeof(*d));
	pushJsonbValue(&d->state, WJB_BEGIN_OBJECT, NULL);
	d->depth = 1;
}

void
audit_detail_text(AuditDetail *d, const char *key, const char *value)
{
	JsonbValue	v;

	push_key(d, key);
	if (value == NULL)
		v.type = jbvNull;
	else
	{
		/* the builder keeps the pointer until audit_detail_end: copy */
		v.type = jbvString;
		v.val.string.val = pstrdup(value);
		v.val.string.len = strlen(value);
	}
	pushJsonbValue(&d->state, WJB_VALUE, &v);
}

void
audit_detail_int8(AuditDetail *d, const char *key, int64 value)
{
	JsonbValue	v;

	push_key(d, key);
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(value)));
	pushJsonbValue(&d->state, WJB_VALUE, &v);
}

void
audit_detail_begin_object(AuditDetail *d, const char *key)
{
	push_key(d, key);
	pushJsonbValue(&d->state, WJB_BEGIN_OBJECT, NULL);
	d->depth++;
}

void
audit_detail_end_object(AuditDetail *d)
{
	pushJsonbValue(&d->state, WJB_END_OBJECT, NULL);
	d->depth--;
}

/* An array, under a key, or (key NULL) as an element of an array. */
void
audit_detail_begin_array(AuditDetail *d, const char *key)
{
	if (key != NULL)
		push_key(d, key);
	pushJsonbValue(&d->state, WJB_BEGIN_ARRAY, NULL);
	d->depth++;
}

void
audit_detail_end_array(AuditDetail *d)
{
	pushJsonbValue(&d->state, WJB_END_ARRAY, NULL);
	d->depth--;
}

/* A number as an element of an array. */
void
audit_detail_int8_element(AuditDetail *d, int64 value)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(value)));
	pushJsonbValue(&d->state, WJB_ELEM, &v);
}

Jsonb *
audit_detail_end(AuditDetail *d)
{
	JsonbValue *root;

	Assert(d->depth == 1);
	root = pushJsonbValue(&d->state, WJB_END_OBJECT, NULL);
	if (d->fields == 0)
		return NULL;
	return JsonbValueToJsonb(root);
}


/* ---------- writing events ---------- */

/* See audit.h. */
int64
audit_record(const AuditEvent *ev)
{
	static StoreStatement st = {
		"INSERT INTO mtcbind.binding_event AS e"
		" (event, binding_id, terminal_id, iccid, imei, imsi, previous_terminal_id,"
		"  previous_iccid, key_expires_at, reason, naf_id, detail)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
		" RETURNING e.event_id",
		12, {ST_TEXT, ST_INT8, ST_TEXT, ST_ICCID, ST_IMEI, ST_IMSI, ST_TEXT, ST_ICCID,
			 ST_TIMESTAMPTZ, ST_TEXT, ST_BYTEA, ST_JSONB}
	};
	StoreArgs	args = {0};
	int64		event_id;

	arg_text(&args, ev->event);
	arg_datum(&args, Int64GetDatum(ev->binding_id), ev->binding_id == 0);
	arg_text(&args, ev->terminal_id);
	arg_ident(&args, ev->has_iccid, ev->iccid);
	arg_ident(&args, ev->has_imei, ev->imei);
	arg_ident(&args, ev->has_imsi, ev->imsi);
	arg_text(&args, ev->previous_terminal_id);
	arg_ident(&args, ev->has_previous_iccid, ev->previous_iccid);
	arg_datum(&args, TimestampTzGetDatum(ev->key_expires_at), ev->key_expires_at == 0);
	arg_text(&args, ev->reason);
	arg_datum(&args, PointerGetDatum(context.naf_id), !context.active || context.naf_id == NULL);
	arg_datum(&args, JsonbPGetDatum(ev->detail), ev->detail == NULL);
	store_run(&st, &args, SPI_OK_INSERT_RETURNING);
	result_int8(1, &event_id);
	return event_id;
}

/*
 * See audit.h.  The NAF and the session user are stored as a code of
 * mtcbind.key_issuer, made the first time a pair issues a key.  Made in the
 * same (sub)transaction as the key's row, so a rollback takes both, and a
 * code is never cached: the lookup is one probe of a small table.  Two
 * sessions making the same code: ON CONFLICT makes the second wait for the
 * first, and its next statement sees the code.
 *
 * A code is used only while its last_used is today (UTC): purge_events
 * removes codes last used two or more days before its cutoff's day, so
 * such a code cannot go while its key is written.  The first key of a day
 * moves last_used on, under the row's lock (a purge removing the code
 * meanwhile is waited for, and then a new code is made).
 */
void
audit_record_key_issue(int64 binding_id, int64 iccid, TimestampTz expires_at)
{
	/* $5, $2: the UTC day of the request, as days since 2000-01-01 */
	static StoreStatement record = {
		"INSERT INTO mtcbind.key_issue (binding_id, iccid, expires_at, issuer)"
		" SELECT $1, $2, $3, i.issuer FROM mtcbind.key_issuer i"
		" WHERE i.naf_id OPERATOR(pg_catalog.=) $4"
		"   AND i.actor OPERATOR(pg_catalog.=) SESSION_USER::pg_catalog.text"
		"   AND i.last_used OPERATOR(pg_catalog.>=)"
		"       ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $5)",
		5, {ST_INT8, ST_ICCID, ST_TIMESTAMPTZ, ST_BYTEA, ST_INT4}
	};
	static StoreStatement refresh_issuer = {
		"UPDATE mtcbind.key_issuer"
		" SET last_used = '2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $2"
		" WHERE naf_id OPERATOR(pg_catalog.=) $1"
		"   AND actor OPERATOR(pg_catalog.=) SESSION_USER::pg_catalog.text"
		"   AND last_used OPERATOR(pg_catalog.<)"
		"       ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $2)",
		2, {ST_BYTEA, ST_INT4}
	};
	static StoreStatement new_issuer = {
		"INSERT INTO mtcbind.key_issuer (naf_id, actor, last_used)"
		" VALUES ($1, SESSION_USER, '2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $2)"
		" ON CONFLICT DO NOTHING",
		2, {ST_BYTEA, ST_INT4}
	};
	StoreArgs	args = {0};
	StoreArgs	issuer_args = {0};
	volatile uint64 refreshed = 0;

	/*
	 * Read once, so that the three statements agree on the day also when
	 * midnight (UTC) falls between them.
	 */
	int32		today = (int32) (GetCurrentTimestamp() / USECS_PER_DAY);

	if (!context.active || context.naf_id == NULL)
		elog(ERROR, "mtcbind: a key issue is recorded only within a request");
	if (!OidIsValid(ext_catalog()->key_issue_rel))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mtcbind.key_issue_log = compact needs mtcbind 1.1"),
				 errdetail("The table mtcbind.key_issue does not exist in this database."),
				 errhint("Update it (ALTER EXTENSION mtcbind UPDATE TO '1.1', then SELECT mtcbind.maintain_event_log(); docs/upgrading.md), or set mtcbind.key_issue_log = events.")));

	arg_int8(&args, binding_id);
	arg_ident(&args, true, iccid);
	arg_timestamptz(&args, expires_at);
	arg_datum(&args, PointerGetDatum(context.naf_id), false);
	arg_datum(&args, Int32GetDatum(today), false);
	if (store_run(&record, &args, SPI_OK_INSERT) == 1)
		return;

	arg_datum(&issuer_args, PointerGetDatum(context.naf_id), false);
	arg_datum(&issuer_args, Int32GetDatum(today), false);
	refreshing_code = true;
	PG_TRY();
	{
		refreshed = store_run(&refresh_issuer, &issuer_args, SPI_OK_UPDATE);
	}
	PG_FINALLY();
	{
		refreshing_code = false;
	}
	PG_END_TRY();
	if (refreshed == 0)
		store_run(&new_issuer, &issuer_args, SPI_OK_INSERT);
	if (store_run(&record, &args, SPI_OK_INSERT) != 1)
		elog(ERROR, "mtcbind: no code in mtcbind.key_issuer for this NAF and session user");
}


/* Adds one value, with its presence and length, to a fingerprint. */
static void
fingerprint_add(pg_cryptohash_ctx *ctx, const void *data, uint32 len, bool present)
{
	uint8		head[5];

	head[0] = present ? 1 : 0;
	head[1] = (uint8) (len >> 24);
	head[2] = (uint8) (len >> 16);
	head[3] = (uint8) (len >> 8);
	head[4] = (uint8) len;
	if (pg_cryptohash_update(ctx, head, present ? 5 : 1) < 0 ||
		(present && len > 0 && pg_cryptohash_update(ctx, data, len) < 0))
		elog(ERROR, "mtcbind: could not compute a refusal fingerprint");
}

/*
 * mtcbind._refusal_fingerprint(iccid, terminal_id, reason, imei, imsi,
 * imeisv, binding_id, device_binding_id, uicc_binding_id, block_id, naf_id,
 * actor) RETURNS bigint: the first 8 octets of a SHA-256 of everything a
 * refusal code holds, NULLs included, for the generated column
 * refusal_subject.fingerprint and the lookups below.  With the card, it
 * finds a code in one index probe however many codes a card or a device
 * has (a client varying the IMSI of one card cannot make each refusal
 * slower than the last); the lookups still compare every column, so a
 * collision costs a row, never a wrong code.  Each value is hashed with
 * its presence and length, so that no two different codes hash the same
 * octets.  The identifiers are hashed in their stored form (int64): a
 * change of that form would need the fingerprints recomputed, or every
 * refusal would make a new code.
 */
Datum
mtcbind_refusal_fingerprint(PG_FUNCTION_ARGS)
{
	/* argument types, in order: 'i' an 8-byte identifier or bigint, 't' text or bytea */
	static const char kinds[] = "ittiiiiiiitt";
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	uint64		folded = 0;

	if (PG_NARGS() != (int) strlen(kinds))
		elog(ERROR, "mtcbind._refusal_fingerprint() takes %d arguments", (int) strlen(kinds));
	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "mtcbind: could not compute a refusal fingerprint");
	for (int i = 0; i < PG_NARGS(); i++)
	{
		if (PG_ARGISNULL(i))
			fingerprint_add(ctx, NULL, 0, false);
		else if (kinds[i] == 'i')
		{
			uint64		v = (uint64) PG_GETARG_INT64(i);
			uint8		be[8];

			for (int k = 0; k < 8; k++)
				be[k] = (uint8) (v >> (56 - 8 * k));
			fingerprint_add(ctx, be, 8, true);
		}
		else
		{
			struct varlena *v = PG_GETARG_VARLENA_PP(i);

			fingerprint_add(ctx, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), true);
		}
	}
	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "mtcbind: could not compute a refusal fingerprint");
	pg_cryptohash_free(ctx);
	for (int k = 0; k < 8; k++)
		folded = (folded << 8) | digest[k];
	PG_RETURN_INT64((int64) folded);
}

/*
 * See audit.h.  As audit_record_key_issue, with a code of
 * mtcbind.refusal_subject for everything but the time: used while its
 * last_used is today (UTC), moved on by the first refusal of a day, made by
 * the first refusal of its kind.  A code is found by its card and
 * fingerprint, then every column compared, absent identities as equal
 * (IS NOT DISTINCT FROM).  The table has no unique key over a code's
 * columns (see mtcbind--1.0--1.1.sql): after moving codes on, the refusal
 * looks again, so that two sessions moving the same code on do not make a
 * second one; sessions making the same new code while the others'
 * transactions are open (their codes not yet visible) make one each, and
 * later refusals name any of them.  Only the card and the fingerprint are
 * written so that an index can answer them (the rest is one row
 * comparison): whatever the planner estimates, the one index it can use is
 * theirs, and no plan walks a card's or a device's codes one by one.  It
 * plans with fixed settings (planner.c): a sequential scan only where no
 * index answers, so a lookup planned while the table was small does not
 * scan every code once it has grown.
 */
int64
audit_record_refusal(const RefusalRecord *r, TimestampTz *refused_at)
{
#define REFUSAL_SUBJECT_MATCH \
	" WHERE s.iccid OPERATOR(pg_catalog.=) $1" \
	"   AND s.fingerprint OPERATOR(pg_catalog.=) mtcbind._refusal_fingerprint($1, $2, $3, $4," \
	"       $5, $6, $7, $8, $9, $10, $11, SESSION_USER::pg_catalog.text)" \
	"   AND (s.terminal_id, s.reason, s.imei, s.imsi, s.imeisv, s.binding_id," \
	"        s.device_binding_id, s.uicc_binding_id, s.block_id, s.naf_id, s.actor)" \
	"       IS NOT DISTINCT FROM ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11," \
	"                             SESSION_USER::pg_catalog.text)"
#define REFUSAL_SUBJECT_TYPES \
	ST_ICCID, ST_TEXT, ST_TEXT, ST_IMEI, ST_IMSI, ST_IMEISV, ST_INT8, ST_INT8, \
	ST_INT8, ST_INT8, ST_BYTEA, ST_INT4

	/* $12: the UTC day of the refusal, as days since 2000-01-01 */
	static StoreStatement record = {
		"INSERT INTO mtcbind.refusal (subject)"
		" SELECT s.subject FROM mtcbind.refusal_subject s"
		REFUSAL_SUBJECT_MATCH
		"   AND s.last_used OPERATOR(pg_catalog.>=)"
		"       ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $12)"
		" LIMIT 1"
		" RETURNING subject, refused_at",
		12, {REFUSAL_SUBJECT_TYPES}
	};
	static StoreStatement refresh_subject = {
		"UPDATE mtcbind.refusal_subject s"
		" SET last_used = '2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $12"
		REFUSAL_SUBJECT_MATCH
		"   AND s.last_used OPERATOR(pg_catalog.<)"
		"       ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $12)",
		12, {REFUSAL_SUBJECT_TYPES}
	};
	/* a new code and the refusal that names it, in one statement */
	static StoreStatement new_subject = {
		"WITH s AS (INSERT INTO mtcbind.refusal_subject"
		"   (iccid, terminal_id, reason, imei, imsi, imeisv, binding_id, device_binding_id,"
		"    uicc_binding_id, block_id, naf_id, actor, last_used)"
		"   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, SESSION_USER,"
		"           '2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) $12)"
		"   RETURNING subject)"
		" INSERT INTO mtcbind.refusal (subject) SELECT s.subject FROM s"
		" RETURNING subject, refused_at",
		12, {REFUSAL_SUBJECT_TYPES}
	};
#undef REFUSAL_SUBJECT_MATCH
#undef REFUSAL_SUBJECT_TYPES
	StoreArgs	args = {0};
	int64		subject;

	/* Read once, so that the statements agree on the day (as for key issues). */
	int32		today = (int32) (GetCurrentTimestamp() / USECS_PER_DAY);

	if (!OidIsValid(ext_catalog()->refusal_rel))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mtcbind.refusal_log = compact needs mtcbind 1.1"),
				 errdetail("The table mtcbind.refusal does not exist in this database."),
				 errhint("Update it (ALTER EXTENSION mtcbind UPDATE TO '1.1', then SELECT mtcbind.maintain_event_log(); docs/upgrading.md), or set mtcbind.refusal_log = events.")));

	arg_ident(&args, true, r->iccid);
	arg_text(&args, r->terminal_id);
	arg_text(&args, r->reason);
	arg_ident(&args, r->has_imei, r->imei);
	arg_ident(&args, r->has_imsi, r->imsi);
	arg_ident(&args, r->has_imeisv, r->imeisv);
	arg_datum(&args, Int64GetDatum(r->binding_id), r->binding_id == 0);
	arg_datum(&args, Int64GetDatum(r->device_binding_id), r->device_binding_id == 0);
	arg_datum(&args, Int64GetDatum(r->uicc_binding_id), r->uicc_binding_id == 0);
	arg_datum(&args, Int64GetDatum(r->block_id), r->block_id == 0);
	arg_datum(&args, PointerGetDatum(context.naf_id), !context.active || context.naf_id == NULL);
	arg_datum(&args, Int32GetDatum(today), false);

	if (store_run(&record, &args, SPI_OK_INSERT_RETURNING) == 1)
	{
		result_int8(1, &subject);
		result_timestamptz(2, refused_at);
		return subject;
	}
	refreshing_code = true;
	PG_TRY();
	{
		store_run(&refresh_subject, &args, SPI_OK_UPDATE);
	}
	PG_FINALLY();
	{
		refreshing_code = false;
	}
	PG_END_TRY();
	/*
	 * Look again before making a code: moved on here, or by another session
	 * meanwhile (the UPDATE waited for its row lock and then found the code
	 * current).
	 */
	if (store_run(&record, &args, SPI_OK_INSERT_RETURNING) != 1 &&
		store_run(&new_subject, &args, SPI_OK_INSERT_RETURNING) != 1)
		elog(ERROR, "mtcbind: no code in mtcbind.refusal_subject for this refusal");
	result_int8(1, &subject);
	result_timestamptz(2, refused_at);
	return subject;
}

/*
 * Any user of the database may LISTEN (and NOTIFY), so the payload names
 * the refusal (its event_id, or in the compact log its code, "subject",
 * and its time, as every repeat names the same code) and its reason only;
 * the identities stay in the log, readable by mtcbind_auditor.  A listener
 * should trust the log, not the payload.
 */
void
audit_notify_rejection(const char *id_key, int64 id, const char *reason,
					   const TimestampTz *refused_at)
{
	AuditDetail d;
	Jsonb	   *payload;
	char		when[MAXDATELEN + 1];
	int			utc = 0;

	audit_detail_begin(&d);
	audit_detail_int8(&d, id_key, id);
	audit_detail_text(&d, "reason", reason);
	/* in UTC, whatever the session's TimeZone: one text for one time */
	if (refused_at != NULL)
		audit_detail_text(&d, "refused_at",
						  JsonEncodeDateTime(when, TimestampTzGetDatum(*refused_at),
											 TIMESTAMPTZOID, &utc));
	payload = audit_detail_end(&d);
	Async_Notify("mtcbind_rejected",
				 JsonbToCString(NULL, &payload->root, VARSIZE(payload)));
}


/* ---------- append-only ---------- */

/*
 * mtcbind.event_append_only(): BEFORE UPDATE OR DELETE (row) and BEFORE
 * TRUNCATE on the event log and each of its partitions.
 */
Datum
mtcbind_event_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *op;
	const char *relname;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "mtcbind.event_append_only() must be called as a trigger");
	if (deleting_events && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);
	if (refreshing_code && TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_newtuple);

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else
		op = "TRUNCATE";
	/* A partition of a log, or a table of codes: the name of the log it is part of */
	relname = RelationGetRelationName(trigdata->tg_relation);
	if (strcmp(relname, "key_issuer") == 0 || strcmp(relname, "refusal_subject") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_APPEND_ONLY),
				 errmsg("mtcbind.%s is append-only", relname),
				 errdetail("%s is not allowed on the audit log.", op),
				 errhint("Codes go only with mtcbind.purge_events: those last used two or more days before its cutoff's day.")));
	ereport(ERROR,
			(errcode(ERRCODE_MTCBIND_APPEND_ONLY),
			 errmsg("mtcbind.%s is append-only",
					strncmp(relname, "key_issue", 9) == 0 ? "key_issue" :
					strncmp(relname, "refusal", 7) == 0 ? "refusal" : "binding_event"),
			 errdetail("%s is not allowed on the audit log.", op),
			 errhint("Old events are removed with mtcbind.purge_events; see docs/dba-guide.md.")));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/*
 * mtcbind._delete_events(target regclass, cutoff timestamptz, kinds text[])
 * Deletes the events before cutoff (of the given kinds, or all) from the
 * event log, the key-issue log or the refusal log, or from one's default
 * partition, or the codes of the latter two last used before cutoff;
 * returns how many.  Called by
 * mtcbind.purge_events only (granted to no one).
 */
Datum
mtcbind_delete_events(PG_FUNCTION_ARGS)
{
	Oid			target;
	char	   *target_name;
	const char *time_column;
	Oid			argtypes[2] = {TIMESTAMPTZOID, TEXTARRAYOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	StringInfoData sql;
	uint64		deleted;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target and cutoff must not be NULL")));
	target = PG_GETARG_OID(0);
	target_name = get_rel_name(target);
	/*
	 * Only a log itself, its default partition, or the issuer codes: never
	 * another table.
	 */
	if (target_name == NULL ||
		get_rel_namespace(target) != get_namespace_oid("mtcbind", false))
		time_column = NULL;
	else if (strcmp(target_name, "binding_event") == 0 ||
			 strcmp(target_name, "binding_event_default") == 0)
		time_column = "occurred_at";
	else if (strcmp(target_name, "key_issue") == 0 ||
			 strcmp(target_name, "key_issue_default") == 0)
		time_column = "issued_at";	/* every row a key_issued event */
	else if (strcmp(target_name, "refusal") == 0 ||
			 strcmp(target_name, "refusal_default") == 0)
		time_column = "refused_at";	/* every row a rejected event */
	else if (strcmp(target_name, "key_issuer") == 0 ||
			 strcmp(target_name, "refusal_subject") == 0)
		time_column = "last_used";	/* codes no kept row names */
	else
		time_column = NULL;
	if (time_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must be mtcbind.binding_event, mtcbind.key_issue, mtcbind.refusal, their default partition, mtcbind.key_issuer or mtcbind.refusal_subject")));
	if (!PG_ARGISNULL(2) && strcmp(time_column, "occurred_at") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kinds must be NULL for mtcbind.%s", target_name)));

	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM mtcbind.%s WHERE %s OPERATOR(pg_catalog.<) $1",
					 quote_identifier(target_name), time_column);
	values[0] = PG_GETARG_DATUM(1);
	values[1] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	if (!PG_ARGISNULL(2))
		appendStringInfoString(&sql, " AND event OPERATOR(pg_catalog.=) ANY ($2)");
	else
		nulls[1] = 'n';

	store_connect();
	deleting_events = true;
	PG_TRY();
	{
		if (SPI_execute_with_args(sql.data, 2, argtypes, values, nulls, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "mtcbind: could not delete events");
		deleted = SPI_processed;
	}
	PG_FINALLY();
	{
		deleting_events = false;
	}
	PG_END_TRY();
	store_finish();
	PG_RETURN_INT64((int64) deleted);
}

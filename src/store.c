/*
 * store.c
 *		The statements that read and write bindings and transfer
 *		authorisations, and the machinery every statement of mtcbind uses:
 *		plans prepared once per backend (again after the extension was
 *		recreated), parameters appended in $n order next to the SQL text.
 *
 * Every name in the SQL is schema-qualified and every operator written as
 * OPERATOR(pg_catalog.x), so a plan means the same whoever prepares it and
 * whatever their search_path.  Statements run under READ COMMITTED (the
 * callers refuse other levels), so each sees what committed before it.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"

#include "audit.h"
#include "catalog.h"
#include "store.h"

/* The columns every binding lookup returns, in BindingRow order. */
#define BINDING_COLUMNS \
	"binding_id, terminal_id, iccid, imei, imeisv, imsi, blocked, note"


/* ---------- machinery ---------- */

/* Every statement prepared in this backend, newest first. */
static StoreStatement *prepared_statements = NULL;

/* How many of them are running now (nested through triggers), for planner.c. */
static int	running_statements = 0;

/* The type OID of a declared parameter type. */
static Oid
store_type_oid(StoreType type, const ExtCatalog *cat)
{
	switch (type)
	{
		case ST_INT8:
			return INT8OID;
		case ST_INT4:
			return INT4OID;
		case ST_TEXT:
			return TEXTOID;
		case ST_TEXT_ARRAY:
			return TEXTARRAYOID;
		case ST_BOOL:
			return BOOLOID;
		case ST_BYTEA:
			return BYTEAOID;
		case ST_JSONB:
			return JSONBOID;
		case ST_TIMESTAMPTZ:
			return TIMESTAMPTZOID;
		case ST_INTERVAL:
			return INTERVALOID;
		case ST_REGCLASS:
			return REGCLASSOID;
		case ST_OID:
			return OIDOID;
		case ST_ICCID:
			return cat->iccid_type;
		case ST_IMEI:
			return cat->imei_type;
		case ST_IMEISV:
			return cat->imeisv_type;
		case ST_IMSI:
			return cat->imsi_type;
	}
	elog(ERROR, "mtcbind: unknown statement parameter type %d", (int) type);
	return InvalidOid;			/* keep compiler quiet */
}

/* Prepares st if it has no plan for the current catalog generation. */
static void
store_prepare(StoreStatement *st)
{
	const ExtCatalog *cat = ext_catalog();
	Oid			argtypes[STORE_MAX_ARGS];
	SPIPlanPtr	plan;
	List	   *sources;

	if (st->plan != NULL && st->generation == cat->generation)
		return;
	if (st->plan != NULL)
	{
		SPI_freeplan(st->plan);
		st->plan = NULL;
		st->plan_text = NULL;
	}
	Assert(st->nargs <= STORE_MAX_ARGS);
	for (int i = 0; i < st->nargs; i++)
		argtypes[i] = store_type_oid(st->types[i], cat);
	/*
	 * One generic plan from the first execution on: the statements find rows
	 * by a key, for which PostgreSQL's five custom plans ended in the generic
	 * plan anyway, and each planning costs the fixed settings (planner.c).
	 */
	plan = SPI_prepare_cursor(st->sql, st->nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "mtcbind: could not prepare statement: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "mtcbind: could not keep prepared statement");
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		elog(ERROR, "mtcbind: a prepared statement must be one statement");
	st->plan = plan;
	st->plan_text = ((CachedPlanSource *) linitial(sources))->query_string;
	st->generation = cat->generation;
	if (!st->listed)
	{
		st->next_listed = prepared_statements;
		prepared_statements = st;
		st->listed = true;
	}
}

/* See store.h. */
bool
store_statement_running(void)
{
	return running_statements > 0;
}

/* See store.h.  A backend prepares a few dozen statements at most. */
bool
store_owns_query(const char *query_string)
{
	for (const StoreStatement *st = prepared_statements; st != NULL; st = st->next_listed)
		if (st->plan_text == query_string)
			return true;
	return false;
}

/* Runs st with args, under snapshot (NULL: the usual one). */
static uint64
store_execute(StoreStatement *st, StoreArgs *args, int expected_rc,
			  Snapshot snapshot)
{
	volatile int rc = 0;

	if (args->n != st->nargs)
		elog(ERROR, "mtcbind: statement takes %d parameters, %d given",
			 st->nargs, args->n);
	store_prepare(st);
	running_statements++;
	PG_TRY();
	{
		if (snapshot == NULL)
			rc = SPI_execute_plan(st->plan, args->values, args->nulls, false, 0);
		else
			rc = SPI_execute_snapshot(st->plan, args->values, args->nulls,
									  snapshot, InvalidSnapshot, false, false, 0);
	}
	PG_FINALLY();
	{
		running_statements--;
	}
	PG_END_TRY();
	if (rc != expected_rc)
		elog(ERROR, "mtcbind: statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * See store.h.  What "SET search_path" on a function does, for code that
 * runs SQL only on some of its paths: request_key's fast path runs none,
 * and a function-level SET would cost it a GUC save and restore per call.
 */
int
store_pin_search_path(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, ERROR, false);
	return nest;
}

void
store_unpin_search_path(int nest)
{
	AtEOXact_GUC(true, nest);
}

/* See store.h. */
uint64
store_run(StoreStatement *st, StoreArgs *args, int expected_rc)
{
	return store_execute(st, args, expected_rc, NULL);
}

/* See store.h. */
uint64
store_run_latest(StoreStatement *st, StoreArgs *args, int expected_rc)
{
	return store_execute(st, args, expected_rc, GetLatestSnapshot());
}

/* See store.h. */
void
arg_datum(StoreArgs *args, Datum value, bool isnull)
{
	if (args->n >= STORE_MAX_ARGS)
		elog(ERROR, "mtcbind: too many statement parameters");
	args->values[args->n] = value;
	args->nulls[args->n] = isnull ? 'n' : ' ';
	args->n++;
}

void
arg_int8(StoreArgs *args, int64 value)
{
	arg_datum(args, Int64GetDatum(value), false);
}

/* An identifier (imei, imeisv, iccid, imsi) or NULL when absent. */
void
arg_ident(StoreArgs *args, bool present, int64 value)
{
	arg_datum(args, Int64GetDatum(present ? value : 0), !present);
}

void
arg_text(StoreArgs *args, const char *value)
{
	arg_datum(args, value ? CStringGetTextDatum(value) : (Datum) 0, value == NULL);
}

void
arg_bool(StoreArgs *args, bool value)
{
	arg_datum(args, BoolGetDatum(value), false);
}

void
arg_timestamptz(StoreArgs *args, TimestampTz value)
{
	arg_datum(args, TimestampTzGetDatum(value), false);
}

/* See store.h. */
bool
result_int8(int column, int64 *value)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  column, &isnull);

	*value = isnull ? 0 : DatumGetInt64(d);
	return !isnull;
}

bool
result_timestamptz(int column, TimestampTz *value)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  column, &isnull);

	*value = isnull ? 0 : DatumGetTimestampTz(d);
	return !isnull;
}

char *
result_text(int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  column, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

bool
result_bool(int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  column, &isnull);

	return !isnull && DatumGetBool(d);
}

void
store_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "mtcbind: SPI_connect failed");
}

void
store_finish(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "mtcbind: SPI_finish failed");
}


/* ---------- bindings ---------- */

/* Reads row 0 of the last result, columns BINDING_COLUMNS, into row. */
static void
read_binding_row(BindingRow *row)
{
	memset(row, 0, sizeof(*row));
	if (SPI_processed == 0)
		return;
	row->found = true;
	result_int8(1, &row->binding_id);
	row->terminal_id = result_text(2);
	result_int8(3, &row->iccid);
	row->has_imei = result_int8(4, &row->imei);
	row->has_imeisv = result_int8(5, &row->imeisv);
	row->has_imsi = result_int8(6, &row->imsi);
	row->blocked = result_bool(7);
	row->note = result_text(8);
}

/* The binding that holds a UICC, optionally locked for update. */
void
store_binding_by_iccid(int64 iccid, bool for_update, BindingRow *row)
{
	static StoreStatement plain = {
		"SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
		" WHERE iccid OPERATOR(pg_catalog.=) $1",
		1, {ST_ICCID}
	};
	static StoreStatement locking = {
		"SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
		" WHERE iccid OPERATOR(pg_catalog.=) $1 FOR UPDATE",
		1, {ST_ICCID}
	};
	StoreArgs	args = {0};

	arg_int8(&args, iccid);
	store_run(for_update ? &locking : &plain, &args, SPI_OK_SELECT);
	read_binding_row(row);
}

/* The binding that holds a device, by terminal_id first, else by IMEI. */
void
store_binding_by_device(const char *terminal_id, bool has_imei, int64 imei,
						BindingRow *row)
{
	static StoreStatement st = {
		"SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
		" WHERE terminal_id OPERATOR(pg_catalog.=) $1"
		"    OR imei OPERATOR(pg_catalog.=) $2"
		" ORDER BY terminal_id OPERATOR(pg_catalog.=) $1 DESC LIMIT 1",
		2, {ST_TEXT, ST_IMEI}
	};
	StoreArgs	args = {0};

	arg_text(&args, terminal_id);
	arg_ident(&args, has_imei, imei);
	store_run(&st, &args, SPI_OK_SELECT);
	read_binding_row(row);
}

/* The binding that holds an IMSI. */
void
store_binding_by_imsi(int64 imsi, BindingRow *row)
{
	static StoreStatement st = {
		"SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
		" WHERE imsi OPERATOR(pg_catalog.=) $1",
		1, {ST_IMSI}
	};
	StoreArgs	args = {0};

	arg_int8(&args, imsi);
	store_run(&st, &args, SPI_OK_SELECT);
	read_binding_row(row);
}

/* Locks a binding row if it still holds terminal_id; false if it moved. */
bool
store_lock_binding(int64 binding_id, const char *terminal_id)
{
	static StoreStatement st = {
		"SELECT binding_id FROM mtcbind.binding"
		" WHERE binding_id OPERATOR(pg_catalog.=) $1"
		"   AND terminal_id OPERATOR(pg_catalog.=) $2 FOR UPDATE",
		2, {ST_INT8, ST_TEXT}
	};
	StoreArgs	args = {0};

	arg_int8(&args, binding_id);
	arg_text(&args, terminal_id);
	return store_run(&st, &args, SPI_OK_SELECT) > 0;
}

/*
 * Inserts a binding.  A concurrent binding of the same UICC, device, IMEI
 * or IMSI makes it do nothing (false): the caller decides again.
 */
bool
store_insert_binding(const NewBinding *nb, int64 *binding_id)
{
	static StoreStatement st = {
		"INSERT INTO mtcbind.binding AS b"
		" (terminal_id, iccid, imei, imeisv, imsi, terminal_appli_id, uicc_appli_id,"
		"  note, last_key_at, key_count)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		"  CASE WHEN $9 IS NULL THEN 0 ELSE 1 END)"
		" ON CONFLICT DO NOTHING RETURNING b.binding_id",
		9, {ST_TEXT, ST_ICCID, ST_IMEI, ST_IMEISV, ST_IMSI, ST_TEXT, ST_TEXT,
			ST_TEXT, ST_TIMESTAMPTZ}
	};
	StoreArgs	args = {0};

	arg_text(&args, nb->terminal_id);
	arg_int8(&args, nb->iccid);
	arg_ident(&args, nb->has_imei, nb->imei);
	arg_ident(&args, nb->has_imeisv, nb->imeisv);
	arg_ident(&args, nb->has_imsi, nb->imsi);
	arg_text(&args, nb->terminal_appli_id ? nb->terminal_appli_id : "");
	arg_text(&args, nb->uicc_appli_id ? nb->uicc_appli_id : "");
	arg_text(&args, nb->note);
	arg_datum(&args, TimestampTzGetDatum(nb->key_issued_at), nb->key_issued_at == 0);
	if (store_run(&st, &args, SPI_OK_INSERT_RETURNING) == 0)
		return false;
	result_int8(1, binding_id);
	return true;
}

/*
 * Records identities a bound pair reports that the binding does not hold
 * yet (a first IMEI, a new IMEISV or IMSI); false if the binding moved.
 */
bool
store_record_identities(const BindingRow *held,
						bool set_imei, int64 imei, bool set_imeisv, int64 imeisv,
						bool set_imsi, int64 imsi)
{
	/*
	 * Only if the row is still what the decision read: a concurrent request
	 * that recorded another IMEI first makes this one decide again (and
	 * meet identity_mismatch), instead of overwriting it.
	 */
	static StoreStatement st = {
		"UPDATE mtcbind.binding"
		" SET imei = coalesce($3, imei), imeisv = coalesce($4, imeisv),"
		"     imsi = coalesce($5, imsi), updated_at = pg_catalog.clock_timestamp()"
		" WHERE binding_id OPERATOR(pg_catalog.=) $1"
		"   AND terminal_id OPERATOR(pg_catalog.=) $2"
		"   AND imei IS NOT DISTINCT FROM $6"
		"   AND imeisv IS NOT DISTINCT FROM $7"
		"   AND imsi IS NOT DISTINCT FROM $8"
		" RETURNING binding_id",
		8, {ST_INT8, ST_TEXT, ST_IMEI, ST_IMEISV, ST_IMSI, ST_IMEI, ST_IMEISV, ST_IMSI}
	};
	StoreArgs	args = {0};

	arg_int8(&args, held->binding_id);
	arg_text(&args, held->terminal_id);
	arg_ident(&args, set_imei, imei);
	arg_ident(&args, set_imeisv, imeisv);
	arg_ident(&args, set_imsi, imsi);
	arg_ident(&args, held->has_imei, held->imei);
	arg_ident(&args, held->has_imeisv, held->imeisv);
	arg_ident(&args, held->has_imsi, held->imsi);
	return store_run(&st, &args, SPI_OK_UPDATE_RETURNING) > 0;
}

/* Replaces a binding's note. */
bool
store_set_note(int64 binding_id, const char *note)
{
	static StoreStatement st = {
		"UPDATE mtcbind.binding SET note = $2, updated_at = pg_catalog.clock_timestamp()"
		" WHERE binding_id OPERATOR(pg_catalog.=) $1 RETURNING binding_id",
		2, {ST_INT8, ST_TEXT}
	};
	StoreArgs	args = {0};

	arg_int8(&args, binding_id);
	arg_text(&args, note);
	return store_run(&st, &args, SPI_OK_UPDATE_RETURNING) > 0;
}

/* Counts an issued key on the binding (never the key); false if it moved. */
bool
store_touch(int64 binding_id, const char *terminal_id, TimestampTz now)
{
	static StoreStatement st = {
		"UPDATE mtcbind.binding"
		" SET last_key_at = $3, key_count = key_count OPERATOR(pg_catalog.+) 1"
		" WHERE binding_id OPERATOR(pg_catalog.=) $1"
		"   AND terminal_id OPERATOR(pg_catalog.=) $2"
		" RETURNING binding_id",
		3, {ST_INT8, ST_TEXT, ST_TIMESTAMPTZ}
	};
	StoreArgs	args = {0};

	arg_int8(&args, binding_id);
	arg_text(&args, terminal_id);
	arg_timestamptz(&args, now);
	return store_run(&st, &args, SPI_OK_UPDATE_RETURNING) > 0;
}

/*
 * Moves a binding from old_terminal_id to nb's device, which brings its own
 * hardware identities (none, for an administrator's rebind).  The IMSI is
 * kept unless nb reports one; uicc_appli_id too.  False if it moved first.
 */
bool
store_move_binding(int64 binding_id, const char *old_terminal_id,
				   const NewBinding *nb)
{
	static StoreStatement st = {
		"UPDATE mtcbind.binding"
		" SET terminal_id = $3, imei = $4, imeisv = $5, imsi = coalesce($6, imsi),"
		"     terminal_appli_id = $7, uicc_appli_id = coalesce($8, uicc_appli_id),"
		"     updated_at = pg_catalog.clock_timestamp(),"
		"     last_key_at = coalesce($9, last_key_at),"
		"     key_count = key_count OPERATOR(pg_catalog.+) CASE WHEN $9 IS NULL THEN 0 ELSE 1 END"
		" WHERE binding_id OPERATOR(pg_catalog.=) $1"
		"   AND terminal_id OPERATOR(pg_catalog.=) $2"
		" RETURNING binding_id",
		9, {ST_INT8, ST_TEXT, ST_TEXT, ST_IMEI, ST_IMEISV, ST_IMSI, ST_TEXT, ST_TEXT,
			ST_TIMESTAMPTZ}
	};
	StoreArgs	args = {0};

	arg_int8(&args, binding_id);
	arg_text(&args, old_terminal_id);
	arg_text(&args, nb->terminal_id);
	arg_ident(&args, nb->has_imei, nb->imei);
	arg_ident(&args, nb->has_imeisv, nb->imeisv);
	arg_ident(&args, nb->has_imsi, nb->imsi);
	arg_text(&args, nb->terminal_appli_id ? nb->terminal_appli_id : "");
	arg_text(&args, nb->uicc_appli_id);
	arg_datum(&args, TimestampTzGetDatum(nb->key_issued_at), nb->key_issued_at == 0);
	return store_run(&st, &args, SPI_OK_UPDATE_RETURNING) > 0;
}

/* Deletes the binding of a UICC; false (gone->found false) if there was none. */
bool
store_delete_binding(int64 iccid, BindingRow *gone)
{
	static StoreStatement st = {
		"DELETE FROM mtcbind.binding WHERE iccid OPERATOR(pg_catalog.=) $1"
		" RETURNING " BINDING_COLUMNS,
		1, {ST_ICCID}
	};
	StoreArgs	args = {0};

	arg_int8(&args, iccid);
	store_run(&st, &args, SPI_OK_DELETE_RETURNING);
	read_binding_row(gone);
	return gone->found;
}


/* ---------- transfer authorisations ---------- */

/*
 * The open, unexpired authorisation to move a binding, if any, by the clock
 * now (a decision taken again after a wait sees it expire).
 */
void
store_open_transfer(int64 binding_id, OpenTransfer *out)
{
	static StoreStatement st = {
		"SELECT authorization_id, new_terminal_id, reason"
		" FROM mtcbind.transfer_authorization"
		" WHERE binding_id OPERATOR(pg_catalog.=) $1"
		"   AND used_at IS NULL AND revoked_at IS NULL"
		"   AND valid_until OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()",
		1, {ST_INT8}
	};
	StoreArgs	args = {0};

	memset(out, 0, sizeof(*out));
	arg_int8(&args, binding_id);
	if (store_run(&st, &args, SPI_OK_SELECT) == 0)
		return;
	out->found = true;
	result_int8(1, &out->authorization_id);
	out->new_terminal_id = result_text(2);
	out->reason = result_text(3);
}

/*
 * Spends an authorisation; false if it was used, revoked or expired
 * meanwhile.  Its validity is judged by the clock when the row is locked
 * (re-read if the UPDATE waited for another transaction), not before.
 */
bool
store_use_transfer(int64 authorization_id, const char *terminal_id)
{
	static StoreStatement st = {
		"UPDATE mtcbind.transfer_authorization"
		" SET used_at = pg_catalog.clock_timestamp(), used_by_terminal = $2"
		" WHERE authorization_id OPERATOR(pg_catalog.=) $1"
		"   AND used_at IS NULL AND revoked_at IS NULL"
		"   AND valid_until OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()"
		" RETURNING authorization_id",
		2, {ST_INT8, ST_TEXT}
	};
	StoreArgs	args = {0};

	arg_int8(&args, authorization_id);
	arg_text(&args, terminal_id);
	return store_run(&st, &args, SPI_OK_UPDATE_RETURNING) > 0;
}

/* Records a new authorisation; returns its id. */
int64
store_insert_transfer(int64 binding_id, int64 iccid, const char *new_terminal_id,
					  TimestampTz valid_until, const char *reason)
{
	static StoreStatement st = {
		"INSERT INTO mtcbind.transfer_authorization"
		" (binding_id, iccid, new_terminal_id, valid_until, reason)"
		" VALUES ($1, $2, $3, $4, $5) RETURNING authorization_id",
		5, {ST_INT8, ST_ICCID, ST_TEXT, ST_TIMESTAMPTZ, ST_TEXT}
	};
	StoreArgs	args = {0};
	int64		id;

	arg_int8(&args, binding_id);
	arg_int8(&args, iccid);
	arg_text(&args, new_terminal_id);
	arg_timestamptz(&args, valid_until);
	arg_text(&args, reason);
	store_run(&st, &args, SPI_OK_INSERT_RETURNING);
	result_int8(1, &id);
	return id;
}

/* Revokes the open authorisation of a UICC, if any, with an event saying why. */
void
store_revoke_transfers(int64 iccid, TimestampTz now, const char *why)
{
	static StoreStatement st = {
		"UPDATE mtcbind.transfer_authorization SET revoked_at = $2"
		" WHERE iccid OPERATOR(pg_catalog.=) $1"
		"   AND used_at IS NULL AND revoked_at IS NULL"
		" RETURNING authorization_id, binding_id",
		2, {ST_ICCID, ST_TIMESTAMPTZ}
	};
	StoreArgs	args = {0};
	int64		revoked_id;
	int64		binding_id;

	arg_int8(&args, iccid);
	arg_timestamptz(&args, now);
	/* the unique index allows one open authorisation per UICC */
	if (store_run(&st, &args, SPI_OK_UPDATE_RETURNING) == 0)
		return;
	result_int8(1, &revoked_id);
	result_int8(2, &binding_id);
	{
		AuditEvent	ev = {.event = "transfer_revoked"};
		AuditDetail detail;

		ev.binding_id = binding_id;
		ev.has_iccid = true;
		ev.iccid = iccid;
		ev.reason = why;
		audit_detail_begin(&detail);
		audit_detail_int8(&detail, "authorization_id", revoked_id);
		ev.detail = audit_detail_end(&detail);
		audit_record(&ev);
	}
}

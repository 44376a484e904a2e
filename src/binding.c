/*
 * binding.c
 *		mtcbind.request_key: the NAF Key Center's decision to bind, grant or
 *		reject a Ks_local request, and the key issue that follows.
 *
 * The invariant (a device, a UICC, an IMEI, an IMSI each in at most one
 * binding) is carried by UNIQUE constraints on mtcbind.binding, so it holds
 * whatever this code does.  This code's job is to answer every request with
 * one row and never an error when requests race: each write it makes is
 * conditional (ON CONFLICT DO NOTHING, UPDATE ... WHERE the row is still as
 * read, or a subtransaction that catches unique_violation), and when a write
 * finds the world changed, the decision is taken again on a fresh snapshot.
 * This relies on READ COMMITTED, PostgreSQL's default (docs/naf-guide.md).
 *
 * Lock order, shared with the administration functions: the binding row
 * first, then its transfer authorisation.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "encoding.h"
#include "identifiers.h"
#include "kdf.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(request_key);

/* Limits on request fields, documented in docs/naf-guide.md. */
#define NAF_ID_MIN_LEN		(1 + MTCBIND_UA_PROTOCOL_LEN)
#define NAF_ID_MAX_LEN		(255 + MTCBIND_UA_PROTOCOL_LEN)
#define B_TID_MAX_LEN		1024
#define TERMINAL_ID_MAX_LEN	255
#define APPLI_ID_MAX_LEN	255

/* A decision that finds the world changed under it is retaken this often. */
#define MAX_DECISION_ATTEMPTS	10

#define ERRCODE_MTCBIND_INTERNAL	MAKE_SQLSTATE('M','B','0','9','9')

/* A validated request, in the server encoding except where noted. */
typedef struct KeyRequest
{
	bytea	   *ks_int_naf;		/* MTCBIND_KEY_LEN octets */
	text	   *b_tid;
	TimestampTz ks_int_naf_expiry;
	char	   *terminal_id;
	int64		iccid;
	bool		has_imei;		/* given, or derived from the IMEISV */
	int64		imei;
	bool		has_imeisv;
	int64		imeisv;
	bool		has_imsi;
	int64		imsi;
	char	   *terminal_appli_id;
	char	   *uicc_appli_id;
	/* Ks_local's inputs as the KDF takes them (texts in UTF-8), but RANDs */
	KsLocalInput kdf_input;
	char		iccid_digits[MTCBIND_IDENT_BUFLEN];
} KeyRequest;

/* What the binding table says about one row. */
typedef struct BindingRow
{
	bool		found;
	int64		binding_id;
	char	   *terminal_id;
	int64		iccid;
	bool		has_imei;
	int64		imei;
	bool		has_imeisv;
	int64		imeisv;
	bool		has_imsi;
	int64		imsi;
} BindingRow;

/* The answer, before the key is derived. */
typedef struct Decision
{
	const char *outcome;		/* "bound", "granted", "rejected" */
	const char *reason;			/* NULL unless rejected */
	int64		binding_id;		/* 0 when none */
	int64		device_binding_id;	/* for rejections: who holds the device */
	int64		uicc_binding_id;	/* ... and who holds the UICC */
} Decision;

/* Plans prepared once per backend (and again if the extension is recreated). */
typedef enum PlanId
{
	PLAN_BY_ICCID,
	PLAN_BY_DEVICE,
	PLAN_BY_IMSI,
	PLAN_INSERT,
	PLAN_TOUCH,
	PLAN_DRIFT,
	PLAN_FIND_TRANSFER,
	PLAN_LOCK_BINDING,
	PLAN_USE_TRANSFER,
	PLAN_MOVE,
	PLAN_EVENT,
	NUM_PLANS
} PlanId;

static SPIPlanPtr plans[NUM_PLANS];
static Oid	plans_for_function = InvalidOid;

/* The columns every lookup returns, in this order. */
#define BINDING_COLUMNS \
	"binding_id, terminal_id, iccid, imei, imeisv, imsi"

/*
 * Prepares one statement and keeps it for the life of the backend.
 * types[] uses 'b' bigint, 't' text, 'c' iccid, 'e' imei, 'v' imeisv,
 * 's' imsi, 'z' timestamptz, 'o' boolean, 'j' jsonb (as text).
 */
static void
prepare_plan(PlanId id, const char *sql, const char *types, const Oid *ident_types)
{
	Oid			argtypes[16];
	int			nargs = strlen(types);
	SPIPlanPtr	plan;

	Assert(nargs <= lengthof(argtypes));
	for (int i = 0; i < nargs; i++)
	{
		switch (types[i])
		{
			case 'b': argtypes[i] = INT8OID; break;
			case 't': argtypes[i] = TEXTOID; break;
			case 'c': argtypes[i] = ident_types[0]; break;
			case 'e': argtypes[i] = ident_types[1]; break;
			case 'v': argtypes[i] = ident_types[2]; break;
			case 's': argtypes[i] = ident_types[3]; break;
			case 'z': argtypes[i] = TIMESTAMPTZOID; break;
			case 'o': argtypes[i] = BOOLOID; break;
			default: elog(ERROR, "unknown plan argument type '%c'", types[i]);
		}
	}
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "mtcbind: could not prepare statement: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "mtcbind: could not keep prepared statement");
	plans[id] = plan;
}

/*
 * Prepares every statement request_key uses.  The identifier types' OIDs
 * are read from request_key's own signature, so the statements follow the
 * extension if it is dropped and created again.
 */
static void
prepare_plans(Oid fn_oid)
{
	Oid		   *argtypes;
	int			nargs;
	Oid			ident_types[4];

	if (plans_for_function == fn_oid)
		return;
	for (int i = 0; i < NUM_PLANS; i++)
	{
		if (plans[i] != NULL)
			SPI_freeplan(plans[i]);
		plans[i] = NULL;
	}
	plans_for_function = InvalidOid;

	get_func_signature(fn_oid, &argtypes, &nargs);
	if (nargs != 11)
		elog(ERROR, "mtcbind.request_key has %d arguments, 11 expected", nargs);
	ident_types[0] = argtypes[5];	/* iccid */
	ident_types[1] = argtypes[6];	/* imei */
	ident_types[2] = argtypes[7];	/* imeisv */
	ident_types[3] = argtypes[8];	/* imsi */

	prepare_plan(PLAN_BY_ICCID,
				 "SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
				 " WHERE iccid OPERATOR(mtcbind.=) $1",
				 "c", ident_types);
	prepare_plan(PLAN_BY_DEVICE,
				 "SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
				 " WHERE terminal_id OPERATOR(pg_catalog.=) $1"
				 "    OR imei OPERATOR(mtcbind.=) $2"
				 " ORDER BY terminal_id OPERATOR(pg_catalog.=) $1 DESC LIMIT 1",
				 "te", ident_types);
	prepare_plan(PLAN_BY_IMSI,
				 "SELECT " BINDING_COLUMNS " FROM mtcbind.binding"
				 " WHERE imsi OPERATOR(mtcbind.=) $1",
				 "s", ident_types);
	prepare_plan(PLAN_INSERT,
				 "INSERT INTO mtcbind.binding AS b"
				 " (terminal_id, iccid, imei, imeisv, imsi, terminal_appli_id,"
				 "  uicc_appli_id, last_key_at, key_count)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7,"
				 "  CASE WHEN $8 THEN pg_catalog.now() END,"
				 "  CASE WHEN $8 THEN 1 ELSE 0 END)"
				 " ON CONFLICT DO NOTHING RETURNING b.binding_id",
				 "tcevstto", ident_types);
	prepare_plan(PLAN_TOUCH,
				 "UPDATE mtcbind.binding"
				 " SET last_key_at = pg_catalog.now(),"
				 "     key_count = key_count OPERATOR(pg_catalog.+) 1"
				 " WHERE binding_id OPERATOR(pg_catalog.=) $1"
				 "   AND terminal_id OPERATOR(pg_catalog.=) $2"
				 " RETURNING binding_id",
				 "bt", ident_types);
	prepare_plan(PLAN_DRIFT,
				 "UPDATE mtcbind.binding"
				 " SET imei = coalesce($3, imei),"
				 "     imeisv = coalesce($4, imeisv),"
				 "     imsi = coalesce($5, imsi),"
				 "     updated_at = pg_catalog.now()"
				 " WHERE binding_id OPERATOR(pg_catalog.=) $1"
				 "   AND terminal_id OPERATOR(pg_catalog.=) $2"
				 " RETURNING binding_id",
				 "btevs", ident_types);
	prepare_plan(PLAN_FIND_TRANSFER,
				 "SELECT authorization_id, new_terminal_id, reason"
				 " FROM mtcbind.transfer_authorization"
				 " WHERE binding_id OPERATOR(pg_catalog.=) $1"
				 "   AND used_at IS NULL AND revoked_at IS NULL"
				 "   AND valid_until OPERATOR(pg_catalog.>) pg_catalog.now()",
				 "b", ident_types);
	prepare_plan(PLAN_LOCK_BINDING,
				 "SELECT binding_id FROM mtcbind.binding"
				 " WHERE binding_id OPERATOR(pg_catalog.=) $1"
				 "   AND terminal_id OPERATOR(pg_catalog.=) $2"
				 " FOR UPDATE",
				 "bt", ident_types);
	prepare_plan(PLAN_USE_TRANSFER,
				 "UPDATE mtcbind.transfer_authorization"
				 " SET used_at = pg_catalog.now(), used_by_terminal = $2"
				 " WHERE authorization_id OPERATOR(pg_catalog.=) $1"
				 "   AND used_at IS NULL AND revoked_at IS NULL"
				 "   AND valid_until OPERATOR(pg_catalog.>) pg_catalog.now()"
				 " RETURNING authorization_id",
				 "bt", ident_types);
	prepare_plan(PLAN_MOVE,
				 "UPDATE mtcbind.binding"
				 " SET terminal_id = $3, imei = $4, imeisv = $5,"
				 "     imsi = coalesce($6, imsi),"
				 "     terminal_appli_id = $7, uicc_appli_id = $8,"
				 "     updated_at = pg_catalog.now(),"
				 "     last_key_at = CASE WHEN $9 THEN pg_catalog.now() ELSE last_key_at END,"
				 "     key_count = key_count OPERATOR(pg_catalog.+) CASE WHEN $9 THEN 1 ELSE 0 END"
				 " WHERE binding_id OPERATOR(pg_catalog.=) $1"
				 "   AND terminal_id OPERATOR(pg_catalog.=) $2"
				 " RETURNING binding_id",
				 "bttevstto", ident_types);
	prepare_plan(PLAN_EVENT,
				 "INSERT INTO mtcbind.binding_event AS e"
				 " (event, binding_id, terminal_id, iccid, reason, detail)"
				 " VALUES ($1, $2, $3, $4, $5, $6::pg_catalog.jsonb)"
				 " RETURNING e.event_id",
				 "tbtctt", ident_types);

	plans_for_function = fn_oid;
}

/* Runs a prepared statement, failing loudly on anything unexpected. */
static uint64
run_plan(PlanId id, Datum *values, const char *nulls, int expected_rc)
{
	int			rc = SPI_execute_plan(plans[id], values, nulls, false, 0);

	if (rc != expected_rc)
		elog(ERROR, "mtcbind: statement %d failed: %s", (int) id,
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/* Reads row 0 of the last result into a BindingRow (copied out of SPI). */
static void
read_binding_row(BindingRow *row)
{
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	memset(row, 0, sizeof(*row));
	if (SPI_processed == 0)
		return;
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row->found = true;
	row->binding_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	d = SPI_getbinval(tuple, desc, 2, &isnull);
	row->terminal_id = TextDatumGetCString(d);
	row->iccid = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
	d = SPI_getbinval(tuple, desc, 4, &isnull);
	row->has_imei = !isnull;
	row->imei = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(tuple, desc, 5, &isnull);
	row->has_imeisv = !isnull;
	row->imeisv = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(tuple, desc, 6, &isnull);
	row->has_imsi = !isnull;
	row->imsi = isnull ? 0 : DatumGetInt64(d);
}

/* Looks up the binding that holds a UICC. */
static void
binding_of_uicc(int64 iccid, BindingRow *row)
{
	Datum		values[1] = {Int64GetDatum(iccid)};

	run_plan(PLAN_BY_ICCID, values, NULL, SPI_OK_SELECT);
	read_binding_row(row);
}

/* Looks up the binding that holds a device, by terminal_id or IMEI. */
static void
binding_of_device(const KeyRequest *req, BindingRow *row)
{
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	values[0] = CStringGetTextDatum(req->terminal_id);
	values[1] = Int64GetDatum(req->imei);
	if (!req->has_imei)
		nulls[1] = 'n';
	run_plan(PLAN_BY_DEVICE, values, nulls, SPI_OK_SELECT);
	read_binding_row(row);
}

/* Looks up the binding that holds an IMSI. */
static void
binding_of_imsi(int64 imsi, BindingRow *row)
{
	Datum		values[1] = {Int64GetDatum(imsi)};

	run_plan(PLAN_BY_IMSI, values, NULL, SPI_OK_SELECT);
	read_binding_row(row);
}

/*
 * Runs a sequence of statements in a subtransaction, so that a unique
 * violation (another binding took an identity meanwhile) rolls back just
 * this step.  Returns false when that happened; other errors propagate.
 */
typedef bool (*GuardedStep) (void *arg);

static bool
run_guarded(GuardedStep step, void *arg, bool *completed)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	volatile bool unique_violation = false;

	*completed = false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	PG_TRY();
	{
		bool		done = step(arg);

		if (done)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
		*completed = done;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
		unique_violation = true;
	}
	PG_END_TRY();
	return !unique_violation;
}

/*
 * Sets mtcbind.reason for the audit trigger.  request_key runs with its
 * own GUC nest level (it has a SET clause), so the value is gone when it
 * returns.
 */
static void
set_audit_reason(const char *why)
{
	(void) set_config_option("mtcbind.reason", why,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/* Appends "key": "value" to a JSON object under construction. */
static void
json_field(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	escape_json(buf, value);
}

/* Appends "key": number to a JSON object under construction. */
static void
json_number(StringInfo buf, const char *key, int64 value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfo(buf, ": " INT64_FORMAT, value);
}

/* Records an event that is not a row change; returns its event_id. */
static int64
record_event(const char *event, int64 binding_id, const KeyRequest *req,
			 const char *reason, const char *detail_json)
{
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;

	values[0] = CStringGetTextDatum(event);
	values[1] = Int64GetDatum(binding_id);
	if (binding_id == 0)
		nulls[1] = 'n';
	values[2] = CStringGetTextDatum(req->terminal_id);
	values[3] = Int64GetDatum(req->iccid);
	values[4] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	if (reason == NULL)
		nulls[4] = 'n';
	values[5] = detail_json ? CStringGetTextDatum(detail_json) : (Datum) 0;
	if (detail_json == NULL)
		nulls[5] = 'n';
	run_plan(PLAN_EVENT, values, nulls, SPI_OK_INSERT_RETURNING);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/* Builds a rejection. */
static Decision
rejection(const char *reason, int64 device_binding_id, int64 uicc_binding_id)
{
	Decision	d = {"rejected", reason, 0, device_binding_id, uicc_binding_id};

	d.binding_id = uicc_binding_id ? uicc_binding_id : device_binding_id;
	return d;
}

/* Arguments of the drift step. */
typedef struct DriftStep
{
	const KeyRequest *req;
	const BindingRow *held;
	bool		imei_new;
	bool		imeisv_new;
	bool		imsi_new;
} DriftStep;

/* Records a changed IMEISV / IMSI (or a first IMEI) on the binding. */
static bool
drift_step(void *arg)
{
	DriftStep  *s = (DriftStep *) arg;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', 'n', 'n', 'n'};

	values[0] = Int64GetDatum(s->held->binding_id);
	values[1] = CStringGetTextDatum(s->held->terminal_id);
	values[2] = Int64GetDatum(s->req->imei);
	values[3] = Int64GetDatum(s->req->imeisv);
	values[4] = Int64GetDatum(s->req->imsi);
	if (s->imei_new)
		nulls[2] = ' ';
	if (s->imeisv_new)
		nulls[3] = ' ';
	if (s->imsi_new)
		nulls[4] = ' ';
	return run_plan(PLAN_DRIFT, values, nulls, SPI_OK_UPDATE_RETURNING) > 0;
}

/*
 * Fills six statement parameters, in this order, from a request: imei,
 * imeisv, imsi, terminal_appli_id, uicc_appli_id, and whether key issues
 * are logged.  PLAN_INSERT and PLAN_MOVE take them in this order.
 */
static void
put_request_fields(const KeyRequest *req, Datum *values, char *nulls)
{
	values[0] = Int64GetDatum(req->imei);
	nulls[0] = req->has_imei ? ' ' : 'n';
	values[1] = Int64GetDatum(req->imeisv);
	nulls[1] = req->has_imeisv ? ' ' : 'n';
	values[2] = Int64GetDatum(req->imsi);
	nulls[2] = req->has_imsi ? ' ' : 'n';
	values[3] = CStringGetTextDatum(req->terminal_appli_id);
	nulls[3] = ' ';
	values[4] = CStringGetTextDatum(req->uicc_appli_id);
	nulls[4] = ' ';
	values[5] = BoolGetDatum(mtcbind_log_key_issue);
	nulls[5] = ' ';
}

/* Arguments of the transfer step. */
typedef struct TransferStep
{
	const KeyRequest *req;
	const BindingRow *held;
	int64		authorization_id;
} TransferStep;

/*
 * Moves a binding to the requesting device under a transfer authorisation:
 * binding row locked first, then the authorisation used, then the move.
 */
static bool
transfer_step(void *arg)
{
	TransferStep *s = (TransferStep *) arg;
	const KeyRequest *req = s->req;
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Datum		old_terminal = CStringGetTextDatum(s->held->terminal_id);
	Datum		new_terminal = CStringGetTextDatum(req->terminal_id);

	values[0] = Int64GetDatum(s->held->binding_id);
	values[1] = old_terminal;
	if (run_plan(PLAN_LOCK_BINDING, values, nulls, SPI_OK_SELECT) == 0)
		return false;

	values[0] = Int64GetDatum(s->authorization_id);
	values[1] = new_terminal;
	if (run_plan(PLAN_USE_TRANSFER, values, nulls, SPI_OK_UPDATE_RETURNING) == 0)
		return false;

	values[0] = Int64GetDatum(s->held->binding_id);
	values[1] = old_terminal;
	values[2] = new_terminal;
	put_request_fields(req, values + 3, nulls + 3);
	return run_plan(PLAN_MOVE, values, nulls, SPI_OK_UPDATE_RETURNING) > 0;
}

/* Records that a key was issued, without the key; false if the binding moved. */
static bool
touch_binding(const KeyRequest *req, int64 binding_id)
{
	Datum		values[2];

	values[0] = Int64GetDatum(binding_id);
	values[1] = CStringGetTextDatum(req->terminal_id);
	return run_plan(PLAN_TOUCH, values, NULL, SPI_OK_UPDATE_RETURNING) > 0;
}

/*
 * The pair is bound to each other: check the device's identities against
 * the record, accept a new IMEISV or IMSI, and grant.  Returns false when
 * the binding changed meanwhile and the decision must be retaken.
 */
static bool
decide_for_own_binding(const KeyRequest *req, const BindingRow *held,
					   Decision *decision)
{
	DriftStep	drift = {req, held, false, false, false};
	bool		completed;
	StringInfoData why;

	/* A known device presented with another IMEI is not the same device. */
	if (req->has_imei && held->has_imei && req->imei != held->imei)
	{
		*decision = rejection("identity_mismatch", held->binding_id, held->binding_id);
		return true;
	}
	drift.imei_new = req->has_imei && !held->has_imei;
	drift.imeisv_new = req->has_imeisv && (!held->has_imeisv || held->imeisv != req->imeisv);
	drift.imsi_new = req->has_imsi && (!held->has_imsi || held->imsi != req->imsi);

	if (drift.imei_new || drift.imeisv_new || drift.imsi_new)
	{
		initStringInfo(&why);
		appendStringInfoString(&why, "reported in request_key:");
		if (drift.imei_new)
			appendStringInfoString(&why, " IMEI recorded");
		if (drift.imeisv_new)
			appendStringInfoString(&why, held->has_imeisv ? " IMEISV changed" : " IMEISV recorded");
		if (drift.imsi_new)
			appendStringInfoString(&why, held->has_imsi ? " IMSI changed" : " IMSI recorded");
		set_audit_reason(why.data);
		if (!run_guarded(drift_step, &drift, &completed))
		{
			/* The new IMEI or IMSI belongs to another binding. */
			*decision = rejection("identity_mismatch", held->binding_id, held->binding_id);
			return true;
		}
		if (!completed)
			return false;
	}

	if (mtcbind_log_key_issue && !touch_binding(req, held->binding_id))
		return false;

	decision->outcome = "granted";
	decision->reason = NULL;
	decision->binding_id = held->binding_id;
	return true;
}

/*
 * The UICC is bound to another device.  A pending transfer authorisation
 * for this device moves the binding; otherwise the request is refused.
 */
static bool
decide_for_foreign_uicc(const KeyRequest *req, const BindingRow *held,
						Decision *decision)
{
	BindingRow	device;
	Datum		values[1];
	bool		isnull;
	int64		authorization_id = 0;
	char	   *named_terminal = NULL;
	char	   *auth_reason = NULL;

	binding_of_device(req, &device);

	/* The same physical device (by IMEI) under another terminal_id. */
	if (device.found && device.binding_id == held->binding_id)
	{
		*decision = rejection("identity_mismatch", held->binding_id, held->binding_id);
		return true;
	}

	values[0] = Int64GetDatum(held->binding_id);
	if (run_plan(PLAN_FIND_TRANSFER, values, NULL, SPI_OK_SELECT) > 0)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		d;

		authorization_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		d = SPI_getbinval(tuple, desc, 2, &isnull);
		named_terminal = isnull ? NULL : TextDatumGetCString(d);
		d = SPI_getbinval(tuple, desc, 3, &isnull);
		auth_reason = isnull ? NULL : TextDatumGetCString(d);
	}

	if (authorization_id != 0 && !device.found &&
		(named_terminal == NULL || strcmp(named_terminal, req->terminal_id) == 0))
	{
		TransferStep step = {req, held, authorization_id};
		bool		completed;
		StringInfoData why;

		/* An IMSI the new device reports must not belong to another card. */
		if (req->has_imsi)
		{
			BindingRow	owner;

			binding_of_imsi(req->imsi, &owner);
			if (owner.found && owner.binding_id != held->binding_id)
			{
				*decision = rejection("identity_mismatch", 0, owner.binding_id);
				return true;
			}
		}

		initStringInfo(&why);
		appendStringInfo(&why, "transfer authorisation " INT64_FORMAT " used",
						 authorization_id);
		if (auth_reason)
			appendStringInfo(&why, ": %s", auth_reason);
		set_audit_reason(why.data);
		if (!run_guarded(transfer_step, &step, &completed) || !completed)
			return false;
		decision->outcome = "bound";
		decision->reason = NULL;
		decision->binding_id = held->binding_id;
		return true;
	}

	if (device.found)
		*decision = rejection("both_bound_elsewhere", device.binding_id, held->binding_id);
	else
		*decision = rejection("uicc_bound_elsewhere", 0, held->binding_id);
	return true;
}

/*
 * Neither the UICC nor (by the first lookup) anything else: refuse if the
 * device or the IMSI is taken, else bind on first use when policy allows.
 */
static bool
decide_for_free_uicc(const KeyRequest *req, Decision *decision, int *unexplained)
{
	BindingRow	device;
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;

	binding_of_device(req, &device);
	if (device.found)
	{
		*decision = rejection("device_bound_elsewhere", device.binding_id, 0);
		return true;
	}
	if (req->has_imsi)
	{
		BindingRow	owner;

		binding_of_imsi(req->imsi, &owner);
		if (owner.found)
		{
			*decision = rejection("uicc_bound_elsewhere", 0, owner.binding_id);
			return true;
		}
	}
	if (mtcbind_first_use == FIRST_USE_REJECT)
	{
		*decision = rejection("not_provisioned", 0, 0);
		return true;
	}

	set_audit_reason("first use (mtcbind.first_use = bind)");
	values[0] = CStringGetTextDatum(req->terminal_id);
	values[1] = Int64GetDatum(req->iccid);
	put_request_fields(req, values + 2, nulls + 2);

	/*
	 * A concurrent first request for the same UICC or device wins here, and
	 * the next pass sees it.  A conflict that the next pass cannot explain
	 * either is on binding_id alone: the sequence is behind the table.
	 */
	if (run_plan(PLAN_INSERT, values, nulls, SPI_OK_INSERT_RETURNING) == 0)
	{
		if (++(*unexplained) >= 2)
			ereport(ERROR,
					(errcode(MAKE_SQLSTATE('M','B','0','0','5')),
					 errmsg("mtcbind.binding_binding_id_seq is behind the ids in mtcbind.binding"),
					 errdetail("New bindings draw ids that are already taken."),
					 errhint("As the owner: SELECT pg_catalog.setval('mtcbind.binding_binding_id_seq', (SELECT max(binding_id) FROM mtcbind.binding));")));
		return false;
	}

	decision->outcome = "bound";
	decision->reason = NULL;
	decision->binding_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc,
													   1, &isnull));
	return true;
}

/* Takes the decision, again on a fresh snapshot whenever a write lost a race. */
static Decision
decide(const KeyRequest *req)
{
	Decision	decision;
	int			unexplained = 0;	/* first-use inserts that lost to no one */

	for (int attempt = 0; attempt < MAX_DECISION_ATTEMPTS; attempt++)
	{
		BindingRow	held;
		bool		settled;

		CHECK_FOR_INTERRUPTS();
		memset(&decision, 0, sizeof(decision));
		binding_of_uicc(req->iccid, &held);
		if (!held.found)
			settled = decide_for_free_uicc(req, &decision, &unexplained);
		else if (strcmp(held.terminal_id, req->terminal_id) == 0)
			settled = decide_for_own_binding(req, &held, &decision);
		else
			settled = decide_for_foreign_uicc(req, &held, &decision);
		if (settled)
			return decision;
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not settle the binding decision after %d attempts",
					MAX_DECISION_ATTEMPTS),
			 errdetail("Concurrent changes to the same binding kept winning."),
			 errhint("Retry the request.")));
	return decision;			/* keep compiler quiet */
}

/* Records a refusal and announces it on channel mtcbind_rejected. */
static void
record_rejection(const KeyRequest *req, const Decision *decision)
{
	StringInfoData detail;
	StringInfoData payload;
	char		digits[MTCBIND_IDENT_BUFLEN];
	int64		event_id;

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	if (decision->device_binding_id)
		json_number(&detail, "device_binding_id", decision->device_binding_id);
	if (decision->uicc_binding_id)
		json_number(&detail, "uicc_binding_id", decision->uicc_binding_id);
	if (req->has_imei)
	{
		imei_to_digits(req->imei, digits);
		json_field(&detail, "imei", digits);
	}
	if (req->has_imeisv)
	{
		imeisv_to_digits(req->imeisv, digits);
		json_field(&detail, "imeisv", digits);
	}
	if (req->has_imsi)
	{
		imsi_to_digits(req->imsi, digits);
		json_field(&detail, "imsi", digits);
	}
	appendStringInfoChar(&detail, '}');

	event_id = record_event("rejected", decision->binding_id, req,
							decision->reason, detail.data);

	/*
	 * Any user of the database may LISTEN, so the payload names the event
	 * and its reason only; the identities are in the event row, readable
	 * by mtcbind_auditor.  Any user may also NOTIFY: a listener should
	 * trust the event row, not the payload.
	 */
	initStringInfo(&payload);
	appendStringInfoChar(&payload, '{');
	json_number(&payload, "event_id", event_id);
	json_field(&payload, "reason", decision->reason);
	appendStringInfoChar(&payload, '}');
	Async_Notify("mtcbind_rejected", payload.data);
}

/* Records an issued key (its expiry, never the key). */
static void
record_key_issue(const KeyRequest *req, int64 binding_id, TimestampTz expires_at)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	json_field(&detail, "expires_at", timestamptz_to_str(expires_at));
	appendStringInfoChar(&detail, '}');
	record_event("key_issued", binding_id, req, NULL, detail.data);
}


/*
 * The fast path.  Re-keying a bound pair is the bulk of the traffic; with
 * mtcbind.log_key_issue off it must cost no more than an indexed read.  So
 * it reads the binding straight through the ICCID index, without SPI or
 * the executor, and only falls back to the full decision (SPI) when the
 * row is not a plain match.
 */
typedef struct BindingCatalog
{
	Oid			for_function;	/* request_key's OID these were read for */
	Oid			binding_rel;
	Oid			iccid_index;
	AttrNumber	att_binding_id;
	AttrNumber	att_terminal_id;
	AttrNumber	att_imei;
	AttrNumber	att_imeisv;
	AttrNumber	att_imsi;
	AttrNumber	att_iccid;
} BindingCatalog;

static BindingCatalog catalog = {InvalidOid};
static bool catalog_callback_registered = false;

/*
 * Forgets the OIDs when the table or its index changes (REINDEX
 * CONCURRENTLY gives the index a new OID, DDL may drop either).
 */
static void
catalog_invalidated(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == catalog.binding_rel ||
		relid == catalog.iccid_index)
		catalog.for_function = InvalidOid;
}

/* Finds mtcbind.binding and its ICCID index; false if either is missing. */
static bool
resolve_catalog(Oid fn_oid)
{
	Oid			schema;

	if (!catalog_callback_registered)
	{
		CacheRegisterRelcacheCallback(catalog_invalidated, (Datum) 0);
		catalog_callback_registered = true;
	}
	if (catalog.for_function == fn_oid)
		return OidIsValid(catalog.iccid_index);
	memset(&catalog, 0, sizeof(catalog));
	schema = get_namespace_oid("mtcbind", true);
	if (OidIsValid(schema))
	{
		catalog.binding_rel = get_relname_relid("binding", schema);
		catalog.iccid_index = get_relname_relid("binding_iccid_key", schema);
	}
	if (OidIsValid(catalog.binding_rel) && OidIsValid(catalog.iccid_index))
	{
		catalog.att_binding_id = get_attnum(catalog.binding_rel, "binding_id");
		catalog.att_terminal_id = get_attnum(catalog.binding_rel, "terminal_id");
		catalog.att_imei = get_attnum(catalog.binding_rel, "imei");
		catalog.att_imeisv = get_attnum(catalog.binding_rel, "imeisv");
		catalog.att_imsi = get_attnum(catalog.binding_rel, "imsi");
		catalog.att_iccid = get_attnum(catalog.binding_rel, "iccid");
		if (catalog.att_binding_id <= 0 || catalog.att_terminal_id <= 0 ||
			catalog.att_imei <= 0 || catalog.att_imeisv <= 0 || catalog.att_imsi <= 0)
			catalog.iccid_index = InvalidOid;
	}
	else
		catalog.iccid_index = InvalidOid;
	catalog.for_function = fn_oid;
	return OidIsValid(catalog.iccid_index);
}

/* Reads an int8-based identifier column of the slot. */
static bool
slot_ident(TupleTableSlot *slot, AttrNumber att, int64 *value)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, att, &isnull);

	*value = isnull ? 0 : DatumGetInt64(d);
	return !isnull;
}

/*
 * Grants a key to a pair that is bound to each other and reports nothing
 * new, reading one index entry.  Returns false when the full decision is
 * needed (not bound, bound elsewhere, drift, mismatch, or no index).
 */
static bool
try_fast_grant(Oid fn_oid, const KeyRequest *req, Decision *decision)
{
	Relation	rel;
	Relation	index;
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key;
	bool		granted = false;

	if (!resolve_catalog(fn_oid))
		return false;

	rel = table_open(catalog.binding_rel, AccessShareLock);
	index = index_open(catalog.iccid_index, AccessShareLock);

	/* Only a valid unique index on exactly the iccid column will do. */
	if (!index->rd_index->indisvalid || !index->rd_index->indisunique ||
		index->rd_index->indrelid != catalog.binding_rel ||
		index->rd_index->indnatts != 1 ||
		index->rd_index->indkey.values[0] != catalog.att_iccid ||
		index->rd_rel->relam != BTREE_AM_OID)
	{
		index_close(index, NoLock);
		table_close(rel, NoLock);
		return false;
	}

	/*
	 * A fresh snapshot under READ COMMITTED, the view the SPI path takes
	 * too: it sees what earlier calls in the same statement wrote.
	 */
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(req->iccid));
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);

	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		text	   *terminal = DatumGetTextPP(slot_getattr(slot, catalog.att_terminal_id, &isnull));
		size_t		len = strlen(req->terminal_id);
		int64		imei, imeisv, imsi;
		bool		has_imei = slot_ident(slot, catalog.att_imei, &imei);
		bool		has_imeisv = slot_ident(slot, catalog.att_imeisv, &imeisv);
		bool		has_imsi = slot_ident(slot, catalog.att_imsi, &imsi);

		if (!isnull && VARSIZE_ANY_EXHDR(terminal) == len &&
			memcmp(VARDATA_ANY(terminal), req->terminal_id, len) == 0 &&
			(!req->has_imei || (has_imei && imei == req->imei)) &&
			(!req->has_imeisv || (has_imeisv && imeisv == req->imeisv)) &&
			(!req->has_imsi || (has_imsi && imsi == req->imsi)))
		{
			decision->outcome = "granted";
			decision->reason = NULL;
			decision->binding_id = DatumGetInt64(slot_getattr(slot, catalog.att_binding_id, &isnull));
			granted = true;
		}
	}

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return granted;
}

/* Raises 22004 for a NULL argument that needs a value. */
static void
require_argument(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* Checks the octet length of a text or bytea argument. */
static void
check_length(const char *name, size_t len, size_t min, size_t max)
{
	if (len < min && min == 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", name)));
	if (len < min || len > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has an invalid length", name),
				 errdetail("It has %zu octets; from %zu to %zu are allowed.",
						   len, min, max)));
}

/* Reads and validates every argument; raises an error before any write. */
static void
read_request(FunctionCallInfo fcinfo, KeyRequest *req)
{
	bytea	   *naf_id;
	text	   *terminal_id;
	text	   *terminal_appli_id;
	text	   *uicc_appli_id;
	KsLocalInput *in;

	require_argument(fcinfo, 0, "naf_id");
	require_argument(fcinfo, 1, "b_tid");
	require_argument(fcinfo, 2, "ks_int_naf");
	require_argument(fcinfo, 3, "ks_int_naf_expiry");
	require_argument(fcinfo, 4, "terminal_id");
	require_argument(fcinfo, 5, "iccid");
	require_argument(fcinfo, 9, "terminal_appli_id");
	require_argument(fcinfo, 10, "uicc_appli_id");

	naf_id = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(naf_id) < NAF_ID_MIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naf_id is too short"),
				 errdetail("It has %zu octets; a NAF_Id is the NAF's FQDN followed by the %d-octet Ua security protocol identifier, so at least %d.",
						   (size_t) VARSIZE_ANY_EXHDR(naf_id),
						   MTCBIND_UA_PROTOCOL_LEN, NAF_ID_MIN_LEN)));
	check_length("naf_id", VARSIZE_ANY_EXHDR(naf_id), NAF_ID_MIN_LEN, NAF_ID_MAX_LEN);

	req->b_tid = PG_GETARG_TEXT_PP(1);
	check_length("b_tid", VARSIZE_ANY_EXHDR(req->b_tid), 1, B_TID_MAX_LEN);

	req->ks_int_naf = PG_GETARG_BYTEA_PP(2);
	if (VARSIZE_ANY_EXHDR(req->ks_int_naf) != MTCBIND_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ks_int_naf must be %d octets, got %zu",
						MTCBIND_KEY_LEN, (size_t) VARSIZE_ANY_EXHDR(req->ks_int_naf))));

	req->ks_int_naf_expiry = PG_GETARG_TIMESTAMPTZ(3);

	terminal_id = PG_GETARG_TEXT_PP(4);
	check_length("terminal_id", VARSIZE_ANY_EXHDR(terminal_id), 1, TERMINAL_ID_MAX_LEN);
	req->terminal_id = text_to_cstring(terminal_id);

	req->iccid = PG_GETARG_INT64(5);

	req->has_imei = !PG_ARGISNULL(6);
	req->imei = req->has_imei ? PG_GETARG_INT64(6) : 0;
	req->has_imeisv = !PG_ARGISNULL(7);
	req->imeisv = req->has_imeisv ? PG_GETARG_INT64(7) : 0;
	req->has_imsi = !PG_ARGISNULL(8);
	req->imsi = req->has_imsi ? PG_GETARG_INT64(8) : 0;

	/* The IMEISV names a device too: it must agree with the IMEI. */
	if (req->has_imeisv)
	{
		int64		device = imei_of_imeisv(req->imeisv);

		if (req->has_imei && device != req->imei)
		{
			char		imei_digits[MTCBIND_IDENT_BUFLEN];
			char		imeisv_digits[MTCBIND_IDENT_BUFLEN];

			imei_to_digits(req->imei, imei_digits);
			imeisv_to_digits(req->imeisv, imeisv_digits);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("imeisv does not belong to imei"),
					 errdetail("IMEISV %s and IMEI %s name different devices.",
							   imeisv_digits, imei_digits)));
		}
		req->has_imei = true;
		req->imei = device;
	}

	terminal_appli_id = PG_GETARG_TEXT_PP(9);
	check_length("terminal_appli_id", VARSIZE_ANY_EXHDR(terminal_appli_id), 0, APPLI_ID_MAX_LEN);
	req->terminal_appli_id = text_to_cstring(terminal_appli_id);
	uicc_appli_id = PG_GETARG_TEXT_PP(10);
	check_length("uicc_appli_id", VARSIZE_ANY_EXHDR(uicc_appli_id), 0, APPLI_ID_MAX_LEN);
	req->uicc_appli_id = text_to_cstring(uicc_appli_id);

	/* Prepared now, so that a text with no UTF-8 form fails before any write. */
	in = &req->kdf_input;
	in->ks_int_naf = (const unsigned char *) VARDATA_ANY(req->ks_int_naf);
	in->b_tid = mtcbind_text_to_utf8(VARDATA_ANY(req->b_tid), VARSIZE_ANY_EXHDR(req->b_tid),
									 "b_tid", &in->b_tid_len);
	in->iccid_len = iccid_to_digits(req->iccid, req->iccid_digits);
	in->iccid = req->iccid_digits;
	in->terminal_id = mtcbind_text_to_utf8(req->terminal_id, strlen(req->terminal_id),
										   "terminal_id", &in->terminal_id_len);
	in->terminal_appli_id = mtcbind_text_to_utf8(req->terminal_appli_id,
												 strlen(req->terminal_appli_id),
												 "terminal_appli_id", &in->terminal_appli_id_len);
	in->uicc_appli_id = mtcbind_text_to_utf8(req->uicc_appli_id, strlen(req->uicc_appli_id),
											 "uicc_appli_id", &in->uicc_appli_id_len);
	in->rand_x = in->rand_y = NULL;		/* drawn when a key is issued */
}

/* Draws a fresh random value from the operating system's strong source. */
static void
fill_random(unsigned char *buf, size_t len)
{
	if (!pg_strong_random(buf, len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random RANDx/RANDy")));
}

/* Derives Ks_local for a granted or bound request into out. */
static void
derive_key(const KeyRequest *req, const unsigned char *rand_x,
		   const unsigned char *rand_y, unsigned char *out)
{
	KsLocalInput in = req->kdf_input;

	in.rand_x = rand_x;
	in.rand_y = rand_y;
	if (!mtcbind_derive_ks_local(&in, out))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("Ks_local derivation failed in OpenSSL")));
}

/* A key expires at the earlier of now() + key_lifetime and the Ks_int_NAF's expiry. */
static TimestampTz
key_expiry(const KeyRequest *req, TimestampTz now)
{
	TimestampTz expires_at = now + mtcbind_key_lifetime_usecs;

	return Min(expires_at, req->ks_int_naf_expiry);
}

/* Wraps raw octets as a bytea Datum. */
static Datum
bytea_datum(const unsigned char *data, size_t len)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), data, len);
	return PointerGetDatum(result);
}

/*
 * mtcbind.request_key(naf_id, b_tid, ks_int_naf, ks_int_naf_expiry,
 *                     terminal_id, iccid, imei, imeisv, imsi,
 *                     terminal_appli_id, uicc_appli_id)
 * Returns one row: outcome, reason, binding_id, ks_local, rand_x, rand_y,
 * expires_at.
 */
Datum
request_key(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KeyRequest	req;
	Decision	decision;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz expires_at = 0;
	bool		issue_key;
	unsigned char rands[2 * MTCBIND_RAND_LEN];	/* RANDx || RANDy */
	unsigned char *rand_x = rands;
	unsigned char *rand_y = rands + MTCBIND_RAND_LEN;
	unsigned char ks_local[MTCBIND_KEY_LEN];
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	read_request(fcinfo, &req);
	memset(&decision, 0, sizeof(decision));

	if (req.ks_int_naf_expiry > now && !mtcbind_log_key_issue &&
		try_fast_grant(fcinfo->flinfo->fn_oid, &req, &decision))
		issue_key = true;		/* nothing to write */
	else
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "mtcbind: SPI_connect failed");
		prepare_plans(fcinfo->flinfo->fn_oid);

		if (req.ks_int_naf_expiry <= now)
			decision = rejection("bootstrap_expired", 0, 0);
		else
			decision = decide(&req);

		issue_key = strcmp(decision.outcome, "rejected") != 0;
		if (!issue_key)
			record_rejection(&req, &decision);
		else if (mtcbind_log_key_issue)
			record_key_issue(&req, decision.binding_id, key_expiry(&req, now));

		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "mtcbind: SPI_finish failed");
	}
	if (issue_key)
		expires_at = key_expiry(&req, now);

	values[0] = CStringGetTextDatum(decision.outcome);
	if (decision.reason)
		values[1] = CStringGetTextDatum(decision.reason);
	else
		nulls[1] = true;
	values[2] = Int64GetDatum(decision.binding_id);
	nulls[2] = decision.binding_id == 0;
	if (issue_key)
	{
		fill_random(rands, sizeof(rands));
		derive_key(&req, rand_x, rand_y, ks_local);
		values[3] = bytea_datum(ks_local, sizeof(ks_local));
		values[4] = bytea_datum(rand_x, MTCBIND_RAND_LEN);
		values[5] = bytea_datum(rand_y, MTCBIND_RAND_LEN);
		values[6] = TimestampTzGetDatum(expires_at);
		mtcbind_wipe(ks_local, sizeof(ks_local));
	}
	else
		nulls[3] = nulls[4] = nulls[5] = nulls[6] = true;

	/* A copy PostgreSQL made of Ks_int_NAF to detoast it is ours to wipe. */
	if ((Pointer) req.ks_int_naf != DatumGetPointer(PG_GETARG_DATUM(2)))
		mtcbind_wipe(VARDATA_ANY(req.ks_int_naf), VARSIZE_ANY_EXHDR(req.ks_int_naf));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

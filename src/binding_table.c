/*
 * binding_table.c
 *		The triggers of mtcbind.binding: before a row is written, refuse an
 *		id its default did not draw for it and set the blocked flag; after
 *		it is written, record one event per change.  They run for every writer
 *		(request_key, the administration functions, a DBA's DML, a loader
 *		with only INSERT), as the table's owner, with a pinned search_path,
 *		so nothing in the caller's session changes what is checked or
 *		recorded.  Only a restore in session_replication_role = replica (a
 *		superuser's setting) bypasses them, and brings its events with it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "audit.h"
#include "blocks.h"
#include "catalog.h"
#include "errcodes.h"
#include "identifiers.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_binding_lock_order);
PG_FUNCTION_INFO_V1(mtcbind_draw_binding_id);
PG_FUNCTION_INFO_V1(mtcbind_binding_guard);
PG_FUNCTION_INFO_V1(mtcbind_binding_audit);
PG_FUNCTION_INFO_V1(mtcbind_binding_audit_inserted);

/* A column of a binding row. */
static Datum
column(HeapTuple tuple, TupleDesc desc, const char *name, bool *isnull)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "mtcbind.binding has no column \"%s\"", name);
	return heap_getattr(tuple, attnum, desc, isnull);
}

/* An identifier column: false when NULL. */
static bool
ident_column(HeapTuple tuple, TupleDesc desc, const char *name, int64 *value)
{
	bool		isnull;
	Datum		d = column(tuple, desc, name, &isnull);

	*value = isnull ? 0 : DatumGetInt64(d);
	return !isnull;
}

/* A text column, or NULL. */
static char *
text_column(HeapTuple tuple, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = column(tuple, desc, name, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * The id mtcbind._draw_binding_id(), the column's default, drew last in
 * this backend, and the statement that drew it; valid until a row takes
 * it.  The default is evaluated for a row just before the row's BEFORE
 * triggers run, in the same statement (for INSERT ... VALUES, INSERT ...
 * SELECT and COPY alike), so the row that carries this id in this
 * statement is the row it was drawn for.  An id drawn by a SELECT of its
 * own is another statement's.  The statement is known by its transaction
 * and start time, not by its command id: a volatile function in the same
 * row (a lookup for terminal_id, say) advances the command id between the
 * draw and the trigger.
 */
static struct
{
	bool		valid;
	int64		id;
	LocalTransactionId lxid;
	TimestampTz statement_start;
	CommandId	cid;
}			drawn;

/*
 * mtcbind._draw_binding_id() RETURNS bigint: nextval of the binding
 * sequence (with its privilege check), remembered for the guard.
 */
Datum
mtcbind_draw_binding_id(PG_FUNCTION_ARGS)
{
	drawn.id = nextval_internal(ext_catalog()->binding_seq, true);
	drawn.lxid = MyProc->lxid;
	drawn.statement_start = GetCurrentStatementStartTimestamp();
	drawn.cid = GetCurrentCommandId(false);
	drawn.valid = true;
	PG_RETURN_INT64(drawn.id);
}

/* True if the id is the one drawn for the row being inserted now. */
static bool
take_drawn_id(int64 binding_id)
{
	bool		ok = drawn.valid && drawn.id == binding_id && binding_id > 0 &&
		drawn.lxid == MyProc->lxid &&
		drawn.statement_start == GetCurrentStatementStartTimestamp() &&
		drawn.cid <= GetCurrentCommandId(false);

	drawn.valid = false;
	return ok;
}

/* Refuses a value in a column that only its default may fill. */
static void
require_default(const char *column_name, bool is_default)
{
	if (!is_default)
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("cannot insert a non-DEFAULT value into column \"%s\" of mtcbind.binding",
						column_name),
				 errdetail("created_at and created_by record when and by whom a binding was made; mtcbind sets them."),
				 errhint("Leave the column out; put what the old system knew in note.")));
}

/*
 * mtcbind.binding_lock_order(): BEFORE INSERT OR UPDATE OR DELETE ON
 * mtcbind.binding, FOR EACH STATEMENT.  Every writer of bindings takes the
 * blocklist's weak lock before it locks a row (blocks.h), so that a block,
 * which holds the strong one while it flags rows, can never wait for a row
 * whose holder waits for the block.  mtcbind's functions take it
 * themselves; this makes a DBA's INSERT, UPDATE and DELETE do the same.
 */
Datum
mtcbind_binding_lock_order(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_FOR_STATEMENT(((TriggerData *) fcinfo->context)->tg_event))
		elog(ERROR, "mtcbind.binding_lock_order() must be called as a statement trigger");
	blocklist_lock(false);
	return PointerGetDatum(NULL);
}

/*
 * The columns the guard reads, by number: found once by name, and checked
 * by name again at each use (one comparison), so a table changed by ALTER
 * is read right.  A bulk load calls the guard for every row; looking each
 * name up among fifteen columns was a tenth of its time.
 */
enum GuardColumn
{
	GC_BINDING_ID, GC_TERMINAL_ID, GC_ICCID, GC_IMEI, GC_CREATED_AT, GC_CREATED_BY,
	GC_BLOCKED, N_GUARD_COLUMNS
};

static const char *const guard_column_names[N_GUARD_COLUMNS] = {
	"binding_id", "terminal_id", "iccid", "imei", "created_at", "created_by", "blocked"
};

static int	guard_attnum[N_GUARD_COLUMNS];

static int
guard_column(TupleDesc desc, enum GuardColumn c)
{
	int			attnum = guard_attnum[c];

	if (attnum <= 0 || attnum > desc->natts ||
		TupleDescAttr(desc, attnum - 1)->attisdropped ||
		strcmp(NameStr(TupleDescAttr(desc, attnum - 1)->attname), guard_column_names[c]) != 0)
	{
		attnum = SPI_fnumber(desc, guard_column_names[c]);
		if (attnum <= 0)
			elog(ERROR, "mtcbind.binding has no column \"%s\"", guard_column_names[c]);
		guard_attnum[c] = attnum;
	}
	return attnum - 1;			/* an index into the deformed row */
}

/*
 * The session user's name, as SESSION_USER (the default of created_by)
 * gives it, kept between rows: looking it up was a syscache search per row
 * of a bulk load.  Forgotten when any role changes (a rename).
 */
static Oid	cached_role = InvalidOid;
static char cached_role_name[NAMEDATALEN];

static void
forget_role_name(Datum arg, int cacheid, uint32 hashvalue)
{
	cached_role = InvalidOid;
}

/* True if a text value is the session user's name. */
static bool
is_session_user_name(Datum value)
{
	static bool registered = false;
	text	   *t = DatumGetTextPP(value);
	size_t		len = VARSIZE_ANY_EXHDR(t);

	if (!registered)
	{
		CacheRegisterSyscacheCallback(AUTHOID, forget_role_name, (Datum) 0);
		registered = true;
	}
	if (cached_role != GetSessionUserId())
	{
		strlcpy(cached_role_name, GetUserNameFromId(GetSessionUserId(), false), NAMEDATALEN);
		cached_role = GetSessionUserId();
	}
	return len == strlen(cached_role_name) && memcmp(VARDATA_ANY(t), cached_role_name, len) == 0;
}

/*
 * mtcbind.binding_guard(): BEFORE INSERT OR UPDATE OF binding_id, blocked,
 * terminal_id, iccid, imei ON mtcbind.binding, FOR EACH ROW.
 */
Datum
mtcbind_binding_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	bool		inserting;
	HeapTuple	tuple;
	TupleDesc	desc;
	int64		binding_id;
	BlockIdentities ids = {0};
	BlockHit	hit;
	Datum	   *values;
	bool	   *nulls;
	int			c_blocked;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "mtcbind.binding_guard() must be called as a BEFORE ROW trigger");
	inserting = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
	tuple = inserting ? trigdata->tg_trigtuple : trigdata->tg_newtuple;
	desc = RelationGetDescr(trigdata->tg_relation);

	/* the row in one pass: columns after a text column have no fixed offset */
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, values, nulls);

	/*
	 * Ids are the sequence's to give, once: an id brought by the writer
	 * could be one a later binding will draw, or one an earlier binding had,
	 * whose history would then mix with this one's.  A restore runs with
	 * session_replication_role = replica, where this trigger does not fire.
	 */
	binding_id = DatumGetInt64(values[guard_column(desc, GC_BINDING_ID)]);
	if (inserting)
	{
		int			c_at = guard_column(desc, GC_CREATED_AT);
		int			c_by = guard_column(desc, GC_CREATED_BY);

		if (!take_drawn_id(binding_id))
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_ID_NOT_DRAWN),
					 errmsg("binding_id %lld was not drawn for this row by its default",
							(long long) binding_id),
					 errdetail("Binding ids come from mtcbind.binding_binding_id_seq, once each: an id written by hand could be an earlier binding's, or a later one's."),
					 errhint("Leave binding_id out. A dump is restored with session_replication_role = replica (docs/dba-guide.md, \"Backup and restore\").")));
		/* NOT NULL is checked after BEFORE triggers: a NULL gets here */
		require_default("created_by", !nulls[c_by] && is_session_user_name(values[c_by]));
		require_default("created_at", !nulls[c_at] &&
						DatumGetTimestampTz(values[c_at]) == GetCurrentTransactionStartTimestamp());
	}
	else
	{
		bool		isnull;

		if (binding_id != DatumGetInt64(heap_getattr(trigdata->tg_trigtuple,
													 guard_column(desc, GC_BINDING_ID) + 1,
													 desc, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_ID_NOT_DRAWN),
					 errmsg("the binding_id of a binding cannot change"),
					 errdetail("Events and transfer authorisations name bindings by id.")));
	}

	/* Until commit, no block on these identities can slip in unseen. */
	blocklist_lock(false);
	memset(&hit, 0, sizeof(hit));
	if (blocklist_maybe_nonempty_in_command())
	{
		/*
		 * The definition pins no search_path (1.1): a bulk load calls this
		 * for every row, and usually no block was ever made, so no SQL
		 * runs.  The one query runs with it pinned.
		 */
		int			nest = store_pin_search_path();
		int			c_iccid = guard_column(desc, GC_ICCID);
		int			c_terminal = guard_column(desc, GC_TERMINAL_ID);
		int			c_imei = guard_column(desc, GC_IMEI);

		ids.has_iccid = !nulls[c_iccid];
		ids.iccid = ids.has_iccid ? DatumGetInt64(values[c_iccid]) : 0;
		ids.terminal_id = nulls[c_terminal] ? NULL : TextDatumGetCString(values[c_terminal]);
		ids.has_imei = !nulls[c_imei];
		ids.imei = ids.has_imei ? DatumGetInt64(values[c_imei]) : 0;
		store_connect();
		blocklist_find(&ids, true, &hit);
		store_finish();
		store_unpin_search_path(nest);
	}

	c_blocked = guard_column(desc, GC_BLOCKED);
	if (nulls[c_blocked] || DatumGetBool(values[c_blocked]) != hit.found)
	{
		int			blocked_att = c_blocked + 1;
		Datum		value = BoolGetDatum(hit.found);
		bool		value_null = false;

		tuple = heap_modify_tuple_by_cols(tuple, desc, 1, &blocked_att, &value, &value_null);
	}
	pfree(values);
	pfree(nulls);
	return PointerGetDatum(tuple);
}

/* Adds "key": digits of an identifier to a detail, when present. */
static void
detail_ident(AuditDetail *d, const char *key, bool present, int64 value,
			 int (*to_digits) (int64, char *))
{
	char		digits[MTCBIND_IDENT_BUFLEN];

	if (!present)
		return;
	to_digits(value, digits);
	audit_detail_text(d, key, digits);
}

/* The identities of a binding row as an event carries them. */
static void
event_identities(AuditEvent *ev, HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;

	ev->binding_id = DatumGetInt64(column(tuple, desc, "binding_id", &isnull));
	ev->terminal_id = text_column(tuple, desc, "terminal_id");
	ev->has_iccid = ident_column(tuple, desc, "iccid", &ev->iccid);
	ev->has_imei = ident_column(tuple, desc, "imei", &ev->imei);
	ev->has_imsi = ident_column(tuple, desc, "imsi", &ev->imsi);
}

/* The columns an UPDATE event compares, in the order its detail lists them. */
static const char *const audited_columns[] = {
	"binding_id", "terminal_id", "iccid", "imei", "imeisv", "imsi",
	"terminal_appli_id", "uicc_appli_id", "note", "created_at", "created_by"
};

/*
 * The event of an UPDATE, or NULL if no audited column changed.  Its kind:
 * rebound (another device or card), attribute_changed (IMEI, IMEISV,
 * IMSI), else updated; its detail the old and new values of what changed.
 */
static const char *
update_event(HeapTuple old_row, HeapTuple new_row, TupleDesc desc, AuditEvent *ev)
{
	AuditDetail detail;
	char	   *old_text[lengthof(audited_columns)];
	char	   *new_text[lengthof(audited_columns)];
	bool		changed[lengthof(audited_columns)];
	bool		any = false;
	const char *kind = "updated";

	for (int i = 0; i < lengthof(audited_columns); i++)
	{
		int			attnum = SPI_fnumber(desc, audited_columns[i]);

		old_text[i] = SPI_getvalue(old_row, desc, attnum);
		new_text[i] = SPI_getvalue(new_row, desc, attnum);
		changed[i] = (old_text[i] == NULL) != (new_text[i] == NULL) ||
			(old_text[i] != NULL && strcmp(old_text[i], new_text[i]) != 0);
		any |= changed[i];
	}
	if (!any)
		return NULL;
	if (changed[1] || changed[2])
		kind = "rebound";
	else if (changed[3] || changed[4] || changed[5])
		kind = "attribute_changed";

	event_identities(ev, new_row, desc);
	if (changed[1])
		ev->previous_terminal_id = old_text[1];
	if (changed[2])
		ev->has_previous_iccid = ident_column(old_row, desc, "iccid", &ev->previous_iccid);

	audit_detail_begin(&detail);
	audit_detail_begin_object(&detail, "old");
	for (int i = 0; i < lengthof(audited_columns); i++)
		if (changed[i])
			audit_detail_text(&detail, audited_columns[i], old_text[i]);
	audit_detail_end_object(&detail);
	audit_detail_begin_object(&detail, "new");
	for (int i = 0; i < lengthof(audited_columns); i++)
		if (changed[i])
			audit_detail_text(&detail, audited_columns[i], new_text[i]);
	audit_detail_end_object(&detail);
	ev->detail = audit_detail_end(&detail);
	return kind;
}

/*
 * What a binding row holds beyond the event's columns (IMEISV, application
 * ids when not empty, the note), or NULL when it holds nothing more.
 */
static Jsonb *
row_detail(HeapTuple row, TupleDesc desc)
{
	AuditDetail detail;
	int64		imeisv = 0;
	bool		has_imeisv = ident_column(row, desc, "imeisv", &imeisv);
	char	   *text;

	audit_detail_begin(&detail);
	/* (has_imeisv apart: C leaves the order of a call's arguments open) */
	detail_ident(&detail, "imeisv", has_imeisv, imeisv, imeisv_to_digits);
	if ((text = text_column(row, desc, "terminal_appli_id")) != NULL && text[0] != '\0')
		audit_detail_text(&detail, "terminal_appli_id", text);
	if ((text = text_column(row, desc, "uicc_appli_id")) != NULL && text[0] != '\0')
		audit_detail_text(&detail, "uicc_appli_id", text);
	if ((text = text_column(row, desc, "note")) != NULL)
		audit_detail_text(&detail, "note", text);
	return audit_detail_end(&detail);
}

/*
 * mtcbind.binding_audit(): AFTER INSERT, DELETE, UPDATE OF (the binding's
 * own columns) FOR EACH ROW, and AFTER TRUNCATE FOR EACH STATEMENT.
 */
Datum
mtcbind_binding_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent tg;
	TupleDesc	desc;
	AuditEvent	ev = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		elog(ERROR, "mtcbind.binding_audit() must be called as an AFTER trigger");
	tg = trigdata->tg_event;
	desc = RelationGetDescr(trigdata->tg_relation);
	store_connect();

	if (TRIGGER_FIRED_BY_TRUNCATE(tg))
		ev.event = "truncated";
	else if (TRIGGER_FIRED_BY_INSERT(tg))
	{
		ev.event = "bound";
		event_identities(&ev, trigdata->tg_trigtuple, desc);
		ev.detail = row_detail(trigdata->tg_trigtuple, desc);
	}
	else if (TRIGGER_FIRED_BY_DELETE(tg))
	{
		ev.event = "unbound";
		event_identities(&ev, trigdata->tg_trigtuple, desc);
		/* the rest of the row too: a per-load provision kept no 'bound' event of it */
		ev.detail = row_detail(trigdata->tg_trigtuple, desc);
	}
	else
		ev.event = update_event(trigdata->tg_trigtuple, trigdata->tg_newtuple, desc, &ev);

	if (ev.event != NULL)
	{
		ev.reason = audit_current_reason();
		audit_record(&ev);
	}
	store_finish();
	return PointerGetDatum(NULL);
}

/* One run of consecutive ids, [first, last], in a load's event. */
static void
add_run(AuditDetail *detail, int64 first, int64 last)
{
	audit_detail_begin_array(detail, NULL);
	audit_detail_int8_element(detail, first);
	audit_detail_int8_element(detail, last);
	audit_detail_end_array(detail);
}

/*
 * The one 'bound' event of a per-load provision (see below): the inserted
 * rows' ids, read from the transition table as runs of consecutive ids.
 * The rows come in the order their ids were drawn; should one ever come
 * out of order, it starts a run of its own, so the runs still name exactly
 * the load's bindings.
 */
static void
record_load(TriggerData *trigdata)
{
	Tuplestorestate *inserted = trigdata->tg_newtable;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			attnum = SPI_fnumber(desc, "binding_id");
	int			reader;
	int64		count = 0;
	int64		first = 0;
	int64		last = 0;
	AuditDetail detail;
	AuditEvent	ev = {0};

	if (attnum <= 0)
		elog(ERROR, "mtcbind.binding has no column \"binding_id\"");
	audit_detail_begin(&detail);
	audit_detail_text(&detail, "source", audit_current_load());
	audit_detail_begin_array(&detail, "binding_ids");

	/* a read pointer of its own: other triggers may read the same rows */
	reader = tuplestore_alloc_read_pointer(inserted, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(inserted, reader);
	tuplestore_rescan(inserted);
	while (tuplestore_gettupleslot(inserted, true, false, slot))
	{
		bool		isnull;
		int64		id = DatumGetInt64(slot_getattr(slot, attnum, &isnull));

		if (count > 0 && id == last + 1)
			last = id;
		else
		{
			if (count > 0)
				add_run(&detail, first, last);
			first = last = id;
		}
		count++;
	}
	tuplestore_select_read_pointer(inserted, 0);
	ExecDropSingleTupleTableSlot(slot);
	add_run(&detail, first, last);	/* the caller saw at least one row */
	audit_detail_end_array(&detail);
	audit_detail_int8(&detail, "provisioned", count);

	ev.event = "bound";
	ev.reason = audit_current_reason();
	ev.detail = audit_detail_end(&detail);
	audit_record(&ev);
}

/*
 * mtcbind.binding_audit_inserted(): AFTER INSERT ON mtcbind.binding FOR
 * EACH STATEMENT, REFERENCING NEW TABLE AS inserted (since 1.1).  One
 * 'bound' event per new row, written by one INSERT ... SELECT for the whole
 * statement, so that a COPY or an mtcbind.provision of a million pairs
 * writes its audit rows as a set instead of one statement per row.  The
 * detail holds only what the event's columns do not: IMEISV, application
 * ids when not empty, and the note.
 *
 * The events come out in binding_id order without a sort: the transition
 * table holds the rows in the order they were inserted, and each row's
 * binding_id was drawn by its default as it was inserted (the guard refuses
 * any other), so that order is binding_id order.  The sort cost a first
 * use about 4 % of its time.
 *
 * Within mtcbind.provision(..., audit => 'per_load') the statement writes
 * one 'bound' event instead, with no binding_id of its own: its detail
 * names the source, how many bindings the statement made, and their ids
 * as runs [first, last] (a run is broken by ids that other sessions drew
 * meanwhile, and by ids drawn for lines that met a conflict).  The
 * bindings' values are in their rows, and every later change records what
 * it replaced.
 */
Datum
mtcbind_binding_audit_inserted(PG_FUNCTION_ARGS)
{
	static StoreStatement st = {
		"INSERT INTO mtcbind.binding_event"
		" (event, binding_id, terminal_id, iccid, imei, imsi, reason, naf_id, detail)"
		" SELECT 'bound', n.binding_id, n.terminal_id, n.iccid, n.imei, n.imsi, $1, $2,"
		"  CASE WHEN n.imeisv IS NOT NULL OR n.note IS NOT NULL"
		"         OR n.terminal_appli_id OPERATOR(pg_catalog.<>) ''"
		"         OR n.uicc_appli_id OPERATOR(pg_catalog.<>) ''"
		"  THEN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
		"    'imeisv', n.imeisv::pg_catalog.text,"
		"    'terminal_appli_id', NULLIF(n.terminal_appli_id, ''),"
		"    'uicc_appli_id', NULLIF(n.uicc_appli_id, ''),"
		"    'note', n.note)) END"
		" FROM inserted n",
		2, {ST_TEXT, ST_BYTEA}
	};
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	StoreArgs	args = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || trigdata->tg_newtable == NULL)
		elog(ERROR, "mtcbind.binding_audit_inserted() must be called as an AFTER INSERT statement trigger with a NEW TABLE");
	/* nothing inserted (INSERT ... SELECT of no rows, ON CONFLICT DO NOTHING) */
	if (tuplestore_tuple_count(trigdata->tg_newtable) == 0)
		return PointerGetDatum(NULL);

	store_connect();
	if (audit_current_load() != NULL)
	{
		record_load(trigdata);
		store_finish();
		return PointerGetDatum(NULL);
	}
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "mtcbind: could not register the inserted rows");
	arg_text(&args, audit_current_reason());
	arg_datum(&args, PointerGetDatum(audit_current_naf()), audit_current_naf() == NULL);
	store_run(&st, &args, SPI_OK_INSERT);
	store_finish();
	return PointerGetDatum(NULL);
}

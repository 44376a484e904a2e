/*
 * blocks.c
 *		mtcbind.block_uicc, block_device, unblock_uicc, unblock_device; the
 *		blocklist trigger that keeps binding.blocked and writes the events;
 *		and the identity locks that order blocks against bindings.
 *
 * A block must never miss a binding made at the same moment, and a binding
 * must never miss a block: blocklist_lock() makes either the block wait for
 * the binding and then flag it, or the binding wait for the block and then
 * see it.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "args.h"
#include "audit.h"
#include "blocks.h"
#include "catalog.h"
#include "identifiers.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_blocklist_audit);
PG_FUNCTION_INFO_V1(mtcbind_block_uicc);
PG_FUNCTION_INFO_V1(mtcbind_block_device);
PG_FUNCTION_INFO_V1(mtcbind_unblock_uicc);
PG_FUNCTION_INFO_V1(mtcbind_unblock_device);

/*
 * See blocks.h.  Binding writers take RowShareLock on mtcbind.blocklist:
 * they do not conflict with each other, with readers, or with the fast
 * path, and PostgreSQL keeps such weak locks in its per-backend fast-path
 * slots.  Blocklist writers take ExclusiveLock, which conflicts with
 * RowShareLock, so each side waits for the other's transaction to end.
 */
void
blocklist_lock(bool blocking)
{
	LockRelationOid(ext_catalog()->blocklist_rel, blocking ? ExclusiveLock : RowShareLock);
}

/*
 * The lock of block_* and unblock_*.  Taking ExclusiveLock while the
 * transaction already holds row locks (it has a transaction id) could
 * deadlock with a key request that holds RowShareLock and waits for one of
 * those rows, and the request is the side that may be chosen to fail.  So
 * these functions come first in their transaction, or after another of
 * them (which holds the lock already).
 */
static void
blocklist_lock_first(const char *function)
{
	LOCKTAG		tag;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, ext_catalog()->blocklist_rel);
	if (TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
		!LockHeldByMe(&tag, ExclusiveLock) &&
		!LockHeldByMe(&tag, AccessExclusiveLock))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s must come before any other change in its transaction", function),
				 errdetail("It locks mtcbind.blocklist against new bindings; after other changes in the same transaction that lock could deadlock with key requests."),
				 errhint("Run it in a transaction of its own, or before the other changes.")));
	blocklist_lock(true);
}

/* The parameters $1 iccid, $2 terminal_id, $3 imei of a blocklist statement. */
static void
arg_block_identities(StoreArgs *args, const BlockIdentities *ids)
{
	arg_ident(args, ids->has_iccid, ids->iccid);
	arg_text(args, ids->terminal_id);
	arg_ident(args, ids->has_imei, ids->imei);
}

/*
 * True if the blocklist has ever had a row on disk: no false "no", and no
 * query when no block was ever made (the common case).
 */
bool
blocklist_maybe_nonempty(void)
{
	Relation	rel = table_open(ext_catalog()->blocklist_rel, AccessShareLock);
	bool		nonempty = RelationGetNumberOfBlocks(rel) > 0;

	table_close(rel, AccessShareLock);
	return nonempty;
}

/*
 * See blocks.h.  The size of a table is a system call, and the guard
 * trigger asks for every row a bulk load writes.  While the caller holds
 * blocklist_lock, no other transaction can write a block (that needs
 * ExclusiveLock); so the answer is kept for as long as that lock is
 * certainly held and nothing else can change it: the same command of the
 * same subtransaction (an aborted subtransaction releases the lock it
 * took, and a block may commit before the next one takes it again), for
 * the same blocklist.  This transaction's own writes to the blocklist are
 * usually later commands, but a data-modifying WITH writes in the same
 * command as the statement around it: once this transaction has written
 * the blocklist (it then holds RowExclusiveLock on it), the size is read
 * every time.
 */
bool
blocklist_maybe_nonempty_in_command(void)
{
	static LocalTransactionId asked_lxid = InvalidLocalTransactionId;
	static SubTransactionId asked_subxid = InvalidSubTransactionId;
	static CommandId asked_cid = InvalidCommandId;
	static Oid	asked_rel = InvalidOid;
	static bool answer = true;
	Oid			rel = ext_catalog()->blocklist_rel;
	SubTransactionId subxid = GetCurrentSubTransactionId();
	CommandId	cid = GetCurrentCommandId(false);
	LOCKTAG		written;

	SET_LOCKTAG_RELATION(written, MyDatabaseId, rel);
	if (LockHeldByMe(&written, RowExclusiveLock))
		return blocklist_maybe_nonempty();
	if (asked_lxid != MyProc->lxid || asked_subxid != subxid ||
		asked_cid != cid || asked_rel != rel)
	{
		answer = blocklist_maybe_nonempty();
		asked_lxid = MyProc->lxid;
		asked_subxid = subxid;
		asked_cid = cid;
		asked_rel = rel;
	}
	return answer;
}

/* See blocks.h. */
void
blocklist_find(const BlockIdentities *ids, bool latest, BlockHit *hit)
{
	static StoreStatement st = {
		"SELECT block_id, iccid IS NOT NULL FROM mtcbind.blocklist"
		" WHERE iccid OPERATOR(pg_catalog.=) $1"
		"    OR terminal_id OPERATOR(pg_catalog.=) $2"
		"    OR imei OPERATOR(pg_catalog.=) $3"
		" ORDER BY iccid IS NOT NULL DESC LIMIT 1",
		3, {ST_ICCID, ST_TEXT, ST_IMEI}
	};
	StoreArgs	args = {0};
	uint64		n;

	memset(hit, 0, sizeof(*hit));
	if (!blocklist_maybe_nonempty())
		return;
	arg_block_identities(&args, ids);
	n = latest ? store_run_latest(&st, &args, SPI_OK_SELECT)
		: store_run(&st, &args, SPI_OK_SELECT);
	if (n == 0)
		return;
	hit->found = true;
	result_int8(1, &hit->block_id);
	hit->uicc = result_bool(2);
}


/* Sets binding.blocked right for every binding that has one of the identities. */
static void
refresh_blocked_flags(const BlockIdentities *ids)
{
	static StoreStatement st = {
		"UPDATE mtcbind.binding b SET blocked = s.now_blocked"
		"  FROM (SELECT c.binding_id,"
		"               EXISTS (SELECT FROM mtcbind.blocklist k"
		"                        WHERE k.iccid OPERATOR(pg_catalog.=) c.iccid"
		"                           OR k.terminal_id OPERATOR(pg_catalog.=) c.terminal_id"
		"                           OR k.imei OPERATOR(pg_catalog.=) c.imei) AS now_blocked"
		"          FROM mtcbind.binding c"
		"         WHERE c.iccid OPERATOR(pg_catalog.=) $1"
		"            OR c.terminal_id OPERATOR(pg_catalog.=) $2"
		"            OR c.imei OPERATOR(pg_catalog.=) $3) s"
		" WHERE b.binding_id OPERATOR(pg_catalog.=) s.binding_id"
		"   AND b.blocked OPERATOR(pg_catalog.<>) s.now_blocked",
		3, {ST_ICCID, ST_TEXT, ST_IMEI}
	};
	StoreArgs	args = {0};

	arg_block_identities(&args, ids);
	store_run(&st, &args, SPI_OK_UPDATE);
}

/* The identities of a blocklist row. */
static void
block_row_identities(HeapTuple tuple, TupleDesc desc, BlockIdentities *ids,
					 int64 *block_id, char **reason)
{
	bool		isnull;
	Datum		d;

	memset(ids, 0, sizeof(*ids));
	*block_id = DatumGetInt64(SPI_getbinval(tuple, desc, SPI_fnumber(desc, "block_id"), &isnull));
	d = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "iccid"), &isnull);
	ids->has_iccid = !isnull;
	ids->iccid = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "terminal_id"), &isnull);
	ids->terminal_id = isnull ? NULL : TextDatumGetCString(d);
	d = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "imei"), &isnull);
	ids->has_imei = !isnull;
	ids->imei = isnull ? 0 : DatumGetInt64(d);
	d = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "reason"), &isnull);
	*reason = isnull ? NULL : TextDatumGetCString(d);
}

/* Records a blocked or unblocked event for a blocklist row. */
static void
record_block_event(const char *event, const BlockIdentities *ids, int64 block_id,
				   const char *reason)
{
	AuditEvent	ev = {.event = event};
	AuditDetail detail;

	ev.terminal_id = ids->terminal_id;
	ev.has_iccid = ids->has_iccid;
	ev.iccid = ids->iccid;
	ev.has_imei = ids->has_imei;
	ev.imei = ids->imei;
	ev.reason = reason;
	audit_detail_begin(&detail);
	audit_detail_int8(&detail, "block_id", block_id);
	ev.detail = audit_detail_end(&detail);
	audit_record(&ev);
}

/*
 * mtcbind.blocklist_audit(): AFTER INSERT, UPDATE, DELETE (row) and
 * TRUNCATE (statement) on mtcbind.blocklist, whoever writes it.
 */
Datum
mtcbind_blocklist_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	BlockIdentities old_ids = {0};
	BlockIdentities new_ids = {0};
	int64		old_id = 0;
	int64		new_id = 0;
	char	   *old_reason = NULL;
	char	   *new_reason = NULL;
	TriggerEvent tg = 0;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "mtcbind.blocklist_audit() must be called as a trigger");
	tg = trigdata->tg_event;
	desc = RelationGetDescr(trigdata->tg_relation);
	store_connect();

	if (TRIGGER_FIRED_BY_TRUNCATE(tg))
	{
		static StoreStatement clear_all = {
			"UPDATE mtcbind.binding SET blocked = false WHERE blocked", 0, {0}
		};
		StoreArgs	args = {0};
		AuditEvent	ev = {.event = "unblocked"};
		AuditDetail detail;

		ev.reason = audit_current_reason();
		blocklist_lock(true);
		store_run(&clear_all, &args, SPI_OK_UPDATE);
		audit_detail_begin(&detail);
		audit_detail_text(&detail, "blocklist", "truncated");
		ev.detail = audit_detail_end(&detail);
		audit_record(&ev);
		store_finish();
		return PointerGetDatum(NULL);
	}

	if (!TRIGGER_FIRED_BY_INSERT(tg))
	{
		block_row_identities(trigdata->tg_trigtuple, desc, &old_ids, &old_id, &old_reason);
	}
	if (!TRIGGER_FIRED_BY_DELETE(tg))
	{
		HeapTuple	tuple = TRIGGER_FIRED_BY_UPDATE(tg) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;

		block_row_identities(tuple, desc, &new_ids, &new_id, &new_reason);
	}
	/* Wait for the bindings in progress, then flag them. */
	blocklist_lock(true);

	if (!TRIGGER_FIRED_BY_INSERT(tg))
	{
		refresh_blocked_flags(&old_ids);
		record_block_event("unblocked", &old_ids, old_id, audit_current_reason());
	}
	if (!TRIGGER_FIRED_BY_DELETE(tg))
	{
		refresh_blocked_flags(&new_ids);
		record_block_event("blocked", &new_ids, new_id, new_reason);
		/* A transfer of a blocked card can never be used: void it now. */
		if (new_ids.has_iccid)
			store_revoke_transfers(new_ids.iccid, GetCurrentTimestamp(), "card blocked");
	}
	store_finish();
	return PointerGetDatum(NULL);
}


/* ---------- the administration functions ---------- */

/* The existing blocks that name one of the identities (a row each). */
typedef struct ExistingBlock
{
	bool		found;
	int64		block_id;
	bool		has_imei;
	int64		imei;
	char	   *terminal_id;
	char	   *reason;
	TimestampTz created_at;
} ExistingBlock;

/* The block row holding a card, a terminal_id, or an IMEI (the one given). */
static void
find_block_row(const BlockIdentities *ids, ExistingBlock *out)
{
	static StoreStatement st = {
		"SELECT block_id, imei, terminal_id, reason, created_at FROM mtcbind.blocklist"
		" WHERE iccid OPERATOR(pg_catalog.=) $1"
		"    OR terminal_id OPERATOR(pg_catalog.=) $2"
		"    OR imei OPERATOR(pg_catalog.=) $3"
		" ORDER BY block_id LIMIT 1",
		3, {ST_ICCID, ST_TEXT, ST_IMEI}
	};
	StoreArgs	args = {0};
	bool		isnull;

	memset(out, 0, sizeof(*out));
	arg_block_identities(&args, ids);
	if (store_run(&st, &args, SPI_OK_SELECT) == 0)
		return;
	out->found = true;
	result_int8(1, &out->block_id);
	out->has_imei = result_int8(2, &out->imei);
	out->terminal_id = result_text(3);
	out->reason = result_text(4);
	out->created_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 5, &isnull));
}

/* Adds a row to the blocklist (the trigger does the rest); returns its id. */
static int64
insert_block(const BlockIdentities *ids, const char *reason)
{
	static StoreStatement st = {
		"INSERT INTO mtcbind.blocklist (iccid, terminal_id, imei, reason)"
		" VALUES ($1, $2, $3, $4) RETURNING block_id",
		4, {ST_ICCID, ST_TEXT, ST_IMEI, ST_TEXT}
	};
	StoreArgs	args = {0};
	int64		id;

	arg_block_identities(&args, ids);
	arg_text(&args, reason);
	store_run(&st, &args, SPI_OK_INSERT_RETURNING);
	result_int8(1, &id);
	return id;
}

/* Says that nothing changed because the block exists already. */
static void
notice_already_blocked(const char *what, const ExistingBlock *b)
{
	ereport(NOTICE,
			(errmsg("%s is blocked already (block %lld)", what, (long long) b->block_id),
			 errdetail("Blocked since %s: %s.", timestamptz_to_str(b->created_at),
					   b->reason ? b->reason : "no reason recorded")));
}

/*
 * mtcbind.block_uicc(iccid mtcbind.iccid, reason text) RETURNS bigint
 * The card is refused from now on, in its own device too; its binding
 * stays (unbind it to free the device).
 */
Datum
mtcbind_block_uicc(PG_FUNCTION_ARGS)
{
	BlockIdentities ids = {0};
	ExistingBlock existing;
	char	   *reason;
	int64		block_id;

	require_read_committed("mtcbind.block_uicc");
	require_arg(fcinfo, 0, "iccid");
	reason = get_reason_arg(fcinfo, 1, true);
	ids.has_iccid = true;
	ids.iccid = PG_GETARG_INT64(0);

	blocklist_lock_first("mtcbind.block_uicc");
	store_connect();
	audit_context_begin();
	find_block_row(&ids, &existing);
	if (existing.found)
	{
		char		digits[MTCBIND_IDENT_BUFLEN];

		iccid_to_digits(ids.iccid, digits);
		notice_already_blocked(psprintf("UICC %s", digits), &existing);
		block_id = existing.block_id;
	}
	else
		block_id = insert_block(&ids, reason);
	audit_context_clear();
	store_finish();
	PG_RETURN_INT64(block_id);
}

/*
 * The arguments of block_device and unblock_device: (terminal_id, reason,
 * imei), one of terminal_id and imei given.  Returns the reason.
 */
static char *
read_device_args(FunctionCallInfo fcinfo, BlockIdentities *ids)
{
	if (PG_ARGISNULL(0) && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("terminal_id and imei must not both be NULL")));
	memset(ids, 0, sizeof(*ids));
	if (!PG_ARGISNULL(0))
		ids->terminal_id = get_terminal_id_arg(fcinfo, 0, "terminal_id");
	ids->has_imei = !PG_ARGISNULL(2);
	ids->imei = ids->has_imei ? PG_GETARG_INT64(2) : 0;
	return get_reason_arg(fcinfo, 1, true);
}

/* The IMEI recorded on the binding of a device, if any. */
static bool
recorded_imei(const char *terminal_id, int64 *imei)
{
	BindingRow	row;

	store_binding_by_device(terminal_id, false, 0, &row);
	*imei = row.imei;
	return row.found && row.has_imei;
}

/* Takes the IMEI off a block row that also holds a terminal_id. */
static void
detach_imei(int64 block_id)
{
	static StoreStatement st = {
		"UPDATE mtcbind.blocklist SET imei = NULL"
		" WHERE block_id OPERATOR(pg_catalog.=) $1 AND terminal_id IS NOT NULL",
		1, {ST_INT8}
	};
	StoreArgs	args = {0};

	arg_int8(&args, block_id);
	store_run(&st, &args, SPI_OK_UPDATE);
}

/*
 * Takes an IMEI off the rows of other devices' terminal_ids (all but the
 * one given, which may be NULL); how many.
 */
static uint64
detach_imei_of_others(int64 imei, const char *terminal_id)
{
	static StoreStatement st = {
		"UPDATE mtcbind.blocklist SET imei = NULL"
		" WHERE imei OPERATOR(pg_catalog.=) $1 AND terminal_id IS NOT NULL"
		"   AND ($2 IS NULL OR terminal_id OPERATOR(pg_catalog.<>) $2)",
		2, {ST_IMEI, ST_TEXT}
	};
	StoreArgs	args = {0};

	arg_ident(&args, true, imei);
	arg_text(&args, terminal_id);
	return store_run(&st, &args, SPI_OK_UPDATE);
}

/*
 * mtcbind.block_device(terminal_id text, reason text, imei mtcbind.imei
 * DEFAULT NULL) RETURNS bigint
 * Blocks the device by terminal_id and by IMEI (the one given, else the one
 * its binding records), so it cannot come back under another name; with
 * terminal_id NULL, blocks an IMEI alone.  Returns the block's id.
 */
Datum
mtcbind_block_device(PG_FUNCTION_ARGS)
{
	BlockIdentities ids = {0};
	ExistingBlock by_terminal = {0};
	ExistingBlock by_imei = {0};
	char	   *reason;
	int64		block_id;

	require_read_committed("mtcbind.block_device");
	reason = read_device_args(fcinfo, &ids);

	blocklist_lock_first("mtcbind.block_device");
	store_connect();
	audit_context_begin();
	audit_context_set_reason(reason);
	if (!ids.has_imei && ids.terminal_id)
		ids.has_imei = recorded_imei(ids.terminal_id, &ids.imei);

	if (ids.terminal_id)
	{
		BlockIdentities t = {.terminal_id = ids.terminal_id};

		find_block_row(&t, &by_terminal);
	}
	if (ids.has_imei)
	{
		BlockIdentities i = {.has_imei = true, .imei = ids.imei};

		find_block_row(&i, &by_imei);
	}

	if (!by_terminal.found && !by_imei.found)
		block_id = insert_block(&ids, reason);
	else if (by_terminal.found && (!ids.has_imei || by_imei.found))
	{
		/* everything asked for is blocked already */
		notice_already_blocked(psprintf("device %s", ids.terminal_id), &by_terminal);
		block_id = by_terminal.block_id;
	}
	else if (by_terminal.found)
	{
		/* the terminal_id is blocked; its IMEI is not yet: block that too */
		BlockIdentities i = {.has_imei = true, .imei = ids.imei};

		(void) insert_block(&i, reason);
		block_id = by_terminal.block_id;
	}
	else if (ids.terminal_id)
	{
		/*
		 * The IMEI is blocked; the terminal_id is not yet.  If the IMEI is
		 * blocked together with another device's terminal_id, it gets a row
		 * of its own first, so that lifting that device's block leaves it.
		 */
		BlockIdentities t = {.terminal_id = ids.terminal_id};

		if (by_imei.terminal_id != NULL)
		{
			BlockIdentities i = {.has_imei = true, .imei = ids.imei};

			detach_imei(by_imei.block_id);
			(void) insert_block(&i, reason);
		}
		block_id = insert_block(&t, reason);
	}
	else if (by_imei.terminal_id != NULL)
	{
		/*
		 * The IMEI is blocked together with a device's terminal_id.  Give it
		 * a row of its own, so that lifting the device's block later leaves
		 * this block of the IMEI in place.
		 */
		BlockIdentities i = {.has_imei = true, .imei = ids.imei};

		detach_imei(by_imei.block_id);
		block_id = insert_block(&i, reason);
	}
	else
	{
		char		digits[MTCBIND_IDENT_BUFLEN];

		imei_to_digits(ids.imei, digits);
		notice_already_blocked(psprintf("IMEI %s", digits), &by_imei);
		block_id = by_imei.block_id;
	}
	audit_context_clear();
	store_finish();
	PG_RETURN_INT64(block_id);
}

/*
 * Lifts the blocks of the identities named; how many rows changed.  A card
 * or a terminal_id goes with its row (and the IMEI blocked in that row with
 * the terminal_id).  An IMEI named alone is taken off a row that also
 * holds another device's terminal_id, which stays blocked: nothing is
 * lifted that the caller did not name.
 */
static uint64
delete_blocks(const BlockIdentities *ids)
{
	static StoreStatement drop_rows = {
		"DELETE FROM mtcbind.blocklist"
		" WHERE iccid OPERATOR(pg_catalog.=) $1"
		"    OR terminal_id OPERATOR(pg_catalog.=) $2"
		"    OR (imei OPERATOR(pg_catalog.=) $3 AND terminal_id IS NULL)",
		3, {ST_ICCID, ST_TEXT, ST_IMEI}
	};
	StoreArgs	args = {0};
	uint64		changed = 0;

	if (ids->has_imei)
		changed += detach_imei_of_others(ids->imei, ids->terminal_id);
	arg_block_identities(&args, ids);
	return changed + store_run(&drop_rows, &args, SPI_OK_DELETE);
}

/* Lifts the blocks that name the identities, as function fn; true if any. */
static bool
lift_blocks(const char *fn, const BlockIdentities *ids, const char *reason)
{
	uint64		gone;

	blocklist_lock_first(fn);
	store_connect();
	audit_context_begin();
	audit_context_set_reason(reason);
	gone = delete_blocks(ids);
	audit_context_clear();
	store_finish();
	return gone > 0;
}

/* mtcbind.unblock_uicc(iccid mtcbind.iccid, reason text) RETURNS boolean */
Datum
mtcbind_unblock_uicc(PG_FUNCTION_ARGS)
{
	BlockIdentities ids = {0};
	char	   *reason;

	require_read_committed("mtcbind.unblock_uicc");
	require_arg(fcinfo, 0, "iccid");
	reason = get_reason_arg(fcinfo, 1, true);
	ids.has_iccid = true;
	ids.iccid = PG_GETARG_INT64(0);
	PG_RETURN_BOOL(lift_blocks("mtcbind.unblock_uicc", &ids, reason));
}

/*
 * mtcbind.unblock_device(terminal_id text, reason text, imei mtcbind.imei
 * DEFAULT NULL) RETURNS boolean
 * Lifts the blocks of the terminal_id (with the IMEI blocked in the same
 * row) and of the IMEI given.
 */
Datum
mtcbind_unblock_device(PG_FUNCTION_ARGS)
{
	BlockIdentities ids = {0};
	char	   *reason;

	require_read_committed("mtcbind.unblock_device");
	reason = read_device_args(fcinfo, &ids);
	PG_RETURN_BOOL(lift_blocks("mtcbind.unblock_device", &ids, reason));
}

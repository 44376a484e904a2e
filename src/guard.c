/*
 * guard.c
 *		The event trigger that keeps DROP EXTENSION mtcbind from silently
 *		deleting bindings, blocks and their history: every table of the
 *		extension is a member of it, so the drop would take their rows too.
 *		DROP OWNED BY the extension's owner drops it the same way, so that
 *		is guarded as well, and so is DROP TABLE of a day partition of the
 *		event log that holds events (partitions are ordinary tables, not
 *		members; pg_restore --clean drops them first).  purge_events, the
 *		retention path, drops partitions with the opt-in setting on.  The
 *		trigger is ENABLE ALWAYS: it also fires with session_replication_role
 *		= replica, the setting of a restore.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "commands/event_trigger.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "errcodes.h"
#include "settings.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_drop_guard);

/* True if the statement drops the extension mtcbind. */
static bool
drops_mtcbind(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *name = lfirst(lc);

		if (IsA(name, String) && strcmp(strVal(name), "mtcbind") == 0)
			return true;
	}
	return false;
}

/* True if the table has a row visible to this transaction. */
static bool
relation_has_rows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool		found = table_scan_getnextslot(scan, ForwardScanDirection, slot);

	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* The owner of the extension mtcbind. */
static Oid
mtcbind_owner(void)
{
	static StoreStatement st = {
		"SELECT extowner FROM pg_catalog.pg_extension"
		" WHERE extname OPERATOR(pg_catalog.=) 'mtcbind'",
		0, {0}
	};
	StoreArgs	args = {0};
	bool		isnull;

	if (store_run(&st, &args, SPI_OK_SELECT) == 0)
		return InvalidOid;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										  1, &isnull));
}

/* True if the statement is DROP OWNED BY the extension's owner. */
static bool
drops_owner_objects(Node *parsetree)
{
	DropOwnedStmt *stmt;
	Oid			owner;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropOwnedStmt))
		return false;
	stmt = (DropOwnedStmt *) parsetree;
	owner = mtcbind_owner();
	foreach(lc, stmt->roles)
	{
		RoleSpec   *role = lfirst_node(RoleSpec, lc);

		if (get_rolespec_oid(role, true) == owner)
			return true;
	}
	return false;
}

/*
 * The first table a DROP TABLE names that is a partition of the event log
 * holding events, or InvalidOid.
 */
static Oid
dropped_event_partition(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;
	Oid			event_rel;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return InvalidOid;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_TABLE)
		return InvalidOid;
	event_rel = ext_catalog()->event_rel;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid) && get_rel_relispartition(relid) &&
			get_partition_parent(relid, true) == event_rel &&
			relation_has_rows(relid))
			return relid;
	}
	return InvalidOid;
}

/*
 * mtcbind.drop_guard(): ON ddl_command_start WHEN TAG IN ('DROP EXTENSION',
 * 'DROP OWNED', 'DROP TABLE').
 * Refuses to drop mtcbind while it holds data, unless the session has set
 * mtcbind.allow_drop_with_data.
 */
Datum
mtcbind_drop_guard(PG_FUNCTION_ARGS)
{
	static StoreStatement st = {
		"SELECT EXISTS (SELECT FROM mtcbind.binding),"
		"       EXISTS (SELECT FROM mtcbind.blocklist),"
		"       EXISTS (SELECT FROM mtcbind.binding_event)",
		0, {0}
	};
	EventTriggerData *trigdata;
	StoreArgs	args = {0};
	bool		bindings;
	bool		blocks;
	bool		events;
	Oid			partition;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "mtcbind.drop_guard() must be called as an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (mtcbind_allow_drop_with_data)
		PG_RETURN_NULL();

	store_connect();
	partition = dropped_event_partition(trigdata->parsetree);
	if (OidIsValid(partition))
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_DROP_REFUSED),
				 errmsg("DROP TABLE would delete events of the mtcbind audit log"),
				 errdetail("%s is a partition of mtcbind.binding_event and holds events.",
						   get_rel_name(partition)),
				 errhint("mtcbind.purge_events removes old events and records that it did. Restore into a new database rather than with --clean.")));
	if (!drops_mtcbind(trigdata->parsetree) && !drops_owner_objects(trigdata->parsetree))
	{
		store_finish();
		PG_RETURN_NULL();
	}
	store_run(&st, &args, SPI_OK_SELECT);
	bindings = result_bool(1);
	blocks = result_bool(2);
	events = result_bool(3);
	store_finish();

	if (bindings || blocks || events)
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_DROP_REFUSED),
				 IsA(trigdata->parsetree, DropOwnedStmt) ?
				 errmsg("DROP OWNED BY the owner of extension mtcbind would drop it, with its bindings and their history") :
				 errmsg("DROP EXTENSION mtcbind would delete its bindings and their history"),
				 errdetail("Bindings: %s; blocked cards and devices: %s; audit events: %s. The tables belong to the extension and are dropped with it.",
						   bindings ? "yes" : "none", blocks ? "yes" : "none",
						   events ? "yes" : "none"),
				 IsA(trigdata->parsetree, DropOwnedStmt) ?
				 errhint("To remove the role, first REASSIGN OWNED BY it TO another role. To drop mtcbind with its data, export it first (docs/dba-guide.md, \"Removing mtcbind\"), then SET mtcbind.allow_drop_with_data = on in this session.") :
				 errhint("Export them first (docs/dba-guide.md, \"Removing mtcbind\"), then SET mtcbind.allow_drop_with_data = on in this session and drop again.")));
	PG_RETURN_NULL();
}

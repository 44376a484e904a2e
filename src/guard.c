/*
 * guard.c
 *		The event trigger that keeps DROP EXTENSION mtcbind from silently
 *		deleting bindings, blocks and their history: every table of the
 *		extension is a member of it, so the drop would take their rows too.
 *		The other ways to the same end are guarded as well: DROP OWNED BY
 *		the extension's owner, a CASCADE from something the extension
 *		depends on (plpgsql) or from one of its tables, ALTER EXTENSION
 *		mtcbind DROP (which frees a member to be dropped), DETACH PARTITION
 *		from the event log, and DROP TABLE of a table of schema mtcbind that
 *		holds rows (the day partitions are ordinary tables, not members;
 *		pg_restore --clean drops them first).  purge_events, the retention
 *		path, drops partitions with the opt-in setting on.  The trigger is
 *		ENABLE ALWAYS: it also fires with session_replication_role =
 *		replica, the setting of a restore.  It guards against mistakes; a
 *		superuser can still disable it.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "commands/extension.h"
#include "commands/proclang.h"
#include "commands/event_trigger.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "miscadmin.h"
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

/* True if a table with storage has a row visible to this transaction. */
static bool
heap_has_rows(Oid relid)
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

/*
 * True if the relation holds a row: a table, or any partition of a
 * partitioned one (the log itself).  A view, a sequence or an index holds
 * none that a DROP TABLE could take (and has no storage to scan).
 */
static bool
relation_has_rows(Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	ListCell   *lc;

	if (RELKIND_HAS_TABLE_AM(relkind))
		return heap_has_rows(relid);
	if (relkind != RELKIND_PARTITIONED_TABLE)
		return false;
	foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
	{
		Oid			part = lfirst_oid(lc);

		if (RELKIND_HAS_TABLE_AM(get_rel_relkind(part)) && heap_has_rows(part))
			return true;
	}
	return false;
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

/* What a guarded statement would do to mtcbind's data. */
typedef enum GuardedChange
{
	CHANGE_NONE,
	CHANGE_DROP_EXTENSION,		/* DROP EXTENSION mtcbind */
	CHANGE_DROP_OWNED,			/* DROP OWNED BY the extension's owner */
	CHANGE_CASCADE,				/* a CASCADE that can reach the extension */
	CHANGE_RELEASE_MEMBER,		/* ALTER EXTENSION mtcbind DROP ... */
	CHANGE_DETACH_EVENTS		/* DETACH PARTITION from the event log */
} GuardedChange;

/*
 * True if a member of extension mtcbind depends on the object (classid,
 * objid) or, for an extension, on one of its members: a DROP ... CASCADE
 * of it would drop mtcbind with its data (plpgsql, whose language
 * mtcbind's PL/pgSQL functions use, is the case in practice).
 */
static bool
cascade_reaches_mtcbind(Oid classid, Oid objid)
{
	static StoreStatement st = {
		"SELECT EXISTS ("
		" SELECT FROM pg_catalog.pg_depend m"
		"   JOIN pg_catalog.pg_depend d"
		"     ON d.classid OPERATOR(pg_catalog.=) m.classid"
		"    AND d.objid OPERATOR(pg_catalog.=) m.objid"
		"  WHERE m.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
		"    AND m.refobjid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_extension"
		"                                            WHERE extname OPERATOR(pg_catalog.=) 'mtcbind')"
		"    AND m.deptype OPERATOR(pg_catalog.=) 'e'"
		"    AND ((d.refclassid OPERATOR(pg_catalog.=) $1 AND d.refobjid OPERATOR(pg_catalog.=) $2)"
		"         OR EXISTS (SELECT FROM pg_catalog.pg_depend x"
		"                     WHERE x.classid OPERATOR(pg_catalog.=) d.refclassid"
		"                       AND x.objid OPERATOR(pg_catalog.=) d.refobjid"
		"                       AND x.refclassid OPERATOR(pg_catalog.=) $1"
		"                       AND x.refobjid OPERATOR(pg_catalog.=) $2"
		"                       AND x.deptype OPERATOR(pg_catalog.=) 'e')))",
		2, {ST_OID, ST_OID}
	};
	StoreArgs	args = {0};

	arg_datum(&args, ObjectIdGetDatum(classid), false);
	arg_datum(&args, ObjectIdGetDatum(objid), false);
	store_run(&st, &args, SPI_OK_SELECT);
	return result_bool(1);
}

/* True if a DROP ... CASCADE of the named extensions or languages reaches mtcbind. */
static bool
drop_cascade_reaches_mtcbind(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->behavior != DROP_CASCADE)
		return false;
	foreach(lc, stmt->objects)
	{
		const char *name = strVal(lfirst(lc));
		Oid			classid = stmt->removeType == OBJECT_EXTENSION ?
			ExtensionRelationId : LanguageRelationId;
		Oid			objid = stmt->removeType == OBJECT_EXTENSION ?
			get_extension_oid(name, true) : get_language_oid(name, true);

		if (OidIsValid(objid) && cascade_reaches_mtcbind(classid, objid))
			return true;
	}
	return false;
}

/* True if the relation is in schema mtcbind. */
static bool
in_mtcbind_schema(Oid relid)
{
	return OidIsValid(relid) && get_rel_namespace(relid) == ext_catalog()->namespace_oid;
}

/*
 * The role the guarded statement runs as: the trigger's caller.  Since 1.1
 * the trigger runs as its caller (it reads mtcbind's tables as their owner
 * only for that, in mtcbind_drop_guard), so a statement run by a SECURITY
 * DEFINER function -- maintain_event_log attaching a day for mtcbind_admin
 * -- is the function owner's.
 */
static Oid	statement_role = InvalidOid;

/*
 * A DROP TABLE or DETACH of a table of mtcbind by a role that does not own
 * it: PostgreSQL's own refusal, given before the guard looks at what the
 * table holds, which is none of that role's business.
 */
static void
require_table_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, statement_role))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}

/*
 * For DROP TABLE: the first table named that is in schema mtcbind and
 * holds rows (a day partition of the event log, attached or detached), or
 * InvalidOid.  *cascade_in_schema is set when CASCADE names any table of
 * the schema: through a table's owned sequence a cascade reaches the
 * extension itself.
 */
static Oid
dropped_table_with_rows(DropStmt *stmt, bool *cascade_in_schema)
{
	ListCell   *lc;

	*cascade_in_schema = false;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (!in_mtcbind_schema(relid))
			continue;
		require_table_owner(relid);
		if (stmt->behavior == DROP_CASCADE)
			*cascade_in_schema = true;
		if (relation_has_rows(relid))
			return relid;
	}
	return InvalidOid;
}

/* True if the ALTER TABLE detaches a partition of the event, key-issue or refusal log. */
static bool
detaches_event_partition(AlterTableStmt *stmt)
{
	ListCell   *lc;
	Oid			relid;

	if (stmt->relation == NULL)
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) ||
		(relid != ext_catalog()->event_rel && relid != ext_catalog()->key_issue_rel &&
		 relid != ext_catalog()->refusal_rel))
		return false;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_DetachPartition ||
			cmd->subtype == AT_DetachPartitionFinalize)
		{
			require_table_owner(relid);
			return true;
		}
	}
	return false;
}

/*
 * What the statement would do to mtcbind's data.  A DROP TABLE of a table
 * of mtcbind's schema that holds rows is refused at once (*table_with_rows),
 * whatever else the extension holds.
 */
static GuardedChange
classify(Node *parsetree, Oid *table_with_rows)
{
	*table_with_rows = InvalidOid;
	if (parsetree == NULL)
		return CHANGE_NONE;
	if (IsA(parsetree, DropStmt))
	{
		DropStmt   *stmt = (DropStmt *) parsetree;
		bool		cascade_in_schema;

		switch (stmt->removeType)
		{
			case OBJECT_EXTENSION:
				if (drops_mtcbind(parsetree))
					return CHANGE_DROP_EXTENSION;
				/* fall through */
			case OBJECT_LANGUAGE:
				return drop_cascade_reaches_mtcbind(stmt) ? CHANGE_CASCADE : CHANGE_NONE;
			case OBJECT_TABLE:
				*table_with_rows = dropped_table_with_rows(stmt, &cascade_in_schema);
				return cascade_in_schema ? CHANGE_CASCADE : CHANGE_NONE;
			default:
				return CHANGE_NONE;
		}
	}
	if (IsA(parsetree, DropOwnedStmt))
		return drops_owner_objects(parsetree) ? CHANGE_DROP_OWNED : CHANGE_NONE;
	if (IsA(parsetree, AlterExtensionContentsStmt))
	{
		AlterExtensionContentsStmt *stmt = (AlterExtensionContentsStmt *) parsetree;

		return (stmt->action < 0 && strcmp(stmt->extname, "mtcbind") == 0) ?
			CHANGE_RELEASE_MEMBER : CHANGE_NONE;
	}
	if (IsA(parsetree, AlterTableStmt))
		return detaches_event_partition((AlterTableStmt *) parsetree) ?
			CHANGE_DETACH_EVENTS : CHANGE_NONE;
	return CHANGE_NONE;
}

/* The refusal's message for a change. */
static const char *
change_message(GuardedChange change)
{
	switch (change)
	{
		case CHANGE_DROP_EXTENSION:
			return "DROP EXTENSION mtcbind would delete its bindings and their history";
		case CHANGE_DROP_OWNED:
			return "DROP OWNED BY the owner of extension mtcbind would drop it, with its bindings and their history";
		case CHANGE_CASCADE:
			return "DROP ... CASCADE could reach extension mtcbind and drop it, with its bindings and their history";
		case CHANGE_RELEASE_MEMBER:
			return "ALTER EXTENSION mtcbind DROP would let an object of mtcbind be dropped on its own";
		case CHANGE_DETACH_EVENTS:
			return "DETACH PARTITION would take events out of the append-only audit log of mtcbind";
		case CHANGE_NONE:
			break;
	}
	return "this statement would change the data of mtcbind";
}

/*
 * mtcbind.drop_guard(): ON ddl_command_start WHEN TAG IN ('DROP EXTENSION',
 * 'DROP OWNED', 'DROP TABLE', 'DROP LANGUAGE', 'ALTER EXTENSION',
 * 'ALTER TABLE'), ENABLE ALWAYS.
 * While mtcbind holds data, refuses every statement that would drop it or
 * take data out of its protection, unless the session has set
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
	static StoreStatement key_issues = {
		"SELECT EXISTS (SELECT FROM mtcbind.key_issue) OR EXISTS (SELECT FROM mtcbind.key_issuer)", 0, {0}
	};
	static StoreStatement refusals = {
		"SELECT EXISTS (SELECT FROM mtcbind.refusal) OR EXISTS (SELECT FROM mtcbind.refusal_subject)", 0, {0}
	};
	EventTriggerData *trigdata;
	StoreArgs	args = {0};
	GuardedChange change;
	Oid			table_with_rows;
	volatile bool bindings = false;
	volatile bool blocks = false;
	volatile bool events = false;
	Oid			caller;
	int			caller_context;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "mtcbind.drop_guard() must be called as an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (mtcbind_allow_drop_with_data)
		PG_RETURN_NULL();

	GetUserIdAndSecContext(&caller, &caller_context);
	statement_role = caller;
	store_connect();
	change = classify(trigdata->parsetree, &table_with_rows);
	if (OidIsValid(table_with_rows))
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_DROP_REFUSED),
				 errmsg("DROP TABLE would delete data of mtcbind"),
				 errdetail("mtcbind.%s holds rows.", get_rel_name(table_with_rows)),
				 errhint("mtcbind.purge_events removes old events and records that it did. Restore into a new database rather than with --clean.")));
	if (change == CHANGE_NONE)
	{
		store_finish();
		PG_RETURN_NULL();
	}
	/* What mtcbind holds, read as the owner of its tables, whoever asks. */
	SetUserIdAndSecContext(mtcbind_owner(),
						   caller_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		store_run(&st, &args, SPI_OK_SELECT);
		bindings = result_bool(1);
		blocks = result_bool(2);
		events = result_bool(3);

		/*
		 * The compact key-issue and refusal logs (1.1) hold audit events
		 * too, and their codes tell the keys and refusals of archived
		 * partitions.
		 */
		if (!events && OidIsValid(ext_catalog()->key_issue_rel))
		{
			store_run(&key_issues, &args, SPI_OK_SELECT);
			events = result_bool(1);
		}
		if (!events && OidIsValid(ext_catalog()->refusal_rel))
		{
			store_run(&refusals, &args, SPI_OK_SELECT);
			events = result_bool(1);
		}
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(caller, caller_context);
	}
	PG_END_TRY();
	store_finish();

	if (bindings || blocks || events)
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_DROP_REFUSED),
				 errmsg("%s", change_message(change)),
				 errdetail("Bindings: %s; blocked cards and devices: %s; audit events: %s. The tables belong to the extension and are dropped with it.",
						   bindings ? "yes" : "none", blocks ? "yes" : "none",
						   events ? "yes" : "none"),
				 change == CHANGE_DROP_OWNED ?
				 errhint("To remove the role, first REASSIGN OWNED BY it TO another superuser. To drop mtcbind with its data, export it first (docs/dba-guide.md, \"Removing mtcbind\"), then, in one transaction, SET LOCAL mtcbind.allow_drop_with_data = on and drop it.") :
				 errhint("Export the data first (docs/dba-guide.md, \"Removing mtcbind\"), then run it again in a transaction after SET LOCAL mtcbind.allow_drop_with_data = on.")));
	PG_RETURN_NULL();
}

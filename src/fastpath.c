/*
 * fastpath.c
 *		The fast path of request_key.  Re-keying a bound pair is the bulk of
 *		the traffic; with mtcbind.log_key_issue off it must cost no more
 *		than an indexed read.  So it reads the binding straight through the
 *		unique ICCID index, and falls back to the full decision (SPI) for
 *		anything but a plain match.  The full decision reads bindings the
 *		same way (by ICCID, terminal_id, IMEI or IMSI, since 1.1), so that
 *		a first use or a logged grant spends its SPI statements on writes.
 *
 * Nothing is trusted from an earlier call but hints.  The table is locked
 * first, by OID with a check that the OID still names mtcbind.binding;
 * only then is the index chosen from the table's current index list, so a
 * REINDEX CONCURRENTLY, VACUUM FULL, CLUSTER or a dropped and re-added
 * constraint between two calls, in this transaction or before it, just
 * makes us pick the index again.  The columns read are checked for name
 * and type under the same lock.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_opfamily.h"
#include "commands/defrem.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "fastpath.h"

/* The columns the fast path reads. */
typedef enum FastColumn
{
	COL_BINDING_ID,
	COL_TERMINAL_ID,
	COL_ICCID,
	COL_IMEI,
	COL_IMEISV,
	COL_IMSI,
	COL_BLOCKED,
	NUM_FAST_COLUMNS
} FastColumn;

static const char *const fast_column_names[NUM_FAST_COLUMNS] = {
	"binding_id", "terminal_id", "iccid", "imei", "imeisv", "imsi", "blocked"
};

/* Hints from the last call: verified before every use. */
/* The column each kind of lookup goes through, and the index last used. */
static const FastColumn key_column[NUM_FAST_KEYS] = {
	COL_ICCID, COL_TERMINAL_ID, COL_IMEI, COL_IMSI
};
static Oid	hint_index[NUM_FAST_KEYS];

/* The default btree family of each key column's type, per catalog generation. */
static Oid	key_opfamily[NUM_FAST_KEYS];
static uint64 key_opfamily_generation = 0;
static AttrNumber hint_attnum[NUM_FAST_COLUMNS];

/* The type each column must have in this database. */
static Oid
expected_type(FastColumn col, const ExtCatalog *cat)
{
	switch (col)
	{
		case COL_BINDING_ID:
			return INT8OID;
		case COL_TERMINAL_ID:
			return TEXTOID;
		case COL_ICCID:
			return cat->iccid_type;
		case COL_IMEI:
			return cat->imei_type;
		case COL_IMEISV:
			return cat->imeisv_type;
		case COL_IMSI:
			return cat->imsi_type;
		case COL_BLOCKED:
			return BOOLOID;
		case NUM_FAST_COLUMNS:
			break;
	}
	return InvalidOid;
}

/* True if attnum of desc is the live column col with the expected type. */
static bool
column_is(TupleDesc desc, AttrNumber attnum, FastColumn col, const ExtCatalog *cat)
{
	Form_pg_attribute att;

	if (attnum < 1 || attnum > desc->natts)
		return false;
	att = TupleDescAttr(desc, attnum - 1);
	return !att->attisdropped &&
		strcmp(NameStr(att->attname), fast_column_names[col]) == 0 &&
		att->atttypid == expected_type(col, cat);
}

/* Finds every column by name and checks its type; false if one is wrong. */
static bool
resolve_columns(Relation rel, const ExtCatalog *cat)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int col = 0; col < NUM_FAST_COLUMNS; col++)
	{
		if (column_is(desc, hint_attnum[col], col, cat))
			continue;
		hint_attnum[col] = InvalidAttrNumber;
		for (AttrNumber a = 1; a <= desc->natts; a++)
		{
			if (column_is(desc, a, col, cat))
			{
				hint_attnum[col] = a;
				break;
			}
		}
		if (hint_attnum[col] == InvalidAttrNumber)
			return false;
	}
	return true;
}

/*
 * True if index is a valid unique btree on exactly the iccid column with
 * the type's default operator family, so that int8 equality is the
 * type's equality.
 */
static Oid
default_btree_family(Oid type)
{
	Oid			opclass = GetDefaultOpClass(type, BTREE_AM_OID);

	return OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
}

/* The index must enforce uniqueness of the key column with its type's equality. */
static bool
index_is_usable(Relation index, FastKey key, const ExtCatalog *cat)
{
	Form_pg_index form = index->rd_index;

	if (key_opfamily_generation != cat->generation)
	{
		for (int k = 0; k < NUM_FAST_KEYS; k++)
			key_opfamily[k] = default_btree_family(expected_type(key_column[k], cat));
		key_opfamily_generation = cat->generation;
	}
	return form->indisvalid && form->indisready && form->indislive &&
		form->indisunique && form->indnkeyatts == 1 &&
		form->indkey.values[0] == hint_attnum[key_column[key]] &&
		index->rd_rel->relam == BTREE_AM_OID &&
		RelationGetIndexExpressions(index) == NIL &&
		RelationGetIndexPredicate(index) == NIL &&
		index->rd_opfamily[0] == key_opfamily[key] &&
		(key != FAST_BY_TERMINAL_ID || index->rd_indcollation[0] == DEFAULT_COLLATION_OID);
}

static Relation
open_key_index(Relation rel, FastKey key, const ExtCatalog *cat)
{
	List	   *indexes = RelationGetIndexList(rel);
	Relation	index;
	ListCell   *lc;

	if (OidIsValid(hint_index[key]) && list_member_oid(indexes, hint_index[key]))
	{
		index = index_open(hint_index[key], AccessShareLock);
		if (index_is_usable(index, key, cat))
			return index;
		index_close(index, AccessShareLock);
	}
	hint_index[key] = InvalidOid;
	foreach(lc, indexes)
	{
		index = index_open(lfirst_oid(lc), AccessShareLock);
		if (index_is_usable(index, key, cat))
		{
			hint_index[key] = lfirst_oid(lc);
			return index;
		}
		index_close(index, AccessShareLock);
	}
	return NULL;
}

static bool
slot_ident(TupleTableSlot *slot, FastColumn col, int64 *value)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, hint_attnum[col], &isnull);

	*value = isnull ? 0 : DatumGetInt64(d);
	return !isnull;
}

/* Reads the slot's row as the rules see it. */
static void
slot_binding_row(TupleTableSlot *slot, BindingRow *row)
{
	bool		isnull;

	memset(row, 0, sizeof(*row));
	row->found = true;
	row->binding_id = DatumGetInt64(slot_getattr(slot, hint_attnum[COL_BINDING_ID], &isnull));
	row->terminal_id = TextDatumGetCString(slot_getattr(slot, hint_attnum[COL_TERMINAL_ID], &isnull));
	slot_ident(slot, COL_ICCID, &row->iccid);
	row->has_imei = slot_ident(slot, COL_IMEI, &row->imei);
	row->has_imeisv = slot_ident(slot, COL_IMEISV, &row->imeisv);
	row->has_imsi = slot_ident(slot, COL_IMSI, &row->imsi);
	row->blocked = DatumGetBool(slot_getattr(slot, hint_attnum[COL_BLOCKED], &isnull));
	/* row->note stays NULL: no decision of request_key reads it */
}

/* See fastpath.h. */
/* See fastpath.h. */
bool
fastpath_binding(FastKey key, Datum value, BindingRow *row)
{
	const ExtCatalog *cat = ext_catalog();
	Relation	rel;
	Relation	index;
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData scankey;

	memset(row, 0, sizeof(*row));
	if (!OidIsValid(cat->binding_rel))
		return false;

	/* Lock first; then make sure the OID still names our table. */
	rel = try_relation_open(cat->binding_rel, AccessShareLock);
	if (rel == NULL)
		return false;
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		RelationGetNamespace(rel) != cat->namespace_oid ||
		strcmp(RelationGetRelationName(rel), "binding") != 0 ||
		!resolve_columns(rel, cat) ||
		(index = open_key_index(rel, key, cat)) == NULL)
	{
		relation_close(rel, AccessShareLock);
		return false;
	}

	/*
	 * See what earlier calls in this statement wrote, with a snapshot taken
	 * now: under READ COMMITTED (the only level request_key runs at) that is
	 * everything committed before this call, as an SPI statement would see.
	 */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	if (key == FAST_BY_TERMINAL_ID)
		ScanKeyEntryInitialize(&scankey, 0, 1, BTEqualStrategyNumber, InvalidOid,
							   DEFAULT_COLLATION_OID, F_TEXTEQ, value);
	else
		ScanKeyInit(&scankey, 1, BTEqualStrategyNumber, F_INT8EQ, value);
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &scankey, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);

	if (index_getnext_slot(scan, ForwardScanDirection, slot))
		slot_binding_row(slot, row);

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	relation_close(rel, NoLock);
	return true;
}

/* See fastpath.h. */
bool
fastpath_grant(const PairIdentity *pair, int64 *binding_id)
{
	BindingRow	row;
	PairNews	news;

	if (!fastpath_binding(FAST_BY_ICCID, Int64GetDatum(pair->iccid), &row) || !row.found)
		return false;
	if (row.blocked || row.iccid != pair->iccid ||
		strcmp(row.terminal_id, pair->terminal_id) != 0 ||
		pair_compare(pair, &row, &news) != PAIR_SAME)
		return false;
	*binding_id = row.binding_id;
	return true;
}

/*
 * provision.c
 *		mtcbind.provision(source regclass, on_error text, reason text): binds
 *		the pairs of a SIM vendor's file, loaded into a table, in one INSERT
 *		(since 1.1).  Every line that cannot be bound is reported with its
 *		line number and why; on_error says whether the good lines are bound
 *		anyway ('skip'), nothing is bound ('abort', an error), or nothing is
 *		bound and the report is all ('report', a dry run).
 *
 * The source is read with the caller's privileges (it may be any table or
 * view the caller can read, and a view's functions run as the caller);
 * only the write switches to the owner of mtcbind.binding, as a SECURITY
 * DEFINER function would.  EXECUTE is granted to mtcbind_admin only.
 * The 'bound' events are written per statement by the binding table's
 * statement trigger (binding_table.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/plannodes.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "args.h"
#include "audit.h"
#include "blocks.h"
#include "catalog.h"
#include "decision.h"
#include "errcodes.h"
#include "identifiers.h"
#include "identifiers_core.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_provision);

/* Longest terminal_id and application ids, as the table's CHECKs say. */
#define ID_TEXT_MAX 255

/* Lines named in the error of on_error = 'abort'. */
#define ABORT_DETAIL_LINES 10

/* Rows read from the source per fetch. */
#define FETCH_ROWS 10000

typedef enum OnError
{
	ON_ERROR_ABORT,
	ON_ERROR_SKIP,
	ON_ERROR_REPORT
} OnError;

/* The source's columns, in the order the reading query selects them. */
enum SourceColumn
{
	COL_LINE, COL_TERMINAL_ID, COL_ICCID, COL_IMEI, COL_IMEISV, COL_IMSI,
	COL_TERMINAL_APPLI_ID, COL_UICC_APPLI_ID, COL_NOTE, NCOLUMNS
};

static const char *const column_names[NCOLUMNS] = {
	"line", "terminal_id", "iccid", "imei", "imeisv", "imsi",
	"terminal_appli_id", "uicc_appli_id", "note"
};

/* The columns of the INSERT, built up as lines are accepted. */
typedef struct Candidates
{
	int64		count;
	ArrayBuildState *line;
	ArrayBuildState *terminal_id;
	ArrayBuildState *iccid;
	ArrayBuildState *imei;
	ArrayBuildState *imeisv;
	ArrayBuildState *imsi;
	ArrayBuildState *terminal_appli_id;
	ArrayBuildState *uicc_appli_id;
	ArrayBuildState *note;
} Candidates;

/* What provision tells its caller, besides the refused lines. */
typedef struct Tally
{
	int64		bound;
	int64		already;		/* lines whose pair was bound to each other already */
	int64		refused;
	int			first_sqlstate; /* of the first refused line: the error's */
	StringInfoData first_refusals;	/* for the error of 'abort' */
} Tally;

typedef struct Report
{
	Tuplestorestate *store;
	TupleDesc	desc;
	Tally		tally;
} Report;

static OnError
parse_on_error(text *value)
{
	char	   *s = text_to_cstring(value);

	if (strcmp(s, "abort") == 0)
		return ON_ERROR_ABORT;
	if (strcmp(s, "skip") == 0)
		return ON_ERROR_SKIP;
	if (strcmp(s, "report") == 0)
		return ON_ERROR_REPORT;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for on_error: \"%s\"", bounded_text(s)),
			 errhint("Use 'abort' (bind all lines or none), 'skip' (bind the good lines) or 'report' (bind nothing, list the bad lines).")));
	return ON_ERROR_ABORT;		/* keep compiler quiet */
}

/*
 * audit => 'per_binding' (a 'bound' event for each binding, as any insert
 * writes) or 'per_load' (one 'bound' event for the load: see
 * binding_table.c).
 */
static bool
parse_per_load(text *value)
{
	char	   *s = text_to_cstring(value);

	if (strcmp(s, "per_binding") == 0)
		return false;
	if (strcmp(s, "per_load") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for audit: \"%s\"", bounded_text(s)),
			 errhint("Use 'per_binding' (a 'bound' event for each binding) or 'per_load' (one 'bound' event listing the load's binding ids).")));
	return false;				/* keep compiler quiet */
}

/* Adds one refused line to the report. */
static void
report_line(Report *report, int64 line, const char *terminal_id, const char *iccid,
			const char *sqlstate, const char *problem)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = Int64GetDatum(line);
	nulls[1] = terminal_id == NULL;
	values[1] = nulls[1] ? (Datum) 0 : CStringGetTextDatum(terminal_id);
	nulls[2] = iccid == NULL;
	values[2] = nulls[2] ? (Datum) 0 : CStringGetTextDatum(iccid);
	values[3] = CStringGetTextDatum(sqlstate);
	values[4] = CStringGetTextDatum(problem);
	tuplestore_putvalues(report->store, report->desc, values, nulls);

	if (report->tally.refused == 0)
		report->tally.first_sqlstate = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
													 sqlstate[3], sqlstate[4]);
	if (report->tally.refused < ABORT_DETAIL_LINES)
		appendStringInfo(&report->tally.first_refusals, "%sline %lld: %s",
						 report->tally.refused > 0 ? "; " : "", (long long) line, problem);
	report->tally.refused++;
}

static const char *
ident_status_text(IdentStatus status)
{
	switch (status)
	{
		case IDENT_OK:
			break;
		case IDENT_EMPTY:
			return "is empty";
		case IDENT_BAD_HYPHEN:
			return "has a misplaced hyphen";
		case IDENT_BAD_CHAR:
			return "has a character that is not a digit";
		case IDENT_BAD_LENGTH:
			return "has the wrong number of digits";
		case IDENT_BAD_PREFIX:
			return "does not start with 89";
		case IDENT_BAD_CHECK_DIGIT:
			return "has a wrong check digit";
	}
	return "is invalid";
}

/*
 * Parses an optional identifier column; false (with *problem set) if it is
 * present and invalid.
 */
static bool
parse_ident_column(IdentKind kind, const char *name, const char *input, bool *present,
			int64 *value, char **problem)
{
	IdentParse	parsed;

	*present = input != NULL;
	if (input == NULL)
		return true;
	if (mtcbind_ident_parse(kind, input, strlen(input), &parsed) != IDENT_OK)
	{
		*problem = psprintf("%s %s", name, ident_status_text(parsed.status));
		return false;
	}
	*value = parsed.value;
	return true;
}

/* A length problem of a text column, or NULL. */
static char *
text_problem(const char *name, const char *value, size_t min)
{
	size_t		len = value ? strlen(value) : 0;

	if (value == NULL && min > 0)
		return psprintf("%s is missing", name);
	if (len < min)
		return psprintf("%s is empty", name);
	if (len > ID_TEXT_MAX)
		return psprintf("%s has %zu octets; at most %d are allowed", name, len, ID_TEXT_MAX);
	return NULL;
}

static void
accum(ArrayBuildState **state, Datum value, bool isnull, Oid type, MemoryContext cxt)
{
	*state = accumArrayResult(*state, value, isnull, type, cxt);
}

/*
 * Checks one line of the source; accepted lines join the candidates,
 * others are reported.
 */
static void
check_line(char **v, int64 line, Candidates *cand, Report *report, MemoryContext cxt)
{
	const ExtCatalog *cat = ext_catalog();
	char	   *problem = NULL;
	bool		has_iccid = false, has_imei = false, has_imeisv = false, has_imsi = false;
	int64		iccid = 0, imei = 0, imeisv = 0, imsi = 0;

	if ((problem = text_problem("terminal_id", v[COL_TERMINAL_ID], 1)) == NULL &&
		(v[COL_ICCID] == NULL ? (problem = pstrdup("iccid is missing")) == NULL :
		 parse_ident_column(IDENT_ICCID, "iccid", v[COL_ICCID], &has_iccid, &iccid, &problem)) &&
		parse_ident_column(IDENT_IMEI, "imei", v[COL_IMEI], &has_imei, &imei, &problem) &&
		parse_ident_column(IDENT_IMEISV, "imeisv", v[COL_IMEISV], &has_imeisv, &imeisv, &problem) &&
		parse_ident_column(IDENT_IMSI, "imsi", v[COL_IMSI], &has_imsi, &imsi, &problem) &&
		(problem = text_problem("terminal_appli_id", v[COL_TERMINAL_APPLI_ID], 0)) == NULL &&
		(problem = text_problem("uicc_appli_id", v[COL_UICC_APPLI_ID], 0)) == NULL &&
		(v[COL_NOTE] == NULL || strlen(v[COL_NOTE]) <= REASON_MAX_LEN ||
		 (problem = psprintf("note has %zu octets; at most %d are allowed",
							 strlen(v[COL_NOTE]), REASON_MAX_LEN)) == NULL))
	{
		if (has_imeisv && !has_imei)
		{
			/* an IMEISV names its IMEI, as request_key and bind take it */
			has_imei = true;
			imei = imei_of_imeisv(imeisv);
		}
		else if (has_imeisv && imei != imei_of_imeisv(imeisv))
			problem = pstrdup("imeisv belongs to another IMEI than imei");
	}
	if (problem != NULL)
	{
		report_line(report, line, v[COL_TERMINAL_ID], v[COL_ICCID], "22023", problem);
		return;
	}

	accum(&cand->line, Int64GetDatum(line), false, INT8OID, cxt);
	accum(&cand->terminal_id, CStringGetTextDatum(v[COL_TERMINAL_ID]), false, TEXTOID, cxt);
	accum(&cand->iccid, Int64GetDatum(iccid), false, cat->iccid_type, cxt);
	accum(&cand->imei, Int64GetDatum(imei), !has_imei, cat->imei_type, cxt);
	accum(&cand->imeisv, Int64GetDatum(imeisv), !has_imeisv, cat->imeisv_type, cxt);
	accum(&cand->imsi, Int64GetDatum(imsi), !has_imsi, cat->imsi_type, cxt);
	accum(&cand->terminal_appli_id,
		  CStringGetTextDatum(v[COL_TERMINAL_APPLI_ID] ? v[COL_TERMINAL_APPLI_ID] : ""),
		  false, TEXTOID, cxt);
	accum(&cand->uicc_appli_id,
		  CStringGetTextDatum(v[COL_UICC_APPLI_ID] ? v[COL_UICC_APPLI_ID] : ""),
		  false, TEXTOID, cxt);
	accum(&cand->note, v[COL_NOTE] ? CStringGetTextDatum(v[COL_NOTE]) : (Datum) 0,
		  v[COL_NOTE] == NULL, TEXTOID, cxt);
	cand->count++;
}

/* Refuses a source the caller does not own itself (see source_query). */
static void
check_source_owner(Oid source, Relation rel)
{
	Oid			owner;
	char	   *name;

	if (rel != NULL)
	{
		owner = rel->rd_rel->relowner;
		name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										  RelationGetRelationName(rel));
	}
	else
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(source));

		if (!HeapTupleIsValid(tup))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("source relation with OID %u does not exist", source)));
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		name = quote_qualified_identifier(get_namespace_name(((Form_pg_class) GETSTRUCT(tup))->relnamespace),
										  NameStr(((Form_pg_class) GETSTRUCT(tup))->relname));
		ReleaseSysCache(tup);
	}
	if (owner != GetUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be the owner of %s to provision from it", name),
				 errdetail("Reading a relation runs code its owner wrote (views, row security policies) with your rights; only your own relations are read, whatever your role's rights."),
				 errhint("Load the vendor's file into a table of your own, e.g. a temporary table.")));
}

/*
 * Refuses a column whose type is neither built in nor one of mtcbind's
 * identifier types.  The read casts every column (to text, line to int8),
 * and a cast from a type runs code its owner chose: owning the relation
 * does not make its column types the caller's (CREATE TABLE AS copies
 * another role's enum, with that role's cast to text).  Types made by
 * initdb are below FirstNormalObjectId, and only a superuser can add a
 * cast from them; a domain's cast is its base type's, so domains made
 * later are refused too.
 */
static void
check_source_column_type(Relation rel, Form_pg_attribute att)
{
	const ExtCatalog *cat = ext_catalog();
	Oid			type = att->atttypid;

	if (type < FirstNormalObjectId || type == cat->iccid_type || type == cat->imei_type ||
		type == cat->imeisv_type || type == cat->imsi_type)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("column \"%s\" of source %s has type %s, which provision does not read",
					NameStr(att->attname), RelationGetRelationName(rel),
					format_type_be(type)),
			 errdetail("Columns are read as text, and the cast from a type made in the database (an enum, a domain, another extension's type) runs code of that type's owner with your rights; only built-in types and mtcbind's identifier types are read."),
			 errhint("Load the vendor's file with COPY into a table of text columns: a cast of that column to text would run the same code.")));
}

/*
 * The query that reads the source: its columns by name (absent optional
 * ones as NULL), in line order.  Only names from the catalog go into it.
 */
static char *
source_query(Oid source, char **physical_order)
{
	Relation	rel;
	TupleDesc	desc;

	char		relkind;
	bool		present[NCOLUMNS] = {false};
	StringInfoData sql;

	/*
	 * The source's own code (a view's functions, row security policies)
	 * runs in the read, with the caller's rights: it must be the caller's
	 * own code (casts of its column types: check_source_column_type).
	 * Strictly the caller's: neither a superuser's rights nor membership in the owner's role
	 * count, or a superuser loading an administrator's view would run that
	 * administrator's functions as superuser.  Checked before the lock (no
	 * one queues a lock on a relation not theirs) and again under it.
	 */
	check_source_owner(source, NULL);
	rel = try_relation_open(source, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("source relation with OID %u does not exist", source)));
	check_source_owner(source, rel);
	desc = RelationGetDescr(rel);
	relkind = rel->rd_rel->relkind;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		for (int c = 0; c < NCOLUMNS; c++)
			if (strcmp(NameStr(att->attname), column_names[c]) == 0)
			{
				check_source_column_type(rel, att);
				/* sorted in its own type: '10' before '9', 1.6 as 2 */
				if (c == COL_LINE && att->atttypid != INT2OID &&
					att->atttypid != INT4OID && att->atttypid != INT8OID)
					ereport(ERROR,
							(errcode(ERRCODE_DATATYPE_MISMATCH),
							 errmsg("column \"line\" of source %s has type %s",
									RelationGetRelationName(rel), format_type_be(att->atttypid)),
							 errdetail("Line numbers are integers (smallint, integer or bigint): lines are read in their order, and the report names them.")));
				present[c] = true;
			}
	}
	for (int c = COL_TERMINAL_ID; c <= COL_ICCID; c++)
		if (!present[c])
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("source %s has no column \"%s\"",
							RelationGetRelationName(rel), column_names[c]),
					 errdetail("The source needs terminal_id and iccid; imei, imeisv, imsi, terminal_appli_id, uicc_appli_id, note and line are optional.")));
	if (!present[COL_LINE] && relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("source %s has no column \"line\"", RelationGetRelationName(rel)),
				 errdetail("Lines of a table are numbered in its physical order; other relations must say their line numbers.")));
	/*
	 * Rows of several tables have no one physical order (ctids repeat).
	 * relhassubclass stays set after the last child is dropped, until a
	 * VACUUM: ask for the children themselves.  Without locking them: they
	 * need not be the caller's, and the read is FROM ONLY (below), so a
	 * child attached meanwhile is not read either.
	 */
	if (!present[COL_LINE] && rel->rd_rel->relhassubclass &&
		find_inheritance_children(source, NoLock) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("source %s has no column \"line\"", RelationGetRelationName(rel)),
				 errdetail("Other tables inherit from it: its rows and theirs have no one physical order, so the source must say its line numbers.")));

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int c = 0; c < NCOLUMNS; c++)
	{
		if (c > 0)
			appendStringInfoString(&sql, ", ");
		if (c == COL_LINE && !present[c])
			appendStringInfoString(&sql, "NULL::pg_catalog.int8");
		else if (c == COL_LINE)
			appendStringInfoString(&sql, "s.line::pg_catalog.int8");
		else if (present[c])
			appendStringInfo(&sql, "s.%s::pg_catalog.text", quote_identifier(column_names[c]));
		else
			appendStringInfoString(&sql, "NULL::pg_catalog.text");
	}
	appendStringInfo(&sql, " FROM %s%s AS s",
					 !present[COL_LINE] && relkind == RELKIND_RELATION ? "ONLY " : "",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)));
	/*
	 * Physical order is the order of a plain sequential scan; the query
	 * without ORDER BY is tried first (see read_source), since sorting a
	 * million lines by ctid costs a twentieth of a load.
	 */
	*physical_order = present[COL_LINE] ? NULL : pstrdup(sql.data);
	appendStringInfo(&sql, " ORDER BY %s", present[COL_LINE] ? "s.line" : "s.ctid");
	/* the lock stays until the transaction ends: the name keeps naming it */
	relation_close(rel, NoLock);
	return sql.data;
}

/*
 * True if a cursor's plan is one sequential scan of the source: it returns
 * the rows in physical order (synchronized scans off, as read_source sets).
 */
static bool
plain_sequential_scan(Portal portal)
{
	PlannedStmt *stmt;

	if (list_length(portal->stmts) != 1)
		return false;
	stmt = linitial_node(PlannedStmt, portal->stmts);
	return IsA(stmt->planTree, SeqScan) && stmt->planTree->lefttree == NULL;
}

/* Reads and checks every line of the source, as the caller. */
static void
read_source(Oid source, Candidates *cand, Report *report, MemoryContext cxt)
{
	char	   *physical_order;
	char	   *sql = source_query(source, &physical_order);
	Portal		portal = NULL;
	int64		position = 0;

	store_connect();
	if (physical_order != NULL)
	{
		/* a scan started where another one is would begin mid-table */
		(void) set_config_option("synchronize_seqscans", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		portal = SPI_cursor_open_with_args(NULL, physical_order, 0, NULL, NULL, NULL, true, 0);
		if (!plain_sequential_scan(portal))
		{
			SPI_cursor_close(portal);
			portal = NULL;
		}
	}
	if (portal == NULL)
		portal = SPI_cursor_open_with_args(NULL, sql, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[r];
			char	   *v[NCOLUMNS];
			int64		line;

			bool		line_null;
			Datum		line_value = SPI_getbinval(tuple, SPI_tuptable->tupdesc, COL_LINE + 1,
												   &line_null);

			/* every column but line is text: the query casts them */
			v[COL_LINE] = NULL;
			for (int c = COL_LINE + 1; c < NCOLUMNS; c++)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(tuple, SPI_tuptable->tupdesc, c + 1, &isnull);

				v[c] = isnull ? NULL : TextDatumGetCString(d);
			}
			position++;
			/*
			 * A source that numbers its lines numbers all of them: a number
			 * made up for one (its position) could be another line's.
			 */
			if (line_null && physical_order == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("source has a row whose line is NULL"),
						 errdetail("When the source has a column \"line\", every row needs a line number: the report names lines by it. Nothing was bound."),
						 errhint("Number the rows (e.g. UPDATE ... SET line = ... WHERE line IS NULL), or drop the column to number lines by physical order.")));
			line = line_null ? position : DatumGetInt64(line_value);
			check_line(v, line, cand, report, cxt);
			for (int c = 0; c < NCOLUMNS; c++)
				if (v[c])
					pfree(v[c]);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	store_finish();
}

/* A column of the candidates as an array; the candidates stay as they are. */
static Datum
array_of(ArrayBuildState *state, Oid type)
{
	int			dims[1];
	int			lbs[1] = {1};

	if (state == NULL)
		return PointerGetDatum(construct_empty_array(type));
	dims[0] = state->nelems;
	/* not makeArrayResult: it frees the state, which the feed still reads */
	return makeMdArrayResult(state, 1, dims, lbs, CurrentMemoryContext, false);
}

/*
 * The candidates reach the INSERT through mtcbind._provision_candidates(),
 * which puts them into one tuplestore that the INSERT's scan reads as it
 * is.  (Nine arrays unnested side by side cost a fifth of a load: each
 * unnest fills a tuplestore of its own, and the scan reads all nine.)
 * Set only while provision's INSERT runs; lines marked excluded (blocked)
 * are left out.
 */
typedef struct Feed
{
	Candidates *cand;
	bool	   *excluded;		/* by position, or NULL */
} Feed;

static Feed *feeding = NULL;

PG_FUNCTION_INFO_V1(mtcbind_provision_candidates);

/* The value of position i of a column's candidates. */
static inline void
candidate_value(ArrayBuildState *col, int64 i, Datum *value, bool *isnull)
{
	*value = col->dvalues[i];
	*isnull = col->dnulls[i];
}

/*
 * mtcbind._provision_candidates() RETURNS TABLE (terminal_id, iccid, imei,
 * imeisv, imsi, terminal_appli_id, uicc_appli_id, note): the lines that
 * provision is binding, in the source's order.
 */
Datum
mtcbind_provision_candidates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Candidates *cand;
	TupleDesc	desc;
	Tuplestorestate *store;
	MemoryContext old;

	if (feeding == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mtcbind._provision_candidates() is called only by mtcbind.provision")));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		elog(ERROR, "mtcbind._provision_candidates() must be called in FROM");
	cand = feeding->cand;

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "mtcbind._provision_candidates() must return a row type");
	/*
	 * The lines are in memory already; maintenance_work_mem (a bulk load's
	 * allowance) rather than work_mem keeps a large file from being written
	 * to a temporary file only to be read back.
	 */
	store = tuplestore_begin_heap(false, false, Max(work_mem, maintenance_work_mem));
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);

	for (int64 i = 0; i < cand->count; i++)
	{
		Datum		values[8];
		bool		nulls[8];

		if (feeding->excluded != NULL && feeding->excluded[i])
			continue;
		candidate_value(cand->terminal_id, i, &values[0], &nulls[0]);
		candidate_value(cand->iccid, i, &values[1], &nulls[1]);
		candidate_value(cand->imei, i, &values[2], &nulls[2]);
		candidate_value(cand->imeisv, i, &values[3], &nulls[3]);
		candidate_value(cand->imsi, i, &values[4], &nulls[4]);
		candidate_value(cand->terminal_appli_id, i, &values[5], &nulls[5]);
		candidate_value(cand->uicc_appli_id, i, &values[6], &nulls[6]);
		candidate_value(cand->note, i, &values[7], &nulls[7]);
		tuplestore_putvalues(store, desc, values, nulls);
	}
	return (Datum) 0;
}

/* The INSERT of the candidates; the variant with ON CONFLICT returns ids. */
#define INSERT_CANDIDATES \
	"INSERT INTO mtcbind.binding AS b (terminal_id, iccid, imei, imeisv, imsi," \
	"                                  terminal_appli_id, uicc_appli_id, note)" \
	" SELECT s.terminal_id, s.iccid, s.imei, s.imeisv, s.imsi," \
	"        s.terminal_appli_id, s.uicc_appli_id, s.note" \
	"  FROM mtcbind._provision_candidates() AS s"

/* Runs an INSERT of the candidates; the feed is withdrawn whatever happens. */
static void
insert_fed(Feed *feed, const char *sql, int expected)
{
	PG_TRY();
	{
		feeding = feed;
		if (SPI_execute(sql, false, 0) != expected)
			elog(ERROR, "mtcbind: could not insert the bindings");
	}
	PG_FINALLY();
	{
		feeding = NULL;
	}
	PG_END_TRY();
}

/*
 * Inserts the candidates; returns how many rows were inserted.  A vendor's
 * file is nearly always clean, and a plain INSERT costs half of one with
 * ON CONFLICT (which checks every unique index before each row), so the
 * plain one is tried first in a subtransaction; only if a line meets a
 * UNIQUE constraint is it undone and ON CONFLICT DO NOTHING used, with
 * RETURNING so that the caller can tell which lines went in.
 */
typedef struct InsertStep
{
	Feed	   *feed;
	uint64		inserted;
} InsertStep;

static bool
plain_insert_step(void *arg)
{
	InsertStep *s = (InsertStep *) arg;

	insert_fed(s->feed, INSERT_CANDIDATES, SPI_OK_INSERT);
	s->inserted = SPI_processed;
	return true;				/* keep it */
}

static uint64
insert_candidates(Feed *feed, bool *returned_ids)
{
	InsertStep	step = {feed, 0};
	bool		completed;

	*returned_ids = false;
	if (run_guarded(plain_insert_step, &step, &completed))
		return step.inserted;
	*returned_ids = true;
	insert_fed(feed, INSERT_CANDIDATES " ON CONFLICT DO NOTHING RETURNING b.binding_id",
			   SPI_OK_INSERT_RETURNING);
	return SPI_processed;
}

static void bind_candidates(Candidates *cand, Report *report);

/*
 * The columns that the lookups of blocks and conflicts read, as arrays:
 * made only when a lookup is needed (a block exists, a line conflicts).
 */
static void
lookup_arrays(Candidates *cand, Datum *values, bool *made)
{
	const ExtCatalog *cat = ext_catalog();

	if (*made)
		return;
	values[0] = array_of(cand->line, INT8OID);
	values[1] = array_of(cand->terminal_id, TEXTOID);
	values[2] = array_of(cand->iccid, cat->iccid_type);
	values[3] = array_of(cand->imei, cat->imei_type);
	values[5] = array_of(cand->imsi, cat->imsi_type);
	*made = true;
}

typedef struct DryRunStep
{
	Candidates *cand;
	Report	   *report;
} DryRunStep;

/* A dry run: the insert finds the conflicts, then is undone. */
static bool
dry_run_step(void *arg)
{
	DryRunStep *s = (DryRunStep *) arg;

	bind_candidates(s->cand, s->report);
	return false;				/* undo it */
}

/*
 * Binds the candidates in one INSERT; lines that a UNIQUE constraint turns
 * away (bound before, or by an earlier line of this load) are looked up
 * and reported.  Runs as the owner of mtcbind.binding.
 */
static void
bind_candidates(Candidates *cand, Report *report)
{
	const ExtCatalog *cat = ext_catalog();
	/* the lookups' arrays: line, terminal_id, iccid, imei, (imeisv: unused), imsi */
	Oid			types[6] = {
		INT8ARRAYOID, TEXTARRAYOID, get_array_type(cat->iccid_type),
		get_array_type(cat->imei_type), InvalidOid, get_array_type(cat->imsi_type)
	};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	uint64		inserted;
	uint64		nblocked = 0;
	bool		any_blocks;
	bool		returned_ids;
	ArrayBuildState *ids = NULL;
	Feed		feed = {cand, NULL};
	bool		have_arrays = false;

	if (cand->count == 0)
		return;

	store_connect();

	/*
	 * Blocked cards and devices are refused, as bind refuses them.  The
	 * blocklist's weak lock first (no block commits until this load does),
	 * then a fresh snapshot sees every block committed before it.
	 */
	blocklist_lock(false);
	any_blocks = blocklist_maybe_nonempty();
	if (any_blocks)
		lookup_arrays(cand, values, &have_arrays);
	if (any_blocks && SPI_execute_with_args(
			"SELECT DISTINCT ON (s.pos) s.line, s.terminal_id, s.iccid::pg_catalog.text,"
			"       k.block_id, k.iccid IS NOT NULL, s.pos"
			"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
			"                 pg_catalog.unnest($4)) WITH ORDINALITY AS s(line, terminal_id, iccid, imei, pos)"
			"  JOIN mtcbind.blocklist k"
			"    ON k.iccid OPERATOR(pg_catalog.=) s.iccid"
			"    OR k.terminal_id OPERATOR(pg_catalog.=) s.terminal_id"
			"    OR k.imei OPERATOR(pg_catalog.=) s.imei"
			" ORDER BY s.pos, k.iccid IS NOT NULL DESC",
			4, types, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "mtcbind: could not check the blocklist");
	if (any_blocks && SPI_processed > 0)
	{
		/* take the blocked lines out of the insert */
		SPITupleTable *blocked = SPI_tuptable;
		ArrayBuildState *out = NULL;

		nblocked = SPI_processed;
		feed.excluded = palloc0(sizeof(bool) * cand->count);

		for (uint64 r = 0; r < nblocked; r++)
		{
			bool		isnull;
			HeapTuple	t = blocked->vals[r];
			int64		line = DatumGetInt64(SPI_getbinval(t, blocked->tupdesc, 1, &isnull));
			int64		block_id = DatumGetInt64(SPI_getbinval(t, blocked->tupdesc, 4, &isnull));
			bool		card = DatumGetBool(SPI_getbinval(t, blocked->tupdesc, 5, &isnull));
			int64		pos = DatumGetInt64(SPI_getbinval(t, blocked->tupdesc, 6, &isnull));

			report_line(report, line, SPI_getvalue(t, blocked->tupdesc, 2),
						SPI_getvalue(t, blocked->tupdesc, 3), card ? "MB006" : "MB007",
						psprintf("%s is blocked (block %lld)", card ? "the UICC" : "the device",
								 (long long) block_id));
			out = accumArrayResult(out, Int64GetDatum(pos), false, INT8OID, CurrentMemoryContext);
			feed.excluded[pos - 1] = true;
		}
		values[9] = makeArrayResult(out, CurrentMemoryContext);
	}
	else
		nulls[9] = 'n';

	inserted = insert_candidates(&feed, &returned_ids);
	report->tally.bound = inserted;

	/* only ON CONFLICT leaves lines out; it returned the ids it inserted */
	if (returned_ids && inserted + nblocked < (uint64) cand->count)
	{
		/* Some lines met a UNIQUE constraint: say which binding holds what. */
		Oid			ctypes[7] = {types[0], types[1], types[2], types[3], types[5],
			INT8ARRAYOID, INT8ARRAYOID};
		Datum		cvalues[7];
		char		cnulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', nulls[9]};

		for (uint64 r = 0; r < inserted; r++)
		{
			bool		isnull;

			ids = accumArrayResult(ids, SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
													  1, &isnull),
								   false, INT8OID, CurrentMemoryContext);
		}
		lookup_arrays(cand, values, &have_arrays);
		cvalues[0] = values[0];
		cvalues[1] = values[1];
		cvalues[2] = values[2];
		cvalues[3] = values[3];
		cvalues[4] = values[5];
		cvalues[5] = array_of(ids, INT8OID);
		cvalues[6] = values[9];
		/*
		 * Every line but those whose pair this load bound with the line's own
		 * identities (the line itself, or an exact repeat of it): for each
		 * identity, which binding holds it and whether this load made it.
		 */
		if (SPI_execute_with_args(
				"WITH mine AS (SELECT m FROM pg_catalog.unnest($6) AS m)"
				"SELECT s.line, s.terminal_id, s.iccid::pg_catalog.text,"
				"       bt.binding_id, bc.binding_id, bi.binding_id, bs.binding_id,"
				"       bt.binding_id OPERATOR(pg_catalog.=) ANY (SELECT m FROM mine),"
				"       bc.binding_id OPERATOR(pg_catalog.=) ANY (SELECT m FROM mine),"
				"       bi.binding_id OPERATOR(pg_catalog.=) ANY (SELECT m FROM mine),"
				"       bs.binding_id OPERATOR(pg_catalog.=) ANY (SELECT m FROM mine),"
				"       (s.imei IS NULL OR bt.imei OPERATOR(pg_catalog.=) s.imei)"
				"       AND (s.imsi IS NULL OR bt.imsi OPERATOR(pg_catalog.=) s.imsi)"
				"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
				"                 pg_catalog.unnest($4), pg_catalog.unnest($5))"
				"       WITH ORDINALITY AS s(line, terminal_id, iccid, imei, imsi, pos)"
				"  LEFT JOIN mtcbind.binding bt ON bt.terminal_id OPERATOR(pg_catalog.=) s.terminal_id"
				"  LEFT JOIN mtcbind.binding bc ON bc.iccid OPERATOR(pg_catalog.=) s.iccid"
				"  LEFT JOIN mtcbind.binding bi ON bi.imei OPERATOR(pg_catalog.=) s.imei"
				"  LEFT JOIN mtcbind.binding bs ON bs.imsi OPERATOR(pg_catalog.=) s.imsi"
				" WHERE ($7 IS NULL OR s.pos OPERATOR(pg_catalog.<>) ALL ($7))"
				"   AND NOT COALESCE(bt.binding_id OPERATOR(pg_catalog.=) bc.binding_id"
				"                    AND bt.binding_id OPERATOR(pg_catalog.=) ANY (SELECT m FROM mine)"
				"                    AND (s.imei IS NULL OR bt.imei OPERATOR(pg_catalog.=) s.imei)"
				"                    AND (s.imsi IS NULL OR bt.imsi OPERATOR(pg_catalog.=) s.imsi), false)"
				" ORDER BY s.pos",
				7, ctypes, cvalues, cnulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "mtcbind: could not look up the conflicts");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			/* the identities in the order a conflict is named by */
			static const char *const what[4] = {"UICC", "device", "IMEI", "IMSI"};
			static const char *const code[4] = {"MB002", "MB001", "MB001", "MB002"};
			static const int column[4] = {5, 4, 6, 7};	/* bc, bt, bi, bs */
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			int64		line = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
			char	   *tid = SPI_getvalue(t, d, 2);
			char	   *icc = SPI_getvalue(t, d, 3);
			int64		holder[4];
			bool		held[4];
			bool		by_this_load[4];
			bool		same_ids;
			int			named = -1;

			for (int i = 0; i < 4; i++)
			{
				bool		n_mine;

				holder[i] = DatumGetInt64(SPI_getbinval(t, d, column[i], &isnull));
				held[i] = !isnull;
				/* columns 8..11: bt, bc, bi, bs made by this load */
				by_this_load[i] = DatumGetBool(SPI_getbinval(t, d, column[i] + 4, &n_mine)) && !n_mine;
			}
			same_ids = DatumGetBool(SPI_getbinval(t, d, 12, &isnull)) && !isnull;

			if (held[0] && held[1] && holder[0] == holder[1] && !by_this_load[1])
			{
				if (same_ids)
				{
					/* bound to each other before the load: nothing to do */
					report->tally.already++;
					continue;
				}
				/* as bind() refuses it: another IMEI or IMSI than recorded */
				report_line(report, line, tid, icc, "MB001",
							psprintf("the pair is bound already (binding %lld) with another IMEI or IMSI",
									 (long long) holder[1]));
				continue;
			}
			/* a binding from before the load names the conflict first ... */
			for (int i = 0; i < 4 && named < 0; i++)
				if (held[i] && !by_this_load[i])
					named = i;
			if (named >= 0)
			{
				report_line(report, line, tid, icc, code[named],
							psprintf("the %s is bound to binding %lld", what[named],
									 (long long) holder[named]));
				continue;
			}
			/*
			 * ... else another line of this load took the identity: the one
			 * whose binding has the smallest id, as ids are drawn in line
			 * order and only an earlier line can have kept this one out (a
			 * later line may have taken another of its identities since)
			 */
			for (int i = 0; i < 4; i++)
				if (held[i] && (named < 0 || holder[i] < holder[named]))
					named = i;
			if (named >= 0)
				report_line(report, line, tid, icc, code[named],
							psprintf("its %s is also on another line of this load", what[named]));
			else
				report_line(report, line, tid, icc, "40001",
							pstrdup("a concurrent change took its place; load the line again"));
		}
	}
	store_finish();
}

/*
 * mtcbind.provision(source regclass, on_error text DEFAULT 'abort',
 *                   reason text DEFAULT NULL, audit text DEFAULT 'per_binding')
 * RETURNS TABLE (line bigint, terminal_id text, iccid text,
 *                sqlstate text, problem text)
 */
Datum
mtcbind_provision(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			source;
	OnError		on_error;
	char	   *reason;
	bool		per_load;
	Report		report = {0};
	Candidates	cand = {0};
	MemoryContext cxt;
	Oid			owner;
	Oid			saved_user;
	int			saved_sec;
	HeapTuple	classtup;
	int			read_nest;
	int			write_nest;

	require_read_committed("mtcbind.provision");
	require_arg(fcinfo, 0, "source");
	require_arg(fcinfo, 1, "on_error");
	source = PG_GETARG_OID(0);
	on_error = parse_on_error(PG_GETARG_TEXT_PP(1));
	reason = get_reason_arg(fcinfo, 2, false);
	require_arg(fcinfo, 3, "audit");
	per_load = parse_per_load(PG_GETARG_TEXT_PP(3));

	InitMaterializedSRF(fcinfo, 0);
	report.store = rsinfo->setResult;
	report.desc = rsinfo->setDesc;
	initStringInfo(&report.tally.first_refusals);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "mtcbind provision",
								ALLOCSET_DEFAULT_SIZES);

	/*
	 * 1. Read and check every line, with the caller's rights.  Whatever the
	 * source's code changes in the session's settings (a search_path, a
	 * reason) is undone before anything is written.
	 */
	read_nest = NewGUCNestLevel();
	read_source(source, &cand, &report, cxt);
	AtEOXact_GUC(false, read_nest);

	if (on_error == ON_ERROR_ABORT && report.tally.refused > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%lld of the source's lines are invalid; nothing was bound",
						(long long) report.tally.refused),
				 errdetail("%s%s", report.tally.first_refusals.data,
						   report.tally.refused > ABORT_DETAIL_LINES ? "; ..." : ""),
				 errhint("on_error => 'report' lists every line; 'skip' binds the good ones.")));

	/* 2. Bind, as the owner of the bindings (EXECUTE is mtcbind_admin's). */
	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(ext_catalog()->binding_rel));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "mtcbind: cache lookup failed for mtcbind.binding");
	owner = ((Form_pg_class) GETSTRUCT(classtup))->relowner;
	ReleaseSysCache(classtup);

	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	write_nest = store_pin_search_path();
	PG_TRY();
	{
		/* the call's reason, else the session's mtcbind.reason */
		const char *why = reason != NULL ? reason : audit_current_reason();

		audit_context_begin();
		audit_context_set_reason(why);
		if (per_load)
			audit_context_set_load(quote_qualified_identifier(get_namespace_name(get_rel_namespace(source)),
															  get_rel_name(source)));
		if (on_error == ON_ERROR_REPORT)
		{
			DryRunStep	step = {&cand, &report};
			bool		completed;

			/* tally.bound: how many the undone insert bound, so would bind now */
			if (!run_guarded(dry_run_step, &step, &completed))
				elog(ERROR, "mtcbind: the dry run met a unique violation it could not attribute");
		}
		else
			bind_candidates(&cand, &report);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_sec);
	}
	PG_END_TRY();
	store_unpin_search_path(write_nest);
	audit_context_clear();

	if (on_error == ON_ERROR_ABORT && report.tally.refused > 0)
		ereport(ERROR,
				(errcode(report.tally.first_sqlstate),
				 errmsg("%lld of the source's lines cannot be bound; nothing was bound",
						(long long) report.tally.refused),
				 errdetail("%s%s", report.tally.first_refusals.data,
						   report.tally.refused > ABORT_DETAIL_LINES ? "; ..." : ""),
				 errhint("on_error => 'report' lists every line; 'skip' binds the good ones.")));

	if (on_error == ON_ERROR_REPORT)
		ereport(NOTICE,
				(errmsg("mtcbind.provision: a dry run: %lld pairs would be bound, %lld already bound to each other, %lld lines refused; nothing was bound",
						(long long) report.tally.bound, (long long) report.tally.already,
						(long long) report.tally.refused)));
	else
		ereport(NOTICE,
				(errmsg("mtcbind.provision: %lld pairs bound, %lld already bound to each other, %lld lines refused",
						(long long) report.tally.bound, (long long) report.tally.already,
						(long long) report.tally.refused)));
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

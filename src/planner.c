/*
 * planner.c
 *		mtcbind's own statements (store.h) are planned with PostgreSQL's
 *		default planner settings, whatever the session running them has set.
 *
 * Their plans are kept for the life of the backend, and PostgreSQL plans a
 * kept statement again (after any invalidation: an ANALYZE, a new index,
 * DISCARD PLANS; on every call of a session with plan_cache_mode =
 * force_custom_plan) with the settings of the session that runs it at that
 * moment.  Every role may set the planner's settings, a NAF included.  One
 * that turned index scans off or set jit_above_cost = 0, even with SET
 * LOCAL, left plans that scanned mtcbind.binding or compiled themselves on
 * every execution for every later user of the backend, which under a
 * connection pooler is every NAF: a logged key went from 0.6 ms to 110 ms,
 * measured.
 *
 * A planner hook therefore sets the settings below, in a GUC nest level of
 * its own, while one of those statements is planned, or a query planned
 * while one of them runs, and only then; every other query is planned as
 * its session asks.  Planning a kept statement is rare (store.c asks for
 * one generic plan), so a request pays nothing for this.
 */
#include "postgres.h"

#include "optimizer/planner.h"
#include "utils/guc.h"

#include "planner.h"
#include "store.h"

/*
 * PostgreSQL's defaults for what a session can change in the planner, with
 * two exceptions: a sequential scan only where no index can answer (the
 * statements find rows by a key; planned while a table was empty and kept
 * while it grew, or with stale statistics, a lookup would otherwise scan),
 * and no JIT (each statement costs microseconds; compiling it, milliseconds).
 * No parallel plan either: mtcbind's statements never ask for one, but a
 * PL/pgSQL trigger's queries, planned while they run, do.  The PL/pgSQL
 * functions of mtcbind--1.0--1.1.sql carry the same list as SET clauses
 * (without work_mem and hash_mem_multiplier, which there would also govern
 * execution).
 */
static const char *const fixed_planner_settings[][2] = {
	{"enable_seqscan", "off"},	/* first: "on" for queries not mtcbind's own */
	{"enable_indexscan", "on"},
	{"enable_indexonlyscan", "on"},
	{"enable_bitmapscan", "on"},
	{"enable_tidscan", "on"},
	{"enable_sort", "on"},
	{"enable_incremental_sort", "on"},
	{"enable_hashagg", "on"},
	{"enable_material", "on"},
	{"enable_memoize", "on"},
	{"enable_nestloop", "on"},
	{"enable_mergejoin", "on"},
	{"enable_hashjoin", "on"},
	{"enable_async_append", "on"},
	{"enable_partition_pruning", "on"},
	{"enable_partitionwise_join", "off"},
	{"enable_partitionwise_aggregate", "off"},
	{"seq_page_cost", "1"},
	{"random_page_cost", "4"},
	{"cpu_tuple_cost", "0.01"},
	{"cpu_index_tuple_cost", "0.005"},
	{"cpu_operator_cost", "0.0025"},
	{"effective_cache_size", "4GB"},
	{"work_mem", "4MB"},
	{"hash_mem_multiplier", "2"},
	{"constraint_exclusion", "partition"},
	{"cursor_tuple_fraction", "0.1"},
	{"from_collapse_limit", "8"},
	{"join_collapse_limit", "8"},
	{"geqo_threshold", "12"},
	{"jit", "off"},
	{"max_parallel_workers_per_gather", "0"},
};

static planner_hook_type prev_planner_hook = NULL;

static PlannedStmt *
mtcbind_planner(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	PlannedStmt *result;
	int			nest = -1;
	bool		own;

	/*
	 * A kept plan is planned with its source's own copy of the text, which
	 * store.c knows by address; no other query can share that address.
	 * Queries planned while one of those statements runs are PostgreSQL's
	 * own on its behalf (the check of a foreign key, the cascade of a
	 * delete: their plans are kept for the connection too) or a trigger's
	 * on mtcbind's tables: the same settings, sequential scans allowed.
	 */
	own = query_string != NULL && store_owns_query(query_string);
	if (own || store_statement_running())
	{
		nest = NewGUCNestLevel();
		for (int i = 0; i < lengthof(fixed_planner_settings); i++)
			(void) set_config_option(fixed_planner_settings[i][0],
									 (i == 0 && !own) ? "on" : fixed_planner_settings[i][1],
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
									 true, ERROR, false);
	}

	/* an error unwinds the nest level with the (sub)transaction */
	if (prev_planner_hook)
		result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		result = standard_planner(parse, query_string, cursorOptions, boundParams);

	if (nest >= 0)
		AtEOXact_GUC(true, nest);
	return result;
}

/* See planner.h. */
void
planner_init(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = mtcbind_planner;
}

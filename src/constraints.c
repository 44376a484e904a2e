/*
 * constraints.c
 *		The CHECK rules of mtcbind.binding, each as one call of a C function
 *		(since 1.1).
 *
 * PostgreSQL rebuilds a table's CHECK expressions from their stored trees
 * for every statement that writes the table: it parses the tree, runs the
 * planner's constant folding over it and compiles it.  A prepared plan does
 * not keep the result, so every logged key, refusal and first use paid for
 * it again.  The rules were operator trees; a function call on the row's
 * columns is a tree a fraction of that size, and the constraint keeps its
 * name and its error (SQLSTATE 23514 naming it).  (The event log keeps its
 * 1.0 rule: see mtcbind--1.0--1.1.sql.)
 *
 * Each function below says exactly what the expression it replaces said,
 * NULLs included, so that a row is accepted or refused as before.  They are
 * pure and executable by PUBLIC: whoever may write the table evaluates them.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "identifiers_core.h"

PG_FUNCTION_INFO_V1(mtcbind_event_name_is_known);
PG_FUNCTION_INFO_V1(mtcbind_terminal_id_fits);
PG_FUNCTION_INFO_V1(mtcbind_appli_ids_fit);
PG_FUNCTION_INFO_V1(mtcbind_imeisv_matches_imei);

/* Longest terminal_id and application ids stored, in octets. */
#define MAX_ID_OCTETS 255

/*
 * octet_length() of a text datum: its size uncompressed, read from the
 * header or the TOAST pointer (a value copied from another table may come
 * compressed), without detoasting it.
 */
static size_t
octets_of(Datum value)
{
	return toast_raw_datum_size(value) - VARHDRSZ;
}

/*
 * mtcbind._terminal_id_fits(text): octet_length between 1 and 255.
 * STRICT: NULL gives NULL, as the comparisons did.
 */
Datum
mtcbind_terminal_id_fits(PG_FUNCTION_ARGS)
{
	size_t		len = octets_of(PG_GETARG_DATUM(0));

	PG_RETURN_BOOL(len >= 1 && len <= MAX_ID_OCTETS);
}

/*
 * mtcbind._appli_ids_fit(terminal_appli_id, uicc_appli_id): both at most
 * 255 octets.  Not STRICT, to keep the three-valued AND it replaces: false
 * if either is too long, else NULL if either is NULL, else true.
 */
Datum
mtcbind_appli_ids_fit(PG_FUNCTION_ARGS)
{
	bool		any_null = false;

	for (int i = 0; i < 2; i++)
	{
		if (PG_ARGISNULL(i))
			any_null = true;
		else if (octets_of(PG_GETARG_DATUM(i)) > MAX_ID_OCTETS)
			PG_RETURN_BOOL(false);
	}
	if (any_null)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(true);
}

/*
 * mtcbind._imeisv_matches_imei(imei, imeisv): the IMEISV, where recorded,
 * belongs to the recorded IMEI (the same TAC and serial number).  Not
 * STRICT: no IMEISV passes, an IMEISV without an IMEI does not.
 */
Datum
mtcbind_imeisv_matches_imei(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(PG_GETARG_INT64(0) ==
				   mtcbind_ident_imei_of_imeisv(PG_GETARG_INT64(1)));
}

/*
 * mtcbind_event_name_is_known: the C code of a function that the 1.1 script
 * of one development commit (402d892) defined and used in the event log's
 * CHECK, replaced before release because a changed CHECK on the event log
 * stops day partitions of older dumps from attaching.  No shipped script
 * names it; it stays so that a database made from that commit still writes
 * events.  It accepts the 14 kinds of event of 1.0, spelt exactly.
 */
static const char *const event_names[] = {
	"bound", "unbound", "rebound", "attribute_changed", "updated", "truncated",
	"key_issued", "rejected", "transfer_authorized", "transfer_revoked",
	"blocked", "unblocked", "policy_changed", "events_purged"
};

Datum
mtcbind_event_name_is_known(PG_FUNCTION_ARGS)
{
	text	   *event = PG_GETARG_TEXT_PP(0);
	const char *name = VARDATA_ANY(event);
	size_t		len = VARSIZE_ANY_EXHDR(event);

	for (size_t i = 0; i < lengthof(event_names); i++)
	{
		if (strlen(event_names[i]) == len && memcmp(event_names[i], name, len) == 0)
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}

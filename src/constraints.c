/*
 * constraints.c
 *		The CHECK rules of mtcbind.binding and mtcbind.binding_event, each as
 *		one call of a C function (since 1.1).
 *
 * PostgreSQL rebuilds a table's CHECK expressions from their stored trees
 * for every statement that writes the table: it parses the tree, runs the
 * planner's constant folding over it and compiles it.  A prepared plan does
 * not keep the result, so every logged key, refusal and first use paid for
 * it again.  The event-name rule was a 14-element text array, stored octet
 * by octet; the rules of the binding table were operator trees.  A function
 * call on the row's columns is a tree a fraction of that size, and the
 * constraint keeps its name and its error (SQLSTATE 23514 naming it).
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
 * The kinds of event the log holds: the list binding_event_event_check
 * held in 1.0.  A new kind is a new version of this list and of the
 * extension.
 */
static const char *const event_names[] = {
	"bound", "unbound", "rebound", "attribute_changed", "updated", "truncated",
	"key_issued", "rejected", "transfer_authorized", "transfer_revoked",
	"blocked", "unblocked", "policy_changed", "events_purged"
};

/*
 * mtcbind._event_name_is_known(text): event = ANY (the list above).
 * STRICT: NULL gives NULL, as = ANY did (the column is NOT NULL anyway).
 */
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

/*
 * args.c
 *		Argument and transaction checks shared by request_key and the
 *		administration functions (args.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "args.h"
#include "identifiers.h"

PG_FUNCTION_INFO_V1(mtcbind_check_reason);

/* Names an isolation level as SET TRANSACTION spells it. */
static const char *
isolation_level_name(int level)
{
	switch (level)
	{
		case XACT_READ_UNCOMMITTED:
			return "READ UNCOMMITTED";
		case XACT_READ_COMMITTED:
			return "READ COMMITTED";
		case XACT_REPEATABLE_READ:
			return "REPEATABLE READ";
		case XACT_SERIALIZABLE:
			return "SERIALIZABLE";
	}
	return "unknown";
}

/* See args.h. */
void
require_read_committed(const char *function_name)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s runs only at the READ COMMITTED isolation level", function_name),
				 errdetail("The transaction is %s: its snapshot could show a binding that another transaction has since changed.",
						   isolation_level_name(XactIsoLevel)),
				 errhint("Call it in a READ COMMITTED transaction, PostgreSQL's default.")));
}

void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

void
check_octet_length(const char *name, size_t len, size_t min, size_t max)
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

char *
get_terminal_id_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	text	   *value;

	require_arg(fcinfo, argno, name);
	value = PG_GETARG_TEXT_PP(argno);
	check_octet_length(name, VARSIZE_ANY_EXHDR(value), 1, TERMINAL_ID_MAX_LEN);
	return text_to_cstring(value);
}

/*
 * True when the len octets at p show nothing: ASCII blanks and, in a UTF-8
 * database, the characters an error detail would escape as invisible
 * (Unicode spaces, zero-width and format characters, lone combining marks;
 * the same table as identifiers.c).
 */
static bool
is_blank(const char *p, size_t len)
{
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;

	while (len > 0)
	{
		unsigned char c = (unsigned char) *p;
		int			width = pg_mblen(p);

		if (c < 0x80)
		{
			if (c != ' ' && (c < '\t' || c > '\r'))
				return false;
		}
		else if (!utf8 || !code_point_is_invisible(utf8_to_unicode((const unsigned char *) p)))
			return false;
		p += width;
		len -= Min(len, (size_t) width);
	}
	return true;
}

char *
get_reason_arg(FunctionCallInfo fcinfo, int argno, bool required)
{
	text	   *value;

	if (PG_ARGISNULL(argno))
	{
		/* 22023 as for a blank one: the reason is a value, not an optional */
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("reason must be given"),
					 errhint("The reason is recorded in the audit log.")));
		return NULL;
	}
	value = PG_GETARG_TEXT_PP(argno);
	if (is_blank(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be empty or blank"),
				 errhint("The reason is recorded in the audit log.")));
	check_octet_length("reason", VARSIZE_ANY_EXHDR(value), 1, REASON_MAX_LEN);
	return text_to_cstring(value);
}

/*
 * mtcbind._check_reason(reason text) RETURNS void
 * The same rule for the PL/pgSQL functions (purge_events).
 */
Datum
mtcbind_check_reason(PG_FUNCTION_ARGS)
{
	(void) get_reason_arg(fcinfo, 0, true);
	PG_RETURN_VOID();
}

/* See args.h. */
const char *
bounded_text(const char *s)
{
	int			len = (int) strlen(s);
	int			clip = pg_mbcharcliplen(s, len, 40);

	if (clip >= len)
		return s;
	return psprintf("%.*s...", clip, s);
}

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
 * True when the len octets at p hold only white space: ASCII blanks and, in
 * a UTF-8 database, the Unicode spaces a copy and paste brings (no-break,
 * the U+2000 block, zero-width, ideographic, byte order mark).
 */
static bool
is_blank(const char *p, size_t len)
{
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;

	while (len > 0)
	{
		const unsigned char *u = (const unsigned char *) p;
		size_t		width = 0;

		if (*u == ' ' || (*u >= '\t' && *u <= '\r'))
			width = 1;
		else if (utf8 && len >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
			width = 2;			/* U+00A0 */
		else if (utf8 && len >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
				 (u[2] <= 0x8D || u[2] == 0xAF))
			width = 3;			/* U+2000..U+200D, U+202F */
		else if (utf8 && len >= 3 &&
				 ((u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F) ||	/* U+205F */
				  (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) ||	/* U+3000 */
				  (u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)))	/* U+FEFF */
			width = 3;
		else
			return false;
		p += width;
		len -= width;
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

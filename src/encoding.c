/*
 * encoding.c
 *		Converts text arguments of the key derivation to UTF-8.
 *
 * TS 33.220 Annex B.2.1 puts text parameters into S as UTF-8.  In a UTF-8
 * (or SQL_ASCII) database the octets are used as they are; otherwise they
 * are converted, and a failed conversion must not report the octets the
 * way PostgreSQL's own conversion error does: they are derivation input.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "encoding.h"

/* See encoding.h. */
const char *
mtcbind_text_to_utf8(const char *data, size_t len, const char *argname,
					 size_t *utf8_len)
{
	MemoryContext caller_context = CurrentMemoryContext;
	int			encoding = GetDatabaseEncoding();
	char	   *converted = NULL;
	volatile bool failed = false;

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII || len == 0)
	{
		*utf8_len = len;
		return data;
	}

	/* The conversion functions only allocate memory, so no subtransaction. */
	PG_TRY();
	{
		converted = pg_server_to_any(data, (int) len, PG_UTF8);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_context);
		FlushErrorState();
		failed = true;
	}
	PG_END_TRY();

	if (failed)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("%s cannot be converted to UTF-8", argname),
				 errdetail("It contains a character of the %s database encoding that has no UTF-8 equivalent; key derivation takes text in UTF-8 (TS 33.220 Annex B.2.1).",
						   GetDatabaseEncodingName())));

	*utf8_len = (converted == data) ? len : strlen(converted);
	return converted;
}

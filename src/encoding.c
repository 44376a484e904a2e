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
	ErrorData  *edata = NULL;

	/* ASCII is the same octets in every server encoding. */
	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII ||
		mtcbind_is_ascii(data, len))
	{
		*utf8_len = len;
		return data;
	}

	/*
	 * Only an untranslatable character is reported our way; any other
	 * error (no conversion function, out of memory, a cancel) is raised
	 * again as it was.  Either way the transaction aborts, which is what
	 * makes catching here without a subtransaction safe.
	 */
	PG_TRY();
	{
		converted = pg_server_to_any(data, (int) len, PG_UTF8);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_UNTRANSLATABLE_CHARACTER &&
			edata->sqlerrcode != ERRCODE_CHARACTER_NOT_IN_REPERTOIRE)
			PG_RE_THROW();
		FlushErrorState();
	}
	PG_END_TRY();

	if (edata != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("%s cannot be converted to UTF-8", argname),
				 errdetail("It contains a character of the %s database encoding that has no UTF-8 equivalent; key derivation takes text in UTF-8 (TS 33.220 Annex B.2.1).",
						   GetDatabaseEncodingName())));

	*utf8_len = (converted == data) ? len : strlen(converted);
	return converted;
}

/* True when the len octets at s are all 7-bit ASCII (and no NUL). */
bool
mtcbind_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		if ((unsigned char) s[i] == 0 || IS_HIGHBIT_SET(s[i]))
			return false;
	}
	return true;
}

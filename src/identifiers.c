/*
 * identifiers.c
 *		The SQL face of the identifier types imei, imeisv, iccid and imsi
 *		(TS 23.003, ITU-T E.118): text input and output, binary send and
 *		receive, and the helper functions tac(), svn(), mcc() and
 *		imei(imeisv).
 *
 * The rules (parsing, validity of a stored value, the encodings) live in
 * identifiers_core.c, plain C that the fuzz harnesses build without a
 * server; this file turns the status a rule returns into an ereport.
 *
 * An error message repeats the input, as PostgreSQL's own types do, but no
 * more than ECHO_CHARS characters of it: an input can be as long as a text
 * value (1 GB), and neither the message nor its log line should grow with
 * it.  When the input is cut, the detail says how long it was.  No error
 * path allocates in proportion to the input.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "identifiers.h"
#include "unicode_invisible.h"

/* Characters of a bad input an error message shows at most. */
#define ECHO_CHARS 40

/* What error messages need to know about a kind. */
typedef struct IdentKindInfo
{
	const char *sqlname;		/* SQL type name, for errmsg */
	const char *label;			/* name as written in the standards */
	const char *expected_digits;	/* the length rule, for errdetail */
} IdentKindInfo;

static const IdentKindInfo ident_kinds[] = {
	[IDENT_IMEI] = {"imei", "IMEI", "14 or 15 were expected"},
	[IDENT_IMEISV] = {"imeisv", "IMEISV", "16 were expected"},
	[IDENT_ICCID] = {"iccid", "ICCID", "18 to 20 were expected"},
	[IDENT_IMSI] = {"imsi", "IMSI", "6 to 15 were expected"},
};

/* How an error message shows a bad input: a bounded prefix of it. */
typedef struct InputEcho
{
	const char *input;
	int			shown;			/* bytes of input the message shows */
	const char *ellipsis;		/* "..." if the input is cut, else "" */
	char		note[96];		/* the detail's last sentence, or "" */
} InputEcho;

static void report_bad_input(IdentKind kind, const char *input, size_t len,
							 const IdentParse *parse) pg_attribute_noreturn();

PG_FUNCTION_INFO_V1(identifier_send);
PG_FUNCTION_INFO_V1(imei_in);
PG_FUNCTION_INFO_V1(imei_out);
PG_FUNCTION_INFO_V1(imei_recv);
PG_FUNCTION_INFO_V1(imeisv_in);
PG_FUNCTION_INFO_V1(imeisv_out);
PG_FUNCTION_INFO_V1(imeisv_recv);
PG_FUNCTION_INFO_V1(iccid_in);
PG_FUNCTION_INFO_V1(iccid_out);
PG_FUNCTION_INFO_V1(iccid_recv);
PG_FUNCTION_INFO_V1(imsi_in);
PG_FUNCTION_INFO_V1(imsi_out);
PG_FUNCTION_INFO_V1(imsi_recv);
PG_FUNCTION_INFO_V1(imei_tac);
PG_FUNCTION_INFO_V1(imeisv_svn);
PG_FUNCTION_INFO_V1(imeisv_imei);
PG_FUNCTION_INFO_V1(imsi_mcc);


/* ---------- errors of text input ---------- */

/*
 * Decides how much of the input a message shows.  Both walks are bounded or
 * linear and allocate nothing; the character count is only taken when the
 * input is cut.  Inputs are shorter than 1 GB, so int lengths suffice.
 */
static void
echo_input(const char *input, size_t len, InputEcho *echo)
{
	echo->input = input;
	echo->shown = pg_mbcharcliplen(input, (int) len, ECHO_CHARS);
	if ((size_t) echo->shown < len)
	{
		echo->ellipsis = "...";
		snprintf(echo->note, sizeof(echo->note),
				 " The input has %d characters; the message shows the first %d.",
				 pg_mbstrlen_with_len(input, (int) len), ECHO_CHARS);
	}
	else
	{
		echo->ellipsis = "";
		echo->note[0] = '\0';
	}
}

/*
 * Whether a non-ASCII character would not show, or would disturb the text
 * around it, if an error detail printed it as it is: controls, blanks
 * other than the ASCII space, zero-width and bidirectional format
 * characters (U+202E would reverse the rest of the line on a terminal),
 * and combining marks, which would join the quote before them.  The table
 * is generated from the Unicode character database (see its header).
 */
bool
code_point_is_invisible(pg_wchar cp)
{
	int			low = 0;
	int			high = lengthof(unicode_invisible) - 1;

	while (low <= high)
	{
		int			mid = (low + high) / 2;

		if (cp < unicode_invisible[mid].first)
			high = mid - 1;
		else if (cp > unicode_invisible[mid].last)
			low = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * Names the character at p for an error detail.  A character that would
 * not show (see above) is written as an escape, \xNN for ASCII and
 * \uNNNN or \UNNNNNNNN for other code points, as in an E'' literal, so
 * the reader sees what is there.  Any other character is shown whole,
 * never cut in the middle of its bytes.
 */
static char *
describe_char(const char *p)
{
	unsigned char c = (unsigned char) *p;
	int			len = pg_mblen(p);
	StringInfoData bytes;

	if (c < 0x80)
		return (c < 0x20 || c == 0x7f) ? psprintf("\\x%02X", c) : pnstrdup(p, 1);

	if (GetDatabaseEncoding() == PG_UTF8)
	{
		pg_wchar	cp = utf8_to_unicode((const unsigned char *) p);

		if (code_point_is_invisible(cp))
			return cp <= 0xFFFF ? psprintf("\\u%04X", cp) : psprintf("\\U%08X", cp);
		return pnstrdup(p, len);
	}

	/* other server encodings: the bytes, unless the character has a width */
	if (pg_dsplen(p) > 0)
		return pnstrdup(p, len);
	initStringInfo(&bytes);
	for (int i = 0; i < len; i++)
		appendStringInfo(&bytes, "\\x%02X", (unsigned char) p[i]);
	return bytes.data;
}

/*
 * The 22P02 error every bad text input ends in.  The message names the type
 * and shows the input (cut, see echo_input); detail is the errdetail() call
 * saying what is wrong, whose format ends in the echo's note.
 */
#define ereport_bad_input(info, echo, detail) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION), \
			 errmsg("invalid input syntax for type %s: \"%.*s%s\"", \
					(info)->sqlname, (echo)->shown, (echo)->input, \
					(echo)->ellipsis), \
			 detail))

/* Turns what the parser found wrong into the error for it. */
static void
report_bad_input(IdentKind kind, const char *input, size_t len,
				 const IdentParse *parse)
{
	const IdentKindInfo *info = &ident_kinds[kind];
	InputEcho	echo;

	/* positions and counts fit in an int: the input is shorter than 1 GB */
	int			position = (int) parse->offset + 1;
	int			ndigits = (int) parse->ndigits;

	echo_input(input, len, &echo);

	switch (parse->status)
	{
		case IDENT_EMPTY:
			ereport_bad_input(info, &echo,
							  errdetail("Input is empty.%s", echo.note));
			break;
		case IDENT_BAD_HYPHEN:
			ereport_bad_input(info, &echo,
							  errdetail("Hyphen at position %d is not between digits.%s",
										position, echo.note));
			break;
		case IDENT_BAD_CHAR:
			ereport_bad_input(info, &echo,
							  errdetail("Non-digit character '%s' at position %d.%s",
										describe_char(input + parse->offset),
										position, echo.note));
			break;
		case IDENT_BAD_LENGTH:
			ereport_bad_input(info, &echo,
							  errdetail_plural("%s has %d digit; %s.%s",
											   "%s has %d digits; %s.%s",
											   ndigits,
											   info->label, ndigits,
											   info->expected_digits,
											   echo.note));
			break;
		case IDENT_BAD_PREFIX:
			ereport_bad_input(info, &echo,
							  errdetail("ICCID must start with \"89\".%s",
										echo.note));
			break;
		case IDENT_BAD_CHECK_DIGIT:
			ereport_bad_input(info, &echo,
							  errdetail("Check digit is %d; %d was expected.%s",
										parse->found, parse->expected,
										echo.note));
			break;
		case IDENT_OK:
			break;
	}
	elog(ERROR, "unexpected identifier parse status %d", (int) parse->status);
}

/* Text input of any kind: the stored value, or the error for the input. */
static int64
parse_or_report(IdentKind kind, const char *input)
{
	size_t		len = strlen(input);
	IdentParse	parse;

	if (mtcbind_ident_parse(kind, input, len, &parse) != IDENT_OK)
		report_bad_input(kind, input, len, &parse);
	return parse.value;
}


/* ---------- the C API of identifiers.h ---------- */

/*
 * In PostgreSQL's int64, which need not be the same C type as the core's
 * int64_t (only the same size), so callers may take their addresses.
 */

/* Canonical 15 digits of a stored IMEI. */
int
imei_to_digits(int64 value, char *buf)
{
	return mtcbind_ident_to_digits(IDENT_IMEI, value, buf);
}

/* Canonical 16 digits of a stored IMEISV. */
int
imeisv_to_digits(int64 value, char *buf)
{
	return mtcbind_ident_to_digits(IDENT_IMEISV, value, buf);
}

/* Canonical 18 to 20 digits of a stored ICCID. */
int
iccid_to_digits(int64 value, char *buf)
{
	return mtcbind_ident_to_digits(IDENT_ICCID, value, buf);
}

/* Canonical 6 to 15 digits of a stored IMSI. */
int
imsi_to_digits(int64 value, char *buf)
{
	return mtcbind_ident_to_digits(IDENT_IMSI, value, buf);
}

/* The IMEI of an IMEISV: TAC and SNR kept, SVN replaced by the Luhn digit. */
int64
imei_of_imeisv(int64 imeisv)
{
	return mtcbind_ident_imei_of_imeisv(imeisv);
}


/* ---------- binary I/O and output shared by the four types ---------- */

/* Reads an int8 from the wire and rejects what is not a valid kind value. */
static int64
recv_checked(IdentKind kind, StringInfo buf)
{
	int64		v = pq_getmsgint64(buf);

	if (!mtcbind_ident_is_valid(kind, v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary value for type %s",
						ident_kinds[kind].sqlname),
				 errdetail("Value %lld does not encode a valid %s.",
						   (long long) v, ident_kinds[kind].label)));
	return v;
}

/* Sends the stored int8 as it is: the binary format is the encoding. */
static bytea *
send_value(int64 v)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, v);
	return pq_endtypsend(&buf);
}

/* Turns digits of a stored value into the cstring an output function returns. */
static char *
to_cstring(IdentKind kind, int64 v)
{
	char	   *result = palloc(MTCBIND_IDENT_BUFLEN);

	mtcbind_ident_to_digits(kind, v, result);
	return result;
}


/* Binary output of every identifier type: the stored int8. */
Datum
identifier_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(send_value(PG_GETARG_INT64(0)));
}


/* ---------- imei ---------- */

/* Text input: 15 digits with a valid check digit, or 14 and it is added. */
Datum
imei_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(parse_or_report(IDENT_IMEI, PG_GETARG_CSTRING(0)));
}

/* Text output: the 15 canonical digits. */
Datum
imei_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(IDENT_IMEI, PG_GETARG_INT64(0)));
}

/* Binary input: an int8 that must be a 15-digit number with its Luhn digit. */
Datum
imei_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_IMEI, (StringInfo) PG_GETARG_POINTER(0)));
}


/* ---------- imeisv ---------- */

/* Text input: exactly 16 digits, no check digit. */
Datum
imeisv_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(parse_or_report(IDENT_IMEISV, PG_GETARG_CSTRING(0)));
}

/* Text output: the 16 canonical digits. */
Datum
imeisv_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(IDENT_IMEISV, PG_GETARG_INT64(0)));
}

/* Binary input: an int8 that must be a number of at most 16 digits. */
Datum
imeisv_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_IMEISV, (StringInfo) PG_GETARG_POINTER(0)));
}


/* ---------- iccid ---------- */

/* Text input: 18 to 20 digits, "89" first, valid Luhn digit last. */
Datum
iccid_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(parse_or_report(IDENT_ICCID, PG_GETARG_CSTRING(0)));
}

/* Text output: the 18 to 20 canonical digits. */
Datum
iccid_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(IDENT_ICCID, PG_GETARG_INT64(0)));
}

/* Binary input: an int8 that must decode to a valid ICCID. */
Datum
iccid_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_ICCID, (StringInfo) PG_GETARG_POINTER(0)));
}


/* ---------- imsi ---------- */

/* Text input: 6 to 15 digits; leading zeros are part of the value. */
Datum
imsi_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(parse_or_report(IDENT_IMSI, PG_GETARG_CSTRING(0)));
}

/* Text output: the 6 to 15 canonical digits. */
Datum
imsi_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(IDENT_IMSI, PG_GETARG_INT64(0)));
}

/* Binary input: an int8 that must decode to a valid IMSI. */
Datum
imsi_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_IMSI, (StringInfo) PG_GETARG_POINTER(0)));
}


/* ---------- helpers ---------- */

/* The first n canonical digits of a stored value, as text. */
static text *
leading_digits(IdentKind kind, int64 v, int n)
{
	char		buf[MTCBIND_IDENT_BUFLEN];

	mtcbind_ident_to_digits(kind, v, buf);
	return cstring_to_text_with_len(buf, n);
}

/* tac(imei): the Type Allocation Code, the first 8 digits. */
Datum
imei_tac(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(leading_digits(IDENT_IMEI, PG_GETARG_INT64(0), 8));
}

/* svn(imeisv): the Software Version Number, the last 2 digits. */
Datum
imeisv_svn(PG_FUNCTION_ARGS)
{
	char		buf[MTCBIND_IDENT_BUFLEN];
	int			n = imeisv_to_digits(PG_GETARG_INT64(0), buf);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf + n - 2, 2));
}

/* imei(imeisv): the IMEI of the device, whatever its software version. */
Datum
imeisv_imei(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(imei_of_imeisv(PG_GETARG_INT64(0)));
}

/* mcc(imsi): the Mobile Country Code, the first 3 digits. */
Datum
imsi_mcc(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(leading_digits(IDENT_IMSI, PG_GETARG_INT64(0), 3));
}

/*
 * identifiers.c
 *		The identifier types imei, imeisv, iccid and imsi (TS 23.003,
 *		ITU-T E.118): text input and output, binary send and receive, and
 *		the helper functions tac(), svn(), mcc() and imei(imeisv).
 *
 * Every type is stored as an int64 passed by value.  The encodings are
 * chosen so that numeric order equals the text order of the canonical
 * digits; that is what lets the SQL script map comparison, btree and hash
 * support straight onto the built-in int8 functions, as contrib/isn does.
 *
 *	imei	the 15 digits as a number (leading zeros are implied by the
 *			fixed length)
 *	imeisv	the 16 digits as a number
 *	iccid	the digits after "89" (16 to 18 of them) right-padded with
 *			zeros to 18 digits, giving N; stored as N * 4 + (length - 18)
 *	imsi	the 6 to 15 digits right-padded with zeros to 15 digits, giving
 *			N; stored as N * 16 + length
 *
 * Padding on the right keeps the order of the digit strings; the length in
 * the low bits breaks the tie between, say, "001010" and "0010100", and
 * puts the shorter (a prefix of the longer) first, as text order does.
 *
 * All four types share one parser (extract_digits) that strips blanks and
 * label separators and reports the first bad character; the per-type input
 * functions then check only length, prefix and check digit.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "identifiers.h"

/* Longest digit string we ever need to keep (ICCID). */
#define MAX_IDENT_DIGITS 20

/* The four identifier kinds, indexing ident_kinds[]. */
typedef enum IdentKind
{
	IDENT_IMEI,
	IDENT_IMEISV,
	IDENT_ICCID,
	IDENT_IMSI
} IdentKind;

/* What error messages need to know about a kind. */
typedef struct IdentKindInfo
{
	const char *sqlname;		/* SQL type name, for errmsg */
	const char *label;			/* name as written in the standards */
} IdentKindInfo;

static const IdentKindInfo ident_kinds[] = {
	[IDENT_IMEI] = {"imei", "IMEI"},
	[IDENT_IMEISV] = {"imeisv", "IMEISV"},
	[IDENT_ICCID] = {"iccid", "ICCID"},
	[IDENT_IMSI] = {"imsi", "IMSI"},
};

/* Powers of ten up to 10^18, for fixed-width digit arithmetic. */
static const uint64 pow10_table[] = {
	UINT64CONST(1),
	UINT64CONST(10),
	UINT64CONST(100),
	UINT64CONST(1000),
	UINT64CONST(10000),
	UINT64CONST(100000),
	UINT64CONST(1000000),
	UINT64CONST(10000000),
	UINT64CONST(100000000),
	UINT64CONST(1000000000),
	UINT64CONST(10000000000),
	UINT64CONST(100000000000),
	UINT64CONST(1000000000000),
	UINT64CONST(10000000000000),
	UINT64CONST(100000000000000),
	UINT64CONST(1000000000000000),
	UINT64CONST(10000000000000000),
	UINT64CONST(100000000000000000),
	UINT64CONST(1000000000000000000),
};

#define IMEI_DIGITS		15
#define IMEISV_DIGITS	16
#define ICCID_MIN		18
#define ICCID_MAX		20
#define ICCID_BODY		18		/* digits after "89", padded */
#define IMSI_MIN		6
#define IMSI_MAX		15

static void report_bad_length(IdentKind kind, const char *input, int ndigits,
							  const char *expected) pg_attribute_noreturn();
static void report_bad_check_digit(IdentKind kind, const char *input,
								   int found, int expected) pg_attribute_noreturn();

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


/* ---------- shared parsing and error reporting ---------- */

/*
 * Raises the 22P02 error every bad text input ends in.  The message names
 * the type and the input as PostgreSQL's own types do; the remaining
 * arguments are the errdetail() format and values saying what is wrong.
 */
#define ereport_bad_input(kind, input, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION), \
			 errmsg("invalid input syntax for type %s: \"%s\"", \
					ident_kinds[kind].sqlname, (input)), \
			 errdetail(__VA_ARGS__)))

/* Raises the error for a digit count outside the range a kind allows. */
static void
report_bad_length(IdentKind kind, const char *input, int ndigits,
				  const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					ident_kinds[kind].sqlname, input),
			 errdetail_plural("%s has %d digit; %s.",
							  "%s has %d digits; %s.",
							  ndigits,
							  ident_kinds[kind].label, ndigits, expected)));
}

/* Raises the error for a check digit that does not match the others. */
static void
report_bad_check_digit(IdentKind kind, const char *input, int found,
					   int expected)
{
	ereport_bad_input(kind, input, "Check digit is %d; %d was expected.",
					  found, expected);
}

/* True for the bytes trimmed from both ends of the input. */
static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/*
 * Names the character at p for an error detail.  ASCII control characters
 * are shown escaped so the message stays readable; a multibyte character is
 * shown whole, never cut in the middle of its bytes.
 */
static char *
describe_char(const char *p)
{
	unsigned char c = (unsigned char) *p;

	if (c < 0x20 || c == 0x7f)
		return psprintf("\\x%02X", c);
	return pnstrdup(p, pg_mblen(p));
}

/*
 * Collects the digits of an identifier as printed on a label or typed by a
 * person: blanks at either end are ignored, and spaces and hyphens between
 * two digits are ignored.  Anything else is an error naming the character
 * and its 1-based position (in characters, not bytes).
 *
 * The first MAX_IDENT_DIGITS digits go to digits[]; the count returned is
 * the true total, so a length error can say how many there were without
 * the buffer ever growing.  Empty input is an error, so the count is at
 * least 1.
 */
static int
extract_digits(IdentKind kind, const char *input, char *digits)
{
	const char *p = input;
	const char *end = input + strlen(input);
	int			pos = 1;
	int			ndigits = 0;
	int			hyphen_pos = 0; /* position of a hyphen not yet followed by
								 * a digit, 0 if none */

	while (p < end && is_blank(*p))
	{
		p++;
		pos++;
	}
	while (end > p && is_blank(end[-1]))
		end--;

	if (p == end)
		ereport_bad_input(kind, input, "Input is empty.");

	/*
	 * Positions count characters.  Every character before the first error
	 * is ASCII (a non-ASCII byte is itself an error), so one byte is one
	 * character up to the point reported.
	 */
	while (p < end)
	{
		char		c = *p;

		if (c >= '0' && c <= '9')
		{
			if (ndigits < MAX_IDENT_DIGITS)
				digits[ndigits] = c;
			/* cannot overflow: the input is shorter than 1 GB */
			ndigits++;
			hyphen_pos = 0;
		}
		else if (c == '-' || c == ' ')
		{
			/* leading blanks are gone, so only a hyphen can come first */
			if (ndigits == 0)
				ereport_bad_input(kind, input,
								  "Hyphen at position %d is not between digits.",
								  pos);
			if (c == '-' && hyphen_pos == 0)
				hyphen_pos = pos;
		}
		else
		{
			ereport_bad_input(kind, input,
							  "Non-digit character '%s' at position %d.",
							  describe_char(p), pos);
		}

		p++;
		pos++;
	}

	/* trailing blanks are gone, so a separator at the end is a hyphen */
	if (hyphen_pos != 0)
		ereport_bad_input(kind, input,
						  "Hyphen at position %d is not between digits.",
						  hyphen_pos);

	return ndigits;
}

/*
 * The Luhn check digit of n digits: from the right, every other digit
 * starting with the rightmost is doubled (and the digits of the product
 * added), the rest are added as they are, and the check digit brings the
 * sum up to a multiple of ten.  Used by IMEI (TS 23.003 Annex B) and ICCID
 * (ITU-T E.118).
 */
static int
luhn_check_digit(const char *digits, int n)
{
	int			sum = 0;
	bool		doubled = true;

	for (int i = n - 1; i >= 0; i--)
	{
		int			d = digits[i] - '0';

		if (doubled)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		doubled = !doubled;
	}
	return (10 - sum % 10) % 10;
}

/* The number the first n digits make; n is at most 18, so it fits. */
static uint64
digits_to_number(const char *digits, int n)
{
	uint64		v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (digits[i] - '0');
	return v;
}

/*
 * Writes v as exactly width digits (zero-padded, high digits beyond the
 * width dropped) into buf; no NUL.  The fixed width is what keeps a corrupt
 * value from ever writing past the caller's buffer.
 */
static void
number_to_digits(uint64 v, int width, char *buf)
{
	for (int i = width - 1; i >= 0; i--)
	{
		buf[i] = '0' + (char) (v % 10);
		v /= 10;
	}
}


/* ---------- per-type validity of a stored value ---------- */

/* True if v is a 15-digit number whose last digit is its Luhn digit. */
static bool
imei_value_is_valid(int64 v)
{
	char		digits[IMEI_DIGITS];

	if (v < 0 || (uint64) v >= pow10_table[IMEI_DIGITS])
		return false;
	number_to_digits((uint64) v, IMEI_DIGITS, digits);
	return luhn_check_digit(digits, IMEI_DIGITS - 1) == digits[IMEI_DIGITS - 1] - '0';
}

/* True if v is a number of at most 16 digits. */
static bool
imeisv_value_is_valid(int64 v)
{
	return v >= 0 && (uint64) v < pow10_table[IMEISV_DIGITS];
}

/* True if v decodes to an ICCID of the right length and check digit. */
static bool
iccid_value_is_valid(int64 v)
{
	char		digits[MTCBIND_IDENT_BUFLEN];
	int			n;
	uint64		body;
	int			len;

	if (v < 0)
		return false;
	len = ICCID_MIN + (int) (v & 3);
	body = (uint64) v >> 2;
	if (len > ICCID_MAX || body >= pow10_table[ICCID_BODY])
		return false;
	/* padding must be zeros, or two lengths would decode to one string */
	if (body % pow10_table[ICCID_MAX - len] != 0)
		return false;
	n = iccid_to_digits(v, digits);
	return luhn_check_digit(digits, n - 1) == digits[n - 1] - '0';
}

/* True if v decodes to an IMSI of 6 to 15 digits with zero padding. */
static bool
imsi_value_is_valid(int64 v)
{
	int			len;
	uint64		body;

	if (v < 0)
		return false;
	len = (int) (v & 15);
	body = (uint64) v >> 4;
	if (len < IMSI_MIN || len > IMSI_MAX || body >= pow10_table[IMSI_MAX])
		return false;
	return body % pow10_table[IMSI_MAX - len] == 0;
}


/* ---------- the C API of identifiers.h ---------- */

/* Canonical 15 digits of a stored IMEI. */
int
imei_to_digits(int64 value, char *buf)
{
	number_to_digits((uint64) value, IMEI_DIGITS, buf);
	buf[IMEI_DIGITS] = '\0';
	return IMEI_DIGITS;
}

/* Canonical 16 digits of a stored IMEISV. */
int
imeisv_to_digits(int64 value, char *buf)
{
	number_to_digits((uint64) value, IMEISV_DIGITS, buf);
	buf[IMEISV_DIGITS] = '\0';
	return IMEISV_DIGITS;
}

/* Canonical 18 to 20 digits of a stored ICCID. */
int
iccid_to_digits(int64 value, char *buf)
{
	int			len = ICCID_MIN + (int) ((uint64) value & 3);

	/* length code 3 never comes from input; clamp so buf cannot overflow */
	if (len > ICCID_MAX)
		len = ICCID_MAX;
	buf[0] = '8';
	buf[1] = '9';
	number_to_digits((uint64) value >> 2, ICCID_BODY, buf + 2);
	buf[len] = '\0';
	return len;
}

/* Canonical 6 to 15 digits of a stored IMSI. */
int
imsi_to_digits(int64 value, char *buf)
{
	int			len = (int) ((uint64) value & 15);

	number_to_digits((uint64) value >> 4, IMSI_MAX, buf);
	buf[len] = '\0';
	return len;
}

/* The IMEI of an IMEISV: TAC and SNR kept, SVN replaced by the Luhn digit. */
int64
imei_of_imeisv(int64 imeisv)
{
	char		digits[IMEISV_DIGITS];
	uint64		tac_snr = (uint64) imeisv / 100;

	number_to_digits(tac_snr, IMEI_DIGITS - 1, digits);
	return (int64) (tac_snr * 10 + luhn_check_digit(digits, IMEI_DIGITS - 1));
}


/* ---------- binary I/O shared by the four types ---------- */

/* Reads an int8 from the wire and rejects what is not a valid kind value. */
static int64
recv_checked(IdentKind kind, StringInfo buf, bool (*is_valid) (int64))
{
	int64		v = pq_getmsgint64(buf);

	if (!is_valid(v))
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
to_cstring(int64 v, int (*to_digits) (int64, char *))
{
	char	   *result = palloc(MTCBIND_IDENT_BUFLEN);

	to_digits(v, result);
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
	char	   *input = PG_GETARG_CSTRING(0);
	char		digits[MAX_IDENT_DIGITS];
	int			n = extract_digits(IDENT_IMEI, input, digits);
	int			cd;

	if (n != IMEI_DIGITS - 1 && n != IMEI_DIGITS)
		report_bad_length(IDENT_IMEI, input, n, "14 or 15 were expected");

	cd = luhn_check_digit(digits, IMEI_DIGITS - 1);
	if (n == IMEI_DIGITS && digits[IMEI_DIGITS - 1] - '0' != cd)
		report_bad_check_digit(IDENT_IMEI, input,
							   digits[IMEI_DIGITS - 1] - '0', cd);

	PG_RETURN_INT64((int64) (digits_to_number(digits, IMEI_DIGITS - 1) * 10 + cd));
}

/* Text output: the 15 canonical digits. */
Datum
imei_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(PG_GETARG_INT64(0), imei_to_digits));
}

/* Binary input: an int8 that must be a 15-digit number with its Luhn digit. */
Datum
imei_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_IMEI, (StringInfo) PG_GETARG_POINTER(0),
								 imei_value_is_valid));
}


/* ---------- imeisv ---------- */

/* Text input: exactly 16 digits, no check digit. */
Datum
imeisv_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char		digits[MAX_IDENT_DIGITS];
	int			n = extract_digits(IDENT_IMEISV, input, digits);

	if (n != IMEISV_DIGITS)
		report_bad_length(IDENT_IMEISV, input, n, "16 were expected");

	PG_RETURN_INT64((int64) digits_to_number(digits, IMEISV_DIGITS));
}

/* Text output: the 16 canonical digits. */
Datum
imeisv_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(PG_GETARG_INT64(0), imeisv_to_digits));
}

/* Binary input: an int8 that must be a number of at most 16 digits. */
Datum
imeisv_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_IMEISV, (StringInfo) PG_GETARG_POINTER(0),
								 imeisv_value_is_valid));
}


/* ---------- iccid ---------- */

/* Text input: 18 to 20 digits, "89" first, valid Luhn digit last. */
Datum
iccid_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char		digits[MAX_IDENT_DIGITS];
	int			n = extract_digits(IDENT_ICCID, input, digits);
	int			cd;
	uint64		body;

	if (n < ICCID_MIN || n > ICCID_MAX)
		report_bad_length(IDENT_ICCID, input, n, "18 to 20 were expected");
	if (digits[0] != '8' || digits[1] != '9')
		ereport_bad_input(IDENT_ICCID, input, "ICCID must start with \"89\".");
	cd = luhn_check_digit(digits, n - 1);
	if (digits[n - 1] - '0' != cd)
		report_bad_check_digit(IDENT_ICCID, input, digits[n - 1] - '0', cd);

	/* right-pad the digits after "89" to 18 so order is kept (see top) */
	body = digits_to_number(digits + 2, n - 2) * pow10_table[ICCID_MAX - n];
	PG_RETURN_INT64((int64) (body * 4 + (uint64) (n - ICCID_MIN)));
}

/* Text output: the 18 to 20 canonical digits. */
Datum
iccid_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(PG_GETARG_INT64(0), iccid_to_digits));
}

/* Binary input: an int8 that must decode to a valid ICCID. */
Datum
iccid_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_ICCID, (StringInfo) PG_GETARG_POINTER(0),
								 iccid_value_is_valid));
}


/* ---------- imsi ---------- */

/* Text input: 6 to 15 digits; leading zeros are part of the value. */
Datum
imsi_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char		digits[MAX_IDENT_DIGITS];
	int			n = extract_digits(IDENT_IMSI, input, digits);
	uint64		body;

	if (n < IMSI_MIN || n > IMSI_MAX)
		report_bad_length(IDENT_IMSI, input, n, "6 to 15 were expected");

	/* right-pad to 15 digits so order is kept; the length tells them apart */
	body = digits_to_number(digits, n) * pow10_table[IMSI_MAX - n];
	PG_RETURN_INT64((int64) (body * 16 + (uint64) n));
}

/* Text output: the 6 to 15 canonical digits. */
Datum
imsi_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(to_cstring(PG_GETARG_INT64(0), imsi_to_digits));
}

/* Binary input: an int8 that must decode to a valid IMSI. */
Datum
imsi_recv(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(recv_checked(IDENT_IMSI, (StringInfo) PG_GETARG_POINTER(0),
								 imsi_value_is_valid));
}


/* ---------- helpers ---------- */

/* The first n canonical digits of a stored value, as text. */
static text *
leading_digits(int64 v, int (*to_digits) (int64, char *), int n)
{
	char		buf[MTCBIND_IDENT_BUFLEN];

	to_digits(v, buf);
	return cstring_to_text_with_len(buf, n);
}

/* tac(imei): the Type Allocation Code, the first 8 digits. */
Datum
imei_tac(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(leading_digits(PG_GETARG_INT64(0), imei_to_digits, 8));
}

/* svn(imeisv): the Software Version Number, the last 2 digits. */
Datum
imeisv_svn(PG_FUNCTION_ARGS)
{
	char		buf[MTCBIND_IDENT_BUFLEN];

	imeisv_to_digits(PG_GETARG_INT64(0), buf);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf + IMEISV_DIGITS - 2, 2));
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
	PG_RETURN_TEXT_P(leading_digits(PG_GETARG_INT64(0), imsi_to_digits, 3));
}

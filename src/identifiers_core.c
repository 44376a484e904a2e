/*
 * identifiers_core.c
 *		The rules of the identifier types imei, imeisv, iccid and imsi
 *		(TS 23.003, ITU-T E.118): text parsing, validity of a stored value,
 *		and the canonical digits of a stored value.
 *
 * This file is plain C and is compiled the same way into the server module
 * and into the fuzz harnesses of test/fuzz/, so the code fuzzed is the code
 * shipped; it includes no PostgreSQL header for that reason.  It allocates
 * nothing and raises nothing: a parse returns a status and the facts an
 * error message needs, and identifiers.c words the message.
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
 * All four types share one scanner (extract_digits) that strips blanks and
 * label separators and finds the first bad character; the per-type rules
 * then check only length, prefix and check digit.
 */
#include <string.h>

#include "identifiers_core.h"

/* Longest digit string we ever need to keep (ICCID). */
#define MAX_IDENT_DIGITS 20

#define IMEI_DIGITS		15
#define IMEISV_DIGITS	16
#define ICCID_MIN		18
#define ICCID_MAX		20
#define ICCID_BODY		18		/* digits after "89", padded */
#define IMSI_MIN		6
#define IMSI_MAX		15

/* Powers of ten up to 10^18, for fixed-width digit arithmetic. */
static const uint64_t pow10_table[] = {
	UINT64_C(1),
	UINT64_C(10),
	UINT64_C(100),
	UINT64_C(1000),
	UINT64_C(10000),
	UINT64_C(100000),
	UINT64_C(1000000),
	UINT64_C(10000000),
	UINT64_C(100000000),
	UINT64_C(1000000000),
	UINT64_C(10000000000),
	UINT64_C(100000000000),
	UINT64_C(1000000000000),
	UINT64_C(10000000000000),
	UINT64_C(100000000000000),
	UINT64_C(1000000000000000),
	UINT64_C(10000000000000000),
	UINT64_C(100000000000000000),
	UINT64_C(1000000000000000000),
};


/* ---------- shared scanning and arithmetic ---------- */

/* True for the bytes trimmed from both ends of the input. */
static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/* Records an error at a byte offset of the input; returns its status. */
static IdentStatus
fail_at(IdentParse *result, IdentStatus status, size_t offset)
{
	result->status = status;
	result->offset = offset;
	return status;
}

/*
 * Collects the digits of an identifier as printed on a label or typed by a
 * person: blanks at either end are ignored, and spaces and hyphens between
 * two digits are ignored.  Anything else is an error at the offset of the
 * first such character.
 *
 * The first MAX_IDENT_DIGITS digits go to digits[]; *ndigits is the true
 * total, so a length error can say how many there were without the buffer
 * ever growing.  Empty input is an error, so on success *ndigits >= 1.
 */
static IdentStatus
extract_digits(const char *input, size_t len, char *digits, size_t *ndigits,
			   IdentParse *result)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		n = 0;
	bool		pending_hyphen = false; /* a hyphen not yet followed by a
										 * digit */
	size_t		hyphen_offset = 0;

	while (start < end && is_blank(input[start]))
		start++;
	while (end > start && is_blank(input[end - 1]))
		end--;

	if (start == end)
	{
		result->status = IDENT_EMPTY;
		return IDENT_EMPTY;
	}

	for (size_t i = start; i < end; i++)
	{
		char		c = input[i];

		if (c >= '0' && c <= '9')
		{
			if (n < MAX_IDENT_DIGITS)
				digits[n] = c;
			n++;
			pending_hyphen = false;
		}
		else if (c == '-' || c == ' ')
		{
			/* leading blanks are gone, so only a hyphen can come first */
			if (n == 0)
				return fail_at(result, IDENT_BAD_HYPHEN, i);
			if (c == '-' && !pending_hyphen)
			{
				pending_hyphen = true;
				hyphen_offset = i;
			}
		}
		else
			return fail_at(result, IDENT_BAD_CHAR, i);
	}

	/* trailing blanks are gone, so a separator at the end is a hyphen */
	if (pending_hyphen)
		return fail_at(result, IDENT_BAD_HYPHEN, hyphen_offset);

	*ndigits = n;
	return IDENT_OK;
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
static uint64_t
digits_to_number(const char *digits, int n)
{
	uint64_t	v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (uint64_t) (digits[i] - '0');
	return v;
}

/*
 * Writes v as exactly width digits (zero-padded, high digits beyond the
 * width dropped) into buf; no NUL.  The fixed width is what keeps a corrupt
 * value from ever writing past the caller's buffer.
 */
static void
number_to_digits(uint64_t v, int width, char *buf)
{
	for (int i = width - 1; i >= 0; i--)
	{
		buf[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/* Records a length error. */
static IdentStatus
fail_length(IdentParse *result, size_t ndigits)
{
	result->status = IDENT_BAD_LENGTH;
	result->ndigits = ndigits;
	return IDENT_BAD_LENGTH;
}

/* Records a check digit error. */
static IdentStatus
fail_check_digit(IdentParse *result, int found, int expected)
{
	result->status = IDENT_BAD_CHECK_DIGIT;
	result->found = found;
	result->expected = expected;
	return IDENT_BAD_CHECK_DIGIT;
}

/* Records a value. */
static IdentStatus
succeed(IdentParse *result, uint64_t value)
{
	result->status = IDENT_OK;
	result->value = (int64_t) value;
	return IDENT_OK;
}


/* ---------- per-type rules of text input ---------- */

/* imei: 15 digits with a valid check digit, or 14 and it is added. */
static IdentStatus
parse_imei(const char *digits, size_t n, IdentParse *result)
{
	int			cd;

	if (n != IMEI_DIGITS - 1 && n != IMEI_DIGITS)
		return fail_length(result, n);
	cd = luhn_check_digit(digits, IMEI_DIGITS - 1);
	if (n == IMEI_DIGITS && digits[IMEI_DIGITS - 1] - '0' != cd)
		return fail_check_digit(result, digits[IMEI_DIGITS - 1] - '0', cd);
	return succeed(result,
				   digits_to_number(digits, IMEI_DIGITS - 1) * 10 + (uint64_t) cd);
}

/* imeisv: exactly 16 digits, no check digit. */
static IdentStatus
parse_imeisv(const char *digits, size_t n, IdentParse *result)
{
	if (n != IMEISV_DIGITS)
		return fail_length(result, n);
	return succeed(result, digits_to_number(digits, IMEISV_DIGITS));
}

/* iccid: 18 to 20 digits, "89" first, valid Luhn digit last. */
static IdentStatus
parse_iccid(const char *digits, size_t n, IdentParse *result)
{
	int			len = (int) n;
	int			cd;
	uint64_t	body;

	if (n < ICCID_MIN || n > ICCID_MAX)
		return fail_length(result, n);
	if (digits[0] != '8' || digits[1] != '9')
	{
		result->status = IDENT_BAD_PREFIX;
		return IDENT_BAD_PREFIX;
	}
	cd = luhn_check_digit(digits, len - 1);
	if (digits[len - 1] - '0' != cd)
		return fail_check_digit(result, digits[len - 1] - '0', cd);

	/* right-pad the digits after "89" to 18 so order is kept (see top) */
	body = digits_to_number(digits + 2, len - 2) * pow10_table[ICCID_MAX - len];
	return succeed(result, body * 4 + (uint64_t) (len - ICCID_MIN));
}

/* imsi: 6 to 15 digits; leading zeros are part of the value. */
static IdentStatus
parse_imsi(const char *digits, size_t n, IdentParse *result)
{
	int			len = (int) n;
	uint64_t	body;

	if (n < IMSI_MIN || n > IMSI_MAX)
		return fail_length(result, n);

	/* right-pad to 15 digits so order is kept; the length tells them apart */
	body = digits_to_number(digits, len) * pow10_table[IMSI_MAX - len];
	return succeed(result, body * 16 + (uint64_t) len);
}

/* Text input of any kind: the shared scanner, then the kind's rules. */
IdentStatus
mtcbind_ident_parse(IdentKind kind, const char *input, size_t len,
					IdentParse *result)
{
	char		digits[MAX_IDENT_DIGITS];
	size_t		n = 0;

	memset(result, 0, sizeof(*result));
	if (extract_digits(input, len, digits, &n, result) != IDENT_OK)
		return result->status;

	switch (kind)
	{
		case IDENT_IMEI:
			return parse_imei(digits, n, result);
		case IDENT_IMEISV:
			return parse_imeisv(digits, n, result);
		case IDENT_ICCID:
			return parse_iccid(digits, n, result);
		case IDENT_IMSI:
			return parse_imsi(digits, n, result);
	}
	/* not reached for a valid kind; an invalid one parses nothing */
	return fail_length(result, n);
}


/* ---------- canonical digits of a stored value ---------- */

/* Canonical 15 digits of a stored IMEI. */
static int
imei_digits(int64_t value, char *buf)
{
	number_to_digits((uint64_t) value, IMEI_DIGITS, buf);
	buf[IMEI_DIGITS] = '\0';
	return IMEI_DIGITS;
}

/* Canonical 16 digits of a stored IMEISV. */
static int
imeisv_digits(int64_t value, char *buf)
{
	number_to_digits((uint64_t) value, IMEISV_DIGITS, buf);
	buf[IMEISV_DIGITS] = '\0';
	return IMEISV_DIGITS;
}

/* Canonical 18 to 20 digits of a stored ICCID. */
static int
iccid_digits(int64_t value, char *buf)
{
	int			len = ICCID_MIN + (int) ((uint64_t) value & 3);

	/* length code 3 never comes from input; clamp so buf cannot overflow */
	if (len > ICCID_MAX)
		len = ICCID_MAX;
	buf[0] = '8';
	buf[1] = '9';
	number_to_digits((uint64_t) value >> 2, ICCID_BODY, buf + 2);
	buf[len] = '\0';
	return len;
}

/* Canonical 6 to 15 digits of a stored IMSI. */
static int
imsi_digits(int64_t value, char *buf)
{
	int			len = (int) ((uint64_t) value & 15);

	number_to_digits((uint64_t) value >> 4, IMSI_MAX, buf);
	buf[len] = '\0';
	return len;
}

/* Canonical digits of a stored value of any kind. */
int
mtcbind_ident_to_digits(IdentKind kind, int64_t value, char *buf)
{
	switch (kind)
	{
		case IDENT_IMEI:
			return imei_digits(value, buf);
		case IDENT_IMEISV:
			return imeisv_digits(value, buf);
		case IDENT_ICCID:
			return iccid_digits(value, buf);
		case IDENT_IMSI:
			return imsi_digits(value, buf);
	}
	buf[0] = '\0';
	return 0;
}

/* The IMEI of an IMEISV: TAC and SNR kept, SVN replaced by the Luhn digit. */
int64_t
mtcbind_ident_imei_of_imeisv(int64_t imeisv)
{
	char		digits[IMEISV_DIGITS];
	uint64_t	tac_snr = (uint64_t) imeisv / 100;

	number_to_digits(tac_snr, IMEI_DIGITS - 1, digits);
	return (int64_t) (tac_snr * 10 + (uint64_t) luhn_check_digit(digits, IMEI_DIGITS - 1));
}


/* ---------- validity of a stored value (binary input) ---------- */

/* True if v is a 15-digit number whose last digit is its Luhn digit. */
static bool
imei_value_is_valid(int64_t v)
{
	char		digits[IMEI_DIGITS];

	if (v < 0 || (uint64_t) v >= pow10_table[IMEI_DIGITS])
		return false;
	number_to_digits((uint64_t) v, IMEI_DIGITS, digits);
	return luhn_check_digit(digits, IMEI_DIGITS - 1) == digits[IMEI_DIGITS - 1] - '0';
}

/* True if v is a number of at most 16 digits. */
static bool
imeisv_value_is_valid(int64_t v)
{
	return v >= 0 && (uint64_t) v < pow10_table[IMEISV_DIGITS];
}

/* True if v decodes to an ICCID of the right length and check digit. */
static bool
iccid_value_is_valid(int64_t v)
{
	char		digits[MTCBIND_IDENT_BUFLEN];
	int			n;
	uint64_t	body;
	int			len;

	if (v < 0)
		return false;
	len = ICCID_MIN + (int) (v & 3);
	body = (uint64_t) v >> 2;
	if (len > ICCID_MAX || body >= pow10_table[ICCID_BODY])
		return false;
	/* padding must be zeros, or two lengths would decode to one string */
	if (body % pow10_table[ICCID_MAX - len] != 0)
		return false;
	n = iccid_digits(v, digits);
	return luhn_check_digit(digits, n - 1) == digits[n - 1] - '0';
}

/* True if v decodes to an IMSI of 6 to 15 digits with zero padding. */
static bool
imsi_value_is_valid(int64_t v)
{
	int			len;
	uint64_t	body;

	if (v < 0)
		return false;
	len = (int) (v & 15);
	body = (uint64_t) v >> 4;
	if (len < IMSI_MIN || len > IMSI_MAX || body >= pow10_table[IMSI_MAX])
		return false;
	return body % pow10_table[IMSI_MAX - len] == 0;
}

/* Validity of a stored value of any kind. */
bool
mtcbind_ident_is_valid(IdentKind kind, int64_t value)
{
	switch (kind)
	{
		case IDENT_IMEI:
			return imei_value_is_valid(value);
		case IDENT_IMEISV:
			return imeisv_value_is_valid(value);
		case IDENT_ICCID:
			return iccid_value_is_valid(value);
		case IDENT_IMSI:
			return imsi_value_is_valid(value);
	}
	return false;
}

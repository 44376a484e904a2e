/*
 * ident_model.c
 *		The independent model of the identifier rules; see ident_model.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident_model.h"

/* Digit counts each kind accepts, and what docs/types.md calls them. */
static const struct
{
	const char *name;
	size_t		min_digits;
	size_t		max_digits;
}			kinds[IDENT_NKINDS] = {
	[IDENT_IMEI] = {"imei", 14, 15},
	[IDENT_IMEISV] = {"imeisv", 16, 16},
	[IDENT_ICCID] = {"iccid", 18, 20},
	[IDENT_IMSI] = {"imsi", 6, 15},
};

/* Name of a kind. */
const char *
model_kind_name(IdentKind kind)
{
	return kinds[kind].name;
}

/* Reports a broken invariant with the input in hex, then aborts. */
void
model_fail(const char *what, const unsigned char *input, size_t len)
{
	fprintf(stderr, "invariant broken: %s\ninput (%zu bytes):", what, len);
	for (size_t i = 0; i < len && i < 256; i++)
		fprintf(stderr, " %02x", input[i]);
	fprintf(stderr, "%s\n", len > 256 ? " ..." : "");
	abort();
}

/* The blanks docs/types.md lets surround a value. */
static bool
blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Luhn check digit of a payload: the rightmost payload digit and every
 * second one leftwards are doubled, a doubled digit counting as the sum of
 * the digits of its double (the table), and the check digit makes the
 * total a multiple of ten.
 */
static int
luhn(const char *payload, size_t m)
{
	static const int doubled[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
	int			total = 0;

	for (size_t i = 0; i < m; i++)
	{
		int			d = payload[i] - '0';

		total += ((m - 1 - i) % 2 == 0) ? doubled[d] : d;
	}
	return (10 - total % 10) % 10;
}

/* The number a string of at most 19 digits is, padded with zeros to width. */
static uint64_t
padded_number(const char *digits, size_t n, size_t width)
{
	char		buf[32];

	memset(buf, '0', width);
	memcpy(buf, digits, n);
	buf[width] = '\0';
	return strtoull(buf, NULL, 10);
}

void
model_parse(IdentKind kind, const unsigned char *s, size_t len, ModelParse *out)
{
	size_t		lo = 0;
	size_t		hi = len;
	size_t		n = 0;
	char		d[32];

	memset(out, 0, sizeof(*out));

	while (lo < hi && blank(s[lo]))
		lo++;
	while (hi > lo && blank(s[hi - 1]))
		hi--;
	if (lo == hi)
	{
		out->status = IDENT_EMPTY;
		return;
	}

	/* a hyphen first could be a minus sign: it comes before any bad character */
	if (s[lo] == '-')
	{
		out->status = IDENT_BAD_HYPHEN;
		out->offset = lo;
		return;
	}
	for (size_t i = lo; i < hi; i++)
	{
		if (!digit(s[i]) && s[i] != ' ' && s[i] != '-')
		{
			out->status = IDENT_BAD_CHAR;
			out->offset = i;
			return;
		}
	}
	/* only digits and separators now; does a run of separators end it? */
	if (!digit(s[hi - 1]))
	{
		size_t		run = hi;

		while (!digit(s[run - 1]))
			run--;
		while (s[run] != '-')
			run++;
		out->status = IDENT_BAD_HYPHEN;
		out->offset = run;
		return;
	}

	for (size_t i = lo; i < hi; i++)
		if (digit(s[i]))
		{
			if (n < sizeof(d) - 1)
				d[n] = (char) s[i];
			n++;
		}

	if (n < kinds[kind].min_digits || n > kinds[kind].max_digits)
	{
		out->status = IDENT_BAD_LENGTH;
		out->ndigits = n;
		return;
	}
	memcpy(out->canonical, d, n);

	switch (kind)
	{
		case IDENT_IMEI:
			if (n == 14)
				out->canonical[14] = (char) ('0' + luhn(d, 14));
			else if (d[14] - '0' != luhn(d, 14))
			{
				out->status = IDENT_BAD_CHECK_DIGIT;
				out->found = d[14] - '0';
				out->expected = luhn(d, 14);
				return;
			}
			out->value = (int64_t) padded_number(out->canonical, 15, 15);
			break;
		case IDENT_IMEISV:
			out->value = (int64_t) padded_number(d, 16, 16);
			break;
		case IDENT_ICCID:
			if (d[0] != '8' || d[1] != '9')
			{
				out->status = IDENT_BAD_PREFIX;
				return;
			}
			if (d[n - 1] - '0' != luhn(d, n - 1))
			{
				out->status = IDENT_BAD_CHECK_DIGIT;
				out->found = d[n - 1] - '0';
				out->expected = luhn(d, n - 1);
				return;
			}
			out->value = (int64_t) (padded_number(d + 2, n - 2, 18) * 4 + (n - 18));
			break;
		case IDENT_IMSI:
			out->value = (int64_t) (padded_number(d, n, 15) * 16 + n);
			break;
	}
	out->status = IDENT_OK;
}

bool
model_decode(IdentKind kind, int64_t v, char canonical[MTCBIND_IDENT_BUFLEN])
{
	char		all[32];
	uint64_t	body;
	size_t		len;

	if (v < 0)
		return false;
	switch (kind)
	{
		case IDENT_IMEI:
			if (v >= INT64_C(1000000000000000))
				return false;
			snprintf(canonical, MTCBIND_IDENT_BUFLEN, "%015" PRId64, v);
			return luhn(canonical, 14) == canonical[14] - '0';
		case IDENT_IMEISV:
			if (v >= INT64_C(10000000000000000))
				return false;
			snprintf(canonical, MTCBIND_IDENT_BUFLEN, "%016" PRId64, v);
			return true;
		case IDENT_ICCID:
			len = 18 + (size_t) (v % 4);
			body = (uint64_t) v / 4;
			if (len > 20 || body >= UINT64_C(1000000000000000000))
				return false;
			snprintf(all, sizeof(all), "89%018" PRIu64, body);
			for (size_t i = len; i < 20; i++)
				if (all[i] != '0')
					return false;
			all[len] = '\0';
			if (luhn(all, len - 1) != all[len - 1] - '0')
				return false;
			memcpy(canonical, all, len + 1);
			return true;
		case IDENT_IMSI:
			len = (size_t) (v % 16);
			body = (uint64_t) v / 16;
			if (len < 6 || len > 15 || body >= UINT64_C(1000000000000000))
				return false;
			snprintf(all, sizeof(all), "%015" PRIu64, body);
			for (size_t i = len; i < 15; i++)
				if (all[i] != '0')
					return false;
			all[len] = '\0';
			memcpy(canonical, all, len + 1);
			return true;
	}
	return false;
}

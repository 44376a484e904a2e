/*
 * ident_fuzz.c
 *		libFuzzer harness for the text input of one identifier type
 *		(src/identifiers_core.c), built once per kind with
 *		-DFUZZ_KIND=IDENT_IMEI, IDENT_IMEISV, IDENT_ICCID or IDENT_IMSI.
 *
 * Beyond "no crash" (AddressSanitizer and UBSan watch every run), each
 * input must satisfy:
 *	- the parser agrees with the independent model of ident_model.c on the
 *	  status and on every fact an error message shows (position, digit
 *	  count, check digits), and on the value of a valid input;
 *	- a valid input round-trips: its canonical form is the model's digits
 *	  (with the IMEI check digit added), binary input would accept its value,
 *	  and the canonical form re-parses to the same value;
 *	- order: the input is also cut at each '|' into up to eight pieces; the
 *	  valid ones, and a few fixed values of the kind, compare as integers
 *	  exactly as their canonical digits compare as strings.
 */
#include <stdlib.h>
#include <string.h>

#include "identifiers_core.h"
#include "ident_model.h"

#ifndef FUZZ_KIND
#error "build with -DFUZZ_KIND=IDENT_IMEI (or IMEISV, ICCID, IMSI)"
#endif

#define MAX_PIECES 8

/* Values at the edges of each kind's order, for every input to meet. */
static const char *const anchors[IDENT_NKINDS][4] = {
	[IDENT_IMEI] = {"000000000000000", "49015420323751", "99999999999999", NULL},
	[IDENT_IMEISV] = {"0000000000000000", "3520990017614823", "9999999999999999", NULL},
	[IDENT_ICCID] = {"890000000000000004", "8900000000000000003", "89999999999999999991", "894410003000000004"},
	[IDENT_IMSI] = {"000000", "001010", "0010100", "999999999999999"},
};

/* A valid value and its canonical digits. */
typedef struct Accepted
{
	int64_t		value;
	char		canonical[MTCBIND_IDENT_BUFLEN];
} Accepted;

/* -1, 0 or 1. */
static int
sign(long long x)
{
	return (x > 0) - (x < 0);
}

/*
 * Parses one input, holds it against the model and the round-trip rules,
 * and returns true with *acc filled when it is valid.
 */
static bool
check_one(const unsigned char *input, size_t len, Accepted *acc)
{
	IdentParse	got;
	IdentParse	again;
	ModelParse	want;
	char	   *canonical;
	int			n;

	/* a copy of exactly len bytes, so ASan sees any read beyond it */
	char	   *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, input, len);
	mtcbind_ident_parse(FUZZ_KIND, copy, len, &got);
	free(copy);
	model_parse(FUZZ_KIND, input, len, &want);

	if (got.status != want.status)
		model_fail("status differs from the model", input, len);
	switch (got.status)
	{
		case IDENT_BAD_CHAR:
		case IDENT_BAD_HYPHEN:
			if (got.offset != want.offset || got.offset >= len)
				model_fail("error position differs from the model", input, len);
			return false;
		case IDENT_BAD_LENGTH:
			if (got.ndigits != want.ndigits)
				model_fail("digit count differs from the model", input, len);
			return false;
		case IDENT_BAD_CHECK_DIGIT:
			if (got.found != want.found || got.expected != want.expected)
				model_fail("check digits differ from the model", input, len);
			return false;
		case IDENT_EMPTY:
		case IDENT_BAD_PREFIX:
			return false;
		case IDENT_OK:
			break;
	}

	if (got.value != want.value)
		model_fail("value differs from the model", input, len);
	if (!mtcbind_ident_is_valid(FUZZ_KIND, got.value))
		model_fail("binary input would refuse a value text input accepts", input, len);

	/* exactly the documented buffer size, so ASan sees any overrun */
	canonical = malloc(MTCBIND_IDENT_BUFLEN);
	if (canonical == NULL)
		abort();
	n = mtcbind_ident_to_digits(FUZZ_KIND, got.value, canonical);
	if (n < 0 || (size_t) n != strlen(canonical) ||
		strcmp(canonical, want.canonical) != 0)
		model_fail("canonical form is not the input's digits", input, len);
	if (mtcbind_ident_parse(FUZZ_KIND, canonical, (size_t) n, &again) != IDENT_OK ||
		again.value != got.value)
		model_fail("canonical form does not re-parse to the same value", input, len);

	acc->value = got.value;
	memcpy(acc->canonical, canonical, (size_t) n + 1);
	free(canonical);
	return true;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Accepted	acc[1 + MAX_PIECES + 4];
	int			nacc = 0;
	size_t		start = 0;
	int			pieces = 0;

	/* the whole input, which contains no '|' or is then a bad character */
	if (check_one(data, size, &acc[nacc]))
		nacc++;

	/* the pieces between '|' bytes, if there are any */
	if (memchr(data, '|', size) != NULL)
	{
		for (size_t i = 0; i <= size && pieces < MAX_PIECES; i++)
		{
			if (i == size || data[i] == '|')
			{
				if (check_one(data + start, i - start, &acc[nacc]))
					nacc++;
				pieces++;
				start = i + 1;
			}
		}
	}

	for (int a = 0; a < 4; a++)
	{
		const char *anchor = anchors[FUZZ_KIND][a];

		if (anchor != NULL &&
			!check_one((const unsigned char *) anchor, strlen(anchor), &acc[nacc]))
			model_fail("a fixed valid value is refused",
					   (const unsigned char *) anchor, strlen(anchor));
		if (anchor != NULL)
			nacc++;
	}

	/* order of values equals the text order of canonical digits */
	for (int i = 0; i < nacc; i++)
		for (int j = 0; j < nacc; j++)
		{
			int			by_value = (acc[i].value > acc[j].value) - (acc[i].value < acc[j].value);
			int			by_text = sign(strcmp(acc[i].canonical, acc[j].canonical));

			if (by_value != by_text)
				model_fail("order of values differs from the order of canonical digits",
						   data, size);
		}
	return 0;
}

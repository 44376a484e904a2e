/*
 * recv_fuzz.c
 *		libFuzzer harness for the binary input of the identifier types: the
 *		validity check that imei_recv, imeisv_recv, iccid_recv and imsi_recv
 *		apply to an int8 from the wire (src/identifiers_core.c).
 *
 * The input is read as records of nine bytes: a kind (byte mod 4) and an
 * int8 in network byte order, as a client sends it.  For each record:
 *	- validity agrees with the model's decoder (ident_model.c);
 *	- the canonical digits of any value, valid or not, fit the documented
 *	  buffer (the harness gives exactly MTCBIND_IDENT_BUFLEN bytes, so
 *	  AddressSanitizer sees an overrun);
 *	- a valid value's canonical digits are the model's, and re-parse as
 *	  text to the same value;
 *	- imei(imeisv) of a valid IMEISV is a valid IMEI with the same 14 digits.
 * Valid values of one kind in one input must compare as integers as their
 * canonical digits compare as strings.
 */
#include <stdlib.h>
#include <string.h>

#include "identifiers_core.h"
#include "ident_model.h"

#define MAX_RECORDS 16

typedef struct Accepted
{
	IdentKind	kind;
	int64_t		value;
	char		canonical[MTCBIND_IDENT_BUFLEN];
} Accepted;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Accepted	acc[MAX_RECORDS];
	int			nacc = 0;
	char	   *buf = malloc(MTCBIND_IDENT_BUFLEN);

	if (buf == NULL)
		abort();

	for (size_t r = 0; r + 9 <= size && r / 9 < MAX_RECORDS; r += 9)
	{
		IdentKind	kind = (IdentKind) (data[r] % IDENT_NKINDS);
		uint64_t	wire = 0;
		int64_t		v;
		char		want[MTCBIND_IDENT_BUFLEN];
		bool		valid;
		int			n;
		IdentParse	parsed;

		for (int i = 1; i <= 8; i++)
			wire = (wire << 8) | data[r + i];
		v = (int64_t) wire;

		valid = mtcbind_ident_is_valid(kind, v);
		n = mtcbind_ident_to_digits(kind, v, buf);
		if (n < 0 || n >= MTCBIND_IDENT_BUFLEN || strlen(buf) != (size_t) n)
			model_fail("canonical digits do not fit the buffer", data + r, 9);
		if (valid != model_decode(kind, v, want))
			model_fail("validity differs from the model", data + r, 9);
		if (!valid)
			continue;

		if (strcmp(buf, want) != 0)
			model_fail("canonical digits differ from the model", data + r, 9);
		if (mtcbind_ident_parse(kind, buf, (size_t) n, &parsed) != IDENT_OK ||
			parsed.value != v)
			model_fail("canonical digits do not re-parse to the value", data + r, 9);

		if (kind == IDENT_IMEISV)
		{
			int64_t		imei = mtcbind_ident_imei_of_imeisv(v);
			char		imei_digits[MTCBIND_IDENT_BUFLEN];

			if (!mtcbind_ident_is_valid(IDENT_IMEI, imei))
				model_fail("imei(imeisv) is no valid IMEI", data + r, 9);
			mtcbind_ident_to_digits(IDENT_IMEI, imei, imei_digits);
			if (memcmp(imei_digits, buf, 14) != 0)
				model_fail("imei(imeisv) changed the TAC or SNR", data + r, 9);
		}

		acc[nacc].kind = kind;
		acc[nacc].value = v;
		memcpy(acc[nacc].canonical, buf, (size_t) n + 1);
		nacc++;
	}
	free(buf);

	for (int i = 0; i < nacc; i++)
		for (int j = 0; j < nacc; j++)
		{
			int			by_value;
			int			by_text;

			if (acc[i].kind != acc[j].kind)
				continue;
			by_value = (acc[i].value > acc[j].value) - (acc[i].value < acc[j].value);
			by_text = strcmp(acc[i].canonical, acc[j].canonical);
			by_text = (by_text > 0) - (by_text < 0);
			if (by_value != by_text)
				model_fail("order of values differs from the order of canonical digits",
						   data, size);
		}
	return 0;
}

/*
 * identifiers_core.h
 *		Parsing, validation and encoding of the identifier types (IMEI,
 *		IMEISV, ICCID, IMSI) as plain C: no PostgreSQL headers, no memory
 *		allocation, no errors raised.
 *
 * The server layer (identifiers.c) turns a status into ereport and offers
 * the int64 API of identifiers.h; the fuzz harnesses in test/fuzz/ build
 * this file without a server.
 */
#ifndef MTCBIND_IDENTIFIERS_CORE_H
#define MTCBIND_IDENTIFIERS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest canonical form of any identifier, plus the terminating NUL. */
#define MTCBIND_IDENT_BUFLEN 21

/* The four identifier kinds. */
typedef enum IdentKind
{
	IDENT_IMEI,
	IDENT_IMEISV,
	IDENT_ICCID,
	IDENT_IMSI
} IdentKind;

#define IDENT_NKINDS (IDENT_IMSI + 1)

/* What text input can find wrong, in the order the checks run. */
typedef enum IdentStatus
{
	IDENT_OK = 0,
	IDENT_EMPTY,				/* nothing but blanks */
	IDENT_BAD_HYPHEN,			/* a hyphen not between two digits */
	IDENT_BAD_CHAR,				/* not a digit, blank or separator */
	IDENT_BAD_LENGTH,			/* digit count outside the kind's range */
	IDENT_BAD_PREFIX,			/* an ICCID not starting with "89" */
	IDENT_BAD_CHECK_DIGIT		/* the Luhn digit does not match */
} IdentStatus;

/*
 * The outcome of parsing one text input: the value, or the facts an error
 * message needs.  Only the fields named for the status are set.
 */
typedef struct IdentParse
{
	IdentStatus status;
	int64_t		value;			/* IDENT_OK: the stored value */

	/*
	 * IDENT_BAD_CHAR, IDENT_BAD_HYPHEN: byte offset of the character.  Every
	 * byte before it is ASCII (a non-ASCII byte is itself a bad character),
	 * so offset + 1 is also its 1-based position in characters.
	 */
	size_t		offset;
	size_t		ndigits;		/* IDENT_BAD_LENGTH: all digits, counted */
	int			found;			/* IDENT_BAD_CHECK_DIGIT: the digit given */
	int			expected;		/* IDENT_BAD_CHECK_DIGIT: the right one */
} IdentParse;

/*
 * Parses len bytes of text input (docs/types.md): fills *result and returns
 * its status.  Reads only input[0 .. len-1]; a NUL byte is a bad character.
 */
extern IdentStatus mtcbind_ident_parse(IdentKind kind, const char *input,
									   size_t len, IdentParse *result);

/* True if value is something text input could have produced for kind. */
extern bool mtcbind_ident_is_valid(IdentKind kind, int64_t value);

/*
 * Writes the canonical digits of a stored value into buf (at least
 * MTCBIND_IDENT_BUFLEN bytes), NUL-terminated, and returns their count.
 * Never writes past MTCBIND_IDENT_BUFLEN bytes, even for an invalid value.
 */
extern int	mtcbind_ident_to_digits(IdentKind kind, int64_t value, char *buf);

/* The IMEI (with computed check digit) of the device an IMEISV names. */
extern int64_t mtcbind_ident_imei_of_imeisv(int64_t imeisv);

#endif							/* MTCBIND_IDENTIFIERS_CORE_H */

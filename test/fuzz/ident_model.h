/*
 * ident_model.h
 *		An independent model of the identifier rules of docs/types.md, for
 *		the fuzz harnesses to hold src/identifiers_core.c against.
 *
 * Written from the documentation, not from the C it checks: it finds the
 * error by looking at the trimmed input as a whole (what comes first, what
 * comes last) instead of scanning with state, computes Luhn digits with a
 * table, and encodes values from padded digit strings.
 */
#ifndef MTCBIND_IDENT_MODEL_H
#define MTCBIND_IDENT_MODEL_H

#include "identifiers_core.h"

/* What the model expects of one text input. */
typedef struct ModelParse
{
	IdentStatus status;
	size_t		offset;			/* IDENT_BAD_CHAR, IDENT_BAD_HYPHEN */
	size_t		ndigits;		/* IDENT_BAD_LENGTH */
	int			found;			/* IDENT_BAD_CHECK_DIGIT */
	int			expected;
	int64_t		value;			/* IDENT_OK */
	char		canonical[MTCBIND_IDENT_BUFLEN];	/* IDENT_OK */
} ModelParse;

/* The model's verdict on len bytes of text input. */
extern void model_parse(IdentKind kind, const unsigned char *input, size_t len,
						ModelParse *out);

/*
 * The canonical digits a stored value decodes to, into canonical, or false
 * if it is no value text input could produce.
 */
extern bool model_decode(IdentKind kind, int64_t value,
						 char canonical[MTCBIND_IDENT_BUFLEN]);

/* Name of a kind, for failure reports. */
extern const char *model_kind_name(IdentKind kind);

/* Reports a broken invariant and aborts, so libFuzzer keeps the input. */
extern void model_fail(const char *what, const unsigned char *input, size_t len)
			__attribute__((noreturn));

#endif							/* MTCBIND_IDENT_MODEL_H */

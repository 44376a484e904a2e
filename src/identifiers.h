/*
 * identifiers.h
 *		The identifier types (IMEI, IMEISV, ICCID, IMSI) as other C files
 *		see them: an int64 Datum, turned back into canonical digits here.
 *
 * The encodings are described in identifiers_core.c and docs/types.md.
 */
#ifndef MTCBIND_IDENTIFIERS_H
#define MTCBIND_IDENTIFIERS_H

/* MTCBIND_IDENT_BUFLEN, and the plain-C core these functions wrap */
#include "mb/pg_wchar.h"

#include "identifiers_core.h"

/*
 * Each writes the canonical digits of a stored value into buf (at least
 * MTCBIND_IDENT_BUFLEN bytes), NUL-terminated, and returns their count.
 */
extern int	imei_to_digits(int64 value, char *buf);
extern int	imeisv_to_digits(int64 value, char *buf);
extern int	iccid_to_digits(int64 value, char *buf);
extern int	imsi_to_digits(int64 value, char *buf);

/* The IMEI (with computed check digit) of the device an IMEISV names. */
extern int64 imei_of_imeisv(int64 imeisv);

/*
 * True if a non-ASCII code point would not show in text: Unicode general
 * categories Cc, Cf, Zs, Zl, Zp, Mn and Me (src/unicode_invisible.h).
 */
extern bool code_point_is_invisible(pg_wchar cp);

#endif							/* MTCBIND_IDENTIFIERS_H */

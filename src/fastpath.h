/*
 * fastpath.h
 *		Re-keying a bound pair without SPI, the executor or any write.
 */
#ifndef MTCBIND_FASTPATH_H
#define MTCBIND_FASTPATH_H

#include "decision.h"

/* The unique columns a binding can be read by. */
typedef enum FastKey
{
	FAST_BY_ICCID,
	FAST_BY_TERMINAL_ID,
	FAST_BY_IMEI,
	FAST_BY_IMSI,
	NUM_FAST_KEYS
} FastKey;

/*
 * Reads the binding whose key column equals value (an int8 identifier, or
 * a text Datum for terminal_id) through its unique index, with a fresh
 * snapshot, as an SPI SELECT would; row->found tells whether there is one
 * (row->note is not read: no decision of request_key uses it).
 * False when the table or its index is not as expected: then the caller
 * asks SPI.
 */
extern bool fastpath_binding(FastKey key, Datum value, BindingRow *row);

/*
 * Grants a key to a pair that is bound to each other, not blocked, and
 * reports nothing new, reading one index entry; sets *binding_id.  False
 * when the full decision is needed (anything else, or a table or index
 * that is not as expected).
 */
extern bool fastpath_grant(const PairIdentity *pair, int64 *binding_id);

#endif							/* MTCBIND_FASTPATH_H */

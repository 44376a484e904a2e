/*
 * fastpath.h
 *		Re-keying a bound pair without SPI, the executor or any write.
 */
#ifndef MTCBIND_FASTPATH_H
#define MTCBIND_FASTPATH_H

#include "decision.h"

/*
 * Grants a key to a pair that is bound to each other, not blocked, and
 * reports nothing new, reading one index entry; sets *binding_id.  False
 * when the full decision is needed (anything else, or a table or index
 * that is not as expected).
 */
extern bool fastpath_grant(const PairIdentity *pair, int64 *binding_id);

#endif							/* MTCBIND_FASTPATH_H */

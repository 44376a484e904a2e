/*
 * stats.h
 *		Counters of request_key's answers in shared memory, for dashboards
 *		(mtcbind.request_counts()).  Present only when mtcbind is in
 *		shared_preload_libraries; counting is then a few atomic adds at
 *		commit, and nothing is ever read from the event log.
 */
#ifndef MTCBIND_STATS_H
#define MTCBIND_STATS_H

#include "decision.h"

/* From _PG_init: asks for the shared memory when preloaded. */
extern void stats_init(void);

/* Counts one answer of the current transaction, added at its commit. */
extern void stats_count_request(Outcome outcome, Reason reason);

#endif							/* MTCBIND_STATS_H */

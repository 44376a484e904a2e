/*
 * stats.c
 *		request_key's answers counted by outcome and reason since the server
 *		started: the figures a dashboard scrapes every few seconds, which a
 *		count over the event log could not give at fleet scale (and which
 *		the log does not hold at all for keys issued with log_key_issue off).
 *
 * A backend counts its answers locally and adds them to the shared
 * counters when its transaction commits, so an answer whose transaction
 * rolled back (the client never got it) is not counted.  A hot standby
 * counts the keys it issues too.  The counters live in shared memory
 * requested at server start, so they exist only with
 * shared_preload_libraries = 'mtcbind'; they restart from zero with the
 * server, as Prometheus counters may.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "stats.h"

PG_FUNCTION_INFO_V1(mtcbind_request_counts);
PG_FUNCTION_INFO_V1(mtcbind_counters_available);

#define NOUTCOMES	(OUTCOME_REJECTED + 1)
#define NREASONS	(REASON_DEVICE_BLOCKED + 1)

typedef struct SharedCounters
{
	TimestampTz since;
	pg_atomic_uint64 requests[NOUTCOMES][NREASONS];
} SharedCounters;

static SharedCounters *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * This transaction's answers, not yet added: runs of equal answers, each
 * with the subtransaction it was given in, so that a rollback to a
 * savepoint takes its answers back.  A loop of a million requests in one
 * statement is one run.
 */
typedef struct PendingRun
{
	SubTransactionId subid;
	uint8		outcome;
	uint8		reason;
	uint32		count;
} PendingRun;

static PendingRun *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;
static bool callbacks_registered = false;

static void
stats_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SharedCounters)));
}

static void
stats_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("mtcbind request counters", sizeof(SharedCounters), &found);
	if (!found)
	{
		shared->since = GetCurrentTimestamp();
		for (int o = 0; o < NOUTCOMES; o++)
			for (int r = 0; r < NREASONS; r++)
				pg_atomic_init_u64(&shared->requests[o][r], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* See stats.h. */
void
stats_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = stats_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = stats_shmem_startup;
}

static void
forget_pending(void)
{
	npending = 0;
	/* a transaction of many different answers does not keep its list */
	if (maxpending > 1024)
	{
		pfree(pending);
		pending = NULL;
		maxpending = 0;
	}
}

static void
stats_xact_callback(XactEvent event, void *arg)
{
	if (npending == 0)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		for (int i = 0; i < npending; i++)
			pg_atomic_fetch_add_u64(&shared->requests[pending[i].outcome][pending[i].reason],
									pending[i].count);
		forget_pending();
	}

	/*
	 * A prepared transaction may commit or roll back later, in another
	 * session that knows nothing of these answers: they are not counted.
	 */
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
			 event == XACT_EVENT_PREPARE)
		forget_pending();
}

/*
 * Subtransaction ids grow within a transaction, and an open subtransaction
 * holds every later one: a rollback to a savepoint takes back the answers
 * given in it and after it.
 */
static void
stats_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (npending > 0 && pending[npending - 1].subid >= mySubid)
		npending--;
}

/* See stats.h. */
void
stats_count_request(Outcome outcome, Reason reason)
{
	SubTransactionId subid;
	PendingRun *last;

	if (shared == NULL)
		return;
	if (!callbacks_registered)
	{
		RegisterXactCallback(stats_xact_callback, NULL);
		RegisterSubXactCallback(stats_subxact_callback, NULL);
		callbacks_registered = true;
	}
	subid = GetCurrentSubTransactionId();
	last = npending > 0 ? &pending[npending - 1] : NULL;
	if (last && last->subid == subid && last->outcome == outcome &&
		last->reason == reason && last->count < PG_UINT32_MAX)
	{
		last->count++;
		return;
	}
	if (npending == maxpending)
	{
		int			grown = maxpending == 0 ? 16 : maxpending * 2;

		pending = pending == NULL
			? MemoryContextAlloc(TopMemoryContext, grown * sizeof(PendingRun))
			: repalloc(pending, grown * sizeof(PendingRun));
		maxpending = grown;
	}
	pending[npending].subid = subid;
	pending[npending].outcome = (uint8) outcome;
	pending[npending].reason = (uint8) reason;
	pending[npending].count = 1;
	npending++;
}

/* mtcbind._counters_available() RETURNS boolean: the counters exist. */
Datum
mtcbind_counters_available(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(shared != NULL);
}

/*
 * mtcbind.request_counts() RETURNS TABLE (outcome text, reason text,
 * requests bigint, since timestamptz): every outcome and reason, zeros
 * included, so that a dashboard's series exist from the start.
 */
Datum
mtcbind_request_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mtcbind's request counters are not available"),
				 errdetail("They live in shared memory, which mtcbind gets only when the server loads it at start."),
				 errhint("Add mtcbind to shared_preload_libraries and restart the server; see docs/monitoring.md.")));

	InitMaterializedSRF(fcinfo, 0);
	for (int o = 0; o < NOUTCOMES; o++)
		for (int r = 0; r < NREASONS; r++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			/* a key is issued without a reason; a refusal always has one */
			if ((o == OUTCOME_REJECTED) != (r != REASON_NONE))
				continue;
			values[0] = CStringGetTextDatum(outcome_text((Outcome) o));
			nulls[1] = r == REASON_NONE;
			values[1] = nulls[1] ? (Datum) 0 : CStringGetTextDatum(reason_text((Reason) r));
			values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&shared->requests[o][r]));
			values[3] = TimestampTzGetDatum(shared->since);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}

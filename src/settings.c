/*
 * settings.c
 *		Defines and validates the mtcbind.* configuration parameters.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "settings.h"

int			mtcbind_first_use = FIRST_USE_BIND;
int64		mtcbind_key_lifetime_usecs = USECS_PER_DAY;
static char *key_lifetime_text = NULL;
bool		mtcbind_log_key_issue = true;
char	   *mtcbind_reason = NULL;

static const struct config_enum_entry first_use_options[] = {
	{"bind", FIRST_USE_BIND, false},
	{"reject", FIRST_USE_REJECT, false},
	{NULL, 0, false}
};

/* Longest accepted key lifetime: ten years. */
#define KEY_LIFETIME_MAX_USECS	(INT64CONST(3650) * USECS_PER_DAY)

/*
 * Accepts any interval PostgreSQL understands ('1 day', '12h', '00:30:00'),
 * as long as it is positive and at most ten years.  Months count as 30 days.
 */
static bool
check_key_lifetime(char **newval, void **extra, GucSource source)
{
	MemoryContext caller_context = CurrentMemoryContext;
	Interval   *span = NULL;
	int64	   *usecs;
	int64		total;

	PG_TRY();
	{
		span = DatumGetIntervalP(DirectFunctionCall3(interval_in,
													 CStringGetDatum(*newval),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_context);
		FlushErrorState();
		span = NULL;
	}
	PG_END_TRY();

	if (span == NULL)
	{
		GUC_check_errdetail("mtcbind.key_lifetime must be an interval, such as '1 day' or '12 hours'.");
		return false;
	}
	/* Bound each part first so that the sum cannot overflow. */
	if (span->month >= 0 && span->month <= 120 &&
		span->day >= -3650 && span->day <= 3650 &&
		span->time >= -KEY_LIFETIME_MAX_USECS && span->time <= KEY_LIFETIME_MAX_USECS)
		total = span->time + (int64) span->day * USECS_PER_DAY +
			(int64) span->month * DAYS_PER_MONTH * USECS_PER_DAY;
	else
		total = -1;
	if (total <= 0 || total > KEY_LIFETIME_MAX_USECS)
	{
		GUC_check_errdetail("mtcbind.key_lifetime must be positive and at most 10 years.");
		return false;
	}
	usecs = (int64 *) malloc(sizeof(int64));
	if (usecs == NULL)
		return false;
	*usecs = total;
	*extra = usecs;
	return true;
}

/* Installs the lifetime computed by check_key_lifetime. */
static void
assign_key_lifetime(const char *newval, void *extra)
{
	mtcbind_key_lifetime_usecs = *((int64 *) extra);
}

/* Registers every mtcbind.* setting and reserves the prefix. */
void
mtcbind_define_settings(void)
{
	DefineCustomEnumVariable("mtcbind.first_use",
							 "What request_key does for a device and UICC that are both unbound.",
							 "bind: bind them (trust on first use); reject: refuse, only pre-provisioned pairs get keys.",
							 &mtcbind_first_use,
							 FIRST_USE_BIND,
							 first_use_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("mtcbind.key_lifetime",
							   "Lifetime of an issued Ks_local (an interval).",
							   "A key expires at the earlier of now() plus this and the Ks_int_NAF expiry.",
							   &key_lifetime_text,
							   "1 day",
							   PGC_SUSET, 0,
							   check_key_lifetime, assign_key_lifetime, NULL);

	DefineCustomBoolVariable("mtcbind.log_key_issue",
							 "Records each issued key (never the key itself) in the event log.",
							 "When off, granting a key to a bound pair writes nothing.",
							 &mtcbind_log_key_issue,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("mtcbind.reason",
							   "Reason recorded in the audit log for changes made to bindings in this session.",
							   NULL,
							   &mtcbind_reason,
							   "",
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("mtcbind");
}

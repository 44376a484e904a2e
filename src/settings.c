/*
 * settings.c
 *		Defines and validates the mtcbind.* configuration parameters.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/timestamp.h"

#include "args.h"
#include "settings.h"

int			mtcbind_first_use = FIRST_USE_BIND;
int64		mtcbind_key_lifetime_usecs = USECS_PER_DAY;
char	   *mtcbind_key_lifetime_text = NULL;
bool		mtcbind_log_key_issue = true;
int			mtcbind_key_issue_log = LOG_MODE_EVENTS;
int			mtcbind_refusal_log = LOG_MODE_EVENTS;
char	   *mtcbind_reason = NULL;
bool		mtcbind_allow_drop_with_data = false;

static const struct config_enum_entry first_use_options[] = {
	{"bind", FIRST_USE_BIND, false},
	{"reject", FIRST_USE_REJECT, false},
	{NULL, 0, false}
};

static const struct config_enum_entry log_mode_options[] = {
	{"events", LOG_MODE_EVENTS, false},
	{"compact", LOG_MODE_COMPACT, false},
	{NULL, 0, false}
};

/*
 * See settings.h.  The same steps as interval_in, but with the parser's
 * error codes instead of its ereport, so that a GUC check hook can use it
 * without catching errors (which would need a subtransaction to be safe).
 */
bool
parse_key_lifetime(const char *text, int64 *usecs, const char **problem)
{
	char		copy[MAXDATELEN + 1];
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype = 0;
	int			dterr;
	struct pg_itm_in itm_in;
	Interval	span;

	*problem = "It must be an interval, such as '1 day', '12h' or '30 min'.";
	if (text == NULL || strlen(text) > MAXDATELEN)
		return false;
	strlcpy(copy, text, sizeof(copy));
	dterr = ParseDateTime(copy, workbuf, sizeof(workbuf), field, ftype,
						  MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm_in);
	if (dterr == DTERR_BAD_FORMAT)
		dterr = DecodeISO8601Interval(copy, &dtype, &itm_in);
	if (dterr != 0 || dtype != DTK_DELTA || itmin2interval(&itm_in, &span) != 0)
		return false;

	/* Bound each part first so that the sum cannot overflow. */
	*problem = "It must be positive and at most 10 years.";
	if (span.month < 0 || span.month > 120 ||
		span.day < -3650 || span.day > 3650 ||
		span.time < -KEY_LIFETIME_MAX_USECS || span.time > KEY_LIFETIME_MAX_USECS)
		return false;
	*usecs = span.time + (int64) span.day * USECS_PER_DAY +
		(int64) span.month * DAYS_PER_MONTH * USECS_PER_DAY;
	return *usecs > 0 && *usecs <= KEY_LIFETIME_MAX_USECS;
}

/* Check hook of mtcbind.key_lifetime: parse once, keep the microseconds. */
static bool
check_key_lifetime(char **newval, void **extra, GucSource source)
{
	const char *problem;
	int64		usecs;
	int64	   *kept;

	if (!parse_key_lifetime(*newval, &usecs, &problem))
	{
		GUC_check_errdetail("%s", problem);
		return false;
	}
	kept = (int64 *) malloc(sizeof(int64));
	if (kept == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		return false;
	}
	*kept = usecs;
	*extra = kept;
	return true;
}

/* Installs the lifetime computed by check_key_lifetime. */
static void
assign_key_lifetime(const char *newval, void *extra)
{
	mtcbind_key_lifetime_usecs = *((int64 *) extra);
}

/*
 * Check hook of mtcbind.reason.  A reason is what one person says about
 * their own change, so it is set for a session (SET, PGOPTIONS), never as a
 * default that others' changes would inherit: a value from the server's
 * configuration, ALTER DATABASE/ROLE ... SET or a function's SET clause is
 * refused (source PGC_S_TEST is the check of the last two).  Longer values
 * than a reason argument may have are refused too.
 */
static bool
check_reason(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (strlen(*newval) > REASON_MAX_LEN)
	{
		GUC_check_errdetail("A reason has at most %d octets.", REASON_MAX_LEN);
		return false;
	}
	switch (source)
	{
		case PGC_S_FILE:
		case PGC_S_ARGV:
		case PGC_S_ENV_VAR:
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
		case PGC_S_TEST:
			GUC_check_errdetail("mtcbind.reason can only be set for a session (SET, or the connection's options).");
			GUC_check_errhint("A default reason would be recorded for changes made by anyone the setting reaches.");
			return false;
		default:
			return true;
	}
}

/*
 * A superuser's setting given in a connection's options (PGOPTIONS, libpq
 * options) before the library was loaded.  PostgreSQL checks the privilege
 * only when the library defines the setting, and then drops the value with
 * a WARNING -- and with it the value ALTER DATABASE or ALTER ROLE had given,
 * as a connection's option takes the place of the session's default: the
 * session would run on the built-in defaults, which a superuser may have
 * tightened.  Such a session is refused (settings_check_client), as with
 * shared_preload_libraries the connection itself is.  (A SET before the
 * library loads is dropped the same way, but leaves the default in place.)
 */
static const char *const superuser_settings[] = {
	"mtcbind.first_use", "mtcbind.key_lifetime", "mtcbind.log_key_issue",
	"mtcbind.key_issue_log", "mtcbind.refusal_log", "mtcbind.allow_drop_with_data"
};

/* Who gave each of superuser_settings in the connection's options, if anyone. */
static Oid	client_setting_role[lengthof(superuser_settings)];

/*
 * Notes the connection's options among the placeholders of
 * superuser_settings, and who gave them.  Names are matched as PostgreSQL
 * matches them, ignoring case (-c mtcbind.First_Use=... is the same one).
 */
static void
note_client_settings(void)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();

	for (int i = 0; i < n; i++)
	{
		struct config_generic *g = vars[i];

		if (!(g->flags & GUC_CUSTOM_PLACEHOLDER))
			continue;
		for (int k = 0; k < lengthof(superuser_settings); k++)
		{
			if (pg_strcasecmp(g->name, superuser_settings[k]) != 0)
				continue;
			if (g->reset_source == PGC_S_CLIENT)
				client_setting_role[k] = g->reset_srole;
			else if (g->source == PGC_S_CLIENT)
				client_setting_role[k] = g->srole;
		}
	}
}

/* See settings.h. */
void
settings_check_client(void)
{
	for (int k = 0; k < lengthof(superuser_settings); k++)
	{
		Oid			role = client_setting_role[k];

		/*
		 * The test PostgreSQL applies when the library loads; the catalog is
		 * read here, in a call, not at load.
		 */
		if (!OidIsValid(role) || superuser_arg(role) ||
			pg_parameter_aclcheck(superuser_settings[k], role, ACL_SET) == ACLCHECK_OK)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s was given in this connection's options by a role that may not set it",
						superuser_settings[k]),
				 errdetail("PostgreSQL refused the value when mtcbind loaded, and with it the value of ALTER DATABASE or ALTER ROLE: the setting would fall back to its built-in default for this session."),
				 errhint("Connect without -c mtcbind.* options (PGOPTIONS); with shared_preload_libraries = 'mtcbind' such connections are refused at login.")));
	}
}

/* Registers every mtcbind.* setting and reserves the prefix. */
void
mtcbind_define_settings(void)
{
	note_client_settings();

	DefineCustomEnumVariable("mtcbind.first_use",
							 "What request_key does for a device and UICC that are both unbound.",
							 "bind: bind them (trust on first use); reject: refuse, only pre-provisioned pairs get keys. A database policy (mtcbind.set_policy) of reject overrides bind.",
							 &mtcbind_first_use,
							 FIRST_USE_BIND,
							 first_use_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("mtcbind.key_lifetime",
							   "Lifetime of an issued Ks_local (an interval).",
							   "A key expires at the earliest of the wall clock plus this, the database policy's max_key_lifetime, and the Ks_int_NAF expiry.",
							   &mtcbind_key_lifetime_text,
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

	DefineCustomEnumVariable("mtcbind.key_issue_log",
							 "Where a logged key issue is recorded.",
							 "events: a key_issued event in mtcbind.binding_event; compact: a row of mtcbind.key_issue (needs version 1.1). mtcbind.key_issues shows both.",
							 &mtcbind_key_issue_log,
							 LOG_MODE_EVENTS,
							 log_mode_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("mtcbind.refusal_log",
							 "Where a refusal of request_key is recorded.",
							 "events: a rejected event in mtcbind.binding_event; compact: a row of mtcbind.refusal naming a code of mtcbind.refusal_subject (needs version 1.1). mtcbind.refusals shows both.",
							 &mtcbind_refusal_log,
							 LOG_MODE_EVENTS,
							 log_mode_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("mtcbind.reason",
							   "Reason recorded in the audit log for changes made to bindings in this session.",
							   NULL,
							   &mtcbind_reason,
							   "",
							   PGC_USERSET, 0,
							   check_reason, NULL, NULL);

	DefineCustomBoolVariable("mtcbind.allow_drop_with_data",
							 "Lets DROP EXTENSION mtcbind delete bindings, blocks and audit events.",
							 "Off: DROP EXTENSION is refused while any of them exist.",
							 &mtcbind_allow_drop_with_data,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("mtcbind");
}

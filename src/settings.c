/*
 * settings.c
 *		Defines and validates the mtcbind.* configuration parameters.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "settings.h"

int			mtcbind_first_use = FIRST_USE_BIND;
int			mtcbind_key_lifetime_secs = 86400;
bool		mtcbind_log_key_issue = true;
char	   *mtcbind_reason = NULL;

static const struct config_enum_entry first_use_options[] = {
	{"bind", FIRST_USE_BIND, false},
	{"reject", FIRST_USE_REJECT, false},
	{NULL, 0, false}
};

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

	DefineCustomIntVariable("mtcbind.key_lifetime",
							"Lifetime of an issued Ks_local.",
							"The key expires at the earlier of now() plus this and the Ks_int_NAF expiry.",
							&mtcbind_key_lifetime_secs,
							86400, 1, 10 * 365 * 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

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

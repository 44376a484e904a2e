/*
 * policy.c
 *		The database's security policy (mtcbind.policy), combined with the
 *		settings: mtcbind.set_policy, mtcbind.settings(), the policy table's
 *		trigger, and the cached policy request_key reads on every call.
 *
 * Settings made with ALTER DATABASE or ALTER ROLE are not part of a
 * pg_dump of the database; a row in mtcbind.policy is.  So the policy is
 * data, and it can only tighten: first_use = reject there refuses first use
 * whatever mtcbind.first_use says, and max_key_lifetime caps
 * mtcbind.key_lifetime.
 *
 * Each backend caches the table and drops the cache on a relcache
 * invalidation of it, which the table's trigger sends at every change (so
 * other sessions see a change from their next transaction on).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "args.h"
#include "audit.h"
#include "catalog.h"
#include "policy.h"
#include "settings.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_set_policy);
PG_FUNCTION_INFO_V1(mtcbind_settings);
PG_FUNCTION_INFO_V1(mtcbind_policy_audit);

/* The table's rows as last read. */
typedef struct StoredPolicy
{
	bool		valid;
	Oid			relid;			/* mtcbind.policy when read */
	bool		first_use_reject;
	char	   *first_use;		/* NULL, "bind" or "reject" */
	bool		has_max_lifetime;
	int64		max_lifetime_usecs;
	char	   *max_lifetime;	/* as stored, or NULL */
	const char *broken;			/* why a stored value is unusable, or NULL */
} StoredPolicy;

static StoredPolicy stored;
static bool callback_registered = false;

/* The policy table changed somewhere (or all relcache entries did). */
static void
policy_invalidated(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == stored.relid)
		stored.valid = false;
}

/* Reads mtcbind.policy into the cache (TopMemoryContext). */
static void
load_policy(void)
{
	static StoreStatement st = {
		"SELECT name, value FROM mtcbind.policy", 0, {0}
	};
	StoreArgs	args = {0};
	StoredPolicy fresh;
	uint64		n;
	int			nest;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(policy_invalidated, (Datum) 0);
		callback_registered = true;
	}
	memset(&fresh, 0, sizeof(fresh));
	fresh.relid = ext_catalog()->policy_rel;

	/* request_key (the fast path) pins no search_path of its own */
	nest = store_pin_search_path();
	store_connect();
	n = store_run(&st, &args, SPI_OK_SELECT);
	for (uint64 i = 0; i < n; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (name == NULL || value == NULL)
			continue;
		if (strcmp(name, "first_use") == 0)
		{
			fresh.first_use = MemoryContextStrdup(TopMemoryContext, value);
			fresh.first_use_reject = strcmp(value, "bind") != 0;	/* fail closed */
		}
		else if (strcmp(name, "max_key_lifetime") == 0)
		{
			const char *problem;

			/* A value a DBA wrote by hand that does not parse: fail closed. */
			if (!parse_key_lifetime(value, &fresh.max_lifetime_usecs, &problem))
				fresh.broken = problem;
			fresh.has_max_lifetime = true;
			fresh.max_lifetime = MemoryContextStrdup(TopMemoryContext, value);
		}
	}
	store_finish();
	store_unpin_search_path(nest);

	if (stored.first_use)
		pfree(stored.first_use);
	if (stored.max_lifetime)
		pfree(stored.max_lifetime);
	stored = fresh;
	stored.valid = true;
}

/* See policy.h. */
void
policy_current(EffectivePolicy *out)
{
	settings_check_client();
	if (!stored.valid)
		load_policy();
	/* Not the caller's fault (22xxx), the database's: 55000. */
	if (stored.broken)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mtcbind.policy holds an invalid max_key_lifetime"),
				 errdetail("%s", stored.broken),
				 errhint("A superuser sets it again with mtcbind.set_policy; mtcbind.settings() shows it.")));
	out->first_use_reject = mtcbind_first_use == FIRST_USE_REJECT || stored.first_use_reject;
	out->key_lifetime_usecs = mtcbind_key_lifetime_usecs;
	if (stored.has_max_lifetime && stored.max_lifetime_usecs < out->key_lifetime_usecs)
		out->key_lifetime_usecs = stored.max_lifetime_usecs;
	out->log_key_issue = mtcbind_log_key_issue;
	out->key_issue_compact = mtcbind_key_issue_log == LOG_MODE_COMPACT;
	out->refusal_compact = mtcbind_refusal_log == LOG_MODE_COMPACT;
}

/*
 * mtcbind.set_policy(name text, value text, reason text) RETURNS void
 * Sets a policy (value) or removes it (NULL); the trigger records the
 * change.  Granted to no one: a superuser sets policy, as the settings.
 */
Datum
mtcbind_set_policy(PG_FUNCTION_ARGS)
{
	static StoreStatement upsert = {
		"INSERT INTO mtcbind.policy AS p (name, value, reason) VALUES ($1, $2, $3)"
		" ON CONFLICT (name) DO UPDATE"
		" SET value = EXCLUDED.value, reason = EXCLUDED.reason,"
		"     set_at = pg_catalog.now(), set_by = SESSION_USER",
		3, {ST_TEXT, ST_TEXT, ST_TEXT}
	};
	static StoreStatement remove = {
		"DELETE FROM mtcbind.policy WHERE name OPERATOR(pg_catalog.=) $1",
		1, {ST_TEXT}
	};
	StoreArgs	args = {0};
	char	   *name;
	char	   *value = NULL;
	char	   *reason;

	require_read_committed("mtcbind.set_policy");
	require_arg(fcinfo, 0, "name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		value = text_to_cstring(PG_GETARG_TEXT_PP(1));
	reason = get_reason_arg(fcinfo, 2, true);

	if (strcmp(name, "first_use") == 0)
	{
		if (value && strcmp(value, "bind") != 0 && strcmp(value, "reject") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("first_use must be \"bind\" or \"reject\"")));
	}
	else if (strcmp(name, "max_key_lifetime") == 0)
	{
		int64		usecs;
		const char *problem;

		if (value && !parse_key_lifetime(value, &usecs, &problem))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid max_key_lifetime"),
					 errdetail("%s", problem)));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("there is no policy named \"%s\"",
						bounded_text(name)),
				 errhint("The policies are first_use and max_key_lifetime.")));

	store_connect();
	audit_context_begin();
	audit_context_set_reason(reason);
	arg_text(&args, name);
	if (value)
	{
		arg_text(&args, value);
		arg_text(&args, reason);
		store_run(&upsert, &args, SPI_OK_INSERT);
	}
	else
		store_run(&remove, &args, SPI_OK_DELETE);
	audit_context_clear();
	store_finish();
	PG_RETURN_VOID();
}

/*
 * mtcbind.settings() RETURNS SETOF (name, setting, database_policy,
 * in_effect): what request_key would run with in this session.
 */
Datum
mtcbind_settings(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EffectivePolicy policy;
	Datum		values[4];
	bool		nulls[4];

	/* Shows a broken policy instead of failing on it, to diagnose it. */
	if (!stored.valid)
		load_policy();
	policy.first_use_reject = mtcbind_first_use == FIRST_USE_REJECT || stored.first_use_reject;
	policy.key_lifetime_usecs = mtcbind_key_lifetime_usecs;
	if (stored.has_max_lifetime && !stored.broken &&
		stored.max_lifetime_usecs < policy.key_lifetime_usecs)
		policy.key_lifetime_usecs = stored.max_lifetime_usecs;
	policy.log_key_issue = mtcbind_log_key_issue;
	InitMaterializedSRF(fcinfo, 0);

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum("first_use");
	values[1] = CStringGetTextDatum(mtcbind_first_use == FIRST_USE_REJECT ? "reject" : "bind");
	nulls[2] = stored.first_use == NULL;
	values[2] = nulls[2] ? (Datum) 0 : CStringGetTextDatum(stored.first_use);
	values[3] = CStringGetTextDatum(policy.first_use_reject ? "reject" : "bind");
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum("key_lifetime");
	values[1] = CStringGetTextDatum(mtcbind_key_lifetime_text);
	nulls[2] = stored.max_lifetime == NULL;
	values[2] = nulls[2] ? (Datum) 0 : CStringGetTextDatum(stored.max_lifetime);
	if (stored.broken)
		values[3] = CStringGetTextDatum("invalid policy: request_key refuses to run");
	else
		values[3] = CStringGetTextDatum(policy.key_lifetime_usecs < mtcbind_key_lifetime_usecs
										? stored.max_lifetime : mtcbind_key_lifetime_text);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum("log_key_issue");
	values[1] = CStringGetTextDatum(mtcbind_log_key_issue ? "on" : "off");
	nulls[2] = true;
	values[2] = (Datum) 0;
	values[3] = values[1];
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	values[0] = CStringGetTextDatum("key_issue_log");
	values[1] = CStringGetTextDatum(mtcbind_key_issue_log == LOG_MODE_COMPACT ? "compact" : "events");
	values[3] = values[1];
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	values[0] = CStringGetTextDatum("refusal_log");
	values[1] = CStringGetTextDatum(mtcbind_refusal_log == LOG_MODE_COMPACT ? "compact" : "events");
	values[3] = values[1];
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	return (Datum) 0;
}

/*
 * mtcbind.policy_audit(): AFTER INSERT, UPDATE, DELETE (row) and TRUNCATE
 * (statement) on mtcbind.policy.  Makes every session re-read the policy,
 * and records the change.
 */
Datum
mtcbind_policy_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent tg;
	TupleDesc	desc;
	AuditEvent	ev = {.event = "policy_changed"};
	AuditDetail detail;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "mtcbind.policy_audit() must be called as a trigger");
	tg = trigdata->tg_event;
	desc = RelationGetDescr(trigdata->tg_relation);
	CacheInvalidateRelcache(trigdata->tg_relation);
	store_connect();

	audit_detail_begin(&detail);
	if (TRIGGER_FIRED_BY_TRUNCATE(tg))
	{
		audit_detail_text(&detail, "policy", "truncated");
		ev.reason = audit_current_reason();
	}
	else
	{
		HeapTuple	old_row = TRIGGER_FIRED_BY_INSERT(tg) ? NULL : trigdata->tg_trigtuple;
		HeapTuple	new_row = TRIGGER_FIRED_BY_DELETE(tg) ? NULL :
			(TRIGGER_FIRED_BY_UPDATE(tg) ? trigdata->tg_newtuple : trigdata->tg_trigtuple);
		HeapTuple	any_row = new_row ? new_row : old_row;

		audit_detail_text(&detail, "name", SPI_getvalue(any_row, desc, SPI_fnumber(desc, "name")));
		audit_detail_text(&detail, "old_value",
						  old_row ? SPI_getvalue(old_row, desc, SPI_fnumber(desc, "value")) : NULL);
		audit_detail_text(&detail, "new_value",
						  new_row ? SPI_getvalue(new_row, desc, SPI_fnumber(desc, "value")) : NULL);
		ev.reason = audit_current_reason();
		if (new_row && ev.reason == NULL)
			ev.reason = SPI_getvalue(new_row, desc, SPI_fnumber(desc, "reason"));
	}
	ev.detail = audit_detail_end(&detail);
	audit_record(&ev);
	store_finish();
	return PointerGetDatum(NULL);
}

/*
 * catalog.c
 *		Finds mtcbind's schema, types and tables by name, and keeps their
 *		OIDs until a catalog change may have made them stale.
 *
 * Statements prepared with these type OIDs (store.c) and the fast path's
 * relation (fastpath.c) must follow a DROP and CREATE EXTENSION, a
 * restore, or a table rewritten under a new OID.  Any invalidation of
 * pg_namespace, pg_type or pg_class entries, or of our relations, makes
 * the next caller look the names up again; the generation only moves when
 * an OID actually changed, so a busy DDL-free database never re-prepares.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog.h"

static ExtCatalog cached;
static bool cached_valid = false;
static bool callbacks_registered = false;

/* Any change to a namespace or type: look again. */
static void
catalog_syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	cached_valid = false;
}

/* A change to one of our relations (or to all of them): look again. */
static void
catalog_relcache_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == cached.binding_rel ||
		relid == cached.blocklist_rel || relid == cached.policy_rel ||
		relid == cached.binding_seq)
		cached_valid = false;
}

/* The OID of type name in our schema, or an error naming what is missing. */
static Oid
our_type(const char *name, Oid nsp)
{
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum(name),
										ObjectIdGetDatum(nsp));

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type mtcbind.%s does not exist", name),
				 errhint("Is the extension mtcbind installed in this database?")));
	return typid;
}

/* See catalog.h. */
const ExtCatalog *
ext_catalog(void)
{
	ExtCatalog	found;

	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(NAMESPACEOID, catalog_syscache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, catalog_syscache_changed, (Datum) 0);
		CacheRegisterRelcacheCallback(catalog_relcache_changed, (Datum) 0);
		callbacks_registered = true;
	}
	if (cached_valid)
		return &cached;

	memset(&found, 0, sizeof(found));
	found.namespace_oid = get_namespace_oid("mtcbind", true);
	if (!OidIsValid(found.namespace_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema mtcbind does not exist"),
				 errhint("Is the extension mtcbind installed in this database?")));
	found.iccid_type = our_type("iccid", found.namespace_oid);
	found.imei_type = our_type("imei", found.namespace_oid);
	found.imeisv_type = our_type("imeisv", found.namespace_oid);
	found.imsi_type = our_type("imsi", found.namespace_oid);
	found.iccid_btree_opfamily =
		get_opclass_family(GetDefaultOpClass(found.iccid_type, BTREE_AM_OID));
	found.binding_rel = get_relname_relid("binding", found.namespace_oid);
	found.binding_seq = get_relname_relid("binding_binding_id_seq", found.namespace_oid);
	found.blocklist_rel = get_relname_relid("blocklist", found.namespace_oid);
	found.policy_rel = get_relname_relid("policy", found.namespace_oid);
	found.event_rel = get_relname_relid("binding_event", found.namespace_oid);
	found.key_issue_rel = get_relname_relid("key_issue", found.namespace_oid);
	found.refusal_rel = get_relname_relid("refusal", found.namespace_oid);

	found.generation = cached.generation;
	if (memcmp(&found.namespace_oid, &cached.namespace_oid,
			   sizeof(ExtCatalog) - offsetof(ExtCatalog, namespace_oid)) != 0)
		found.generation++;
	cached = found;
	cached_valid = true;
	return &cached;
}

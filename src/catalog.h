/*
 * catalog.h
 *		The OIDs of mtcbind's own schema, types and tables in this database,
 *		looked up by name once and forgotten when the catalogs change.
 */
#ifndef MTCBIND_CATALOG_H
#define MTCBIND_CATALOG_H

typedef struct ExtCatalog
{
	uint64		generation;		/* changes whenever an OID below changes */
	Oid			namespace_oid;
	Oid			iccid_type;
	Oid			imei_type;
	Oid			imeisv_type;
	Oid			imsi_type;
	Oid			iccid_btree_opfamily;	/* the default btree family of iccid */
	Oid			binding_rel;
	Oid			binding_seq;
	Oid			blocklist_rel;
	Oid			policy_rel;
	Oid			event_rel;		/* binding_event, the partitioned log */
	Oid			key_issue_rel;	/* key_issue (1.1), or InvalidOid */
	Oid			refusal_rel;	/* refusal (1.1), or InvalidOid */
} ExtCatalog;

/*
 * The current OIDs.  Raises an error if the extension's schema or types
 * are missing (the library is loaded, but mtcbind is not installed here).
 */
extern const ExtCatalog *ext_catalog(void);

#endif							/* MTCBIND_CATALOG_H */

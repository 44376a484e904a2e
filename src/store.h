/*
 * store.h
 *		SQL statements over mtcbind's tables, prepared once per backend and
 *		run through SPI.  Each statement's text, parameter types and the code
 *		that fills its parameters sit together in one function.
 */
#ifndef MTCBIND_STORE_H
#define MTCBIND_STORE_H

#include "executor/spi.h"
#include "utils/timestamp.h"

/* Parameter types a statement may declare. */
typedef enum StoreType
{
	ST_INT8,
	ST_INT4,
	ST_TEXT,
	ST_TEXT_ARRAY,
	ST_BOOL,
	ST_BYTEA,
	ST_JSONB,
	ST_TIMESTAMPTZ,
	ST_INTERVAL,
	ST_REGCLASS,
	ST_OID,
	ST_ICCID,
	ST_IMEI,
	ST_IMEISV,
	ST_IMSI
} StoreType;

#define STORE_MAX_ARGS 16

/* A statement and its plan, prepared on first use. */
typedef struct StoreStatement
{
	const char *sql;
	int			nargs;
	StoreType	types[STORE_MAX_ARGS];
	SPIPlanPtr	plan;
	uint64		generation;		/* ext_catalog() generation of the plan */
	const char *plan_text;		/* the plan's own copy of sql (planner.c) */
	bool		listed;			/* in store.c's list of prepared statements */
	struct StoreStatement *next_listed;
} StoreStatement;

/*
 * Whether query_string is the text of one of the statements prepared in
 * this backend, as their plans hand it to the planner (planner.c).
 */
extern bool store_owns_query(const char *query_string);

/*
 * Whether one of those statements is running: what is planned meanwhile is
 * theirs too (a foreign key's check, a trigger's query; planner.c).
 */
extern bool store_statement_running(void);

/* Parameter values, appended in the order of $1, $2, ... */
typedef struct StoreArgs
{
	int			n;
	Datum		values[STORE_MAX_ARGS];
	char		nulls[STORE_MAX_ARGS];
} StoreArgs;

extern void arg_datum(StoreArgs *args, Datum value, bool isnull);
extern void arg_int8(StoreArgs *args, int64 value);
extern void arg_ident(StoreArgs *args, bool present, int64 value);
extern void arg_text(StoreArgs *args, const char *value);	/* NULL: SQL NULL */
extern void arg_bool(StoreArgs *args, bool value);
extern void arg_timestamptz(StoreArgs *args, TimestampTz value);

/*
 * Runs a statement; raises an error unless SPI answers expected_rc.  With
 * latest_snapshot, reads with a fresh snapshot whatever the isolation
 * level (as foreign-key checks do).  Returns SPI_processed.
 */
extern uint64 store_run(StoreStatement *st, StoreArgs *args, int expected_rc);
extern uint64 store_run_latest(StoreStatement *st, StoreArgs *args, int expected_rc);

/* Column values of row 0 of the last result (copied out of SPI memory). */
extern bool result_int8(int column, int64 *value);
extern bool result_timestamptz(int column, TimestampTz *value);
extern char *result_text(int column);	/* NULL for SQL NULL */
extern bool result_bool(int column);

/*
 * search_path = pg_catalog, pg_temp until unpinned (or the transaction or
 * subtransaction ends in error): for SQL run by a function that does not
 * pin it in its definition.
 */
extern int	store_pin_search_path(void);
extern void store_unpin_search_path(int nest);

/* SPI_connect / SPI_finish with errors raised on failure. */
extern void store_connect(void);
extern void store_finish(void);

/* One row of mtcbind.binding as the decisions need it. */
typedef struct BindingRow
{
	bool		found;
	int64		binding_id;
	char	   *terminal_id;
	int64		iccid;
	bool		has_imei;
	int64		imei;
	bool		has_imeisv;
	int64		imeisv;
	bool		has_imsi;
	int64		imsi;
	bool		blocked;
	char	   *note;
} BindingRow;

extern void store_binding_by_iccid(int64 iccid, bool for_update, BindingRow *row);
extern void store_binding_by_device(const char *terminal_id, bool has_imei, int64 imei,
									BindingRow *row);
extern void store_binding_by_imsi(int64 imsi, BindingRow *row);
extern bool store_lock_binding(int64 binding_id, const char *terminal_id);

/* A new binding; false if a UNIQUE constraint made the insert do nothing. */
typedef struct NewBinding
{
	const char *terminal_id;
	int64		iccid;
	bool		has_imei;
	int64		imei;
	bool		has_imeisv;
	int64		imeisv;
	bool		has_imsi;
	int64		imsi;
	const char *terminal_appli_id;
	const char *uicc_appli_id;
	const char *note;
	TimestampTz key_issued_at;	/* 0: no key is issued with this write */
} NewBinding;

extern bool store_insert_binding(const NewBinding *nb, int64 *binding_id);
extern bool store_record_identities(const BindingRow *held,
									bool set_imei, int64 imei,
									bool set_imeisv, int64 imeisv,
									bool set_imsi, int64 imsi);
extern bool store_set_note(int64 binding_id, const char *note);
extern bool store_touch(int64 binding_id, const char *terminal_id, TimestampTz now);
extern bool store_move_binding(int64 binding_id, const char *old_terminal_id,
							   const NewBinding *nb);
extern bool store_delete_binding(int64 iccid, BindingRow *gone);

/* Transfer authorisations. */
typedef struct OpenTransfer
{
	bool		found;
	int64		authorization_id;
	char	   *new_terminal_id;	/* NULL: any unbound device */
	char	   *reason;
} OpenTransfer;

extern void store_open_transfer(int64 binding_id, OpenTransfer *out);
extern bool store_use_transfer(int64 authorization_id, const char *terminal_id);
extern int64 store_insert_transfer(int64 binding_id, int64 iccid,
								   const char *new_terminal_id,
								   TimestampTz valid_until, const char *reason);
extern void store_revoke_transfers(int64 iccid, TimestampTz now, const char *why);

#endif							/* MTCBIND_STORE_H */

/*
 * audit.h
 *		The event log, mtcbind.binding_event: what one event holds, how it
 *		is written, and the reason and NAF that changes made by the current
 *		call are recorded with.
 */
#ifndef MTCBIND_AUDIT_H
#define MTCBIND_AUDIT_H

#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* One event; zero and NULL fields are stored as SQL NULL. */
typedef struct AuditEvent
{
	const char *event;			/* a kind allowed by binding_event_event_check */
	int64		binding_id;
	const char *terminal_id;
	bool		has_iccid;
	int64		iccid;
	bool		has_imei;
	int64		imei;
	bool		has_imsi;
	int64		imsi;
	const char *previous_terminal_id;
	bool		has_previous_iccid;
	int64		previous_iccid;
	TimestampTz key_expires_at;
	const char *reason;
	Jsonb	   *detail;
} AuditEvent;

/* Writes an event (within an SPI connection); returns its event_id. */
extern int64 audit_record(const AuditEvent *ev);

/* Builds the detail of an event as jsonb, with PostgreSQL's own builder. */
typedef struct AuditDetail
{
	JsonbParseState *state;
	int			depth;
	int			fields;
} AuditDetail;

extern void audit_detail_begin(AuditDetail *d);
extern void audit_detail_text(AuditDetail *d, const char *key, const char *value);
extern void audit_detail_int8(AuditDetail *d, const char *key, int64 value);
extern void audit_detail_begin_object(AuditDetail *d, const char *key);
extern void audit_detail_end_object(AuditDetail *d);
extern Jsonb *audit_detail_end(AuditDetail *d);	/* NULL when no field was added */

/*
 * The reason and NAF_Id recorded with the changes the current call makes
 * (the triggers read them).  request_key and the administration functions
 * begin a context, set what they know, and clear it when they return; an
 * error that aborts the (sub)transaction they began it in clears it too.
 * Outside such a call, the reason is the session's mtcbind.reason setting.
 */
extern void audit_context_begin(void);
extern void audit_context_set_reason(const char *reason);
extern void audit_context_set_naf(const char *naf_id, size_t len);
extern void audit_context_clear(void);
extern const char *audit_current_reason(void);
extern bytea *audit_current_naf(void);

/*
 * The 'bound' event of new bindings: the columns it fills and the SELECT
 * list that fills them from a binding row n, with the reason and the NAF_Id
 * as the parameters named.  One home for both writers: the statement
 * trigger over the rows a statement inserted, and a first use, which writes
 * it in the statement that inserts its binding, with its key issue
 * (store_insert_first_use).
 */
#define AUDIT_BOUND_EVENT_COLUMNS \
	"event, binding_id, terminal_id, iccid, imei, imsi, reason, naf_id, detail"
#define AUDIT_BOUND_EVENT_SELECT(reason_param, naf_param) \
	"SELECT 'bound', n.binding_id, n.terminal_id, n.iccid, n.imei, n.imsi, " \
	reason_param ", " naf_param "," \
	"  CASE WHEN n.imeisv IS NOT NULL OR n.note IS NOT NULL" \
	"         OR n.terminal_appli_id OPERATOR(pg_catalog.<>) ''" \
	"         OR n.uicc_appli_id OPERATOR(pg_catalog.<>) ''" \
	"  THEN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(" \
	"    'imeisv', n.imeisv::pg_catalog.text," \
	"    'terminal_appli_id', NULLIF(n.terminal_appli_id, '')," \
	"    'uicc_appli_id', NULLIF(n.uicc_appli_id, '')," \
	"    'note', n.note)) END"

/*
 * A first use writes the 'bound' event of its binding itself, instead of
 * leaving it to the statement trigger (a second statement).  Around that
 * statement it claims the event; the trigger yields it only for that
 * statement's insert: the same transaction and subtransaction, one row, the
 * claimed ICCID.  Whatever the statement's outcome, the claim ends with it
 * (audit_end_bound_claim returns the binding_id whose event the trigger
 * yielded, or 0), and the end of its subtransaction or transaction ends it
 * too.
 */
extern void audit_claim_bound_event(int64 iccid);
extern bool audit_bound_claim_armed(void);
extern bool audit_yield_bound_event(int64 iccid, int64 binding_id);
extern int64 audit_end_bound_claim(void);

/* Announces a recorded refusal on channel mtcbind_rejected. */
extern void audit_notify_rejection(int64 event_id, const char *reason);

#endif							/* MTCBIND_AUDIT_H */

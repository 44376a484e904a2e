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

/*
 * Records an issued key in the compact log, mtcbind.key_issue (within an
 * SPI connection, in a call whose context has set the NAF).
 */
extern void audit_record_key_issue(int64 binding_id, int64 iccid, TimestampTz expires_at);

/* A refusal, for the compact refusal log; zero ids are stored as SQL NULL. */
typedef struct RefusalRecord
{
	int64		iccid;
	const char *terminal_id;
	const char *reason;
	bool		has_imei;
	int64		imei;
	bool		has_imsi;
	int64		imsi;
	bool		has_imeisv;
	int64		imeisv;
	int64		binding_id;
	int64		device_binding_id;
	int64		uicc_binding_id;
	int64		block_id;
} RefusalRecord;

/*
 * Records a refusal in the compact log, mtcbind.refusal (within an SPI
 * connection); returns the code of mtcbind.refusal_subject it names, and
 * its time in *refused_at.
 */
extern int64 audit_record_refusal(const RefusalRecord *r, TimestampTz *refused_at);

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
extern void audit_detail_begin_array(AuditDetail *d, const char *key);	/* key NULL: an element */
extern void audit_detail_end_array(AuditDetail *d);
extern void audit_detail_int8_element(AuditDetail *d, int64 value);
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
 * A provision with audit => 'per_load' names its source here: the bindings
 * its INSERT makes are then recorded as one 'bound' event for the statement
 * (which binding ids, how many, from where) instead of one per binding.
 */
extern void audit_context_set_load(const char *source);
extern const char *audit_current_load(void);

/* Announces a recorded refusal on channel mtcbind_rejected. */
extern void audit_notify_rejection(const char *id_key, int64 id, const char *reason,
								   const TimestampTz *refused_at);	/* NULL: no time */

#endif							/* MTCBIND_AUDIT_H */

/*
 * decision.h
 *		The binding rules, each written once: the identities of a pair, how
 *		a pair compares with the binding that holds it, what stands in its
 *		way, and the decision of request_key.  The administration functions
 *		use the same rules and turn a refusal into an SQLSTATE instead.
 */
#ifndef MTCBIND_DECISION_H
#define MTCBIND_DECISION_H

#include "blocks.h"
#include "store.h"

/* The answer of request_key; outcome_text()/reason_text() name them. */
typedef enum Outcome
{
	OUTCOME_BOUND,
	OUTCOME_GRANTED,
	OUTCOME_REJECTED
} Outcome;

typedef enum Reason
{
	REASON_NONE,
	REASON_DEVICE_BOUND_ELSEWHERE,
	REASON_UICC_BOUND_ELSEWHERE,
	REASON_BOTH_BOUND_ELSEWHERE,
	REASON_NOT_PROVISIONED,
	REASON_IDENTITY_MISMATCH,
	REASON_BOOTSTRAP_EXPIRED,
	REASON_UICC_BLOCKED,
	REASON_DEVICE_BLOCKED
} Reason;

extern const char *outcome_text(Outcome outcome);
extern const char *reason_text(Reason reason);	/* NULL for REASON_NONE */

/* The identities of one device/UICC pair. */
typedef struct PairIdentity
{
	const char *terminal_id;	/* server encoding */
	int64		iccid;
	bool		has_imei;		/* given, or derived from the IMEISV */
	int64		imei;
	bool		has_imeisv;
	int64		imeisv;
	bool		has_imsi;
	int64		imsi;
} PairIdentity;

/*
 * The device's hardware identities: an IMEISV names a device too, so it
 * must agree with the IMEI (22023 otherwise) and gives the IMEI when none
 * is given.
 */
extern void pair_set_device(PairIdentity *pair, bool has_imei, int64 imei,
							bool has_imeisv, int64 imeisv);

/* The identities that blocks and their locks concern. */
extern BlockIdentities pair_block_identities(const PairIdentity *pair);

/* How a pair compares with the binding that holds both its UICC and device. */
typedef enum PairMatch
{
	PAIR_SAME,					/* nothing new */
	PAIR_NEW_IDENTITIES,		/* a first IMEI, a new IMEISV or IMSI */
	PAIR_OTHER_IMEI				/* the recorded IMEI differs: another device */
} PairMatch;

typedef struct PairNews
{
	bool		imei;
	bool		imeisv;
	bool		imsi;
} PairNews;

extern PairMatch pair_compare(const PairIdentity *pair, const BindingRow *held,
							  PairNews *news);

/*
 * Records the news on the binding, logged as attribute_changed with a
 * reason naming what changed and who reported it (reported_by).  Returns
 * REASON_NONE when done, REASON_IDENTITY_MISMATCH when the new IMEI or IMSI
 * belongs to another binding; *moved is set when the binding changed
 * meanwhile and the caller must decide again.
 */
extern Reason pair_record_news(const PairIdentity *pair, const BindingRow *held,
							   const PairNews *news, const char *reported_by, bool *moved);

/*
 * What stands in the way of binding a pair, from the bindings holding its
 * UICC (by ICCID), its device (by terminal_id or IMEI) and its IMSI (rows
 * with found = false hold nothing).  REASON_NONE when nothing does.
 */
extern Reason conflict_reason(const PairIdentity *pair, const BindingRow *uicc_holder,
							  const BindingRow *device_holder, const BindingRow *imsi_holder);

/*
 * The binding other than held that holds the pair's IMEI (*is_device true)
 * or IMSI: what stands in the way when held cannot take them.
 */
extern void identity_owner(const PairIdentity *pair, const BindingRow *held,
						   BindingRow *owner, bool *is_device);

/* An identifier's canonical digits (palloc'd), or "not recorded". */
extern const char *ident_digits(bool present, int64 value, int (*to_digits) (int64, char *));

/* The binding row a pair would get: its identities, nothing else set. */
extern NewBinding new_binding_for_pair(const PairIdentity *pair);

/* MB005: new bindings keep drawing ids already taken (the sequence was set back). */
extern void raise_sequence_behind(void) pg_attribute_noreturn();

/* The refusal a blocklist hit means. */
extern Reason block_reason(const BlockHit *hit);

/*
 * Raises the administration functions' error for a refusal: MB001 device
 * bound elsewhere, MB002 UICC bound elsewhere, MB006 UICC blocked, MB007
 * device blocked; the detail names the binding or block in the way.
 */
extern void raise_refusal(Reason reason, const PairIdentity *pair,
						  const BindingRow *holder, int64 block_id) pg_attribute_noreturn();

/*
 * Runs step in a subtransaction, so that a unique violation of
 * mtcbind.binding (another binding holds an identity, or took it
 * meanwhile) undoes just the step.  Returns false when that happened; other
 * errors, unique violations of other tables included, propagate.
 * *completed is what step returned.
 */
typedef bool (*GuardedStep) (void *arg);
extern bool run_guarded(GuardedStep step, void *arg, bool *completed);

/* A request_key call, validated. */
typedef struct BindRequest
{
	PairIdentity pair;
	const char *terminal_appli_id;
	const char *uicc_appli_id;
	bool		first_use_reject;	/* the effective mtcbind.first_use */
	bool		log_key_issue;
	TimestampTz now;			/* the wall clock at the request */
} BindRequest;

typedef struct Decision
{
	Outcome		outcome;
	Reason		reason;
	int64		binding_id;		/* used, made, moved, or in the way; 0: none */
	int64		device_binding_id;	/* refusals: who holds the device */
	int64		uicc_binding_id;	/* ... and who holds the UICC */
	int64		block_id;		/* refusals for a block */
} Decision;

/*
 * The decision of request_key for a bound-or-bindable pair, with every
 * write it needs (binding, move, new identities, key bookkeeping), within
 * an SPI connection.  Races with other requests are settled inside.
 */
extern Decision decide_request(const BindRequest *req);

/* A refusal. */
extern Decision refusal(Reason reason, int64 device_binding_id, int64 uicc_binding_id);

#endif							/* MTCBIND_DECISION_H */

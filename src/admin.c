/*
 * admin.c
 *		The administration of bindings: mtcbind.bind (pre-provisioning),
 *		unbind, authorize_transfer and rebind.  The rules they share with
 *		request_key (an IMEISV names its IMEI, how a pair compares with its
 *		binding, what stands in a binding's way, blocks) come from
 *		decision.c; here a refusal is an error with an MB0xx SQLSTATE.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "args.h"
#include "audit.h"
#include "blocks.h"
#include "decision.h"
#include "errcodes.h"
#include "identifiers.h"
#include "store.h"

PG_FUNCTION_INFO_V1(mtcbind_bind);
PG_FUNCTION_INFO_V1(mtcbind_unbind);
PG_FUNCTION_INFO_V1(mtcbind_authorize_transfer);
PG_FUNCTION_INFO_V1(mtcbind_rebind);

/* Concurrent binds of one pair settle within this many passes. */
#define MAX_BIND_ATTEMPTS	5

#define iccid_text(v) ident_digits(true, (v), iccid_to_digits)

/* Locks the binding of a UICC for update; MB003 (with hint) if there is none. */
static void
lock_held_binding(int64 iccid, BindingRow *held, const char *hint)
{
	store_binding_by_iccid(iccid, true, held);
	if (!held->found)
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_UICC_NOT_BOUND),
				 errmsg("UICC %s is not bound", iccid_text(iccid)),
				 errhint("%s", hint)));
}

/* Refuses with MB006/MB007 if the identities are blocked. */
static void
refuse_if_blocked(const PairIdentity *pair, const BlockIdentities *ids)
{
	BlockHit	hit;

	blocklist_find(ids, false, &hit);
	if (hit.found)
		raise_refusal(block_reason(&hit), pair, NULL, hit.block_id);
}

/* Names the binding that owns an IMEI or IMSI the pair's binding could not take. */
static void
raise_identity_taken(const PairIdentity *pair, const BindingRow *held)
{
	BindingRow	owner;
	bool		is_device;

	identity_owner(pair, held, &owner, &is_device);
	if (owner.found)
		raise_refusal(is_device ? REASON_DEVICE_BOUND_ELSEWHERE : REASON_UICC_BOUND_ELSEWHERE,
					  pair, &owner, 0);
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("the identities of binding %lld changed concurrently",
					(long long) held->binding_id),
			 errhint("Retry.")));
}

/*
 * mtcbind.bind(terminal_id, iccid, imei, imeisv, imsi, note) RETURNS bigint
 * Pre-provisions a pair.  A pair already bound to each other keeps its id;
 * identities given now that it does not record yet are added, a changed
 * IMEISV or IMSI recorded (as request_key does), a new note kept.
 */
Datum
mtcbind_bind(PG_FUNCTION_ARGS)
{
	PairIdentity pair = {0};
	BlockIdentities ids;
	char	   *note = NULL;
	int64		result = 0;
	int			unexplained = 0;

	require_read_committed("mtcbind.bind");
	pair.terminal_id = get_terminal_id_arg(fcinfo, 0, "terminal_id");
	require_arg(fcinfo, 1, "iccid");
	pair.iccid = PG_GETARG_INT64(1);
	pair_set_device(&pair, !PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2),
					!PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3));
	pair.has_imsi = !PG_ARGISNULL(4);
	pair.imsi = pair.has_imsi ? PG_GETARG_INT64(4) : 0;
	if (!PG_ARGISNULL(5))
	{
		text	   *t = PG_GETARG_TEXT_PP(5);

		check_octet_length("note", VARSIZE_ANY_EXHDR(t), 0, REASON_MAX_LEN);
		note = text_to_cstring(t);
	}

	store_connect();
	audit_context_begin();
	audit_context_set_reason(note ? note : "pre-provisioned with mtcbind.bind");
	ids = pair_block_identities(&pair);
	blocklist_lock(false);
	refuse_if_blocked(&pair, &ids);

	for (int attempt = 0; attempt < MAX_BIND_ATTEMPTS && result == 0; attempt++)
	{
		BindingRow	uicc;
		BindingRow	device;
		BindingRow	imsi_owner = {0};
		Reason		reason;
		NewBinding	nb;

		CHECK_FOR_INTERRUPTS();
		store_binding_by_iccid(pair.iccid, true, &uicc);
		store_binding_by_device(pair.terminal_id, pair.has_imei, pair.imei, &device);
		if (pair.has_imsi)
			store_binding_by_imsi(pair.imsi, &imsi_owner);

		if (uicc.found && strcmp(uicc.terminal_id, pair.terminal_id) == 0)
		{
			PairNews	news;
			bool		moved;

			/* The pair itself: its recorded device must be this one. */
			if (pair_compare(&pair, &uicc, &news) == PAIR_OTHER_IMEI)
				ereport(ERROR,
						(errcode(ERRCODE_MTCBIND_DEVICE_BOUND_ELSEWHERE),
						 errmsg("device %s is bound with another IMEI", pair.terminal_id),
						 errdetail("Binding %lld records IMEI %s for terminal_id %s, not %s.",
								   (long long) uicc.binding_id,
								   ident_digits(true, uicc.imei, imei_to_digits),
								   uicc.terminal_id, ident_digits(true, pair.imei, imei_to_digits))));
			if (news.imei || news.imeisv || news.imsi)
			{
				if (pair_record_news(&pair, &uicc, &news, "mtcbind.bind", &moved) != REASON_NONE)
					raise_identity_taken(&pair, &uicc);
				if (moved)
					continue;
			}
			if (note != NULL && (uicc.note == NULL || strcmp(uicc.note, note) != 0))
			{
				audit_context_set_reason(note);
				(void) store_set_note(uicc.binding_id, note);
			}
			result = uicc.binding_id;
			break;
		}

		reason = conflict_reason(&pair, &uicc, &device, &imsi_owner);
		if (reason != REASON_NONE)
			raise_refusal(reason, &pair,
						  reason == REASON_DEVICE_BOUND_ELSEWHERE || reason == REASON_IDENTITY_MISMATCH
						  ? &device : (uicc.found ? &uicc : &imsi_owner), 0);

		nb = new_binding_for_pair(&pair);
		nb.note = note;
		if (store_insert_binding(&nb, &result))
			break;
		/* Nothing held any identity, yet the insert conflicted twice: the sequence. */
		if (!uicc.found && !device.found && !imsi_owner.found && ++unexplained >= 2)
			raise_sequence_behind();
	}
	if (result == 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not settle the binding of terminal_id %s after concurrent changes",
						pair.terminal_id),
				 errhint("Retry.")));
	audit_context_clear();
	store_finish();
	PG_RETURN_INT64(result);
}

/*
 * mtcbind.unbind(iccid, reason) RETURNS boolean
 * Frees a UICC and its device (true if there was a binding).  For a card
 * that must not be used again, block_uicc is the function: an unbound card
 * binds again on its next request.
 */
Datum
mtcbind_unbind(PG_FUNCTION_ARGS)
{
	char	   *reason;
	int64		iccid;
	BindingRow	held;

	require_read_committed("mtcbind.unbind");
	require_arg(fcinfo, 0, "iccid");
	reason = get_reason_arg(fcinfo, 1, true);
	iccid = PG_GETARG_INT64(0);

	store_connect();
	audit_context_begin();
	audit_context_set_reason(reason);
	/* The lock order of every binding writer: the blocklist, then the row. */
	blocklist_lock(false);
	store_binding_by_iccid(iccid, true, &held);
	if (held.found)
	{
		store_revoke_transfers(iccid, GetCurrentTimestamp(),
							   psprintf("binding removed: %s", reason));
		store_delete_binding(iccid, &held);
	}
	audit_context_clear();
	store_finish();
	PG_RETURN_BOOL(held.found);
}

/*
 * mtcbind.authorize_transfer(iccid, new_terminal_id, valid_for, reason)
 * RETURNS bigint
 * The "update according to user requirement": the next request_key for
 * this UICC from new_terminal_id (or any unbound device) within valid_for,
 * judged by the wall clock, moves the binding; once.
 */
Datum
mtcbind_authorize_transfer(PG_FUNCTION_ARGS)
{
	PairIdentity pair = {0};
	BlockIdentities ids = {0};
	char	   *reason;
	Interval   *valid_for;
	Interval	zero = {0};
	Interval	longest = {0};
	TimestampTz now;
	TimestampTz valid_until;
	BindingRow	held;
	int64		authorization_id;

	require_read_committed("mtcbind.authorize_transfer");
	require_arg(fcinfo, 0, "iccid");
	pair.iccid = PG_GETARG_INT64(0);
	if (!PG_ARGISNULL(1))
		pair.terminal_id = get_terminal_id_arg(fcinfo, 1, "new_terminal_id");
	require_arg(fcinfo, 2, "valid_for");
	valid_for = PG_GETARG_INTERVAL_P(2);
	longest.day = 3650;
	if (DatumGetBool(DirectFunctionCall2(interval_le, IntervalPGetDatum(valid_for),
										 IntervalPGetDatum(&zero))) ||
		DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(valid_for),
										 IntervalPGetDatum(&longest))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("valid_for must be a positive interval of at most 3650 days")));
	reason = get_reason_arg(fcinfo, 3, false);
	now = GetCurrentTimestamp();
	valid_until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
														  TimestampTzGetDatum(now),
														  IntervalPGetDatum(valid_for)));

	store_connect();
	audit_context_begin();
	audit_context_set_reason(reason);
	ids.has_iccid = true;
	ids.iccid = pair.iccid;
	ids.terminal_id = pair.terminal_id;
	/* A block of the card that commits now waits for us, then voids the authorisation. */
	blocklist_lock(false);
	refuse_if_blocked(&pair, &ids);

	/* Locking the binding row serialises authorisations, unbinds, transfers. */
	lock_held_binding(pair.iccid, &held,
					  "An unbound UICC needs no transfer: its next request binds it, or, where first use is refused, mtcbind.bind binds it now.");
	if (pair.terminal_id != NULL)
	{
		BindingRow	other;

		if (strcmp(held.terminal_id, pair.terminal_id) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_ALREADY_BOUND_THERE),
					 errmsg("UICC %s is already bound to terminal_id %s",
							iccid_text(pair.iccid), pair.terminal_id)));
		store_binding_by_device(pair.terminal_id, false, 0, &other);
		if (other.found)
			raise_refusal(REASON_DEVICE_BOUND_ELSEWHERE, &pair, &other, 0);
	}

	store_revoke_transfers(pair.iccid, now, "superseded by a new authorisation");
	authorization_id = store_insert_transfer(held.binding_id, pair.iccid, pair.terminal_id,
											 valid_until, reason);
	{
		AuditEvent	ev = {.event = "transfer_authorized"};
		AuditDetail detail;

		ev.binding_id = held.binding_id;
		ev.terminal_id = held.terminal_id;
		ev.has_iccid = true;
		ev.iccid = held.iccid;
		ev.reason = reason;
		audit_detail_begin(&detail);
		audit_detail_int8(&detail, "authorization_id", authorization_id);
		audit_detail_text(&detail, "new_terminal_id", pair.terminal_id);
		audit_detail_text(&detail, "valid_until", timestamptz_to_str(valid_until));
		ev.detail = audit_detail_end(&detail);
		audit_record(&ev);
	}
	audit_context_clear();
	store_finish();
	PG_RETURN_INT64(authorization_id);
}

typedef struct MoveStep
{
	const BindingRow *held;
	const NewBinding *nb;
} MoveStep;

static bool
move_step(void *arg)
{
	MoveStep   *s = (MoveStep *) arg;

	return store_move_binding(s->held->binding_id, s->held->terminal_id, s->nb);
}

/*
 * mtcbind.rebind(iccid, new_terminal_id, reason) RETURNS bigint
 * Moves the binding of a UICC to another device now (a damaged device
 * replaced).  The old device's hardware identities go with it; the new
 * device's are recorded at its first request.  The binding keeps its id.
 */
Datum
mtcbind_rebind(PG_FUNCTION_ARGS)
{
	PairIdentity pair = {0};
	BlockIdentities ids;
	char	   *reason;
	BindingRow	held;
	BindingRow	other;
	NewBinding	nb;
	MoveStep	step = {&held, &nb};
	bool		completed;

	require_read_committed("mtcbind.rebind");
	require_arg(fcinfo, 0, "iccid");
	pair.iccid = PG_GETARG_INT64(0);
	pair.terminal_id = get_terminal_id_arg(fcinfo, 1, "new_terminal_id");
	reason = get_reason_arg(fcinfo, 2, true);

	store_connect();
	audit_context_begin();
	audit_context_set_reason(reason);
	ids = pair_block_identities(&pair);
	blocklist_lock(false);
	refuse_if_blocked(&pair, &ids);

	lock_held_binding(pair.iccid, &held, "Use mtcbind.bind to bind an unbound UICC.");
	if (strcmp(held.terminal_id, pair.terminal_id) == 0)
	{
		/* Kept where it is: a pending transfer elsewhere is void too. */
		store_revoke_transfers(pair.iccid, GetCurrentTimestamp(),
							   psprintf("binding kept by mtcbind.rebind: %s", reason));
		audit_context_clear();
		store_finish();
		PG_RETURN_INT64(held.binding_id);
	}
	store_binding_by_device(pair.terminal_id, false, 0, &other);
	if (other.found)
		raise_refusal(REASON_DEVICE_BOUND_ELSEWHERE, &pair, &other, 0);

	memset(&nb, 0, sizeof(nb));
	nb.terminal_id = pair.terminal_id;
	nb.iccid = pair.iccid;
	nb.terminal_appli_id = "";
	if (!run_guarded(move_step, &step, &completed))
		ereport(ERROR,
				(errcode(ERRCODE_MTCBIND_DEVICE_BOUND_ELSEWHERE),
				 errmsg("device %s is bound elsewhere", pair.terminal_id),
				 errdetail("It was bound by a concurrent transaction.")));
	if (!completed)
		elog(ERROR, "mtcbind: binding %lld moved although it was locked",
			 (long long) held.binding_id);
	store_revoke_transfers(pair.iccid, GetCurrentTimestamp(), "binding moved by mtcbind.rebind");
	audit_context_clear();
	store_finish();
	PG_RETURN_INT64(held.binding_id);
}

/*
 * decision.c
 *		The binding rules and the decision of request_key (decision.h).
 *
 * The invariant (a device, a UICC, an IMEI, an IMSI each in at most one
 * binding) is carried by UNIQUE constraints on mtcbind.binding, so it holds
 * whatever this code does.  This code's job is to answer every request
 * with one row and never an error when requests race: each write is
 * conditional (ON CONFLICT DO NOTHING, UPDATE ... WHERE the row is still as
 * read, or a subtransaction that catches a unique violation), and when a
 * write finds the world changed, the decision is taken again with fresh
 * statements, which under READ COMMITTED see what committed meanwhile.
 *
 * Lock order, shared with the administration functions: the blocklist lock
 * (blocks.c), then the binding row, then its transfer authorisation.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "audit.h"
#include "decision.h"
#include "fastpath.h"
#include "errcodes.h"
#include "identifiers.h"

/* A decision that finds the world changed under it is retaken this often. */
#define MAX_DECISION_ATTEMPTS	10


/* ---------- names ---------- */

/* The outcome as request_key returns it. */
const char *
outcome_text(Outcome outcome)
{
	switch (outcome)
	{
		case OUTCOME_BOUND:
			return "bound";
		case OUTCOME_GRANTED:
			return "granted";
		case OUTCOME_REJECTED:
			return "rejected";
	}
	elog(ERROR, "mtcbind: unknown outcome %d", (int) outcome);
	return NULL;				/* keep compiler quiet */
}

/* The refusal reason as request_key returns it and the event log records it. */
const char *
reason_text(Reason reason)
{
	switch (reason)
	{
		case REASON_NONE:
			return NULL;
		case REASON_DEVICE_BOUND_ELSEWHERE:
			return "device_bound_elsewhere";
		case REASON_UICC_BOUND_ELSEWHERE:
			return "uicc_bound_elsewhere";
		case REASON_BOTH_BOUND_ELSEWHERE:
			return "both_bound_elsewhere";
		case REASON_NOT_PROVISIONED:
			return "not_provisioned";
		case REASON_IDENTITY_MISMATCH:
			return "identity_mismatch";
		case REASON_BOOTSTRAP_EXPIRED:
			return "bootstrap_expired";
		case REASON_UICC_BLOCKED:
			return "uicc_blocked";
		case REASON_DEVICE_BLOCKED:
			return "device_blocked";
	}
	elog(ERROR, "mtcbind: unknown reason %d", (int) reason);
	return NULL;				/* keep compiler quiet */
}


/* ---------- rules about one pair ---------- */

/* See decision.h. */
void
pair_set_device(PairIdentity *pair, bool has_imei, int64 imei,
				bool has_imeisv, int64 imeisv)
{
	pair->has_imei = has_imei;
	pair->imei = has_imei ? imei : 0;
	pair->has_imeisv = has_imeisv;
	pair->imeisv = has_imeisv ? imeisv : 0;
	if (!has_imeisv)
		return;
	if (has_imei && imei_of_imeisv(imeisv) != imei)
	{
		char		imei_digits[MTCBIND_IDENT_BUFLEN];
		char		imeisv_digits[MTCBIND_IDENT_BUFLEN];
		char		imei_of_imeisv_digits[MTCBIND_IDENT_BUFLEN];

		imei_to_digits(imei, imei_digits);
		imeisv_to_digits(imeisv, imeisv_digits);
		imei_to_digits(imei_of_imeisv(imeisv), imei_of_imeisv_digits);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("imeisv does not belong to imei"),
				 errdetail("IMEISV %s names the device with IMEI %s, not %s.",
						   imeisv_digits, imei_of_imeisv_digits, imei_digits)));
	}
	pair->has_imei = true;
	pair->imei = imei_of_imeisv(imeisv);
}

/* See decision.h. */
BlockIdentities
pair_block_identities(const PairIdentity *pair)
{
	BlockIdentities ids;

	ids.has_iccid = true;
	ids.iccid = pair->iccid;
	ids.terminal_id = pair->terminal_id;
	ids.has_imei = pair->has_imei;
	ids.imei = pair->imei;
	return ids;
}

/*
 * Reads of a binding for the decision: through the unique index directly
 * (fastpath.c), or by SPI when the table is not as expected.  Both see
 * what committed before the read.
 */
static void
read_by_iccid(int64 iccid, BindingRow *row)
{
	if (!fastpath_binding(FAST_BY_ICCID, Int64GetDatum(iccid), row))
		store_binding_by_iccid(iccid, false, row);
}

/* The binding that holds a device, by terminal_id first, else by IMEI. */
static void
read_by_device(const char *terminal_id, bool has_imei, int64 imei, BindingRow *row)
{
	if (!fastpath_binding(FAST_BY_TERMINAL_ID, PointerGetDatum(cstring_to_text(terminal_id)), row) ||
		(!row->found && has_imei &&
		 !fastpath_binding(FAST_BY_IMEI, Int64GetDatum(imei), row)))
		store_binding_by_device(terminal_id, has_imei, imei, row);
}

static void
read_by_imsi(int64 imsi, BindingRow *row)
{
	if (!fastpath_binding(FAST_BY_IMSI, Int64GetDatum(imsi), row))
		store_binding_by_imsi(imsi, row);
}

/* See decision.h. */
PairMatch
pair_compare(const PairIdentity *pair, const BindingRow *held, PairNews *news)
{
	memset(news, 0, sizeof(*news));
	/* A known device presented with another IMEI is not the same device. */
	if (pair->has_imei && held->has_imei && pair->imei != held->imei)
		return PAIR_OTHER_IMEI;
	/* A software update changes the IMEISV; a multi-IMSI card its IMSI. */
	news->imei = pair->has_imei && !held->has_imei;
	news->imeisv = pair->has_imeisv && (!held->has_imeisv || held->imeisv != pair->imeisv);
	news->imsi = pair->has_imsi && (!held->has_imsi || held->imsi != pair->imsi);
	return (news->imei || news->imeisv || news->imsi) ? PAIR_NEW_IDENTITIES : PAIR_SAME;
}

typedef struct NewsStep
{
	const PairIdentity *pair;
	const BindingRow *held;
	const PairNews *news;
} NewsStep;

static bool
news_step(void *arg)
{
	NewsStep   *s = (NewsStep *) arg;

	return store_record_identities(s->held,
								   s->news->imei, s->pair->imei,
								   s->news->imeisv, s->pair->imeisv,
								   s->news->imsi, s->pair->imsi);
}

/* See decision.h. */
Reason
pair_record_news(const PairIdentity *pair, const BindingRow *held,
				 const PairNews *news, const char *reported_by, bool *moved)
{
	NewsStep	step = {pair, held, news};
	StringInfoData why;
	bool		completed;

	*moved = false;
	initStringInfo(&why);
	if (news->imei)
		appendStringInfoString(&why, "IMEI recorded, ");
	if (news->imeisv)
		appendStringInfoString(&why, held->has_imeisv ? "IMEISV changed, " : "IMEISV recorded, ");
	if (news->imsi)
		appendStringInfoString(&why, held->has_imsi ? "IMSI changed, " : "IMSI recorded, ");
	appendStringInfo(&why, "reported by %s", reported_by);
	audit_context_set_reason(why.data);
	if (!run_guarded(news_step, &step, &completed))
		return REASON_IDENTITY_MISMATCH;	/* the IMEI or IMSI is another binding's */
	*moved = !completed;
	return REASON_NONE;
}

/* See decision.h. */
Reason
conflict_reason(const PairIdentity *pair, const BindingRow *uicc_holder,
				const BindingRow *device_holder, const BindingRow *imsi_holder)
{
	if (uicc_holder->found && device_holder->found &&
		uicc_holder->binding_id == device_holder->binding_id)
	{
		/* The pair's own binding, or the same device under another name. */
		if (strcmp(uicc_holder->terminal_id, pair->terminal_id) == 0)
			return REASON_NONE;
		return REASON_IDENTITY_MISMATCH;
	}
	if (uicc_holder->found && device_holder->found)
		return REASON_BOTH_BOUND_ELSEWHERE;
	if (uicc_holder->found)
		return REASON_UICC_BOUND_ELSEWHERE;
	if (device_holder->found)
		return REASON_DEVICE_BOUND_ELSEWHERE;
	/* The card's IMSI on another binding: the card is bound elsewhere. */
	if (imsi_holder->found)
		return REASON_UICC_BOUND_ELSEWHERE;
	return REASON_NONE;
}

/* See decision.h. */
void
identity_owner(const PairIdentity *pair, const BindingRow *held,
			   BindingRow *owner, bool *is_device)
{
	*is_device = false;
	if (pair->has_imei)
	{
		/* terminal_id "" matches no binding: look by IMEI alone */
		read_by_device("", true, pair->imei, owner);
		if (owner->found && owner->binding_id != held->binding_id)
		{
			*is_device = true;
			return;
		}
	}
	memset(owner, 0, sizeof(*owner));
	if (pair->has_imsi)
	{
		read_by_imsi(pair->imsi, owner);
		if (owner->found && owner->binding_id == held->binding_id)
			memset(owner, 0, sizeof(*owner));
	}
}

/* See decision.h. */
Reason
block_reason(const BlockHit *hit)
{
	if (!hit->found)
		return REASON_NONE;
	return hit->uicc ? REASON_UICC_BLOCKED : REASON_DEVICE_BLOCKED;
}

/* See decision.h. */
const char *
ident_digits(bool present, int64 value, int (*to_digits) (int64, char *))
{
	char	   *buf;

	if (!present)
		return "not recorded";
	buf = palloc(MTCBIND_IDENT_BUFLEN);
	to_digits(value, buf);
	return buf;
}

/* See decision.h. */
void
raise_refusal(Reason reason, const PairIdentity *pair, const BindingRow *holder,
			  int64 block_id)
{
	const char *iccid = ident_digits(true, pair->iccid, iccid_to_digits);

	switch (reason)
	{
		case REASON_DEVICE_BOUND_ELSEWHERE:
		case REASON_IDENTITY_MISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_DEVICE_BOUND_ELSEWHERE),
					 strcmp(holder->terminal_id, pair->terminal_id) == 0 || !pair->has_imei
					 ? errmsg("device %s is bound elsewhere", pair->terminal_id)
					 : errmsg("IMEI %s of device %s is bound elsewhere",
							  ident_digits(true, pair->imei, imei_to_digits),
							  pair->terminal_id),
					 errdetail("Binding %lld holds terminal_id %s (IMEI %s) with ICCID %s.",
							   (long long) holder->binding_id, holder->terminal_id,
							   ident_digits(holder->has_imei, holder->imei, imei_to_digits),
							   ident_digits(true, holder->iccid, iccid_to_digits))));
			break;
		case REASON_UICC_BOUND_ELSEWHERE:
		case REASON_BOTH_BOUND_ELSEWHERE:
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_UICC_BOUND_ELSEWHERE),
					 holder->iccid == pair->iccid || !pair->has_imsi
					 ? errmsg("UICC %s is bound elsewhere", iccid)
					 : errmsg("IMSI %s of UICC %s is bound elsewhere",
							  ident_digits(true, pair->imsi, imsi_to_digits), iccid),
					 errdetail("Binding %lld holds ICCID %s (IMSI %s) with terminal_id %s.",
							   (long long) holder->binding_id,
							   ident_digits(true, holder->iccid, iccid_to_digits),
							   ident_digits(holder->has_imsi, holder->imsi, imsi_to_digits),
							   holder->terminal_id)));
			break;
		case REASON_UICC_BLOCKED:
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_UICC_BLOCKED),
					 errmsg("UICC %s is blocked", iccid),
					 errdetail("It is on the blocklist (block %lld).", (long long) block_id),
					 errhint("mtcbind.unblock_uicc lifts the block.")));
			break;
		case REASON_DEVICE_BLOCKED:
			ereport(ERROR,
					(errcode(ERRCODE_MTCBIND_DEVICE_BLOCKED),
					 errmsg("device %s is blocked", pair->terminal_id),
					 errdetail("Its terminal_id or IMEI is on the blocklist (block %lld).",
							   (long long) block_id),
					 errhint("mtcbind.unblock_device lifts the block.")));
			break;
		default:
			elog(ERROR, "mtcbind: refusal %d has no SQLSTATE", (int) reason);
	}
	pg_unreachable();
}

/*
 * A unique violation of mtcbind.binding itself: its device, UICC, IMEI or
 * IMSI taken (or its id, when the sequence is behind).  Any other error,
 * also a unique violation elsewhere (an event id, when the event log's
 * sequence was set back), is not a conflict of identities and is raised as
 * it is.
 */
static bool
is_binding_conflict(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION &&
		edata->schema_name != NULL && strcmp(edata->schema_name, "mtcbind") == 0 &&
		edata->table_name != NULL && strcmp(edata->table_name, "binding") == 0;
}

/* See decision.h. */
bool
run_guarded(GuardedStep step, void *arg, bool *completed)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	volatile bool unique_violation = false;

	*completed = false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller_context);
	PG_TRY();
	{
		bool		done = step(arg);

		if (done)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
		*completed = done;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller_context);
		CurrentResourceOwner = caller_owner;
		if (!is_binding_conflict(edata))
			ReThrowError(edata);
		FreeErrorData(edata);
		unique_violation = true;
	}
	PG_END_TRY();
	return !unique_violation;
}


/* ---------- the decision of request_key ---------- */

/* See decision.h. */
Decision
refusal(Reason reason, int64 device_binding_id, int64 uicc_binding_id)
{
	Decision	d = {OUTCOME_REJECTED, reason, 0, device_binding_id, uicc_binding_id, 0};

	d.binding_id = uicc_binding_id ? uicc_binding_id : device_binding_id;
	return d;
}

/* A granted or bound answer. */
static Decision
keyed(Outcome outcome, int64 binding_id)
{
	Decision	d = {outcome, REASON_NONE, binding_id, 0, 0, 0};

	return d;
}

/* See decision.h. */
NewBinding
new_binding_for_pair(const PairIdentity *pair)
{
	NewBinding	nb;

	memset(&nb, 0, sizeof(nb));
	nb.terminal_id = pair->terminal_id;
	nb.iccid = pair->iccid;
	nb.has_imei = pair->has_imei;
	nb.imei = pair->imei;
	nb.has_imeisv = pair->has_imeisv;
	nb.imeisv = pair->imeisv;
	nb.has_imsi = pair->has_imsi;
	nb.imsi = pair->imsi;
	return nb;
}

/* See decision.h. */
void
raise_sequence_behind(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_MTCBIND_SEQUENCE_BEHIND),
			 errmsg("mtcbind.binding_binding_id_seq is behind the ids in mtcbind.binding"),
			 errdetail("New bindings draw ids that are already taken."),
			 errhint("As the owner: SELECT pg_catalog.setval('mtcbind.binding_binding_id_seq', (SELECT max(binding_id) FROM mtcbind.binding));")));
}

/* The binding as the request's device would hold it. */
static NewBinding
binding_from_request(const BindRequest *req)
{
	NewBinding	nb = new_binding_for_pair(&req->pair);

	nb.terminal_appli_id = req->terminal_appli_id;
	nb.uicc_appli_id = req->uicc_appli_id;
	nb.key_issued_at = req->log_key_issue ? req->now : 0;
	return nb;
}

/*
 * The pair is bound to each other: check the device against the record,
 * record new identities, count the key, grant.  False: decide again.
 */
static bool
decide_own_binding(const BindRequest *req, const BindingRow *held, Decision *decision)
{
	PairNews	news;
	bool		moved;

	/*
	 * A device blocked by the IMEI its binding records is refused even when
	 * the request leaves the IMEI out.
	 */
	if (held->blocked)
	{
		BlockIdentities recorded = {true, held->iccid, held->terminal_id,
		held->has_imei, held->imei};
		BlockHit	hit;

		blocklist_find(&recorded, false, &hit);
		if (hit.found)
		{
			*decision = refusal(block_reason(&hit), 0, 0);
			decision->block_id = hit.block_id;
			return true;
		}
	}

	switch (pair_compare(&req->pair, held, &news))
	{
		case PAIR_OTHER_IMEI:
			*decision = refusal(REASON_IDENTITY_MISMATCH, held->binding_id, held->binding_id);
			return true;
		case PAIR_NEW_IDENTITIES:
			if (pair_record_news(&req->pair, held, &news, "request_key", &moved) != REASON_NONE)
			{
				BindingRow	owner;
				bool		is_device;

				/* Name the binding that holds the new IMEI or IMSI. */
				identity_owner(&req->pair, held, &owner, &is_device);
				*decision = refusal(REASON_IDENTITY_MISMATCH,
									owner.found && is_device ? owner.binding_id : 0,
									owner.found && !is_device ? owner.binding_id : 0);
				if (!owner.found)
					decision->binding_id = held->binding_id;
				return true;
			}
			if (moved)
				return false;
			break;
		case PAIR_SAME:
			break;
	}
	if (req->log_key_issue &&
		!store_touch(held->binding_id, held->terminal_id, req->now))
		return false;
	*decision = keyed(OUTCOME_GRANTED, held->binding_id);
	return true;
}

typedef struct TransferStep
{
	const BindRequest *req;
	const BindingRow *held;
	int64		authorization_id;
} TransferStep;

/* Binding row locked first, then the authorisation spent, then the move. */
static bool
transfer_step(void *arg)
{
	TransferStep *s = (TransferStep *) arg;
	NewBinding	nb = binding_from_request(s->req);

	if (!store_lock_binding(s->held->binding_id, s->held->terminal_id))
		return false;
	if (!store_use_transfer(s->authorization_id, s->req->pair.terminal_id))
		return false;
	return store_move_binding(s->held->binding_id, s->held->terminal_id, &nb);
}

/*
 * The UICC is bound to another device.  A pending transfer authorisation
 * for this device moves the binding; otherwise the request is refused.
 */
static bool
decide_foreign_uicc(const BindRequest *req, const BindingRow *held, Decision *decision)
{
	BindingRow	device;
	BindingRow	no_imsi_holder = {0};
	OpenTransfer transfer;
	Reason		reason;

	read_by_device(req->pair.terminal_id, req->pair.has_imei, req->pair.imei, &device);
	store_open_transfer(held->binding_id, &transfer);

	if (transfer.found && !device.found &&
		(transfer.new_terminal_id == NULL ||
		 strcmp(transfer.new_terminal_id, req->pair.terminal_id) == 0))
	{
		TransferStep step = {req, held, transfer.authorization_id};
		bool		completed;

		/* An IMSI the new device reports must not belong to another card. */
		if (req->pair.has_imsi)
		{
			BindingRow	owner;

			read_by_imsi(req->pair.imsi, &owner);
			if (owner.found && owner.binding_id != held->binding_id)
			{
				*decision = refusal(REASON_IDENTITY_MISMATCH, 0, owner.binding_id);
				return true;
			}
		}
		audit_context_set_reason(psprintf("transfer authorisation %lld used%s%s",
										  (long long) transfer.authorization_id,
										  transfer.reason ? ": " : "",
										  transfer.reason ? transfer.reason : ""));
		if (!run_guarded(transfer_step, &step, &completed) || !completed)
			return false;
		*decision = keyed(OUTCOME_BOUND, held->binding_id);
		return true;
	}

	reason = conflict_reason(&req->pair, held, &device, &no_imsi_holder);
	*decision = refusal(reason, device.found ? device.binding_id : 0, held->binding_id);
	return true;
}

/*
 * Nothing holds the UICC: refuse if the device or the IMSI is taken or
 * policy forbids first use, else bind.
 */
static bool
decide_free_uicc(const BindRequest *req, Decision *decision, int *unexplained)
{
	BindingRow	no_uicc_holder = {0};
	BindingRow	device;
	BindingRow	imsi_owner = {0};
	NewBinding	nb;
	Reason		reason;
	int64		binding_id;

	read_by_device(req->pair.terminal_id, req->pair.has_imei, req->pair.imei, &device);
	if (req->pair.has_imsi && !device.found)
		read_by_imsi(req->pair.imsi, &imsi_owner);

	/*
	 * Each statement sees what committed before it: a binding of this very
	 * UICC that committed after the UICC was looked up (a concurrent request
	 * for the same pair) is not "bound elsewhere".  Decide again, with the
	 * UICC's holder in view.
	 */
	if ((device.found && device.iccid == req->pair.iccid) ||
		(imsi_owner.found && imsi_owner.iccid == req->pair.iccid))
		return false;
	reason = conflict_reason(&req->pair, &no_uicc_holder, &device, &imsi_owner);
	if (reason != REASON_NONE)
	{
		*decision = refusal(reason, device.found ? device.binding_id : 0,
							imsi_owner.found ? imsi_owner.binding_id : 0);
		return true;
	}
	if (req->first_use_reject)
	{
		*decision = refusal(REASON_NOT_PROVISIONED, 0, 0);
		return true;
	}

	audit_context_set_reason("first use (mtcbind.first_use = bind)");
	nb = binding_from_request(req);

	/*
	 * A concurrent first request for the same UICC or device wins here, and
	 * the next pass sees it.  A conflict that the next pass cannot explain
	 * either is on binding_id alone: the sequence is behind the table.
	 */
	if (!store_insert_binding(&nb, &binding_id))
	{
		if (++(*unexplained) >= 2)
			raise_sequence_behind();
		return false;
	}
	*decision = keyed(OUTCOME_BOUND, binding_id);
	return true;
}

/* See decision.h. */
Decision
decide_request(const BindRequest *req)
{
	BlockIdentities ids = pair_block_identities(&req->pair);
	BlockHit	hit;
	Decision	decision;
	int			unexplained = 0;	/* first-use inserts that lost to no one */

	/* Until commit, no block can slip in unseen. */
	blocklist_lock(false);
	blocklist_find(&ids, false, &hit);
	if (hit.found)
	{
		decision = refusal(block_reason(&hit), 0, 0);
		decision.block_id = hit.block_id;
		return decision;
	}

	for (int attempt = 0; attempt < MAX_DECISION_ATTEMPTS; attempt++)
	{
		BindingRow	held;
		bool		settled;

		CHECK_FOR_INTERRUPTS();
		memset(&decision, 0, sizeof(decision));
		read_by_iccid(req->pair.iccid, &held);
		if (!held.found)
			settled = decide_free_uicc(req, &decision, &unexplained);
		else if (strcmp(held.terminal_id, req->pair.terminal_id) == 0)
			settled = decide_own_binding(req, &held, &decision);
		else
			settled = decide_foreign_uicc(req, &held, &decision);
		if (settled)
			return decision;
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not settle the binding decision after %d attempts",
					MAX_DECISION_ATTEMPTS),
			 errdetail("Concurrent changes to the same binding kept winning."),
			 errhint("Retry the request.")));
	return decision;			/* keep compiler quiet */
}

/*
 * request.c
 *		mtcbind.request_key: the NAF Key Center's answer to a Ks_local
 *		request (TS 33.110), one row always.  This file reads and checks the
 *		arguments, takes the fast path or the full decision (decision.c),
 *		records refusals and key issues, and derives the key.
 *
 * Time is the wall clock at the request, not the transaction's start: a
 * bootstrap that expired while a long transaction ran is expired, and a key
 * is never issued already expired.  Copies of Ks_int_NAF and of the derived
 * key that this call makes are wiped when it ends, also when it fails
 * (a reset callback of its memory context).
 */
#include "postgres.h"

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "args.h"
#include "audit.h"
#include "decision.h"
#include "encoding.h"
#include "fastpath.h"
#include "stats.h"
#include "identifiers.h"
#include "kdf.h"
#include "policy.h"
#include "store.h"

PG_FUNCTION_INFO_V1(request_key);

/* Limits on request fields, documented in docs/naf-guide.md. */
#define NAF_ID_MIN_LEN		(1 + MTCBIND_UA_PROTOCOL_LEN)
#define NAF_ID_MAX_LEN		(255 + MTCBIND_UA_PROTOCOL_LEN)
#define B_TID_MAX_LEN		1024

/* Buffers this call must wipe when its memory context goes. */
#define MAX_SECRETS 16

typedef struct Secrets
{
	MemoryContextCallback callback;
	int			n;
	void	   *buf[MAX_SECRETS];
	size_t		len[MAX_SECRETS];
} Secrets;

/* Wipes every registered buffer (at reset or delete of the context). */
static void
wipe_secrets(void *arg)
{
	Secrets    *s = (Secrets *) arg;

	for (int i = 0; i < s->n; i++)
		mtcbind_wipe(s->buf[i], s->len[i]);
	s->n = 0;
}

/* A list of buffers wiped when the current memory context is reset or freed. */
static Secrets *
secrets_new(void)
{
	Secrets    *s = palloc0(sizeof(Secrets));

	s->callback.func = wipe_secrets;
	s->callback.arg = s;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &s->callback);
	return s;
}

static void
secrets_add(Secrets *s, void *buf, size_t len)
{
	if (s->n >= MAX_SECRETS)
		elog(ERROR, "mtcbind: too many buffers to wipe");
	s->buf[s->n] = buf;
	s->len[s->n] = len;
	s->n++;
}

/* A validated request. */
typedef struct KeyRequest
{
	BindRequest bind;			/* pair, application ids, policy, clock */
	TimestampTz ks_int_naf_expiry;
	const char *naf_id;
	size_t		naf_id_len;
	KsLocalInput kdf_input;		/* texts in UTF-8; RANDs drawn at issue */
	char		iccid_digits[MTCBIND_IDENT_BUFLEN];
} KeyRequest;

/* A text argument as the KDF takes it (UTF-8), with copies made wiped later. */
static const char *
kdf_text(const char *data, size_t len, const char *name, size_t *utf8_len, Secrets *secrets)
{
	const char *utf8 = mtcbind_text_to_utf8(data, len, name, utf8_len);

	if (utf8 != data)
		secrets_add(secrets, (void *) utf8, *utf8_len);
	return utf8;
}

/* Reads and validates every argument; raises an error before any write. */
static void
read_request(FunctionCallInfo fcinfo, KeyRequest *req, Secrets *secrets)
{
	bytea	   *naf_id;
	text	   *b_tid;
	bytea	   *ks_int_naf;
	text	   *appli;
	PairIdentity *pair = &req->bind.pair;
	KsLocalInput *in = &req->kdf_input;

	memset(req, 0, sizeof(*req));
	require_arg(fcinfo, 0, "naf_id");
	require_arg(fcinfo, 1, "b_tid");
	require_arg(fcinfo, 2, "ks_int_naf");
	require_arg(fcinfo, 3, "ks_int_naf_expiry");
	require_arg(fcinfo, 5, "iccid");
	require_arg(fcinfo, 9, "terminal_appli_id");
	require_arg(fcinfo, 10, "uicc_appli_id");

	naf_id = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(naf_id) < NAF_ID_MIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naf_id is too short"),
				 errdetail("It has %zu octets; a NAF_Id is the NAF's FQDN followed by the %d-octet Ua security protocol identifier, so at least %d.",
						   (size_t) VARSIZE_ANY_EXHDR(naf_id),
						   MTCBIND_UA_PROTOCOL_LEN, NAF_ID_MIN_LEN)));
	check_octet_length("naf_id", VARSIZE_ANY_EXHDR(naf_id), NAF_ID_MIN_LEN, NAF_ID_MAX_LEN);
	/* Its FQDN is text, UTF-8 (TS 33.220 B.2.1): it is recorded and read as such. */
	if (!pg_verify_mbstr(PG_UTF8, VARDATA_ANY(naf_id),
						 VARSIZE_ANY_EXHDR(naf_id) - MTCBIND_UA_PROTOCOL_LEN, true) ||
		memchr(VARDATA_ANY(naf_id), '\0', VARSIZE_ANY_EXHDR(naf_id) - MTCBIND_UA_PROTOCOL_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naf_id does not start with a UTF-8 FQDN"),
				 errdetail("A NAF_Id is the NAF's FQDN in UTF-8 followed by the %d-octet Ua security protocol identifier; mtcbind.naf_id builds one.",
						   MTCBIND_UA_PROTOCOL_LEN)));

	/*
	 * The organisation octet of the Ua security protocol identifier (TS
	 * 33.220 Annex H): 3GPP, 3GPP2, OMA, GSMA, or 0xFF.  A NAF_Id sent as
	 * text (the FQDN alone, bound as bytea) ends in letters, and would give
	 * a key the device cannot derive.
	 */
	{
		unsigned char org = (unsigned char) VARDATA_ANY(naf_id)[VARSIZE_ANY_EXHDR(naf_id) - MTCBIND_UA_PROTOCOL_LEN];

		if (!((org >= 0x01 && org <= 0x04) || org == 0xFF))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("naf_id does not end with a Ua security protocol identifier"),
					 errdetail("Its last %d octets must be one (TS 33.220 Annex H); their first octet, 0x%02x, names no organisation.",
							   MTCBIND_UA_PROTOCOL_LEN, org),
					 errhint("Build the NAF_Id with mtcbind.naf_id(fqdn, ua_protocol), or pass bytes: a text FQDN alone is not a NAF_Id.")));
	}
	req->naf_id = VARDATA_ANY(naf_id);
	req->naf_id_len = VARSIZE_ANY_EXHDR(naf_id);

	b_tid = PG_GETARG_TEXT_PP(1);
	check_octet_length("b_tid", VARSIZE_ANY_EXHDR(b_tid), 1, B_TID_MAX_LEN);

	/* A copy PostgreSQL made to detoast the key is ours to wipe. */
	ks_int_naf = PG_GETARG_BYTEA_PP(2);
	if ((Pointer) ks_int_naf != DatumGetPointer(PG_GETARG_DATUM(2)))
		secrets_add(secrets, ks_int_naf, VARSIZE_ANY(ks_int_naf));
	if (VARSIZE_ANY_EXHDR(ks_int_naf) != MTCBIND_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ks_int_naf must be %d octets, got %zu",
						MTCBIND_KEY_LEN, (size_t) VARSIZE_ANY_EXHDR(ks_int_naf))));

	req->ks_int_naf_expiry = PG_GETARG_TIMESTAMPTZ(3);
	pair->terminal_id = get_terminal_id_arg(fcinfo, 4, "terminal_id");
	pair->iccid = PG_GETARG_INT64(5);
	pair_set_device(pair, !PG_ARGISNULL(6), PG_ARGISNULL(6) ? 0 : PG_GETARG_INT64(6),
					!PG_ARGISNULL(7), PG_ARGISNULL(7) ? 0 : PG_GETARG_INT64(7));
	pair->has_imsi = !PG_ARGISNULL(8);
	pair->imsi = pair->has_imsi ? PG_GETARG_INT64(8) : 0;

	appli = PG_GETARG_TEXT_PP(9);
	check_octet_length("terminal_appli_id", VARSIZE_ANY_EXHDR(appli), 0, APPLI_ID_MAX_LEN);
	req->bind.terminal_appli_id = text_to_cstring(appli);
	appli = PG_GETARG_TEXT_PP(10);
	check_octet_length("uicc_appli_id", VARSIZE_ANY_EXHDR(appli), 0, APPLI_ID_MAX_LEN);
	req->bind.uicc_appli_id = text_to_cstring(appli);

	/* Prepared now, so that a text with no UTF-8 form fails before any write. */
	in->ks_int_naf = (const unsigned char *) VARDATA_ANY(ks_int_naf);
	in->b_tid = kdf_text(VARDATA_ANY(b_tid), VARSIZE_ANY_EXHDR(b_tid), "b_tid",
						 &in->b_tid_len, secrets);
	in->iccid_len = iccid_to_digits(pair->iccid, req->iccid_digits);
	in->iccid = req->iccid_digits;
	in->terminal_id = kdf_text(pair->terminal_id, strlen(pair->terminal_id), "terminal_id",
							   &in->terminal_id_len, secrets);
	in->terminal_appli_id = kdf_text(req->bind.terminal_appli_id,
									 strlen(req->bind.terminal_appli_id),
									 "terminal_appli_id", &in->terminal_appli_id_len, secrets);
	in->uicc_appli_id = kdf_text(req->bind.uicc_appli_id, strlen(req->bind.uicc_appli_id),
								 "uicc_appli_id", &in->uicc_appli_id_len, secrets);
}

/*
 * Records a refusal, in the compact log (mtcbind.refusal_log) or as an
 * event, and announces it on channel mtcbind_rejected.
 */
static void
record_rejection(const KeyRequest *req, const Decision *decision, bool compact)
{
	const PairIdentity *pair = &req->bind.pair;
	AuditEvent	ev = {.event = "rejected"};
	AuditDetail detail;
	char		digits[MTCBIND_IDENT_BUFLEN];
	int64		event_id;

	if (compact)
	{
		RefusalRecord r = {0};
		TimestampTz refused_at;
		int64		subject;

		r.iccid = pair->iccid;
		r.terminal_id = pair->terminal_id;
		r.reason = reason_text(decision->reason);
		r.has_imei = pair->has_imei;
		r.imei = pair->imei;
		r.has_imsi = pair->has_imsi;
		r.imsi = pair->imsi;
		r.has_imeisv = pair->has_imeisv;
		r.imeisv = pair->imeisv;
		r.binding_id = decision->binding_id;
		r.device_binding_id = decision->device_binding_id;
		r.uicc_binding_id = decision->uicc_binding_id;
		r.block_id = decision->block_id;
		subject = audit_record_refusal(&r, &refused_at);
		audit_notify_rejection("subject", subject, r.reason, &refused_at);
		return;
	}

	ev.binding_id = decision->binding_id;
	ev.terminal_id = pair->terminal_id;
	ev.has_iccid = true;
	ev.iccid = pair->iccid;
	ev.has_imei = pair->has_imei;
	ev.imei = pair->imei;
	ev.has_imsi = pair->has_imsi;
	ev.imsi = pair->imsi;
	ev.reason = reason_text(decision->reason);
	audit_detail_begin(&detail);
	if (decision->device_binding_id)
		audit_detail_int8(&detail, "device_binding_id", decision->device_binding_id);
	if (decision->uicc_binding_id)
		audit_detail_int8(&detail, "uicc_binding_id", decision->uicc_binding_id);
	if (decision->block_id)
		audit_detail_int8(&detail, "block_id", decision->block_id);
	if (pair->has_imeisv)
	{
		imeisv_to_digits(pair->imeisv, digits);
		audit_detail_text(&detail, "imeisv", digits);
	}
	ev.detail = audit_detail_end(&detail);
	event_id = audit_record(&ev);
	audit_notify_rejection("event_id", event_id, ev.reason, NULL);
}

/*
 * Records an issued key: its expiry, never the key.  In the compact log
 * (mtcbind.key_issue_log) or as an event.
 */
static void
record_key_issue(const KeyRequest *req, bool compact, int64 binding_id,
				 TimestampTz expires_at)
{
	AuditEvent	ev = {.event = "key_issued"};

	if (compact)
	{
		audit_record_key_issue(binding_id, req->bind.pair.iccid, expires_at);
		return;
	}

	ev.binding_id = binding_id;
	ev.terminal_id = req->bind.pair.terminal_id;
	ev.has_iccid = true;
	ev.iccid = req->bind.pair.iccid;
	ev.key_expires_at = expires_at;
	audit_record(&ev);
}

/*
 * Reads the clock again (after lock waits) into req->bind.now: true if the
 * bootstrap has expired by now.
 */
static bool
bootstrap_expired_now(KeyRequest *req)
{
	req->bind.now = GetCurrentTimestamp();
	return req->ks_int_naf_expiry <= req->bind.now;
}

/*
 * A key expires at the earliest of its lifetime from the last reading of
 * the clock and the bootstrap's expiry, which is later than that reading.
 */
static TimestampTz
key_expiry(const KeyRequest *req, int64 lifetime_usecs)
{
	return Min(req->bind.now + lifetime_usecs, req->ks_int_naf_expiry);
}

/* Wraps raw octets as a bytea Datum. */
static bytea *
new_bytea(const unsigned char *data, size_t len)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), data, len);
	return result;
}

/*
 * mtcbind.request_key(naf_id, b_tid, ks_int_naf, ks_int_naf_expiry,
 *                     terminal_id, iccid, imei, imeisv, imsi,
 *                     terminal_appli_id, uicc_appli_id)
 * Returns one row: outcome, reason, binding_id, ks_local, rand_x, rand_y,
 * expires_at.
 */
Datum
request_key(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Secrets    *secrets = secrets_new();
	KeyRequest	req;
	EffectivePolicy policy;
	Decision	decision = {OUTCOME_GRANTED, REASON_NONE, 0, 0, 0, 0};
	bool		expired;
	bool		issue_key;
	TimestampTz expires_at = 0;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	require_read_committed("mtcbind.request_key");
	read_request(fcinfo, &req, secrets);
	policy_current(&policy);
	req.bind.first_use_reject = policy.first_use_reject;
	req.bind.log_key_issue = policy.log_key_issue;
	req.bind.now = GetCurrentTimestamp();
	expired = req.ks_int_naf_expiry <= req.bind.now;

	/*
	 * The fast path may have waited for a lock (DDL on the binding table):
	 * judge the bootstrap again by the clock after it.
	 */
	issue_key = !expired && !policy.log_key_issue &&
		fastpath_grant(&req.bind.pair, &decision.binding_id) &&
		!bootstrap_expired_now(&req);
	if (!issue_key)
	{
		/*
		 * request_key's definition pins no search_path (the fast path runs
		 * no SQL, and the pin would cost every call); the SQL of this path
		 * runs with it pinned.
		 */
		int			nest = store_pin_search_path();

		store_connect();
		audit_context_begin();
		audit_context_set_naf(req.naf_id, req.naf_id_len);
		expired = expired || bootstrap_expired_now(&req);
		decision = expired ? refusal(REASON_BOOTSTRAP_EXPIRED, 0, 0)
			: decide_request(&req.bind);

		/*
		 * The decision may have waited for row and table locks.  A bootstrap
		 * that expired meanwhile gets no key; what the decision recorded (a
		 * new binding, a moved one) stays, as it was decided in time.
		 */
		if (decision.outcome != OUTCOME_REJECTED && bootstrap_expired_now(&req))
		{
			int64		binding_id = decision.binding_id;

			decision = refusal(REASON_BOOTSTRAP_EXPIRED, 0, 0);
			decision.binding_id = binding_id;
		}
		issue_key = decision.outcome != OUTCOME_REJECTED;
		if (!issue_key)
			record_rejection(&req, &decision, policy.refusal_compact);
		else if (policy.log_key_issue)
		{
			record_key_issue(&req, policy.key_issue_compact, decision.binding_id,
							 key_expiry(&req, policy.key_lifetime_usecs));

			/*
			 * The event's insert may have waited too (a lock on the day's
			 * partition).  A key recorded as issued must not go out already
			 * expired; undoing the record would need a subtransaction for a
			 * case this rare, so the statement fails and takes it back.
			 */
			if (req.ks_int_naf_expiry <= GetCurrentTimestamp())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("Ks_int_NAF expired while the request waited for the event log"),
						 errdetail("Nothing was recorded and no key was issued."),
						 errhint("Retry the request: it will be answered bootstrap_expired, and the device bootstraps again.")));
		}
		audit_context_clear();
		store_finish();
		store_unpin_search_path(nest);
	}

	stats_count_request(decision.outcome, decision.reason);
	values[0] = CStringGetTextDatum(outcome_text(decision.outcome));
	nulls[1] = decision.reason == REASON_NONE;
	values[1] = nulls[1] ? (Datum) 0 : CStringGetTextDatum(reason_text(decision.reason));
	nulls[2] = decision.binding_id == 0;
	values[2] = Int64GetDatum(decision.binding_id);
	if (issue_key)
	{
		/* RANDx || RANDy, then Ks_local: in memory wiped when this call ends */
		unsigned char *rands = palloc(2 * MTCBIND_RAND_LEN);
		unsigned char *ks_local = palloc(MTCBIND_KEY_LEN);
		bytea	   *key_datum;
		KsLocalInput in = req.kdf_input;

		secrets_add(secrets, rands, 2 * MTCBIND_RAND_LEN);
		secrets_add(secrets, ks_local, MTCBIND_KEY_LEN);
		if (!pg_strong_random(rands, 2 * MTCBIND_RAND_LEN))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random RANDx/RANDy")));
		in.rand_x = rands;
		in.rand_y = rands + MTCBIND_RAND_LEN;
		if (!mtcbind_derive_ks_local(&in, ks_local))
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("Ks_local derivation failed in OpenSSL")));
		expires_at = key_expiry(&req, policy.key_lifetime_usecs);
		key_datum = new_bytea(ks_local, MTCBIND_KEY_LEN);
		secrets_add(secrets, key_datum, VARSIZE(key_datum));
		values[3] = PointerGetDatum(key_datum);
		values[4] = PointerGetDatum(new_bytea(in.rand_x, MTCBIND_RAND_LEN));
		values[5] = PointerGetDatum(new_bytea(in.rand_y, MTCBIND_RAND_LEN));
		values[6] = TimestampTzGetDatum(expires_at);
	}
	else
		nulls[3] = nulls[4] = nulls[5] = nulls[6] = true;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	/* The tuplestore holds the copy the caller receives; ours go now. */
	wipe_secrets(secrets);
	return (Datum) 0;
}

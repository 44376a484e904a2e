/*
 * kdf.c
 *		The TS 33.220 Annex B key derivation function and what is built on
 *		it: the NAF-specific keys (Annex B.3), NAF_Id, B-TID and Ks_local
 *		(TS 33.110).
 *
 * The file has two halves.  The core (mtcbind_kdf, mtcbind_derive_naf_key,
 * mtcbind_derive_ks_local, mtcbind_wipe, mtcbind_kdf_release) is plain C on
 * OpenSSL 3, so that test/unit/kdf_test.c can build it without a server
 * (-DMTCBIND_KDF_STANDALONE); it never raises an error, it returns false.
 * The SQL-callable half checks every argument, turns a false into a fixed
 * error message, and is left out of the standalone build.
 *
 * Performance: the HMAC EVP_MAC is fetched once per process, and one
 * EVP_MAC_CTX is re-keyed for each derivation (re-keying a live context
 * costs about half of creating one).  Between derivations that context
 * holds the last key; in the server it is freed, which makes OpenSSL
 * cleanse it, at the end of every transaction that used it.
 *
 * See docs/kdf.md for byte layouts, errors and benchmark figures.
 */
#ifndef MTCBIND_KDF_STANDALONE
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "encoding.h"
#include "identifiers.h"
#else
#include <string.h>
#endif

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "kdf.h"

/*
 * S is gathered in a stack buffer of this size and handed to HMAC in one
 * piece when it fits, as it does for any realistic 3GPP input; longer
 * parameters go to HMAC directly, so S never needs a heap copy.
 */
#define S_BUFLEN	1024

/* FC of the GBA uses, TS 33.220 Annex B.2.2. */
#define FC_GBA		0x01

/* Builds S piecewise, feeding HMAC whenever the stack buffer is full. */
typedef struct SWriter
{
	EVP_MAC_CTX *ctx;
	bool		ok;				/* no OpenSSL call has failed */
	size_t		used;			/* octets of buf not yet fed to HMAC */
	size_t		high_water;		/* octets of buf ever written: to wipe */
	unsigned char buf[S_BUFLEN];
} SWriter;

static EVP_MAC *hmac_mac = NULL;	/* fetched once per process */
static EVP_MAC_CTX *hmac_ctx = NULL;	/* re-keyed per derivation */

static void release_at_transaction_end(void);


/* ---------------------------------------------------------------------
 * Core: plain C and OpenSSL
 * ---------------------------------------------------------------------
 */

/* Wipes a buffer; OPENSSL_cleanse is not optimised away. */
void
mtcbind_wipe(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		OPENSSL_cleanse(buf, len);
}

/* Frees the shared HMAC context; OpenSSL cleanses the key state it held. */
void
mtcbind_kdf_release(void)
{
	if (hmac_ctx != NULL)
	{
		EVP_MAC_CTX_free(hmac_ctx);
		hmac_ctx = NULL;
	}
}

/* The shared HMAC-SHA-256 context, made on first use; NULL if OpenSSL fails. */
static EVP_MAC_CTX *
hmac_context(void)
{
	static char digest_name[] = "SHA256";
	OSSL_PARAM	params[2];
	EVP_MAC_CTX *ctx;

	if (hmac_ctx != NULL)
		return hmac_ctx;

	/* First, so that no context can exist without being released. */
	release_at_transaction_end();

	if (hmac_mac == NULL)
	{
		hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (hmac_mac == NULL)
			return NULL;
	}

	ctx = EVP_MAC_CTX_new(hmac_mac);
	if (ctx == NULL)
		return NULL;

	/* The digest is set once; each derivation then only changes the key. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
												 digest_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(ctx, params) != 1)
	{
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}

	hmac_ctx = ctx;
	return hmac_ctx;
}

/* Feeds the buffered part of S to HMAC. */
static void
s_flush(SWriter *w)
{
	if (w->used > 0 && w->ok)
		w->ok = (EVP_MAC_update(w->ctx, w->buf, w->used) == 1);
	w->used = 0;
}

/* Appends octets to S: into the buffer if they fit, else straight to HMAC. */
static void
s_append(SWriter *w, const unsigned char *data, size_t len)
{
	if (len == 0)
		return;
	if (len > S_BUFLEN - w->used)
	{
		s_flush(w);
		if (len >= S_BUFLEN)
		{
			if (w->ok)
				w->ok = (EVP_MAC_update(w->ctx, data, len) == 1);
			return;
		}
	}
	memcpy(w->buf + w->used, data, len);
	w->used += len;
	if (w->used > w->high_water)
		w->high_water = w->used;
}

/* TS 33.220 B.1: out = HMAC-SHA-256(key, FC || P0 || L0 || ... || Pn || Ln). */
bool
mtcbind_kdf(const unsigned char *key, size_t keylen, uint8_t fc,
			const KdfParam *params, int nparams,
			unsigned char out[MTCBIND_KEY_LEN])
{
	SWriter		w;
	size_t		outlen = 0;
	int			i;

	memset(out, 0, MTCBIND_KEY_LEN);

	/*
	 * A NULL key would make EVP_MAC_init keep the previous key, so an empty
	 * key is refused rather than passed on.
	 */
	if (key == NULL || keylen == 0 || nparams < 0 ||
		(nparams > 0 && params == NULL))
		return false;
	for (i = 0; i < nparams; i++)
	{
		if (params[i].len > MTCBIND_KDF_PARAM_MAX ||
			(params[i].data == NULL && params[i].len > 0))
			return false;
	}

	w.ctx = hmac_context();
	if (w.ctx == NULL)
		return false;
	w.ok = (EVP_MAC_init(w.ctx, key, keylen, NULL) == 1);
	w.used = 0;
	w.high_water = 0;

	s_append(&w, &fc, 1);
	for (i = 0; i < nparams; i++)
	{
		unsigned char len_octets[2];

		len_octets[0] = (unsigned char) (params[i].len >> 8);
		len_octets[1] = (unsigned char) (params[i].len & 0xff);
		s_append(&w, params[i].data, params[i].len);
		s_append(&w, len_octets, 2);
	}
	s_flush(&w);

	if (w.ok)
		w.ok = (EVP_MAC_final(w.ctx, out, &outlen, MTCBIND_KEY_LEN) == 1 &&
				outlen == MTCBIND_KEY_LEN);

	mtcbind_wipe(w.buf, w.high_water);
	if (!w.ok)
	{
		mtcbind_wipe(out, MTCBIND_KEY_LEN);
		/* Its state is unknown now; start afresh next time. */
		mtcbind_kdf_release();
		return false;
	}
	return true;
}

/* TS 33.220 B.3: Ks_ext_NAF / Ks_int_NAF = KDF(Ks, 0x01, "gba-me"|"gba-u", RAND, IMPI, NAF_Id). */
bool
mtcbind_derive_naf_key(const unsigned char ks[MTCBIND_KEY_LEN], bool gba_u,
					   const unsigned char rand[MTCBIND_RAND_LEN],
					   const char *impi, size_t impi_len,
					   const unsigned char *naf_id, size_t naf_id_len,
					   unsigned char out[MTCBIND_KEY_LEN])
{
	static const unsigned char gba_me_label[] = {'g', 'b', 'a', '-', 'm', 'e'};
	static const unsigned char gba_u_label[] = {'g', 'b', 'a', '-', 'u'};
	KdfParam	params[4];

	if (ks == NULL || rand == NULL)
	{
		memset(out, 0, MTCBIND_KEY_LEN);
		return false;
	}

	params[0].data = gba_u ? gba_u_label : gba_me_label;
	params[0].len = gba_u ? sizeof(gba_u_label) : sizeof(gba_me_label);
	params[1].data = rand;
	params[1].len = MTCBIND_RAND_LEN;
	params[2].data = (const unsigned char *) impi;
	params[2].len = impi_len;
	params[3].data = naf_id;
	params[3].len = naf_id_len;

	return mtcbind_kdf(ks, MTCBIND_KEY_LEN, FC_GBA, params, 4, out);
}

/* Ks_local (TS 33.110): the one place its layout is written in code. */
bool
mtcbind_derive_ks_local(const KsLocalInput *in,
						unsigned char out[MTCBIND_KEY_LEN])
{
	/*
	 * Ks_local = KDF(Ks_int_NAF, S) with
	 *
	 *	 FC = 0x01 (the GBA value)
	 *	 P0 = B-TID				(UTF-8)
	 *	 P1 = ICCID				(canonical ASCII digits)
	 *	 P2 = Terminal_ID		(UTF-8)
	 *	 P3 = Terminal_appli_ID (UTF-8, may be empty)
	 *	 P4 = UICC_appli_ID		(UTF-8, may be empty)
	 *	 P5 = RANDx				(16 octets)
	 *	 P6 = RANDy				(16 octets)
	 *
	 * TO BE CHECKED against TS 33.110 Annex A.2 / the UICC vendor's vectors:
	 * the text of Annex A.2 could not be read, and FC and order are our
	 * reading of it (docs/kdf.md, docs 3gpp.md).  If they differ, change
	 * them here and nowhere else.
	 */
	const uint8_t ks_local_fc = FC_GBA;
	KdfParam	params[7];

	if (in == NULL || in->ks_int_naf == NULL ||
		in->rand_x == NULL || in->rand_y == NULL)
	{
		memset(out, 0, MTCBIND_KEY_LEN);
		return false;
	}

	params[0].data = (const unsigned char *) in->b_tid;
	params[0].len = in->b_tid_len;
	params[1].data = (const unsigned char *) in->iccid;
	params[1].len = in->iccid_len;
	params[2].data = (const unsigned char *) in->terminal_id;
	params[2].len = in->terminal_id_len;
	params[3].data = (const unsigned char *) in->terminal_appli_id;
	params[3].len = in->terminal_appli_id_len;
	params[4].data = (const unsigned char *) in->uicc_appli_id;
	params[4].len = in->uicc_appli_id_len;
	params[5].data = in->rand_x;
	params[5].len = MTCBIND_RAND_LEN;
	params[6].data = in->rand_y;
	params[6].len = MTCBIND_RAND_LEN;

	return mtcbind_kdf(in->ks_int_naf, MTCBIND_KEY_LEN, ks_local_fc,
					   params, 7, out);
}


#ifdef MTCBIND_KDF_STANDALONE

/* Without a server there are no transactions: the caller releases. */
static void
release_at_transaction_end(void)
{
}

#else							/* !MTCBIND_KDF_STANDALONE */

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(kdf);
PG_FUNCTION_INFO_V1(gba_naf_keys);
PG_FUNCTION_INFO_V1(naf_id);
PG_FUNCTION_INFO_V1(b_tid);
PG_FUNCTION_INFO_V1(ks_local);

/* Frees the HMAC context when a transaction ends, however it ends. */
static void
kdf_xact_callback(XactEvent event, void *arg)
{
	mtcbind_kdf_release();
}

/* Makes sure the context made now does not outlive this transaction. */
static void
release_at_transaction_end(void)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(kdf_xact_callback, NULL);
		registered = true;
	}
}

/* Raises the one error a failed derivation gets: no data, no key. */
static void
report_derivation_failure(void)
{
	/* leave OpenSSL's per-thread error queue clean for whoever comes next */
	ERR_clear_error();
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("could not compute HMAC-SHA-256 for the key derivation")));
}

/* Rejects an argument that must be exactly expected octets long. */
static void
check_exact_length(const char *argname, size_t len, size_t expected)
{
	if (len != expected)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %zu octets, got %zu",
						argname, expected, len)));
}

/* Rejects an argument that cannot be a KDF parameter: Li has two octets. */
static void
check_param_length(const char *argname, size_t len, size_t max)
{
	if (len > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is %zu octets; at most %zu are allowed",
						argname, len, max)));
}

/*
 * Fetches a key argument of MTCBIND_KEY_LEN octets.  A copy made by
 * detoasting is wiped before a length error is raised; the caller wipes it
 * otherwise (release_key_arg).
 */
static bytea *
get_key_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(argno);
	size_t		len = VARSIZE_ANY_EXHDR(key);

	if (len != MTCBIND_KEY_LEN)
	{
		if ((Pointer) key != DatumGetPointer(PG_GETARG_DATUM(argno)))
			mtcbind_wipe(key, VARSIZE_ANY(key));
		check_exact_length(argname, len, MTCBIND_KEY_LEN);
	}
	return key;
}

/* Wipes and frees a key argument if detoasting made a private copy of it. */
static void
release_key_arg(FunctionCallInfo fcinfo, int argno, bytea *key)
{
	if ((Pointer) key != DatumGetPointer(PG_GETARG_DATUM(argno)))
	{
		mtcbind_wipe(key, VARSIZE_ANY(key));
		pfree(key);
	}
}

/* A bytea argument that must be exactly expected octets; its data. */
static const unsigned char *
get_fixed_bytea_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
					size_t expected)
{
	bytea	   *arg = PG_GETARG_BYTEA_PP(argno);

	check_exact_length(argname, VARSIZE_ANY_EXHDR(arg), expected);
	return (const unsigned char *) VARDATA_ANY(arg);
}

/*
 * A text argument as the KDF takes it: UTF-8 (TS 33.220 B.2.1), whatever
 * the database encoding, and at most MTCBIND_KDF_PARAM_MAX octets.
 */
static const char *
get_text_param_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
				   size_t *len)
{
	text	   *arg = PG_GETARG_TEXT_PP(argno);
	const char *utf8 = mtcbind_text_to_utf8(VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg),
											argname, len);

	check_param_length(argname, *len, MTCBIND_KDF_PARAM_MAX);
	return utf8;
}

/* A bytea result of MTCBIND_KEY_LEN octets, to derive into. */
static bytea *
new_key_result(void)
{
	bytea	   *result = (bytea *) palloc(VARHDRSZ + MTCBIND_KEY_LEN);

	SET_VARSIZE(result, VARHDRSZ + MTCBIND_KEY_LEN);
	return result;
}

/*
 * mtcbind.kdf(key bytea, fc integer, VARIADIC params bytea[]) RETURNS bytea
 * The generic KDF of TS 33.220 B.1; params[1] is P0.
 */
Datum
kdf(PG_FUNCTION_ARGS)
{
	int32		fc = PG_GETARG_INT32(1);
	ArrayType  *params_array = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			lbound;
	KdfParam   *params;
	bytea	   *key;
	bytea	   *result;
	bool		ok;
	int			i;

	if (fc < 0 || fc > 255)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fc must be between 0 and 255")));
	if (ARR_NDIM(params_array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a one-dimensional array")));

	deconstruct_array(params_array, BYTEAOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	lbound = (ARR_NDIM(params_array) == 1) ? ARR_LBOUND(params_array)[0] : 1;
	params = (KdfParam *) palloc(sizeof(KdfParam) * (nelems > 0 ? nelems : 1));
	for (i = 0; i < nelems; i++)
	{
		bytea	   *elem;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("params[%d] must not be null", lbound + i)));
		elem = DatumGetByteaPP(elems[i]);
		params[i].data = (const unsigned char *) VARDATA_ANY(elem);
		params[i].len = VARSIZE_ANY_EXHDR(elem);
		if (params[i].len > MTCBIND_KDF_PARAM_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("params[%d] is %zu octets; at most %d are allowed",
							lbound + i, params[i].len, MTCBIND_KDF_PARAM_MAX)));
	}

	key = get_key_arg(fcinfo, 0, "key");
	result = new_key_result();
	ok = mtcbind_kdf((const unsigned char *) VARDATA_ANY(key), MTCBIND_KEY_LEN,
					 (uint8_t) fc, params, nelems,
					 (unsigned char *) VARDATA(result));
	release_key_arg(fcinfo, 0, key);
	if (!ok)
		report_derivation_failure();

	PG_RETURN_BYTEA_P(result);
}

/*
 * mtcbind.gba_naf_keys(ks, rand, impi, naf_id, OUT ks_ext_naf, OUT ks_int_naf)
 * Both NAF-specific keys of TS 33.220 B.3 in one call.
 */
Datum
gba_naf_keys(PG_FUNCTION_ARGS)
{
	const unsigned char *rand;
	const char *impi;
	size_t		impi_len;
	bytea	   *naf_id_arg;
	size_t		naf_id_len;
	bytea	   *ks;
	bytea	   *ks_ext_naf;
	bytea	   *ks_int_naf;
	bool		ok;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		isnull[2] = {false, false};
	HeapTuple	tuple;

	rand = get_fixed_bytea_arg(fcinfo, 1, "rand", MTCBIND_RAND_LEN);
	impi = get_text_param_arg(fcinfo, 2, "impi", &impi_len);
	naf_id_arg = PG_GETARG_BYTEA_PP(3);
	naf_id_len = VARSIZE_ANY_EXHDR(naf_id_arg);
	if (naf_id_len < MTCBIND_UA_PROTOCOL_LEN + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naf_id must be at least %d octets, got %zu",
						MTCBIND_UA_PROTOCOL_LEN + 1, naf_id_len),
				 errdetail("NAF_Id is the NAF's FQDN followed by the %d-octet Ua security protocol identifier.",
						   MTCBIND_UA_PROTOCOL_LEN)));
	check_param_length("naf_id", naf_id_len, MTCBIND_KDF_PARAM_MAX);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("gba_naf_keys must be called in a context that accepts a record")));
	tupdesc = BlessTupleDesc(tupdesc);

	ks = get_key_arg(fcinfo, 0, "ks");
	ks_ext_naf = new_key_result();
	ks_int_naf = new_key_result();
	ok = mtcbind_derive_naf_key((const unsigned char *) VARDATA_ANY(ks), false,
								rand, impi, impi_len,
								(const unsigned char *) VARDATA_ANY(naf_id_arg),
								naf_id_len,
								(unsigned char *) VARDATA(ks_ext_naf)) &&
		mtcbind_derive_naf_key((const unsigned char *) VARDATA_ANY(ks), true,
							   rand, impi, impi_len,
							   (const unsigned char *) VARDATA_ANY(naf_id_arg),
							   naf_id_len,
							   (unsigned char *) VARDATA(ks_int_naf));
	release_key_arg(fcinfo, 0, ks);
	if (!ok)
	{
		mtcbind_wipe(VARDATA(ks_ext_naf), MTCBIND_KEY_LEN);
		mtcbind_wipe(VARDATA(ks_int_naf), MTCBIND_KEY_LEN);
		report_derivation_failure();
	}

	values[0] = PointerGetDatum(ks_ext_naf);
	values[1] = PointerGetDatum(ks_int_naf);
	tuple = heap_form_tuple(tupdesc, values, isnull);

	/* The tuple holds its own copies; these need not linger. */
	mtcbind_wipe(ks_ext_naf, VARSIZE(ks_ext_naf));
	mtcbind_wipe(ks_int_naf, VARSIZE(ks_int_naf));
	pfree(ks_ext_naf);
	pfree(ks_int_naf);

	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/*
 * mtcbind.naf_id(fqdn text, ua_protocol bytea) RETURNS bytea
 * NAF_Id = FQDN (UTF-8) || Ua security protocol identifier (TS 33.220 H).
 */
Datum
naf_id(PG_FUNCTION_ARGS)
{
	size_t		fqdn_len;
	const char *fqdn = get_text_param_arg(fcinfo, 0, "fqdn", &fqdn_len);
	const unsigned char *ua_protocol = get_fixed_bytea_arg(fcinfo, 1, "ua_protocol",
														   MTCBIND_UA_PROTOCOL_LEN);
	bytea	   *result;

	if (fqdn_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fqdn must not be empty")));
	/* The NAF_Id must itself fit in a KDF parameter. */
	check_param_length("fqdn", fqdn_len,
					   MTCBIND_KDF_PARAM_MAX - MTCBIND_UA_PROTOCOL_LEN);

	result = (bytea *) palloc(VARHDRSZ + fqdn_len + MTCBIND_UA_PROTOCOL_LEN);
	SET_VARSIZE(result, VARHDRSZ + fqdn_len + MTCBIND_UA_PROTOCOL_LEN);
	memcpy(VARDATA(result), fqdn, fqdn_len);
	memcpy(VARDATA(result) + fqdn_len, ua_protocol, MTCBIND_UA_PROTOCOL_LEN);

	PG_RETURN_BYTEA_P(result);
}

/*
 * mtcbind.b_tid(rand bytea, bsf_domain text) RETURNS text
 * B-TID = base64(RAND) "@" BSF server domain name (TS 33.220 4.5.2).
 */
Datum
b_tid(PG_FUNCTION_ARGS)
{
	const unsigned char *rand = get_fixed_bytea_arg(fcinfo, 0, "rand",
													MTCBIND_RAND_LEN);
	text	   *bsf_domain = PG_GETARG_TEXT_PP(1);
	size_t		domain_len = VARSIZE_ANY_EXHDR(bsf_domain);
	size_t		domain_utf8_len;
	int			b64_len = pg_b64_enc_len(MTCBIND_RAND_LEN);
	int			written;
	text	   *result;

	if (domain_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bsf_domain must not be empty")));
	/* The B-TID must itself fit in a KDF parameter, as the KDF takes it: UTF-8. */
	(void) mtcbind_text_to_utf8(VARDATA_ANY(bsf_domain), domain_len, "bsf_domain",
								&domain_utf8_len);
	check_param_length("bsf_domain", domain_utf8_len,
					   MTCBIND_KDF_PARAM_MAX - b64_len - 1);

	result = (text *) palloc(VARHDRSZ + b64_len + 1 + domain_len);
	written = pg_b64_encode((const char *) rand, MTCBIND_RAND_LEN,
							VARDATA(result), b64_len);
	if (written < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encode RAND in base64")));
	VARDATA(result)[written] = '@';
	memcpy(VARDATA(result) + written + 1, VARDATA_ANY(bsf_domain), domain_len);
	SET_VARSIZE(result, VARHDRSZ + written + 1 + domain_len);

	PG_RETURN_TEXT_P(result);
}

/*
 * mtcbind.ks_local(ks_int_naf, b_tid, iccid, terminal_id, terminal_appli_id,
 *					uicc_appli_id, rand_x, rand_y) RETURNS bytea
 * Ks_local of TS 33.110; the layout is in mtcbind_derive_ks_local.
 */
Datum
ks_local(PG_FUNCTION_ARGS)
{
	KsLocalInput in;
	char		iccid_digits[MTCBIND_IDENT_BUFLEN];
	bytea	   *ks_int_naf;
	bytea	   *result;
	bool		ok;

	in.b_tid = get_text_param_arg(fcinfo, 1, "b_tid", &in.b_tid_len);
	in.iccid_len = iccid_to_digits(PG_GETARG_INT64(2), iccid_digits);
	in.iccid = iccid_digits;
	in.terminal_id = get_text_param_arg(fcinfo, 3, "terminal_id",
										&in.terminal_id_len);
	in.terminal_appli_id = get_text_param_arg(fcinfo, 4, "terminal_appli_id",
											  &in.terminal_appli_id_len);
	in.uicc_appli_id = get_text_param_arg(fcinfo, 5, "uicc_appli_id",
										  &in.uicc_appli_id_len);
	in.rand_x = get_fixed_bytea_arg(fcinfo, 6, "rand_x", MTCBIND_RAND_LEN);
	in.rand_y = get_fixed_bytea_arg(fcinfo, 7, "rand_y", MTCBIND_RAND_LEN);

	ks_int_naf = get_key_arg(fcinfo, 0, "ks_int_naf");
	in.ks_int_naf = (const unsigned char *) VARDATA_ANY(ks_int_naf);
	result = new_key_result();
	ok = mtcbind_derive_ks_local(&in, (unsigned char *) VARDATA(result));
	release_key_arg(fcinfo, 0, ks_int_naf);
	if (!ok)
		report_derivation_failure();

	PG_RETURN_BYTEA_P(result);
}

#endif							/* MTCBIND_KDF_STANDALONE */

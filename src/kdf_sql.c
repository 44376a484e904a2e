/*
 * kdf_sql.c
 *		The SQL-callable key functions: mtcbind.kdf, gba_naf_keys, naf_id,
 *		b_tid and ks_local.  Each checks its arguments (lengths, UTF-8) and
 *		calls the plain-C core in kdf.c; a failure there becomes one fixed
 *		error message with no data in it.  See docs/kdf.md.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include <openssl/err.h>

#include "encoding.h"
#include "identifiers.h"
#include "kdf.h"

PG_FUNCTION_INFO_V1(kdf);
PG_FUNCTION_INFO_V1(gba_naf_keys);
PG_FUNCTION_INFO_V1(naf_id);
PG_FUNCTION_INFO_V1(b_tid);
PG_FUNCTION_INFO_V1(ks_local);

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
	text	   *fqdn_arg = PG_GETARG_TEXT_PP(0);
	size_t		fqdn_len;
	const char *fqdn = mtcbind_text_to_utf8(VARDATA_ANY(fqdn_arg), VARSIZE_ANY_EXHDR(fqdn_arg),
											"fqdn", &fqdn_len);
	const unsigned char *ua_protocol = get_fixed_bytea_arg(fcinfo, 1, "ua_protocol",
														   MTCBIND_UA_PROTOCOL_LEN);
	bytea	   *result;

	if (fqdn_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fqdn must not be empty")));
	/* The NAF_Id, FQDN and protocol id, must itself fit in a KDF parameter. */
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

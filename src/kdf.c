/*
 * kdf.c
 *		The TS 33.220 Annex B key derivation function and what is built on
 *		it: the NAF-specific keys (Annex B.3), NAF_Id, B-TID and Ks_local
 *		(TS 33.110).
 *
 * This file is plain C on OpenSSL 3, with no PostgreSQL header, so that
 * test/unit/kdf_test.c and the fuzzers can build it without a server; it
 * never raises an error, it returns false.  The SQL-callable functions
 * that check arguments and turn a false into a fixed error are in
 * kdf_sql.c.
 *
 * OpenSSL: the HMAC algorithm (EVP_MAC) and one context with its digest set
 * are made once per process and kept.  Each derivation keys the context,
 * and before it returns keys it again with a constant all-zero key, which
 * makes OpenSSL clear and free its copy of the derivation's key and
 * overwrite the HMAC state; on any failure the context is freed (which
 * cleanses it) and made anew.  So no key outlives the call that used it,
 * in autocommit or in a long transaction alike.
 *
 * See docs/kdf.md for byte layouts, errors and benchmark figures.
 */
#include <string.h>

#include <openssl/opensslv.h>

/* EVP_MAC and OSSL_PARAM came with OpenSSL 3.0. */
#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "mtcbind needs OpenSSL 3.0 or later (the EVP_MAC API); install libssl-dev from Debian 12 or newer"
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

static EVP_MAC *hmac_mac = NULL;	/* fetched once per process, no key */


/* Wipes a buffer; OPENSSL_cleanse is not optimised away. */
void
mtcbind_wipe(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		OPENSSL_cleanse(buf, len);
}

/* The context every derivation keys and then scrubs (see hmac_context). */
static EVP_MAC_CTX *keyed_ctx = NULL;

/*
 * Frees the kept context (it holds no key between derivations); the next
 * derivation makes a new one.  For programs that want OpenSSL's memory back.
 */
void
mtcbind_kdf_release(void)
{
	EVP_MAC_CTX_free(keyed_ctx);
	keyed_ctx = NULL;
}

/*
 * A new HMAC-SHA-256 context with its digest set, not keyed yet; NULL if
 * OpenSSL fails.  Made on first use (and after a failure) only.
 */
static EVP_MAC_CTX *
hmac_context_new(void)
{
	static char digest_name[] = "SHA256";
	OSSL_PARAM	params[2];
	EVP_MAC_CTX *ctx;

	if (hmac_mac == NULL)
	{
		hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (hmac_mac == NULL)
			return NULL;
	}
	ctx = EVP_MAC_CTX_new(hmac_mac);
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(ctx, params) != 1)
	{
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * The context for one derivation; NULL if OpenSSL fails.  It is kept:
 * keying an existing context costs less than making one per derivation.
 */
static EVP_MAC_CTX *
hmac_context(void)
{
	if (keyed_ctx == NULL)
		keyed_ctx = hmac_context_new();
	return keyed_ctx;
}

/*
 * Leaves no key in the context after a derivation.  Keying it again with a
 * constant key makes OpenSSL cleanse and free its copy of the key and
 * replace the HMAC state; if that fails, or the derivation did, the
 * context is freed (which cleanses it too) and made anew next time.
 */
static void
hmac_context_scrub(bool ok)
{
	static const unsigned char no_key[MTCBIND_KEY_LEN] = {0};

	if (ok && EVP_MAC_init(keyed_ctx, no_key, sizeof(no_key), NULL) == 1)
		return;
	EVP_MAC_CTX_free(keyed_ctx);
	keyed_ctx = NULL;
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
	hmac_context_scrub(w.ok);
	if (!w.ok)
	{
		mtcbind_wipe(out, MTCBIND_KEY_LEN);
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
	 * reading of it (docs/kdf.md).  If they differ, change
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

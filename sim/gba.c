/* gba.c: see gba.h. */
#include "gba.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static EVP_MAC *hmac;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void
fetch_hmac(void)
{
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

void
gba_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int
gba_hmac_sha256(const uint8_t *key, size_t keylen,
				const uint8_t *msg, size_t msglen, uint8_t out[32])
{
	EVP_MAC_CTX *ctx;
	OSSL_PARAM	params[2];
	char		digest[] = "SHA256";
	size_t		outl = 0;
	int			ok;

	pthread_once(&hmac_once, fetch_hmac);
	if (hmac == NULL || (ctx = EVP_MAC_CTX_new(hmac)) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ctx, key, keylen, params) == 1 &&
		EVP_MAC_update(ctx, msg, msglen) == 1 &&
		EVP_MAC_final(ctx, out, &outl, 32) == 1 && outl == 32;
	EVP_MAC_CTX_free(ctx);		/* cleanses the keyed state */
	if (!ok)
		memset(out, 0, 32);
	return ok ? 0 : -1;
}

int
gba_kdf(const uint8_t *key, size_t keylen, uint8_t fc,
		const GbaParam *params, int nparams, uint8_t out[32])
{
	size_t		total = 1;
	uint8_t	   *s;
	size_t		pos = 0;
	int			rc;

	for (int i = 0; i < nparams; i++)
	{
		if (params[i].len > GBA_PARAM_MAX)
			return -1;
		total += params[i].len + 2;
	}
	s = malloc(total);
	if (s == NULL)
		return -1;
	s[pos++] = fc;
	for (int i = 0; i < nparams; i++)
	{
		if (params[i].len)
			memcpy(s + pos, params[i].data, params[i].len);
		pos += params[i].len;
		s[pos++] = (uint8_t) (params[i].len >> 8);
		s[pos++] = (uint8_t) (params[i].len & 0xff);
	}
	rc = gba_hmac_sha256(key, keylen, s, total, out);
	OPENSSL_cleanse(s, total);
	free(s);
	return rc;
}

static GbaParam
text_param(const char *s)
{
	GbaParam	p = {(const uint8_t *) s, strlen(s)};

	return p;
}

int
gba_naf_key(const uint8_t ks[32], int gba_u, const uint8_t rand[16],
			const char *impi, const uint8_t *naf_id, size_t naf_id_len,
			uint8_t out[32])
{
	GbaParam	p[4];

	p[0] = text_param(gba_u ? "gba-u" : "gba-me");
	p[1].data = rand;
	p[1].len = GBA_RAND_LEN;
	p[2] = text_param(impi);
	p[3].data = naf_id;
	p[3].len = naf_id_len;
	return gba_kdf(ks, GBA_KEY_LEN, GBA_FC_GBA, p, 4, out);
}

/*
 * Ks_local (TS 33.110), as the card computes it:
 *
 *   Ks_local = KDF(Ks_int_NAF, FC = 0x01, P0 = B-TID, P1 = ICCID,
 *                  P2 = Terminal_ID, P3 = Terminal_appli_ID,
 *                  P4 = UICC_appli_ID, P5 = RANDx, P6 = RANDy)
 *
 * Texts as UTF-8 (the simulator's are ASCII), the ICCID as its canonical
 * digits.  To be checked against TS 33.110 Annex A.2 / the UICC vendor's
 * vectors: the text of Annex A.2 could not be read, and FC and parameter
 * order are the project's reading of it (docs/kdf.md).  This function is
 * the only place in the simulator that knows the layout.
 */
int
gba_ks_local(const uint8_t ks_int_naf[32], const char *b_tid, const char *iccid,
			 const char *terminal_id, const char *terminal_appli_id,
			 const char *uicc_appli_id, const uint8_t rand_x[16],
			 const uint8_t rand_y[16], uint8_t out[32])
{
	GbaParam	p[7];

	p[0] = text_param(b_tid);
	p[1] = text_param(iccid);
	p[2] = text_param(terminal_id);
	p[3] = text_param(terminal_appli_id);
	p[4] = text_param(uicc_appli_id);
	p[5].data = rand_x;
	p[5].len = GBA_RAND_LEN;
	p[6].data = rand_y;
	p[6].len = GBA_RAND_LEN;
	return gba_kdf(ks_int_naf, GBA_KEY_LEN, GBA_FC_GBA, p, 7, out);
}

/*
 * gba.h: the key derivations the UICC performs, written for the simulator
 * from the layouts in docs/kdf.md and the specifications it cites,
 * not from the extension's src/kdf.c:
 *
 *   the TS 33.220 Annex B KDF      S = FC || P0 || L0 || ... || Pn || Ln,
 *                                  out = HMAC-SHA-256(key, S)
 *   Ks_(ext|int)_NAF (Annex B.3)   KDF(Ks, 0x01, "gba-me"|"gba-u", RAND, IMPI, NAF_Id)
 *   Ks_local (TS 33.110)           see gba_ks_local() for the layout and its caveat
 */
#ifndef SIM_GBA_H
#define SIM_GBA_H

#include <stddef.h>
#include <stdint.h>

#define GBA_KEY_LEN   32
#define GBA_RAND_LEN  16
#define GBA_FC_GBA    0x01
#define GBA_PARAM_MAX 65535

/* One KDF parameter Pi; its Li is its length as two octets, big-endian. */
typedef struct GbaParam
{
	const uint8_t *data;
	size_t		len;
} GbaParam;

/* HMAC-SHA-256 (OpenSSL EVP_MAC).  0, or -1 if OpenSSL failed. */
int gba_hmac_sha256(const uint8_t *key, size_t keylen,
					const uint8_t *msg, size_t msglen, uint8_t out[32]);

/* The generic KDF.  -1 if a parameter is over 65535 octets or OpenSSL failed. */
int gba_kdf(const uint8_t *key, size_t keylen, uint8_t fc,
			const GbaParam *params, int nparams, uint8_t out[32]);

/* Ks_ext_NAF (gba_u = 0, "gba-me") or Ks_int_NAF (gba_u = 1, "gba-u"). */
int gba_naf_key(const uint8_t ks[32], int gba_u, const uint8_t rand[16],
				const char *impi, const uint8_t *naf_id, size_t naf_id_len,
				uint8_t out[32]);

/* Ks_local from Ks_int_NAF and the values the NAF returned. */
int gba_ks_local(const uint8_t ks_int_naf[32], const char *b_tid, const char *iccid,
				 const char *terminal_id, const char *terminal_appli_id,
				 const char *uicc_appli_id, const uint8_t rand_x[16],
				 const uint8_t rand_y[16], uint8_t out[32]);

/* OPENSSL_cleanse */
void gba_wipe(void *p, size_t n);

#endif

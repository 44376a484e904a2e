/*
 * kdf.h
 *		The TS 33.220 Annex B key derivation function and the Ks_local
 *		derivation built on it.
 *
 * This header is plain C (no PostgreSQL headers) so that the unit test in
 * test/unit/ can build src/kdf.c without a server.
 */
#ifndef MTCBIND_KDF_H
#define MTCBIND_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTCBIND_KEY_LEN			32	/* Ks, Ks_int_NAF, Ks_local: 256 bits */
#define MTCBIND_RAND_LEN		16	/* RAND, RANDx, RANDy */
#define MTCBIND_UA_PROTOCOL_LEN	5	/* TS 33.220 Annex H */
#define MTCBIND_KDF_PARAM_MAX	65535	/* Li is two octets */

/* One Pi of S = FC || P0 || L0 || ... || Pn || Ln. */
typedef struct KdfParam
{
	const unsigned char *data;
	size_t		len;
} KdfParam;

/*
 * Out = HMAC-SHA-256(key, S).  Returns false when a parameter is longer
 * than MTCBIND_KDF_PARAM_MAX, the key is empty or OpenSSL fails; out is
 * then zeroed.  Intermediate buffers holding key material are wiped before
 * returning.
 */
extern bool mtcbind_kdf(const unsigned char *key, size_t keylen, uint8_t fc,
						const KdfParam *params, int nparams,
						unsigned char out[MTCBIND_KEY_LEN]);

/*
 * Ks_ext_NAF (gba_u false: "gba-me") or Ks_int_NAF (gba_u true: "gba-u")
 * = KDF(Ks, 0x01, "gba-me" | "gba-u", RAND, IMPI, NAF_Id), TS 33.220
 * Annex B.3.  IMPI is UTF-8; NAF_Id is FQDN || Ua protocol identifier.
 * Same failure contract as mtcbind_kdf.
 */
extern bool mtcbind_derive_naf_key(const unsigned char ks[MTCBIND_KEY_LEN],
								   bool gba_u,
								   const unsigned char rand[MTCBIND_RAND_LEN],
								   const char *impi, size_t impi_len,
								   const unsigned char *naf_id, size_t naf_id_len,
								   unsigned char out[MTCBIND_KEY_LEN]);

/* Everything Ks_local is derived from (TS 33.110); texts are UTF-8. */
typedef struct KsLocalInput
{
	const unsigned char *ks_int_naf;	/* MTCBIND_KEY_LEN octets */
	const char *b_tid;
	size_t		b_tid_len;
	const char *iccid;			/* canonical ASCII digits */
	size_t		iccid_len;
	const char *terminal_id;
	size_t		terminal_id_len;
	const char *terminal_appli_id;
	size_t		terminal_appli_id_len;
	const char *uicc_appli_id;
	size_t		uicc_appli_id_len;
	const unsigned char *rand_x;	/* MTCBIND_RAND_LEN octets */
	const unsigned char *rand_y;	/* MTCBIND_RAND_LEN octets */
} KsLocalInput;

/*
 * The one place the Ks_local parameter layout (FC, order, encodings) is
 * written down in code; see docs/kdf.md.  Same failure contract as
 * mtcbind_kdf.
 */
extern bool mtcbind_derive_ks_local(const KsLocalInput *in,
									unsigned char out[MTCBIND_KEY_LEN]);

/* Wipes a buffer in a way the compiler may not optimise away. */
extern void mtcbind_wipe(void *buf, size_t len);

/*
 * Frees the HMAC context the derivations reuse.  It holds no key between
 * derivations (each one re-keys it with a constant key before returning),
 * so this only gives OpenSSL's memory back; the next derivation makes a
 * new context.
 */
extern void mtcbind_kdf_release(void);

#endif							/* MTCBIND_KDF_H */

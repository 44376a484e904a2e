/*
 * uicc.h: the UICC with its USIM, as the device and the test see it.
 *
 * The card holds K and OPc, checks every AKA challenge as a USIM does
 * (AUTN's MAC, and the freshness of its sequence number per TS 33.102
 * Annex C), and in GBA_U keeps Ks = CK || IK, Ks_int_NAF and Ks_local to
 * itself: no function returns them.  What leaves the card: RES, AUTS,
 * Ks_ext_NAF (GBA_U hands it to the ME), the B-TID and its lifetime, and
 * whether a key the terminal holds equals the card's Ks_local.
 */
#ifndef SIM_UICC_H
#define SIM_UICC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Uicc Uicc;

typedef enum AkaResult
{
	AKA_OK,						/* RES computed, Ks kept */
	AKA_MAC_FAILURE,			/* AUTN not made with this card's K: the network is not genuine */
	AKA_SYNC_FAILURE,			/* genuine, but the sequence number is not fresh: AUTS computed */
	AKA_ERROR					/* OpenSSL failed */
} AkaResult;

Uicc *uicc_new(const char *iccid, const char *imsi, const char *impi,
			   const char *uicc_appli_id, const uint8_t k[16], const uint8_t opc[16]);
void uicc_free(Uicc *card);

const char *uicc_iccid(const Uicc *card);
const char *uicc_imsi(const Uicc *card);
const char *uicc_impi(const Uicc *card);
const char *uicc_appli_id(const Uicc *card);

/* AUTHENTICATE (TS 31.102): res (8) on AKA_OK, auts (14) on AKA_SYNC_FAILURE. */
AkaResult uicc_authenticate(Uicc *card, const uint8_t rand[16], const uint8_t autn[16],
							uint8_t res[8], uint8_t auts[14]);

/* GBA_U: the B-TID and key lifetime (device clock) of the last successful run. */
bool uicc_store_bootstrap(Uicc *card, const uint8_t rand[16], const char *b_tid,
						  int64_t expires_dev_us);
/* The stored B-TID and lifetime; false if the card has no bootstrap. */
bool uicc_bootstrap(Uicc *card, char *b_tid, size_t len, int64_t *expires_dev_us);

/*
 * GBA_U NAF derivation: Ks_int_NAF stays on the card, Ks_ext_NAF is returned
 * to the ME.  -1 without a bootstrap.
 */
int uicc_gba_naf(Uicc *card, const uint8_t *naf_id, size_t naf_id_len, uint8_t ks_ext_naf[32]);

/* The card derives Ks_local from what the NAF sent the terminal, and keeps it. */
int uicc_derive_ks_local(Uicc *card, const uint8_t *naf_id, size_t naf_id_len,
						 const char *terminal_id, const char *terminal_appli_id,
						 const uint8_t rand_x[16], const uint8_t rand_y[16]);
/* Does the terminal's key equal the card's Ks_local for that terminal? */
bool uicc_ks_local_matches(Uicc *card, const char *terminal_id, const uint8_t key[32]);

#endif

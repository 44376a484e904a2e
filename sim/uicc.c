/* uicc.c: see uicc.h. */
#include "uicc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gba.h"
#include "milenage.h"
#include "util.h"

/* TS 33.102 Annex C: SQN = SEQ (43 bits) || IND (5 bits); a = 32 entries. */
#define IND_BITS 5
#define IND_COUNT (1u << IND_BITS)
#define SEQ_DELTA (UINT64_C(1) << 28)	/* largest accepted jump of SEQ */

struct Uicc
{
	pthread_mutex_t mu;
	char		iccid[21];
	char		imsi[16];
	char		impi[64];
	char		appli_id[33];
	uint8_t		k[16];
	uint8_t		opc[16];
	uint64_t	seq_ms[IND_COUNT];	/* highest SEQ accepted, per IND */
	uint64_t	seq_max;			/* highest SEQ accepted at all */

	/* The last successful AKA run, until the ME names it with a B-TID. */
	bool		pending;
	uint8_t		pending_rand[16];
	uint8_t		pending_ks[32];

	/* The bootstrap (GBA_U): Ks never leaves the card. */
	bool		has_ks;
	uint8_t		ks[32];
	uint8_t		rand[16];
	char		b_tid[128];
	int64_t		expires_dev_us;

	/* Ks_int_NAF for the last NAF asked about. */
	bool		has_int;
	uint8_t		naf_id[260];
	size_t		naf_id_len;
	uint8_t		ks_int_naf[32];

	/* Ks_local for one terminal. */
	bool		has_local;
	char		local_terminal[256];
	uint8_t		ks_local[32];
};

Uicc *
uicc_new(const char *iccid, const char *imsi, const char *impi,
		 const char *uicc_appli_id, const uint8_t k[16], const uint8_t opc[16])
{
	Uicc	   *card = xcalloc(1, sizeof(Uicc));

	pthread_mutex_init(&card->mu, NULL);
	snprintf(card->iccid, sizeof(card->iccid), "%s", iccid);
	snprintf(card->imsi, sizeof(card->imsi), "%s", imsi);
	snprintf(card->impi, sizeof(card->impi), "%s", impi);
	snprintf(card->appli_id, sizeof(card->appli_id), "%s", uicc_appli_id);
	memcpy(card->k, k, 16);
	memcpy(card->opc, opc, 16);
	return card;
}

void
uicc_free(Uicc *card)
{
	if (card == NULL)
		return;
	pthread_mutex_destroy(&card->mu);
	OPENSSL_cleanse(card, sizeof(*card));
	free(card);
}

const char *
uicc_iccid(const Uicc *card)
{
	return card->iccid;
}

const char *
uicc_imsi(const Uicc *card)
{
	return card->imsi;
}

const char *
uicc_impi(const Uicc *card)
{
	return card->impi;
}

const char *
uicc_appli_id(const Uicc *card)
{
	return card->appli_id;
}

static uint64_t
sqn_value(const uint8_t sqn[6])
{
	uint64_t	v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | sqn[i];
	return v;
}

static void
sqn_octets(uint64_t v, uint8_t sqn[6])
{
	for (int i = 5; i >= 0; i--)
	{
		sqn[i] = (uint8_t) (v & 0xff);
		v >>= 8;
	}
}

AkaResult
uicc_authenticate(Uicc *card, const uint8_t rand[16], const uint8_t autn[16],
				  uint8_t res[8], uint8_t auts[14])
{
	uint8_t		xres[8], ck[16], ik[16], ak[6], ak_star[6];
	uint8_t		sqn[6], xmac[8];
	uint64_t	seq;
	unsigned	ind;
	AkaResult	result = AKA_ERROR;

	pthread_mutex_lock(&card->mu);
	if (milenage_f2345(card->k, card->opc, rand, xres, ck, ik, ak, ak_star) != 0)
		goto done;
	for (int i = 0; i < 6; i++)
		sqn[i] = autn[i] ^ ak[i];
	if (milenage_f1(card->k, card->opc, rand, sqn, autn + 6, xmac, NULL) != 0)
		goto done;
	if (CRYPTO_memcmp(xmac, autn + 8, 8) != 0)
	{
		result = AKA_MAC_FAILURE;
		goto done;
	}

	seq = sqn_value(sqn) >> IND_BITS;
	ind = (unsigned) (sqn_value(sqn) & (IND_COUNT - 1));
	/*
	 * Fresh: above the last SEQ accepted with this IND, and not too far
	 * beyond the highest accepted (a new card, which has accepted nothing
	 * yet, takes its first SEQ as it comes).
	 */
	if (seq <= card->seq_ms[ind] ||
		(card->seq_max > 0 && seq > card->seq_max && seq - card->seq_max > SEQ_DELTA))
	{
		/* AUTS = SQN_MS xor AK* || MAC-S, MAC-S over SQN_MS with AMF = 0000. */
		static const uint8_t dummy_amf[2] = {0, 0};
		uint8_t		sqn_ms[6];

		sqn_octets(card->seq_max << IND_BITS, sqn_ms);
		if (milenage_f1(card->k, card->opc, rand, sqn_ms, dummy_amf, NULL, auts + 6) != 0)
			goto done;
		for (int i = 0; i < 6; i++)
			auts[i] = sqn_ms[i] ^ ak_star[i];
		result = AKA_SYNC_FAILURE;
		goto done;
	}
	card->seq_ms[ind] = seq;
	if (seq > card->seq_max)
		card->seq_max = seq;

	memcpy(res, xres, 8);
	memcpy(card->pending_ks, ck, 16);
	memcpy(card->pending_ks + 16, ik, 16);
	memcpy(card->pending_rand, rand, 16);
	card->pending = true;
	result = AKA_OK;
done:
	pthread_mutex_unlock(&card->mu);
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(ik, sizeof(ik));
	OPENSSL_cleanse(xres, sizeof(xres));
	OPENSSL_cleanse(ak, sizeof(ak));
	OPENSSL_cleanse(ak_star, sizeof(ak_star));
	return result;
}

bool
uicc_store_bootstrap(Uicc *card, const uint8_t rand[16], const char *b_tid,
					 int64_t expires_dev_us)
{
	bool		ok = false;

	pthread_mutex_lock(&card->mu);
	if (card->pending && memcmp(card->pending_rand, rand, 16) == 0 &&
		strlen(b_tid) < sizeof(card->b_tid))
	{
		memcpy(card->ks, card->pending_ks, 32);
		memcpy(card->rand, rand, 16);
		snprintf(card->b_tid, sizeof(card->b_tid), "%s", b_tid);
		card->expires_dev_us = expires_dev_us;
		card->has_ks = true;
		card->has_int = false;	/* a new Ks: NAF keys derive anew */
		OPENSSL_cleanse(card->ks_int_naf, sizeof(card->ks_int_naf));
		ok = true;
	}
	card->pending = false;
	OPENSSL_cleanse(card->pending_ks, sizeof(card->pending_ks));
	pthread_mutex_unlock(&card->mu);
	return ok;
}

bool
uicc_bootstrap(Uicc *card, char *b_tid, size_t len, int64_t *expires_dev_us)
{
	bool		has;

	pthread_mutex_lock(&card->mu);
	has = card->has_ks;
	if (has)
	{
		snprintf(b_tid, len, "%s", card->b_tid);
		*expires_dev_us = card->expires_dev_us;
	}
	pthread_mutex_unlock(&card->mu);
	return has;
}

/* Called with the lock held. */
static int
ensure_ks_int_naf(Uicc *card, const uint8_t *naf_id, size_t naf_id_len)
{
	if (!card->has_ks || naf_id_len > sizeof(card->naf_id))
		return -1;
	if (card->has_int && card->naf_id_len == naf_id_len &&
		memcmp(card->naf_id, naf_id, naf_id_len) == 0)
		return 0;
	if (gba_naf_key(card->ks, 1, card->rand, card->impi, naf_id, naf_id_len,
					card->ks_int_naf) != 0)
		return -1;
	memcpy(card->naf_id, naf_id, naf_id_len);
	card->naf_id_len = naf_id_len;
	card->has_int = true;
	return 0;
}

int
uicc_gba_naf(Uicc *card, const uint8_t *naf_id, size_t naf_id_len, uint8_t ks_ext_naf[32])
{
	int			rc = -1;

	pthread_mutex_lock(&card->mu);
	if (ensure_ks_int_naf(card, naf_id, naf_id_len) == 0 &&
		gba_naf_key(card->ks, 0, card->rand, card->impi, naf_id, naf_id_len, ks_ext_naf) == 0)
		rc = 0;
	pthread_mutex_unlock(&card->mu);
	return rc;
}

int
uicc_derive_ks_local(Uicc *card, const uint8_t *naf_id, size_t naf_id_len,
					 const char *terminal_id, const char *terminal_appli_id,
					 const uint8_t rand_x[16], const uint8_t rand_y[16])
{
	int			rc = -1;

	pthread_mutex_lock(&card->mu);
	card->has_local = false;
	if (strlen(terminal_id) < sizeof(card->local_terminal) &&
		ensure_ks_int_naf(card, naf_id, naf_id_len) == 0 &&
		gba_ks_local(card->ks_int_naf, card->b_tid, card->iccid, terminal_id,
					 terminal_appli_id, card->appli_id, rand_x, rand_y,
					 card->ks_local) == 0)
	{
		snprintf(card->local_terminal, sizeof(card->local_terminal), "%s", terminal_id);
		card->has_local = true;
		rc = 0;
	}
	pthread_mutex_unlock(&card->mu);
	return rc;
}

bool
uicc_ks_local_matches(Uicc *card, const char *terminal_id, const uint8_t key[32])
{
	bool		same;

	pthread_mutex_lock(&card->mu);
	same = card->has_local && strcmp(card->local_terminal, terminal_id) == 0 &&
		CRYPTO_memcmp(card->ks_local, key, 32) == 0;
	pthread_mutex_unlock(&card->mu);
	return same;
}

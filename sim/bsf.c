/* bsf.c: see bsf.h. */
#include "bsf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fleet.h"
#include "gba.h"
#include "milenage.h"
#include "util.h"

#define IND_BITS 5
#define IND_COUNT (1u << IND_BITS)

/* AMF with the separation bit 0 (not for E-UTRAN; TS 33.102 Annex H). */
static const uint8_t amf_gba[2] = {0x00, 0x00};

typedef struct Subscriber
{
	unsigned	index;
	char		impi[64];
	uint8_t		k[16];
	uint8_t		opc[16];
	uint64_t	seq_he;			/* SEQ of the last vector */
	unsigned	ind;			/* IND of the last vector */
	uint64_t	vectors;		/* vectors made: picks the next RAND */

	/* The vector in use, until RES comes back. */
	bool		pending;
	uint8_t		rand[16];
	uint8_t		xres[8];
	uint8_t		ks[32];

	/* The current bootstrap. */
	bool		bootstrapped;
	char		b_tid[BSF_B_TID_MAX];
	uint8_t		boot_rand[16];
	uint8_t		boot_ks[32];
	int64_t		expires_us;
} Subscriber;

struct Bsf
{
	pthread_mutex_t mu;
	char		domain[64];
	int64_t		lifetime_us;
	StrMap	   *by_impi;		/* IMPI -> Subscriber */
	StrMap	   *by_b_tid;		/* B-TID -> Subscriber */
	BsfCounters counters;
};

static int64_t server_offset_us;

void
set_server_clock_offset(int64_t offset_us)
{
	server_offset_us = offset_us;
}

int64_t
server_now_us(void)
{
	return clock_real_us() + server_offset_us;
}

Bsf *
bsf_new(const char *domain, int64_t lifetime_us)
{
	Bsf		   *bsf = xcalloc(1, sizeof(Bsf));

	pthread_mutex_init(&bsf->mu, NULL);
	snprintf(bsf->domain, sizeof(bsf->domain), "%s", domain);
	bsf->lifetime_us = lifetime_us;
	bsf->by_impi = strmap_new(1024);
	bsf->by_b_tid = strmap_new(1024);
	return bsf;
}

static void
free_subscriber(const char *key, void *value)
{
	(void) key;
	OPENSSL_cleanse(value, sizeof(Subscriber));
	free(value);
}

void
bsf_free(Bsf *bsf)
{
	if (bsf == NULL)
		return;
	strmap_free(bsf->by_b_tid);
	strmap_foreach(bsf->by_impi, free_subscriber);
	strmap_free(bsf->by_impi);
	pthread_mutex_destroy(&bsf->mu);
	free(bsf);
}

int64_t
bsf_lifetime(const Bsf *bsf)
{
	return bsf->lifetime_us;
}

void
bsf_add_subscriber(Bsf *bsf, unsigned index, const char *impi,
				   const uint8_t k[16], const uint8_t opc[16], uint64_t seq_start)
{
	Subscriber *s = xcalloc(1, sizeof(Subscriber));

	s->index = index;
	snprintf(s->impi, sizeof(s->impi), "%s", impi);
	memcpy(s->k, k, 16);
	memcpy(s->opc, opc, 16);
	s->seq_he = seq_start;
	pthread_mutex_lock(&bsf->mu);
	strmap_put(bsf->by_impi, impi, s);
	pthread_mutex_unlock(&bsf->mu);
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

BsfStatus
bsf_challenge(Bsf *bsf, const char *impi, uint8_t rand[16], uint8_t autn[16])
{
	Subscriber *s;
	uint8_t		sqn[6], ak[6], mac[8], ck[16], ik[16];
	BsfStatus	status = BSF_ERROR;

	pthread_mutex_lock(&bsf->mu);
	s = strmap_get(bsf->by_impi, impi);
	if (s == NULL)
	{
		pthread_mutex_unlock(&bsf->mu);
		return BSF_UNKNOWN;
	}
	/* TS 33.102 C.1.1: SEQ increases by one per vector, IND cycles. */
	s->seq_he++;
	s->ind = (s->ind + 1) % IND_COUNT;
	sqn_octets(s->seq_he << IND_BITS | s->ind, sqn);
	fleet_prf("RAND", s->index, s->vectors++, s->rand, 16);

	if (milenage_f2345(s->k, s->opc, s->rand, s->xres, ck, ik, ak, NULL) == 0 &&
		milenage_f1(s->k, s->opc, s->rand, sqn, amf_gba, mac, NULL) == 0)
	{
		memcpy(s->ks, ck, 16);
		memcpy(s->ks + 16, ik, 16);
		for (int i = 0; i < 6; i++)
			autn[i] = sqn[i] ^ ak[i];
		memcpy(autn + 6, amf_gba, 2);
		memcpy(autn + 8, mac, 8);
		memcpy(rand, s->rand, 16);
		s->pending = true;
		bsf->counters.challenges++;
		status = BSF_OK;
	}
	pthread_mutex_unlock(&bsf->mu);
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(ik, sizeof(ik));
	return status;
}

BsfStatus
bsf_resync(Bsf *bsf, const char *impi, const uint8_t rand[16], const uint8_t auts[14])
{
	static const uint8_t dummy_amf[2] = {0, 0};
	Subscriber *s;
	uint8_t		ak_star[6], sqn_ms[6], mac_s[8];
	BsfStatus	status = BSF_ERROR;

	pthread_mutex_lock(&bsf->mu);
	s = strmap_get(bsf->by_impi, impi);
	if (s == NULL)
	{
		pthread_mutex_unlock(&bsf->mu);
		return BSF_UNKNOWN;
	}
	if (milenage_f2345(s->k, s->opc, rand, NULL, NULL, NULL, NULL, ak_star) == 0)
	{
		uint64_t	v = 0;

		for (int i = 0; i < 6; i++)
		{
			sqn_ms[i] = auts[i] ^ ak_star[i];
			v = v << 8 | sqn_ms[i];
		}
		if (milenage_f1(s->k, s->opc, rand, sqn_ms, dummy_amf, NULL, mac_s) == 0)
		{
			if (CRYPTO_memcmp(mac_s, auts + 6, 8) == 0)
			{
				s->seq_he = v >> IND_BITS;
				bsf->counters.resyncs++;
				status = BSF_OK;
			}
			else
			{
				bsf->counters.auth_failures++;
				status = BSF_AUTH_FAILED;
			}
		}
	}
	s->pending = false;
	pthread_mutex_unlock(&bsf->mu);
	return status;
}

BsfStatus
bsf_complete(Bsf *bsf, const char *impi, const uint8_t rand[16], const uint8_t res[8],
			 int64_t lifetime_us, char b_tid[BSF_B_TID_MAX], int64_t *expires_us)
{
	Subscriber *s;
	char		rand64[32];

	pthread_mutex_lock(&bsf->mu);
	s = strmap_get(bsf->by_impi, impi);
	if (s == NULL || !s->pending || memcmp(s->rand, rand, 16) != 0)
	{
		pthread_mutex_unlock(&bsf->mu);
		return BSF_UNKNOWN;
	}
	s->pending = false;
	if (CRYPTO_memcmp(s->xres, res, 8) != 0)
	{
		bsf->counters.auth_failures++;
		pthread_mutex_unlock(&bsf->mu);
		return BSF_AUTH_FAILED;
	}

	if (s->bootstrapped)
		strmap_del(bsf->by_b_tid, s->b_tid);
	base64_encode(rand, 16, rand64);
	snprintf(s->b_tid, sizeof(s->b_tid), "%s@%s", rand64, bsf->domain);
	memcpy(s->boot_rand, rand, 16);
	memcpy(s->boot_ks, s->ks, 32);
	OPENSSL_cleanse(s->ks, sizeof(s->ks));
	s->expires_us = server_now_us() + (lifetime_us > 0 ? lifetime_us : bsf->lifetime_us);
	s->bootstrapped = true;
	strmap_put(bsf->by_b_tid, s->b_tid, s);
	bsf->counters.bootstraps++;

	snprintf(b_tid, BSF_B_TID_MAX, "%s", s->b_tid);
	*expires_us = s->expires_us;
	pthread_mutex_unlock(&bsf->mu);
	return BSF_OK;
}

BsfStatus
bsf_zn(Bsf *bsf, const char *b_tid, const uint8_t *naf_id, size_t naf_id_len,
	   uint8_t ks_int_naf[32], uint8_t ks_ext_naf[32], int64_t *expires_us)
{
	Subscriber *s;
	BsfStatus	status = BSF_ERROR;

	pthread_mutex_lock(&bsf->mu);
	bsf->counters.zn_requests++;
	s = strmap_get(bsf->by_b_tid, b_tid);
	if (s == NULL)
	{
		pthread_mutex_unlock(&bsf->mu);
		return BSF_UNKNOWN;
	}
	if (gba_naf_key(s->boot_ks, 1, s->boot_rand, s->impi, naf_id, naf_id_len, ks_int_naf) == 0 &&
		gba_naf_key(s->boot_ks, 0, s->boot_rand, s->impi, naf_id, naf_id_len, ks_ext_naf) == 0)
	{
		*expires_us = s->expires_us;
		status = BSF_OK;
	}
	pthread_mutex_unlock(&bsf->mu);
	return status;
}

void
bsf_counters(Bsf *bsf, BsfCounters *out)
{
	pthread_mutex_lock(&bsf->mu);
	*out = bsf->counters;
	pthread_mutex_unlock(&bsf->mu);
}

/*
 * bsf.h: the BSF with its HSS (TS 33.220 clause 4.5.2, GBA_U 5.3.2).
 *
 * The HSS holds each subscriber's K and OPc and a sequence number SQN_HE;
 * for every bootstrap it makes a fresh authentication vector (RAND from the
 * seed, AUTN = SQN xor AK || AMF || MAC-A).  The BSF hands RAND and AUTN
 * to the device, checks RES against XRES, names the session with a B-TID
 * (base64(RAND)@domain), gives it a lifetime, and answers the NAF's Zn
 * request (Ks_int_NAF, Ks_ext_NAF and the expiry) for that B-TID.  A new
 * bootstrap of a subscriber replaces the old one.
 *
 * Times are the server's clock (util: server_now_us), in microseconds.
 */
#ifndef SIM_BSF_H
#define SIM_BSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BSF_DOMAIN "bsf.mnc001.mcc001.pub.3gppnetwork.org"
#define BSF_B_TID_MAX 128

typedef struct Bsf Bsf;

typedef enum BsfStatus
{
	BSF_OK,
	BSF_UNKNOWN,				/* no such subscriber, or no such B-TID */
	BSF_AUTH_FAILED,			/* RES differs from XRES, or AUTS not genuine */
	BSF_ERROR					/* OpenSSL failed */
} BsfStatus;

Bsf *bsf_new(const char *domain, int64_t lifetime_us);
void bsf_free(Bsf *bsf);
int64_t bsf_lifetime(const Bsf *bsf);

/* HSS provisioning: the subscriber's secrets, as on its card. */
void bsf_add_subscriber(Bsf *bsf, unsigned index, const char *impi,
						const uint8_t k[16], const uint8_t opc[16], uint64_t seq_start);

/* Ub, step 1: a fresh challenge for the IMPI. */
BsfStatus bsf_challenge(Bsf *bsf, const char *impi, uint8_t rand[16], uint8_t autn[16]);
/* Ub, after a synchronisation failure: the HSS checks AUTS and adopts SQN_MS. */
BsfStatus bsf_resync(Bsf *bsf, const char *impi, const uint8_t rand[16], const uint8_t auts[14]);
/* Ub, step 2: RES; on success the B-TID and the expiry (lifetime_us, 0 = the BSF's). */
BsfStatus bsf_complete(Bsf *bsf, const char *impi, const uint8_t rand[16], const uint8_t res[8],
					   int64_t lifetime_us, char b_tid[BSF_B_TID_MAX], int64_t *expires_us);

/* Zn: the NAF-specific keys of a B-TID and their expiry (even if past). */
BsfStatus bsf_zn(Bsf *bsf, const char *b_tid, const uint8_t *naf_id, size_t naf_id_len,
				 uint8_t ks_int_naf[32], uint8_t ks_ext_naf[32], int64_t *expires_us);

/* Counters for the report. */
typedef struct BsfCounters
{
	long		challenges;
	long		bootstraps;
	long		resyncs;
	long		zn_requests;
	long		auth_failures;
} BsfCounters;

void bsf_counters(Bsf *bsf, BsfCounters *out);

/* The server's clock: the local clock plus the offset measured at start. */
void set_server_clock_offset(int64_t offset_us);
int64_t server_now_us(void);

#endif

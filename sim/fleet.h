/*
 * fleet.h: everything the simulator derives from --seed: the identities of
 * devices and cards, the cards' secrets, the BSF's RANDs and the choice of
 * devices for each scenario.  The same seed gives the same values.
 *
 * Identities carry a run number R = seed mod 10000, so that runs with
 * different seeds can share a database:
 *
 *   terminal_id  simRRRR-<kind>-NNNNNN            kind: dev, thief, clone, new
 *   IMEI         99 RRRR 01 NNNNNN + check digit   (TAC 99RRRR01)
 *   ICCID        89 990 RRRR NNNNNNNNN + check digit (19 digits)
 *   IMSI         001 01 RRRR NNNNNN               (MCC 001, MNC 01: test network)
 *   IMPI         <IMSI>@ims.mnc001.mcc001.3gppnetwork.org
 */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_MAX_INDEX 999999	/* six digits of serial number */

void fleet_seed(uint64_t seed);
/* out = the first n octets of HMAC-SHA-256(seed key, label || a || b) */
void fleet_prf(const char *label, uint64_t a, uint64_t b, uint8_t *out, size_t n);
uint64_t fleet_prf_u64(const char *label, uint64_t a, uint64_t b);

/* The Luhn check digit for a string of digits. */
int luhn_check_digit(const char *digits);

unsigned fleet_run(uint64_t seed);
void fleet_terminal_id(unsigned run, const char *kind, unsigned idx, char *out, size_t len);
void fleet_imei(unsigned run, unsigned idx, char out[16]);
void fleet_iccid(unsigned run, unsigned idx, char out[21]);
void fleet_imsi(unsigned run, unsigned idx, char out[16]);
void fleet_impi(const char *imsi, char *out, size_t len);

/* LIKE patterns that match every identity of run R (for the database checks). */
void fleet_patterns(unsigned run, char terminal_id[32], char iccid[32],
					char imei[32], char imsi[32]);

/* A permutation of 0..n-1 drawn from the seed, for picking devices. */
void fleet_shuffle(const char *label, unsigned *items, unsigned n);

#endif

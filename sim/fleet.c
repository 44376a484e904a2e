/* fleet.c: see fleet.h. */
#include "fleet.h"

#include <stdio.h>
#include <string.h>

#include "gba.h"
#include "util.h"

static uint8_t seed_key[32];

void
fleet_seed(uint64_t seed)
{
	uint8_t		msg[8 + 16];

	memcpy(msg, "mtcbind-sim seed", 16);
	for (int i = 0; i < 8; i++)
		msg[16 + i] = (uint8_t) (seed >> (56 - 8 * i));
	if (gba_hmac_sha256((const uint8_t *) "mtcbind-sim", 11, msg, sizeof(msg), seed_key) != 0)
		fatal(EXIT_ABORTED, "OpenSSL could not compute HMAC-SHA-256");
}

void
fleet_prf(const char *label, uint64_t a, uint64_t b, uint8_t *out, size_t n)
{
	uint8_t		msg[64 + 16];
	size_t		len = strlen(label);
	uint8_t		mac[32];

	if (len > 64)
		len = 64;
	memcpy(msg, label, len);
	for (int i = 0; i < 8; i++)
	{
		msg[len + i] = (uint8_t) (a >> (56 - 8 * i));
		msg[len + 8 + i] = (uint8_t) (b >> (56 - 8 * i));
	}
	if (gba_hmac_sha256(seed_key, sizeof(seed_key), msg, len + 16, mac) != 0)
		fatal(EXIT_ABORTED, "OpenSSL could not compute HMAC-SHA-256");
	memcpy(out, mac, n < 32 ? n : 32);
	gba_wipe(mac, sizeof(mac));
}

uint64_t
fleet_prf_u64(const char *label, uint64_t a, uint64_t b)
{
	uint8_t		v[8];
	uint64_t	x = 0;

	fleet_prf(label, a, b, v, 8);
	for (int i = 0; i < 8; i++)
		x = x << 8 | v[i];
	return x;
}

int
luhn_check_digit(const char *digits)
{
	size_t		n = strlen(digits);
	int			sum = 0;

	/* From the right, double every other digit, starting with the rightmost. */
	for (size_t i = 0; i < n; i++)
	{
		int			d = digits[n - 1 - i] - '0';

		if (i % 2 == 0)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (10 - sum % 10) % 10;
}

unsigned
fleet_run(uint64_t seed)
{
	return (unsigned) (seed % 10000);
}

void
fleet_terminal_id(unsigned run, const char *kind, unsigned idx, char *out, size_t len)
{
	snprintf(out, len, "sim%04u-%s-%06u", run, kind, idx);
}

void
fleet_imei(unsigned run, unsigned idx, char out[16])
{
	char		body[15];

	snprintf(body, sizeof(body), "99%04u01%06u", run, idx);
	snprintf(out, 16, "%s%d", body, luhn_check_digit(body));
}

void
fleet_iccid(unsigned run, unsigned idx, char out[21])
{
	char		body[19];

	snprintf(body, sizeof(body), "89990%04u%09u", run, idx);
	snprintf(out, 21, "%s%d", body, luhn_check_digit(body));
}

void
fleet_imsi(unsigned run, unsigned idx, char out[16])
{
	snprintf(out, 16, "00101%04u%06u", run, idx);
}

void
fleet_impi(const char *imsi, char *out, size_t len)
{
	/* TS 23.003 13.3 with MCC 001, MNC 01 (three digits in the domain). */
	snprintf(out, len, "%s@ims.mnc001.mcc001.3gppnetwork.org", imsi);
}

void
fleet_patterns(unsigned run, char terminal_id[32], char iccid[32],
			   char imei[32], char imsi[32])
{
	snprintf(terminal_id, 32, "sim%04u-%%", run);
	snprintf(iccid, 32, "89990%04u%%", run);
	snprintf(imei, 32, "99%04u01%%", run);
	snprintf(imsi, 32, "00101%04u%%", run);
}

/* splitmix64 */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
fleet_shuffle(const char *label, unsigned *items, unsigned n)
{
	uint64_t	state = fleet_prf_u64(label, n, 0);

	for (unsigned i = 0; i < n; i++)
		items[i] = i;
	for (unsigned i = n; i > 1; i--)
	{
		unsigned	j = (unsigned) (next_random(&state) % i);
		unsigned	t = items[i - 1];

		items[i - 1] = items[j];
		items[j] = t;
	}
}

/*
 * kdf_raw.c
 *		The floor for mtcbind.ks_local: the same S layout and HMAC-SHA-256
 *		in a C loop, no server.  Built and run by scripts/bench.sh; prints
 *		one "name microseconds-per-call" line per variant.
 *
 *	  raw_rekey		EVP_MAC fetched once, one context re-keyed per call
 *	  raw_newctx	EVP_MAC fetched once, a new context per call
 *	  raw_oneshot	one-shot HMAC() per call
 *	  core			mtcbind_derive_ks_local from src/kdf.c (standalone)
 *
 * Each call derives Ks_local for the inputs of test/unit/kdf_test.c with
 * Terminal_ID = the loop counter in decimal, as kdf_bench.sql does.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "kdf.h"

#define B_TID "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org"
#define ICCID "89441100633100000014"
#define TERMINAL_APPLI_ID "metering-app"
#define UICC_APPLI_ID "A0000000871002"

static const unsigned char ks_int_naf[32] = {
	0x3e, 0x9f, 0x04, 0xa7, 0xde, 0x64, 0xef, 0xd1, 0xdb, 0x68, 0x43, 0xa0,
	0xa5, 0xf1, 0xc5, 0x67, 0x7b, 0x7f, 0x7c, 0xc3, 0xfb, 0x7a, 0x37, 0xb7,
	0xc5, 0x3d, 0xcb, 0x4b, 0x28, 0x06, 0xb1, 0x9c
};
static const unsigned char rand_x[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};
static const unsigned char rand_y[16] = {
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00
};

static volatile unsigned int sink;

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Appends Pi || Li to s at *len. */
static void
put_param(unsigned char *s, size_t *len, const void *data, size_t datalen)
{
	memcpy(s + *len, data, datalen);
	*len += datalen;
	s[(*len)++] = (unsigned char) (datalen >> 8);
	s[(*len)++] = (unsigned char) datalen;
}

/* S of Ks_local for Terminal_ID = i in decimal; returns its length. */
static size_t
build_s(unsigned char *s, long i)
{
	char		terminal_id[24];
	int			terminal_id_len = snprintf(terminal_id, sizeof(terminal_id), "%ld", i);
	size_t		len = 0;

	s[len++] = 0x01;
	put_param(s, &len, B_TID, strlen(B_TID));
	put_param(s, &len, ICCID, strlen(ICCID));
	put_param(s, &len, terminal_id, (size_t) terminal_id_len);
	put_param(s, &len, TERMINAL_APPLI_ID, strlen(TERMINAL_APPLI_ID));
	put_param(s, &len, UICC_APPLI_ID, strlen(UICC_APPLI_ID));
	put_param(s, &len, rand_x, sizeof(rand_x));
	put_param(s, &len, rand_y, sizeof(rand_y));
	return len;
}

/* Reports a failed OpenSSL call and stops. */
static void
fail(const char *what)
{
	fprintf(stderr, "kdf_raw: %s failed\n", what);
	exit(1);
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	static char digest_name[] = "SHA256";
	OSSL_PARAM	params[2];
	EVP_MAC    *mac;
	EVP_MAC_CTX *ctx;
	unsigned char s[512];
	unsigned char out[32];
	size_t		outlen;
	unsigned int outlen_u;
	double		t0;
	long		i;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		fail("EVP_MAC_fetch");

	/* One context, digest set once, re-keyed for every derivation. */
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL || EVP_MAC_CTX_set_params(ctx, params) != 1)
		fail("EVP_MAC_CTX_new");
	t0 = now();
	for (i = 1; i <= n; i++)
	{
		size_t		slen = build_s(s, i);

		if (EVP_MAC_init(ctx, ks_int_naf, sizeof(ks_int_naf), NULL) != 1 ||
			EVP_MAC_update(ctx, s, slen) != 1 ||
			EVP_MAC_final(ctx, out, &outlen, sizeof(out)) != 1)
			fail("EVP_MAC");
		sink += out[0];
	}
	printf("raw_rekey %.3f\n", (now() - t0) * 1e6 / n);
	EVP_MAC_CTX_free(ctx);

	/* A new context for every derivation. */
	t0 = now();
	for (i = 1; i <= n; i++)
	{
		size_t		slen = build_s(s, i);

		ctx = EVP_MAC_CTX_new(mac);
		if (ctx == NULL ||
			EVP_MAC_init(ctx, ks_int_naf, sizeof(ks_int_naf), params) != 1 ||
			EVP_MAC_update(ctx, s, slen) != 1 ||
			EVP_MAC_final(ctx, out, &outlen, sizeof(out)) != 1)
			fail("EVP_MAC");
		EVP_MAC_CTX_free(ctx);
		sink += out[0];
	}
	printf("raw_newctx %.3f\n", (now() - t0) * 1e6 / n);

	/* One-shot HMAC(), which fetches SHA-256 and HMAC every time. */
	t0 = now();
	for (i = 1; i <= n; i++)
	{
		size_t		slen = build_s(s, i);

		if (HMAC(EVP_sha256(), ks_int_naf, sizeof(ks_int_naf), s, slen, out, &outlen_u) == NULL)
			fail("HMAC");
		sink += out[0];
	}
	printf("raw_oneshot %.3f\n", (now() - t0) * 1e6 / n);

	/* The extension's own core, as request_key calls it. */
	t0 = now();
	for (i = 1; i <= n; i++)
	{
		char		terminal_id[24];
		KsLocalInput in;

		in.ks_int_naf = ks_int_naf;
		in.b_tid = B_TID;
		in.b_tid_len = strlen(B_TID);
		in.iccid = ICCID;
		in.iccid_len = strlen(ICCID);
		in.terminal_id = terminal_id;
		in.terminal_id_len = (size_t) snprintf(terminal_id, sizeof(terminal_id), "%ld", i);
		in.terminal_appli_id = TERMINAL_APPLI_ID;
		in.terminal_appli_id_len = strlen(TERMINAL_APPLI_ID);
		in.uicc_appli_id = UICC_APPLI_ID;
		in.uicc_appli_id_len = strlen(UICC_APPLI_ID);
		in.rand_x = rand_x;
		in.rand_y = rand_y;
		if (!mtcbind_derive_ks_local(&in, out))
			fail("mtcbind_derive_ks_local");
		sink += out[0];
	}
	printf("core %.3f\n", (now() - t0) * 1e6 / n);
	mtcbind_kdf_release();

	EVP_MAC_free(mac);
	return 0;
}

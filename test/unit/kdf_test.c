/*
 * kdf_test.c
 *		Unit test of the key derivation core in src/kdf.c, without a server.
 *		Prints TAP; exits non-zero if any test fails.
 *
 * References, all computed outside this code:
 *
 * - RFC 5448 Appendix C, cases 1-4 (also RFC 9048 Appendix D): CK' || IK' =
 *	 KDF(CK || IK, FC = 0x20, P0 = access network identity, P1 = SQN xor AK),
 *	 with SQN xor AK the first six octets of AUTN.  Values as published,
 *	 checked here against two independent copies of the RFC's vectors and
 *	 recomputed with Python's hmac before use.
 *
 * - Everything else: Python 3.11 hmac/hashlib, and cross-checked with the
 *	 OpenSSL command line tool (a different code path from EVP_MAC in a
 *	 program).  The script, kept in the comment so it can be rerun:
 *
 *	   import hmac, hashlib, base64
 *	   def S(fc, *ps): return bytes([fc]) + b"".join(p + len(p).to_bytes(2, "big") for p in ps)
 *	   def kdf(key, fc, *ps): return hmac.new(key, S(fc, *ps), hashlib.sha256).digest()
 *	   ks = bytes.fromhex("b40ba9a3c58b2a05bbf0d987b21bf8cb" "f769bcd751044604127672711c6d3441")
 *	   rand = bytes.fromhex("23553cbe9637a89d218ae64dae47bf35")
 *	   impi = b"001010123456789@ims.mnc001.mcc001.3gppnetwork.org"
 *	   naf_id = b"naf.example.org" + bytes.fromhex("0100000002")
 *	   ext = kdf(ks, 0x01, b"gba-me", rand, impi, naf_id)
 *	   int_ = kdf(ks, 0x01, b"gba-u", rand, impi, naf_id)
 *	   btid = base64.b64encode(rand) + b"@bsf.mnc001.mcc001.pub.3gppnetwork.org"
 *	   rx = bytes.fromhex("00112233445566778899aabbccddeeff")
 *	   ry = bytes.fromhex("ffeeddccbbaa99887766554433221100")
 *	   ks_local = kdf(int_, 0x01, btid, b"89441100633100000014", b"356938035643809",
 *					  b"metering-app", b"A0000000871002", rx, ry)
 *	   ks_local_empty = kdf(int_, 0x01, btid, b"89441100633100000014", b"356938035643809",
 *							b"", b"", rx, ry)
 *	   k = bytes(range(32))
 *	   p300 = kdf(k, 0x42, bytes([0xa5]) * 300)
 *	   empty3 = kdf(k, 0x42, b"", b"", b"")
 *	   noparams = kdf(k, 0x42)
 *	   p65535 = kdf(k, 0x10, b"x", bytes([0x5a]) * 65535, b"y")
 *
 *	 and for the OpenSSL check, S written to a file by the same S() and
 *
 *	   openssl mac -digest SHA256 -macopt hexkey:b40ba9a3...6c1d3441 -in gba-u.S HMAC
 *
 *	 (likewise gba-me.S, ks_local.S with hexkey = Ks_int_NAF, p300.S with
 *	 hexkey = 000102...1f): the same four values, upper-case.
 *
 * Ks = CK || IK and RAND are Milenage test set 1 (TS 35.208), from
 * the project's notes of the specifications.  The IMPI and NAF_Id are our choice.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "kdf.h"

static int	test_number = 0;
static int	failures = 0;

/* Prints one TAP line. */
static void
tap(bool ok, const char *name)
{
	test_number++;
	if (!ok)
		failures++;
	printf("%sok %d - %s\n", ok ? "" : "not ", test_number, name);
}

/* Decodes hex into out (of len octets); aborts on malformed test data. */
static void
unhex(const char *hex, unsigned char *out, size_t len)
{
	size_t		i;

	if (strlen(hex) != 2 * len)
	{
		fprintf(stderr, "bad test vector length: %s\n", hex);
		exit(2);
	}
	for (i = 0; i < len; i++)
	{
		unsigned int octet;

		if (sscanf(hex + 2 * i, "%2x", &octet) != 1)
		{
			fprintf(stderr, "bad test vector: %s\n", hex);
			exit(2);
		}
		out[i] = (unsigned char) octet;
	}
}

/* True when out equals the 32 octets written in hex. */
static bool
matches_hex(const unsigned char *out, const char *hex)
{
	unsigned char expected[MTCBIND_KEY_LEN];

	unhex(hex, expected, MTCBIND_KEY_LEN);
	return memcmp(out, expected, MTCBIND_KEY_LEN) == 0;
}

/* As matches_hex, and shows both values as a TAP comment when they differ. */
static bool
equals_hex(const unsigned char *out, const char *hex)
{
	if (matches_hex(out, hex))
		return true;
	printf("#   got      ");
	for (int i = 0; i < MTCBIND_KEY_LEN; i++)
		printf("%02x", out[i]);
	printf("\n#   expected %s\n", hex);
	return false;
}

/* True when all len octets are zero. */
static bool
all_zero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != 0)
			return false;
	return true;
}

/* One case of RFC 5448 Appendix C. */
typedef struct Rfc5448Case
{
	const char *name;
	const char *ck;
	const char *ik;
	const char *network;
	const char *sqn_xor_ak;
	const char *ck_ik_prime;
} Rfc5448Case;

static const Rfc5448Case rfc5448_cases[] = {
	{"RFC 5448 C case 1 (WLAN, Milenage set 19)",
		"5349fbe098649f948f5d2e973a81c00f", "9744871ad32bf9bbd1dd5ce54e3e2e5a",
		"WLAN", "bb52e91c747a",
	"0093962d0dd84aa5684b045c9edffa04" "ccfc230ca74fcc96c0a5d61164f5a76c"},
	{"RFC 5448 C case 2 (HRPD, Milenage set 19)",
		"5349fbe098649f948f5d2e973a81c00f", "9744871ad32bf9bbd1dd5ce54e3e2e5a",
		"HRPD", "bb52e91c747a",
	"3820f0277fa5f77732b1fb1d90c1a0da" "db94a0ab557ef6c9ab48619ca05b9a9f"},
	{"RFC 5448 C case 3 (WLAN, artificial values)",
		"c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
		"WLAN", "a0a0a0a0a0a0",
	"cd4c8e5c68f57dd1d7d7dfd0c538e577" "3ece6b705dbbf7dfc459a11280c65524"},
	{"RFC 5448 C case 4 (HRPD, artificial values)",
		"c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
		"HRPD", "a0a0a0a0a0a0",
	"8310a71ce6f754889613da8f64d5fb46" "5adf14360ae838192db23f6fcb7f8c76"},
};

/* Values from the Python script in the header comment. */
#define KS_HEX			"b40ba9a3c58b2a05bbf0d987b21bf8cb" "f769bcd751044604127672711c6d3441"
#define RAND_HEX		"23553cbe9637a89d218ae64dae47bf35"
#define IMPI			"001010123456789@ims.mnc001.mcc001.3gppnetwork.org"
#define NAF_FQDN		"naf.example.org"
#define KS_EXT_NAF_HEX	"7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610"
#define KS_INT_NAF_HEX	"3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c"
#define B_TID			"I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org"
#define ICCID			"89441100633100000014"
#define TERMINAL_ID		"356938035643809"
#define RAND_X_HEX		"00112233445566778899aabbccddeeff"
#define RAND_Y_HEX		"ffeeddccbbaa99887766554433221100"
#define KS_LOCAL_HEX	"5b59f629efb4a2c4517274256f6a7f6fb4434c70459656b6a8c4d6ae64b7bd89"
#define KS_LOCAL_EMPTY_APPLI_HEX "fb7afcf00b534227b32de0cea972ab8930733669935d342b0e451c5cac07e391"
#define P300_HEX		"bea62d0ee99c4f74605fbe04f73e86fafbce54e6802bf903a5f2c7671613c6d9"
#define EMPTY3_HEX		"6426be1039790f78e2b0cc641144f9022e05aab265aa922916b372ce54688ca6"
#define NOPARAMS_HEX	"ef2a09b50b6c62b2e5a46fe80ddb33c05843b297dc5251a22b6acb01a3d6e624"
#define P65535_HEX		"dda88d4bf13f5777ff6e3200598643ef21e0137121d263a3cab76f2dbcc57c15"

/* The RFC 5448 vectors: the construction of S and the HMAC. */
static void
test_rfc5448(void)
{
	for (size_t c = 0; c < sizeof(rfc5448_cases) / sizeof(rfc5448_cases[0]); c++)
	{
		const Rfc5448Case *tc = &rfc5448_cases[c];
		unsigned char key[32];
		unsigned char sqn_xor_ak[6];
		unsigned char out[MTCBIND_KEY_LEN];
		KdfParam	params[2];
		bool		ok;

		unhex(tc->ck, key, 16);
		unhex(tc->ik, key + 16, 16);
		unhex(tc->sqn_xor_ak, sqn_xor_ak, 6);
		params[0].data = (const unsigned char *) tc->network;
		params[0].len = strlen(tc->network);
		params[1].data = sqn_xor_ak;
		params[1].len = 6;
		ok = mtcbind_kdf(key, sizeof(key), 0x20, params, 2, out);
		tap(ok && equals_hex(out, tc->ck_ik_prime), tc->name);
	}
}

/* Fills the Milenage set 1 inputs and the NAF_Id. */
static void
gba_inputs(unsigned char ks[MTCBIND_KEY_LEN], unsigned char rand[MTCBIND_RAND_LEN],
		   unsigned char *naf_id, size_t *naf_id_len)
{
	static const unsigned char http_digest[MTCBIND_UA_PROTOCOL_LEN] = {1, 0, 0, 0, 2};

	unhex(KS_HEX, ks, MTCBIND_KEY_LEN);
	unhex(RAND_HEX, rand, MTCBIND_RAND_LEN);
	memcpy(naf_id, NAF_FQDN, strlen(NAF_FQDN));
	memcpy(naf_id + strlen(NAF_FQDN), http_digest, sizeof(http_digest));
	*naf_id_len = strlen(NAF_FQDN) + sizeof(http_digest);
}

/* TS 33.220 B.3 for Milenage test set 1, through the core and by hand. */
static void
test_naf_keys(void)
{
	unsigned char ks[MTCBIND_KEY_LEN];
	unsigned char rand[MTCBIND_RAND_LEN];
	unsigned char naf_id[64];
	size_t		naf_id_len;
	unsigned char out[MTCBIND_KEY_LEN];
	KdfParam	params[4];
	bool		ok;

	gba_inputs(ks, rand, naf_id, &naf_id_len);

	ok = mtcbind_derive_naf_key(ks, false, rand, IMPI, strlen(IMPI),
								naf_id, naf_id_len, out);
	tap(ok && equals_hex(out, KS_EXT_NAF_HEX), "Ks_ext_NAF (gba-me), Milenage set 1");

	ok = mtcbind_derive_naf_key(ks, true, rand, IMPI, strlen(IMPI),
								naf_id, naf_id_len, out);
	tap(ok && equals_hex(out, KS_INT_NAF_HEX), "Ks_int_NAF (gba-u), Milenage set 1");

	/* The same through the generic KDF, as mtcbind.kdf() would do it. */
	params[0].data = (const unsigned char *) "gba-u";
	params[0].len = 5;
	params[1].data = rand;
	params[1].len = MTCBIND_RAND_LEN;
	params[2].data = (const unsigned char *) IMPI;
	params[2].len = strlen(IMPI);
	params[3].data = naf_id;
	params[3].len = naf_id_len;
	ok = mtcbind_kdf(ks, MTCBIND_KEY_LEN, 0x01, params, 4, out);
	tap(ok && equals_hex(out, KS_INT_NAF_HEX), "Ks_int_NAF through the generic KDF");
}

/* Fills a KsLocalInput with the reference values; buffers are the caller's. */
static void
ks_local_inputs(KsLocalInput *in, unsigned char ks_int_naf[MTCBIND_KEY_LEN],
				unsigned char rand_x[MTCBIND_RAND_LEN],
				unsigned char rand_y[MTCBIND_RAND_LEN])
{
	unhex(KS_INT_NAF_HEX, ks_int_naf, MTCBIND_KEY_LEN);
	unhex(RAND_X_HEX, rand_x, MTCBIND_RAND_LEN);
	unhex(RAND_Y_HEX, rand_y, MTCBIND_RAND_LEN);
	in->ks_int_naf = ks_int_naf;
	in->b_tid = B_TID;
	in->b_tid_len = strlen(B_TID);
	in->iccid = ICCID;
	in->iccid_len = strlen(ICCID);
	in->terminal_id = TERMINAL_ID;
	in->terminal_id_len = strlen(TERMINAL_ID);
	in->terminal_appli_id = "metering-app";
	in->terminal_appli_id_len = strlen("metering-app");
	in->uicc_appli_id = "A0000000871002";
	in->uicc_appli_id_len = strlen("A0000000871002");
	in->rand_x = rand_x;
	in->rand_y = rand_y;
}

/* The Ks_local layout (FC 0x01, P0..P6 in the documented order). */
static void
test_ks_local(void)
{
	KsLocalInput in;
	unsigned char ks_int_naf[MTCBIND_KEY_LEN];
	unsigned char rand_x[MTCBIND_RAND_LEN];
	unsigned char rand_y[MTCBIND_RAND_LEN];
	unsigned char out[MTCBIND_KEY_LEN];
	bool		ok;

	ks_local_inputs(&in, ks_int_naf, rand_x, rand_y);
	ok = mtcbind_derive_ks_local(&in, out);
	tap(ok && equals_hex(out, KS_LOCAL_HEX), "Ks_local layout matches the reference");

	in.terminal_appli_id = NULL;
	in.terminal_appli_id_len = 0;
	in.uicc_appli_id = "";
	in.uicc_appli_id_len = 0;
	ok = mtcbind_derive_ks_local(&in, out);
	tap(ok && equals_hex(out, KS_LOCAL_EMPTY_APPLI_HEX),
		"Ks_local with empty application ids (L = 00 00)");

	/* Swapping RANDx and RANDy must change the key: the order is part of it. */
	ks_local_inputs(&in, ks_int_naf, rand_x, rand_y);
	in.rand_x = rand_y;
	in.rand_y = rand_x;
	ok = mtcbind_derive_ks_local(&in, out);
	tap(ok && !matches_hex(out, KS_LOCAL_HEX) && !all_zero(out, sizeof(out)),
		"Ks_local depends on the order of RANDx and RANDy");

	in.rand_x = NULL;
	ok = mtcbind_derive_ks_local(&in, out);
	tap(!ok && all_zero(out, sizeof(out)), "Ks_local without RANDx fails, output zeroed");
}

/* Lengths: two-octet L, empty parameters, the 65535 limit. */
static void
test_lengths(void)
{
	unsigned char key[MTCBIND_KEY_LEN];
	unsigned char out[MTCBIND_KEY_LEN];
	unsigned char *big = malloc(MTCBIND_KDF_PARAM_MAX + 1);
	KdfParam	params[3];
	bool		ok;

	if (big == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	for (int i = 0; i < MTCBIND_KEY_LEN; i++)
		key[i] = (unsigned char) i;

	/* 300 octets: L must be 01 2c, a one-octet length would give 2c. */
	memset(big, 0xa5, 300);
	params[0].data = big;
	params[0].len = 300;
	ok = mtcbind_kdf(key, sizeof(key), 0x42, params, 1, out);
	tap(ok && equals_hex(out, P300_HEX), "300-octet parameter (L = 01 2c)");

	params[0].data = NULL;
	params[0].len = 0;
	params[1].data = (const unsigned char *) "";
	params[1].len = 0;
	params[2].data = big;
	params[2].len = 0;
	ok = mtcbind_kdf(key, sizeof(key), 0x42, params, 3, out);
	tap(ok && equals_hex(out, EMPTY3_HEX), "three empty parameters (L = 00 00 each)");

	ok = mtcbind_kdf(key, sizeof(key), 0x42, NULL, 0, out);
	tap(ok && equals_hex(out, NOPARAMS_HEX), "no parameters: S = FC");

	/* Longer than the stack buffer: S goes to HMAC in pieces. */
	memset(big, 0x5a, MTCBIND_KDF_PARAM_MAX);
	params[0].data = (const unsigned char *) "x";
	params[0].len = 1;
	params[1].data = big;
	params[1].len = MTCBIND_KDF_PARAM_MAX;
	params[2].data = (const unsigned char *) "y";
	params[2].len = 1;
	ok = mtcbind_kdf(key, sizeof(key), 0x10, params, 3, out);
	tap(ok && equals_hex(out, P65535_HEX), "65535-octet parameter accepted (L = ff ff)");

	memset(out, 0xee, sizeof(out));
	params[1].len = MTCBIND_KDF_PARAM_MAX + 1;
	ok = mtcbind_kdf(key, sizeof(key), 0x10, params, 3, out);
	tap(!ok && all_zero(out, sizeof(out)), "65536-octet parameter rejected, output zeroed");

	memset(out, 0xee, sizeof(out));
	params[1].data = NULL;
	params[1].len = 5;
	ok = mtcbind_kdf(key, sizeof(key), 0x10, params, 3, out);
	tap(!ok && all_zero(out, sizeof(out)), "parameter with length but no data rejected");

	ok = mtcbind_kdf(key, 0, 0x10, NULL, 0, out);
	tap(!ok && all_zero(out, sizeof(out)), "empty key rejected (never 'keep the previous key')");

	free(big);
}

/*
 * S assembled through the stack buffer in every way it can be split:
 * parameter sizes around the buffer size, compared with one-shot HMAC()
 * over an S built here independently.
 */
static void
test_buffer_boundaries(void)
{
	static const size_t sizes[] = {0, 1, 2, 1019, 1020, 1021, 1022, 1023, 1024,
	1025, 2047, 2048, 2049, 4000};
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	unsigned char key[MTCBIND_KEY_LEN];
	unsigned char *s = malloc(1 + 3 * (4000 + 2));
	unsigned char *data = malloc(4000);
	bool		all_ok = true;

	if (s == NULL || data == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memset(key, 0x3c, sizeof(key));
	for (size_t i = 0; i < 4000; i++)
		data[i] = (unsigned char) (i * 7 + 1);

	for (size_t a = 0; a < nsizes; a++)
		for (size_t b = 0; b < nsizes; b++)
		{
			KdfParam	params[3];
			unsigned char out[MTCBIND_KEY_LEN];
			unsigned char expected[MTCBIND_KEY_LEN];
			unsigned int expected_len = 0;
			size_t		slen = 0;

			params[0].data = data;
			params[0].len = sizes[a];
			params[1].data = data + 3;
			params[1].len = sizes[b] > 3997 ? 3997 : sizes[b];
			params[2].data = (const unsigned char *) "zz";
			params[2].len = 2;

			s[slen++] = 0x77;
			for (int p = 0; p < 3; p++)
			{
				memcpy(s + slen, params[p].data, params[p].len);
				slen += params[p].len;
				s[slen++] = (unsigned char) (params[p].len >> 8);
				s[slen++] = (unsigned char) params[p].len;
			}
			if (HMAC(EVP_sha256(), key, sizeof(key), s, slen, expected, &expected_len) == NULL ||
				!mtcbind_kdf(key, sizeof(key), 0x77, params, 3, out) ||
				memcmp(out, expected, sizeof(out)) != 0)
			{
				printf("# mismatch for sizes %zu, %zu\n", sizes[a], params[1].len);
				all_ok = false;
			}
		}
	tap(all_ok, "S split across the stack buffer in every way equals one-shot HMAC");
	free(s);
	free(data);
}

/* The shared context is re-keyed each time and survives being released. */
static void
test_rekeying(void)
{
	unsigned char ks[MTCBIND_KEY_LEN];
	unsigned char rand[MTCBIND_RAND_LEN];
	unsigned char naf_id[64];
	size_t		naf_id_len;
	unsigned char other_key[MTCBIND_KEY_LEN];
	unsigned char out[MTCBIND_KEY_LEN];
	KdfParam	param = {(const unsigned char *) "", 0};
	bool		ok;

	gba_inputs(ks, rand, naf_id, &naf_id_len);
	memset(other_key, 0x11, sizeof(other_key));

	ok = mtcbind_kdf(other_key, sizeof(other_key), 0x42, &param, 1, out) &&
		mtcbind_derive_naf_key(ks, true, rand, IMPI, strlen(IMPI),
							   naf_id, naf_id_len, out);
	tap(ok && equals_hex(out, KS_INT_NAF_HEX), "a derivation after one with another key uses its own key");

	mtcbind_kdf_release();
	mtcbind_kdf_release();
	ok = mtcbind_derive_naf_key(ks, false, rand, IMPI, strlen(IMPI),
								naf_id, naf_id_len, out);
	tap(ok && equals_hex(out, KS_EXT_NAF_HEX), "derivation after mtcbind_kdf_release makes a new context");
}

/* mtcbind_wipe clears what it is given and tolerates nothing to clear. */
static void
test_wipe(void)
{
	unsigned char buf[48];

	memset(buf, 0xa5, sizeof(buf));
	mtcbind_wipe(buf, 40);
	tap(all_zero(buf, 40) && buf[40] == 0xa5 && buf[47] == 0xa5,
		"mtcbind_wipe clears exactly the given octets");
	mtcbind_wipe(NULL, 0);
	mtcbind_wipe(buf, 0);
	tap(true, "mtcbind_wipe accepts empty and NULL buffers");
}

int
main(void)
{
	printf("1..%d\n", 4 + 3 + 4 + 7 + 1 + 2 + 2);
	test_rfc5448();
	test_naf_keys();
	test_ks_local();
	test_lengths();
	test_buffer_boundaries();
	test_rekeying();
	test_wipe();
	mtcbind_kdf_release();
	if (failures > 0)
		printf("# %d of %d tests failed\n", failures, test_number);
	return failures > 0 ? 1 : 0;
}

/*
 * milenage.c: TS 35.206 clause 4.1.
 *
 *   TEMP = E_K(RAND xor OPc)
 *   OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc,
 *          IN1 = SQN || AMF || SQN || AMF
 *   OUTn = E_K(rot(TEMP xor OPc, rn) xor cn) xor OPc             n = 2..5
 *
 *   r1 = 64, r2 = 0, r3 = 32, r4 = 64, r5 = 96 bits (cyclic left rotation);
 *   c1 = 0, c2 = 1, c3 = 2, c4 = 4, c5 = 8 (in the last octet).
 *
 *   f1 = OUT1[0..63]  f1* = OUT1[64..127]  f5 = OUT2[0..47]  f2 = OUT2[64..127]
 *   f3 = OUT3         f4 = OUT4            f5* = OUT5[0..47]
 */
#include "milenage.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static EVP_CIPHER *aes128;
static pthread_once_t aes128_once = PTHREAD_ONCE_INIT;

static void
fetch_aes128(void)
{
	aes128 = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

/* AES-128 under one key, block by block. */
typedef struct Aes
{
	EVP_CIPHER_CTX *ctx;
} Aes;

static int
aes_begin(Aes *aes, const uint8_t k[16])
{
	pthread_once(&aes128_once, fetch_aes128);
	aes->ctx = NULL;
	if (aes128 == NULL)
		return -1;
	aes->ctx = EVP_CIPHER_CTX_new();
	if (aes->ctx == NULL)
		return -1;
	if (EVP_EncryptInit_ex2(aes->ctx, aes128, k, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_set_padding(aes->ctx, 0) != 1)
	{
		EVP_CIPHER_CTX_free(aes->ctx);
		aes->ctx = NULL;
		return -1;
	}
	return 0;
}

static int
aes_block(Aes *aes, const uint8_t in[16], uint8_t out[16])
{
	int			outl = 0;

	if (EVP_EncryptUpdate(aes->ctx, out, &outl, in, 16) != 1 || outl != 16)
		return -1;
	return 0;
}

static void
aes_end(Aes *aes)
{
	EVP_CIPHER_CTX_free(aes->ctx);	/* cleanses the key schedule */
	aes->ctx = NULL;
}

/* out = in rotated left by r bits, r a multiple of 8. */
static void
rotate(const uint8_t in[16], unsigned r, uint8_t out[16])
{
	unsigned	shift = r / 8;

	for (unsigned i = 0; i < 16; i++)
		out[i] = in[(i + shift) % 16];
}

int
milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
	Aes			aes;
	int			rc;

	if (aes_begin(&aes, k) != 0)
		return -1;
	rc = aes_block(&aes, op, opc);
	aes_end(&aes);
	for (int i = 0; i < 16; i++)
		opc[i] ^= op[i];
	return rc;
}

/* TEMP = E_K(RAND xor OPc) */
static int
temp_value(Aes *aes, const uint8_t opc[16], const uint8_t rand[16], uint8_t temp[16])
{
	uint8_t		in[16];

	for (int i = 0; i < 16; i++)
		in[i] = rand[i] ^ opc[i];
	return aes_block(aes, in, temp);
}

int
milenage_f1(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
			const uint8_t sqn[6], const uint8_t amf[2],
			uint8_t mac_a[8], uint8_t mac_s[8])
{
	Aes			aes;
	uint8_t		temp[16], in1[16], x[16], rot[16], out1[16];
	int			rc = -1;

	if (aes_begin(&aes, k) != 0)
		return -1;
	if (temp_value(&aes, opc, rand, temp) != 0)
		goto done;

	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, sqn, 6);
	memcpy(in1 + 14, amf, 2);
	for (int i = 0; i < 16; i++)
		x[i] = in1[i] ^ opc[i];
	rotate(x, 64, rot);			/* r1 = 64, c1 = 0 */
	for (int i = 0; i < 16; i++)
		x[i] = temp[i] ^ rot[i];
	if (aes_block(&aes, x, out1) != 0)
		goto done;
	for (int i = 0; i < 16; i++)
		out1[i] ^= opc[i];
	if (mac_a)
		memcpy(mac_a, out1, 8);
	if (mac_s)
		memcpy(mac_s, out1 + 8, 8);
	rc = 0;
done:
	aes_end(&aes);
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(out1, sizeof(out1));
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(rot, sizeof(rot));
	return rc;
}

/* OUTn = E_K(rot(TEMP xor OPc, r) xor c) xor OPc */
static int
out_n(Aes *aes, const uint8_t opc[16], const uint8_t temp[16], unsigned r,
	  uint8_t c, uint8_t out[16])
{
	uint8_t		x[16], rot[16];
	int			rc;

	for (int i = 0; i < 16; i++)
		x[i] = temp[i] ^ opc[i];
	rotate(x, r, rot);
	rot[15] ^= c;
	rc = aes_block(aes, rot, out);
	for (int i = 0; i < 16; i++)
		out[i] ^= opc[i];
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(rot, sizeof(rot));
	return rc;
}

int
milenage_f2345(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
			   uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
			   uint8_t ak[6], uint8_t ak_star[6])
{
	Aes			aes;
	uint8_t		temp[16], out[16];
	int			rc = -1;

	if (aes_begin(&aes, k) != 0)
		return -1;
	if (temp_value(&aes, opc, rand, temp) != 0)
		goto done;
	if (res || ak)
	{
		if (out_n(&aes, opc, temp, 0, 1, out) != 0)		/* OUT2 */
			goto done;
		if (ak)
			memcpy(ak, out, 6);
		if (res)
			memcpy(res, out + 8, 8);
	}
	if (ck && out_n(&aes, opc, temp, 32, 2, ck) != 0)	/* OUT3 */
		goto done;
	if (ik && out_n(&aes, opc, temp, 64, 4, ik) != 0)	/* OUT4 */
		goto done;
	if (ak_star)
	{
		if (out_n(&aes, opc, temp, 96, 8, out) != 0)	/* OUT5 */
			goto done;
		memcpy(ak_star, out, 6);
	}
	rc = 0;
done:
	aes_end(&aes);
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(out, sizeof(out));
	return rc;
}

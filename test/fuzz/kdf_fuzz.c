/*
 * kdf_fuzz.c
 *		libFuzzer harness for the input packing of the TS 33.220 KDF in
 *		src/kdf.c (built standalone, -DMTCBIND_KDF_STANDALONE):
 *
 *		S = FC || P0 || L0 || P1 || L1 || ... || Pn || Ln
 *		out = HMAC-SHA-256(key, S), Li = length of Pi in two octets
 *
 * The fuzz input is read as a recipe for a key and a list of parameters
 * (see read_recipe); the harness packs S itself, independently of kdf.c's
 * stack buffer and piecewise HMAC, and holds mtcbind_kdf against OpenSSL's
 * one-shot HMAC() over that S.  Checked:
 *	- a parameter over 65535 octets, an empty key, or a parameter with a
 *	  length but no data is refused, with the output zeroed;
 *	- everything else gives exactly HMAC-SHA-256(key, S);
 *	- optionally, mtcbind_derive_naf_key and mtcbind_derive_ks_local pack
 *	  their fixed layouts (TS 33.220 B.3, docs/kdf.md) as documented.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "kdf.h"

#define MAX_PARAMS		16
#define MAX_SYNTHETIC	4		/* long made-up parameters per input */
#define PARAM_MAX		65535	/* Li has two octets (TS 33.220 B.1) */

/* Flags of the recipe's second byte. */
#define F_RELEASE		0x01	/* call mtcbind_kdf_release first: no effect on results */
#define F_NULL_KEY		0x02	/* an empty key is passed as NULL */
#define F_NAF_KEY		0x04	/* also check the NAF key layout */
#define F_GBA_U			0x08	/* ... with "gba-u" rather than "gba-me" */
#define F_KS_LOCAL		0x10	/* also check the Ks_local layout */

/* One parameter as the harness sees it. */
typedef struct Piece
{
	const unsigned char *data;	/* NULL: no data */
	size_t		len;
	unsigned char *owned;		/* to free, if made up here */
} Piece;

/* A key and parameters read from the fuzz input. */
typedef struct Recipe
{
	unsigned char fc;
	unsigned char flags;
	const unsigned char *key;
	size_t		keylen;
	Piece		params[MAX_PARAMS];
	int			nparams;
} Recipe;

/* Reports a broken invariant and aborts, so libFuzzer keeps the input. */
static void
fail(const char *what)
{
	fprintf(stderr, "invariant broken: %s\n", what);
	abort();
}

/* A made-up parameter of len octets, all equal to fill. */
static Piece
synthetic(size_t len, unsigned char fill)
{
	Piece		p;

	p.owned = malloc(len > 0 ? len : 1);
	if (p.owned == NULL)
		abort();
	memset(p.owned, fill, len);
	p.data = p.owned;
	p.len = len;
	return p;
}

/*
 * Reads the recipe:
 *	byte 0	FC
 *	byte 1	flags (F_*)
 *	byte 2	key length k, then k octets of key (fewer if the input ends)
 *	then parameters, each a mode byte h and what the mode needs:
 *	  h % 4 == 0  two octets of length L, then up to L octets of input
 *	  h % 4 == 1  made up: 65530 + (next byte % 12) octets, both sides of
 *				  the limit, filled with the byte after
 *	  h % 4 == 2  made up: two octets of length, filled with the next byte
 *				  (S then crosses kdf.c's 1024-octet buffer in every way)
 *	  h % 4 == 3  no data: length 0, or with h & 4 a length of 1 to 255
 *				  with no data, which must be refused
 */
static void
read_recipe(const uint8_t *data, size_t size, Recipe *r)
{
	size_t		pos = 3;
	int			nsynthetic = 0;

	memset(r, 0, sizeof(*r));
	if (size < 3)
		return;
	r->fc = data[0];
	r->flags = data[1];
	r->keylen = data[2];
	if (r->keylen > size - pos)
		r->keylen = size - pos;
	r->key = data + pos;
	pos += r->keylen;

	while (pos < size && r->nparams < MAX_PARAMS)
	{
		unsigned char h = data[pos++];
		int			mode = h % 4;
		Piece	   *p = &r->params[r->nparams];

		if ((mode == 1 || mode == 2) && nsynthetic >= MAX_SYNTHETIC)
			mode = 0;
		if (mode == 0)
		{
			size_t		len = 0;

			if (pos + 2 <= size)
				len = ((size_t) data[pos] << 8) | data[pos + 1];
			pos = pos + 2 <= size ? pos + 2 : size;
			if (len > size - pos)
				len = size - pos;
			p->data = data + pos;
			p->len = len;
			pos += len;
		}
		else if (mode == 1 && pos + 2 <= size)
		{
			*p = synthetic(65530 + data[pos] % 12, data[pos + 1]);
			pos += 2;
			nsynthetic++;
		}
		else if (mode == 2 && pos + 3 <= size)
		{
			*p = synthetic(((size_t) data[pos] << 8) | data[pos + 1], data[pos + 2]);
			pos += 3;
			nsynthetic++;
		}
		else if (mode == 3)
		{
			p->data = NULL;
			p->len = 0;
			if ((h & 4) && pos < size)
				p->len = 1 + data[pos++] % 255;
		}
		else
			break;
		r->nparams++;
	}
}

/* Frees what read_recipe made up. */
static void
free_recipe(Recipe *r)
{
	for (int i = 0; i < r->nparams; i++)
		free(r->params[i].owned);
}

/* True if the KDF must accept these parameters (key aside). */
static bool
params_acceptable(const Piece *params, int n)
{
	for (int i = 0; i < n; i++)
		if (params[i].len > PARAM_MAX || (params[i].data == NULL && params[i].len > 0))
			return false;
	return true;
}

/*
 * HMAC-SHA-256(key, S) with S packed here in one heap buffer: FC, then each
 * parameter followed by its length, high octet first.
 */
static void
reference_kdf(const unsigned char *key, size_t keylen, unsigned char fc,
			  const Piece *params, int n, unsigned char out[MTCBIND_KEY_LEN])
{
	size_t		slen = 1;
	unsigned char *s;
	unsigned char *w;
	unsigned int outlen = 0;

	for (int i = 0; i < n; i++)
		slen += params[i].len + 2;
	s = malloc(slen);
	if (s == NULL)
		abort();
	w = s;
	*w++ = fc;
	for (int i = 0; i < n; i++)
	{
		if (params[i].len > 0)
			memcpy(w, params[i].data, params[i].len);
		w += params[i].len;
		*w++ = (unsigned char) (params[i].len / 256);
		*w++ = (unsigned char) (params[i].len % 256);
	}
	if (HMAC(EVP_sha256(), key, (int) keylen, s, slen, out, &outlen) == NULL ||
		outlen != MTCBIND_KEY_LEN)
		fail("OpenSSL HMAC() failed");
	free(s);
}

/* True when all n octets are zero. */
static bool
all_zero(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != 0)
			return false;
	return true;
}

/* Holds one derivation's result against what the reference says. */
static void
expect(bool ok, const unsigned char *out, bool acceptable,
	   const unsigned char *reference, const char *what)
{
	if (acceptable && !ok)
		fail(what);
	if (!acceptable && (ok || !all_zero(out, MTCBIND_KEY_LEN)))
		fail(what);
	if (acceptable && memcmp(out, reference, MTCBIND_KEY_LEN) != 0)
		fail(what);
}

/* The generic KDF against the reference packing. */
static void
check_kdf(const Recipe *r)
{
	KdfParam	params[MAX_PARAMS];
	unsigned char out[MTCBIND_KEY_LEN];
	unsigned char want[MTCBIND_KEY_LEN];
	const unsigned char *key = r->key;
	bool		acceptable;
	bool		ok;

	if (r->keylen == 0 && (r->flags & F_NULL_KEY))
		key = NULL;
	for (int i = 0; i < r->nparams; i++)
	{
		params[i].data = r->params[i].data;
		params[i].len = r->params[i].len;
	}
	acceptable = r->keylen > 0 && params_acceptable(r->params, r->nparams);
	if (acceptable)
		reference_kdf(r->key, r->keylen, r->fc, r->params, r->nparams, want);

	memset(out, 0xee, sizeof(out));
	ok = mtcbind_kdf(key, r->keylen, r->fc, r->nparams > 0 ? params : NULL,
					 r->nparams, out);
	expect(ok, out, acceptable, want,
		   acceptable ? "mtcbind_kdf differs from HMAC over the reference S"
		   : "mtcbind_kdf accepted what it must refuse, or left output");
}

/* Ks_ext_NAF / Ks_int_NAF: FC 0x01, label, RAND, IMPI, NAF_Id. */
static void
check_naf_key(const Recipe *r)
{
	bool		gba_u = (r->flags & F_GBA_U) != 0;
	unsigned char rand[MTCBIND_RAND_LEN];
	Piece		layout[4];
	unsigned char out[MTCBIND_KEY_LEN];
	unsigned char want[MTCBIND_KEY_LEN];
	bool		acceptable;
	bool		ok;

	if (r->keylen < MTCBIND_KEY_LEN)
		return;
	for (int i = 0; i < MTCBIND_RAND_LEN; i++)
		rand[i] = r->key[MTCBIND_KEY_LEN - 1 - i];

	memset(layout, 0, sizeof(layout));
	layout[0].data = (const unsigned char *) (gba_u ? "gba-u" : "gba-me");
	layout[0].len = gba_u ? 5 : 6;
	layout[1].data = rand;
	layout[1].len = MTCBIND_RAND_LEN;
	if (r->nparams > 0)
		layout[2] = r->params[0];
	if (r->nparams > 1)
		layout[3] = r->params[1];
	layout[2].owned = layout[3].owned = NULL;

	acceptable = params_acceptable(layout, 4);
	if (acceptable)
		reference_kdf(r->key, MTCBIND_KEY_LEN, 0x01, layout, 4, want);
	memset(out, 0xee, sizeof(out));
	ok = mtcbind_derive_naf_key(r->key, gba_u, rand,
								(const char *) layout[2].data, layout[2].len,
								layout[3].data, layout[3].len, out);
	expect(ok, out, acceptable, want, "NAF key layout differs from TS 33.220 B.3");
}

/* Ks_local: FC 0x01, B-TID, ICCID, Terminal_ID, two application ids, RANDx, RANDy. */
static void
check_ks_local(const Recipe *r)
{
	Piece		layout[7];
	KsLocalInput in;
	unsigned char out[MTCBIND_KEY_LEN];
	unsigned char want[MTCBIND_KEY_LEN];
	bool		acceptable;
	bool		ok;

	if (r->keylen < MTCBIND_KEY_LEN)
		return;
	memset(layout, 0, sizeof(layout));
	for (int i = 0; i < 5 && i < r->nparams; i++)
	{
		layout[i] = r->params[i];
		layout[i].owned = NULL;
	}
	layout[5].data = r->key;
	layout[5].len = MTCBIND_RAND_LEN;
	layout[6].data = r->key + MTCBIND_RAND_LEN;
	layout[6].len = MTCBIND_RAND_LEN;

	in.ks_int_naf = r->key;
	in.b_tid = (const char *) layout[0].data;
	in.b_tid_len = layout[0].len;
	in.iccid = (const char *) layout[1].data;
	in.iccid_len = layout[1].len;
	in.terminal_id = (const char *) layout[2].data;
	in.terminal_id_len = layout[2].len;
	in.terminal_appli_id = (const char *) layout[3].data;
	in.terminal_appli_id_len = layout[3].len;
	in.uicc_appli_id = (const char *) layout[4].data;
	in.uicc_appli_id_len = layout[4].len;
	in.rand_x = layout[5].data;
	in.rand_y = layout[6].data;

	acceptable = params_acceptable(layout, 7);
	if (acceptable)
		reference_kdf(r->key, MTCBIND_KEY_LEN, 0x01, layout, 7, want);
	memset(out, 0xee, sizeof(out));
	ok = mtcbind_derive_ks_local(&in, out);
	expect(ok, out, acceptable, want, "Ks_local layout differs from docs/kdf.md");
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Recipe		r;

	read_recipe(data, size, &r);
	if (r.flags & F_RELEASE)
		mtcbind_kdf_release();
	check_kdf(&r);
	if (r.flags & F_NAF_KEY)
		check_naf_key(&r);
	if (r.flags & F_KS_LOCAL)
		check_ks_local(&r);
	free_recipe(&r);
	return 0;
}

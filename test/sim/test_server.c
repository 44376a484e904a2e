/*
 * test_server.c: the simulator's GBA-U and Ks_local derivations (sim/gba.c,
 * used by the cards) against the extension's mtcbind.gba_naf_keys,
 * mtcbind.ks_local, mtcbind.b_tid and mtcbind.naf_id for the same inputs,
 * on a running server: libpq's environment, or the connection string in
 * argv[1].  Inputs are drawn from a fixed seed.  TAP on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "bsf.h"
#include "fleet.h"
#include "gba.h"
#include "milenage.h"
#include "uicc.h"
#include "util.h"

#include "tap.h"

#define CASES 300

static PGconn *conn;
static bool utf8;
static uint64_t draw_counter;

static uint64_t
draw(uint64_t bound)
{
	return fleet_prf_u64("draw", draw_counter++, 0) % bound;
}

static void
draw_octets(uint8_t *out, size_t n)
{
	fleet_prf("octets", draw_counter++, 0, out, n < 32 ? n : 32);
	for (size_t i = 32; i < n; i++)
		out[i] = (uint8_t) draw(256);
}

/* A text of about len octets: ASCII, and in a UTF-8 database some multi-octet characters. */
static void
draw_text(char *out, size_t len)
{
	static const char *pieces[] = {"ä", "€", "日本", "ß", "-", ".", "@", " "};
	size_t		n = 0;

	while (n < len)
	{
		if (utf8 && draw(8) == 0)
		{
			const char *p = pieces[draw(8)];

			if (n + strlen(p) > len)
				break;
			memcpy(out + n, p, strlen(p));
			n += strlen(p);
		}
		else
			out[n++] = (char) ('!' + draw(94));
	}
	out[n] = '\0';
}

static void
draw_iccid(char *digits, char *spelt)
{
	size_t		len = 18 + draw(3);
	char		body[21];
	size_t		o = 0;

	body[0] = '8';
	body[1] = '9';
	for (size_t i = 2; i < len - 1; i++)
		body[i] = (char) ('0' + draw(10));
	body[len - 1] = '\0';
	memcpy(digits, body, len - 1);
	digits[len - 1] = (char) ('0' + luhn_check_digit(body));
	digits[len] = '\0';
	/* As printed on a card, sometimes: groups of four with spaces or hyphens. */
	for (size_t i = 0; digits[i]; i++)
	{
		if (i && i % 4 == 0 && draw(2))
			spelt[o++] = draw(2) ? ' ' : '-';
		spelt[o++] = digits[i];
	}
	spelt[o] = '\0';
}

static PGresult *
run(const char *name, int n, const char *const *values, const int *lengths, const int *formats)
{
	PGresult   *res = PQexecPrepared(conn, name, n, values, lengths, formats, 1);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		tap_diag("%s: %s", name, PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

static bool
column_is(const PGresult *res, int col, const uint8_t *want, int n)
{
	return res && !PQgetisnull(res, 0, col) && PQgetlength(res, 0, col) == n &&
		memcmp(PQgetvalue(res, 0, col), want, (size_t) n) == 0;
}

static bool
prepare(const char *name, const char *sql, int n, const Oid *types)
{
	PGresult   *res = PQprepare(conn, name, sql, n, types);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		tap_diag("prepare %s: %s", name, PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

static void
test_naf_keys(void)
{
	static const Oid types[4] = {17, 17, 25, 17};
	int			equal = 0;

	for (int i = 0; i < CASES; i++)
	{
		uint8_t		ks[32], rand[16], naf_id[300], ext[32], in[32];
		char		impi[400];
		size_t		fqdn_len = 1 + draw(i % 25 == 0 ? 253 : 40);
		size_t		impi_len = i % 50 == 0 ? 300 : draw(80);
		const char *values[4];
		int			lengths[4] = {32, 16, 0, 0};
		int			formats[4] = {1, 1, 0, 1};
		PGresult   *res;

		draw_octets(ks, 32);
		draw_octets(rand, 16);
		draw_text(impi, impi_len);
		draw_text((char *) naf_id, fqdn_len);
		fqdn_len = strlen((char *) naf_id);
		if (fqdn_len == 0)
			naf_id[fqdn_len++] = 'n';
		draw_octets(naf_id + fqdn_len, 5);
		values[0] = (const char *) ks;
		values[1] = (const char *) rand;
		values[2] = impi;
		values[3] = (const char *) naf_id;
		lengths[3] = (int) fqdn_len + 5;
		gba_naf_key(ks, 0, rand, impi, naf_id, fqdn_len + 5, ext);
		gba_naf_key(ks, 1, rand, impi, naf_id, fqdn_len + 5, in);
		res = run("naf_keys", 4, values, lengths, formats);
		if (column_is(res, 0, ext, 32) && column_is(res, 1, in, 32))
			equal++;
		else if (equal == i)
			tap_diag("first difference: case %d, IMPI \"%s\", NAF_Id of %zu octets", i, impi, fqdn_len + 5);
		PQclear(res);
	}
	(void) types;
	tap_ok(equal == CASES, "mtcbind.gba_naf_keys: Ks_ext_NAF and Ks_int_NAF equal the simulator's for %d of %d"
		   " inputs (IMPI 0-300 octets, NAF_Id 6-258 octets%s)", equal, CASES, utf8 ? ", UTF-8 texts" : "");
}

static void
test_ks_local(void)
{
	int			equal = 0;

	for (int i = 0; i < CASES; i++)
	{
		uint8_t		ks_int[32], rand[16], rand_x[16], rand_y[16], key[32];
		char		b_tid[1100], iccid[21], spelt[32], terminal_id[300], tapp[64], uapp[64];
		const char *values[8];
		int			lengths[8] = {32, 0, 0, 0, 0, 0, 16, 16};
		int			formats[8] = {1, 0, 0, 0, 0, 0, 1, 1};
		PGresult   *res;

		draw_octets(ks_int, 32);
		if (i % 3 == 0)
			draw_text(b_tid, i % 30 == 0 ? 1000 : draw(100));
		else
		{
			char		rand64[32];

			draw_octets(rand, 16);
			base64_encode(rand, 16, rand64);
			snprintf(b_tid, sizeof(b_tid), "%s@%s", rand64, BSF_DOMAIN);
		}
		draw_iccid(iccid, spelt);
		draw_text(terminal_id, i % 40 == 0 ? 255 : draw(40));
		draw_text(tapp, draw(4) == 0 ? 0 : draw(30));
		draw_text(uapp, draw(4) == 0 ? 0 : draw(30));
		draw_octets(rand_x, 16);
		draw_octets(rand_y, 16);
		gba_ks_local(ks_int, b_tid, iccid, terminal_id, tapp, uapp, rand_x, rand_y, key);

		values[0] = (const char *) ks_int;
		values[1] = b_tid;
		values[2] = spelt;
		values[3] = terminal_id;
		values[4] = tapp;
		values[5] = uapp;
		values[6] = (const char *) rand_x;
		values[7] = (const char *) rand_y;
		res = run("ks_local", 8, values, lengths, formats);
		if (column_is(res, 0, key, 32))
			equal++;
		else if (equal == i)
			tap_diag("first difference: case %d, ICCID %s (\"%s\"), terminal_id \"%s\"", i, iccid, spelt,
					 terminal_id);
		PQclear(res);
	}
	tap_ok(equal == CASES, "mtcbind.ks_local equals the card's Ks_local for %d of %d inputs (B-TID 0-1000"
		   " octets, ICCID of 18-20 digits spelt with spaces or hyphens, terminal_id 0-255 octets,"
		   " empty application ids%s)", equal, CASES, utf8 ? ", UTF-8 texts" : "");
}

static void
test_b_tid_and_naf_id(void)
{
	int			equal = 0, naf_equal = 0;

	for (int i = 0; i < 50; i++)
	{
		uint8_t		rand[16];
		char		rand64[32], want[200], domain[80];
		const char *values[2] = {(const char *) rand, domain};
		int			lengths[2] = {16, 0};
		int			formats[2] = {1, 0};
		PGresult   *res;

		draw_octets(rand, 16);
		draw_text(domain, 1 + draw(60));
		if (domain[0] == '\0')
			strcpy(domain, "bsf");
		base64_encode(rand, 16, rand64);
		snprintf(want, sizeof(want), "%s@%s", rand64, domain);
		res = run("b_tid", 2, values, lengths, formats);
		if (res && PQgetlength(res, 0, 0) == (int) strlen(want) &&
			memcmp(PQgetvalue(res, 0, 0), want, strlen(want)) == 0)
			equal++;
		PQclear(res);
	}
	tap_ok(equal == 50, "mtcbind.b_tid equals base64(RAND)@domain as the BSF writes it, for %d of 50", equal);

	for (int i = 0; i < 50; i++)
	{
		char		fqdn[100];
		uint8_t		ua[5], want[110];
		const char *values[2] = {fqdn, (const char *) ua};
		int			lengths[2] = {0, 5};
		int			formats[2] = {0, 1};
		PGresult   *res;
		size_t		n;

		draw_text(fqdn, 1 + draw(60));
		if (fqdn[0] == '\0')
			strcpy(fqdn, "naf");
		draw_octets(ua, 5);
		n = strlen(fqdn);
		memcpy(want, fqdn, n);
		memcpy(want + n, ua, 5);
		res = run("naf_id", 2, values, lengths, formats);
		if (column_is(res, 0, want, (int) n + 5))
			naf_equal++;
		PQclear(res);
	}
	tap_ok(naf_equal == 50, "mtcbind.naf_id equals FQDN || Ua protocol id as the simulator builds it, for %d of 50",
		   naf_equal);
}

/* A card of test set 1 runs AKA; its derivations against the server's for Ks = CK || IK. */
static void
test_card_chain(void)
{
	static const char *k_hex = "465b5ce8b199b49faa5f0a2ee238a6bc", *op_hex = "cdc202d5123e20f62b6d676ac72cb318",
			   *rand_hex = "23553cbe9637a89d218ae64dae47bf35", *sqn_hex = "ff9bb4d0b607";
	uint8_t		k[16], op[16], opc[16], rand[16], sqn[6], amf[2] = {0xb9, 0xb9};
	uint8_t		ak[6], mac[8], autn[16], res[8], auts[14], ck[16], ik[16], ks[32];
	uint8_t		card_ext[32], rand_x[16], rand_y[16];
	const char *impi = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
	const uint8_t naf_id[] = "naf.mtcbind-sim.example\x01\x00\x01\x00\x8c";
	size_t		naf_id_len = sizeof(naf_id) - 1;
	char		rand64[32], b_tid[128];
	Uicc	   *card;
	PGresult   *keys, *local;
	bool		ok;

	hex_decode(k_hex, k, 16);
	hex_decode(op_hex, op, 16);
	hex_decode(rand_hex, rand, 16);
	hex_decode(sqn_hex, sqn, 6);
	milenage_opc(k, op, opc);
	milenage_f2345(k, opc, rand, NULL, ck, ik, ak, NULL);
	milenage_f1(k, opc, rand, sqn, amf, mac, NULL);
	for (int i = 0; i < 6; i++)
		autn[i] = sqn[i] ^ ak[i];
	memcpy(autn + 6, amf, 2);
	memcpy(autn + 8, mac, 8);
	memcpy(ks, ck, 16);
	memcpy(ks + 16, ik, 16);
	base64_encode(rand, 16, rand64);
	snprintf(b_tid, sizeof(b_tid), "%s@%s", rand64, BSF_DOMAIN);

	card = uicc_new("89441000000000000018", "001010123456789", impi, "A0000000871002", k, opc);
	ok = uicc_authenticate(card, rand, autn, res, auts) == AKA_OK &&
		uicc_store_bootstrap(card, rand, b_tid, INT64_MAX) &&
		uicc_gba_naf(card, naf_id, naf_id_len, card_ext) == 0;
	{
		const char *values[4] = {(const char *) ks, (const char *) rand, impi, (const char *) naf_id};
		int			lengths[4] = {32, 16, 0, (int) naf_id_len};
		int			formats[4] = {1, 1, 0, 1};

		keys = run("naf_keys", 4, values, lengths, formats);
	}
	tap_ok(ok && column_is(keys, 0, card_ext, 32),
		   "a card of test set 1 after AKA: its Ks_ext_NAF is mtcbind.gba_naf_keys' for CK || IK");

	draw_octets(rand_x, 16);
	draw_octets(rand_y, 16);
	local = NULL;
	if (keys && PQgetlength(keys, 0, 1) == 32)
	{
		const char *values[8] = {PQgetvalue(keys, 0, 1), b_tid, "89441000000000000018", "meter-0001",
		"metering-app", "A0000000871002", (const char *) rand_x, (const char *) rand_y};
		int			lengths[8] = {32, 0, 0, 0, 0, 0, 16, 16};
		int			formats[8] = {1, 0, 0, 0, 0, 0, 1, 1};

		local = run("ks_local", 8, values, lengths, formats);
	}
	ok = local && PQgetlength(local, 0, 0) == 32 &&
		uicc_derive_ks_local(card, naf_id, naf_id_len, "meter-0001", "metering-app", rand_x, rand_y) == 0 &&
		uicc_ks_local_matches(card, "meter-0001", (const uint8_t *) PQgetvalue(local, 0, 0));
	tap_ok(ok, "the same card's Ks_local (Ks_int_NAF never left it) equals mtcbind.ks_local of the"
		   " server's Ks_int_NAF");
	PQclear(keys);
	PQclear(local);
	uicc_free(card);
}

int
main(int argc, char **argv)
{
	static const Oid naf_key_types[4] = {17, 17, 25, 17};
	static const Oid ks_local_types[8] = {17, 25, 0, 25, 25, 25, 17, 17};
	static const Oid b_tid_types[2] = {17, 25};
	static const Oid naf_id_types[2] = {25, 17};
	const char *enc;

	conn = PQconnectdb(argc > 1 ? argv[1] : "");
	if (PQstatus(conn) != CONNECTION_OK)
	{
		tap_ok(false, "connect to the server: %s", PQerrorMessage(conn));
		return tap_done();
	}
	enc = PQparameterStatus(conn, "server_encoding");
	utf8 = enc && strcmp(enc, "UTF8") == 0;
	fleet_seed(20240501);
	if (!tap_ok(prepare("naf_keys", "SELECT ks_ext_naf, ks_int_naf FROM mtcbind.gba_naf_keys($1, $2, $3, $4)",
						4, naf_key_types) &&
				prepare("ks_local", "SELECT mtcbind.ks_local($1, $2, $3, $4, $5, $6, $7, $8)", 8, ks_local_types) &&
				prepare("b_tid", "SELECT mtcbind.b_tid($1, $2)", 2, b_tid_types) &&
				prepare("naf_id", "SELECT mtcbind.naf_id($1, $2)", 2, naf_id_types),
				"database \"%s\" (server_encoding %s) has the key functions of mtcbind", PQdb(conn),
				enc ? enc : "?"))
		return tap_done();

	test_naf_keys();
	test_ks_local();
	test_b_tid_and_naf_id();
	test_card_chain();
	PQfinish(conn);
	return tap_done();
}

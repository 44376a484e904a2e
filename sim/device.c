/*
 * device.c: the MTC device, steps 200-206 of the invention.
 *
 *   200  look for a valid Ks_local for the card in the slot
 *   201  none: make sure the card has a valid bootstrap (GBA_U, with the BSF)
 *   202  collect the card's identities (ICCID, IMSI, UICC_appli_ID)
 *   203  collect the device's own (Terminal_ID, IMEI, Terminal_appli_ID)
 *   204  get Ks_ext_NAF from the card for the Ua tunnel to the NAF
 *   205  send the key request to the NAF front end
 *   206  store Ks_local and its lifetime; the card derives its own Ks_local
 *        from RANDx and RANDy, and the two are compared
 *
 * The device keeps time with its own clock: the server's plus
 * Sim.fleet_offset_us.  Lifetimes it receives (server clock) are stored in
 * device time, as a device with a correct clock would.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

#include "gba.h"

/* A bootstrap with less than this left is renewed before use. */
#define BOOTSTRAP_MARGIN_US (10 * USEC_PER_SEC)

int64_t
device_now_us(const Sim *sim)
{
	return server_now_us() + sim->fleet_offset_us;
}

void
device_insert_card(Device *d, Uicc *card)
{
	d->card = card;
	/* A key belongs to the card it was made with: a new card, no key. */
	d->has_key = false;
	gba_wipe(d->ks_local, sizeof(d->ks_local));
}

Uicc *
device_remove_card(Device *d)
{
	Uicc	   *card = d->card;

	d->card = NULL;
	d->has_key = false;
	gba_wipe(d->ks_local, sizeof(d->ks_local));
	return card;
}

/* Step 201: AKA with the BSF through the card; one resynchronisation allowed. */
static bool
bootstrap(Sim *sim, Device *d, int64_t lifetime_us, Attempt *out)
{
	Uicc	   *card = d->card;
	const char *impi = uicc_impi(card);

	for (int round = 0; round < 2; round++)
	{
		uint8_t		rand[16], autn[16], res[8], auts[14];
		char		b_tid[BSF_B_TID_MAX];
		int64_t		expires;
		AkaResult	aka;

		if (bsf_challenge(sim->bsf, impi, rand, autn) != BSF_OK)
			return false;
		aka = uicc_authenticate(card, rand, autn, res, auts);
		if (aka == AKA_SYNC_FAILURE)
		{
			out->resyncs++;
			if (bsf_resync(sim->bsf, impi, rand, auts) != BSF_OK)
				return false;
			continue;
		}
		if (aka != AKA_OK)
		{
			out->aka_refused++;
			return false;
		}
		if (bsf_complete(sim->bsf, impi, rand, res, lifetime_us, b_tid, &expires) != BSF_OK)
			return false;
		if (!uicc_store_bootstrap(card, rand, b_tid, expires + sim->fleet_offset_us))
			return false;
		out->bootstrapped = true;
		return true;
	}
	return false;
}

static void
set_outcome_key(Attempt *out)
{
	const KeyResponse *r = &out->resp;

	switch (r->status)
	{
		case NAF_ANSWERED:
			snprintf(out->outcome_key, sizeof(out->outcome_key), "%s%s%s%s",
					 r->outcome, r->reason[0] ? ":" : "", r->reason,
					 r->malformed ? " (malformed answer)" : "");
			break;
		case NAF_DB_ERROR:
			snprintf(out->outcome_key, sizeof(out->outcome_key), "error:%s", r->err.sqlstate);
			break;
		case NAF_UNKNOWN_B_TID:
			snprintf(out->outcome_key, sizeof(out->outcome_key), "naf:unknown B-TID");
			break;
		case NAF_UA_FAILED:
			snprintf(out->outcome_key, sizeof(out->outcome_key), "naf:Ua handshake failed");
			break;
		case NAF_DB_LOST:
			snprintf(out->outcome_key, sizeof(out->outcome_key), "lost:%s", db_status_name(r->db_status));
			break;
		case NAF_INTERNAL:
			snprintf(out->outcome_key, sizeof(out->outcome_key), "naf:internal error");
			break;
	}
}

void
device_get_key(Sim *sim, NafConn *conn, Device *d, int flags, int64_t lifetime_us,
			   Attempt *out)
{
	Uicc	   *card = d->card;
	char		b_tid[BSF_B_TID_MAX];
	int64_t		boot_expires;
	uint8_t		ks_ext_naf[32];
	KeyRequest	req;

	memset(out, 0, sizeof(*out));
	if (card == NULL)
	{
		snprintf(out->outcome_key, sizeof(out->outcome_key), "device:no card");
		return;
	}

	/* 200: a valid key for this card needs no request. */
	if (!(flags & DEV_FORCE_REQUEST) && d->has_key &&
		strcmp(d->key_iccid, uicc_iccid(card)) == 0 &&
		d->key_expires_dev_us > device_now_us(sim))
	{
		out->used_valid_key = true;
		snprintf(out->outcome_key, sizeof(out->outcome_key), "valid key, nothing sent");
		return;
	}

	/* 201: bootstrap unless the card holds one that is still good. */
	if (!(flags & DEV_NO_BOOTSTRAP) &&
		((flags & DEV_FORCE_BOOTSTRAP) ||
		 !uicc_bootstrap(card, b_tid, sizeof(b_tid), &boot_expires) ||
		 boot_expires <= device_now_us(sim) + BOOTSTRAP_MARGIN_US))
	{
		if (!bootstrap(sim, d, lifetime_us, out))
		{
			snprintf(out->outcome_key, sizeof(out->outcome_key),
					 out->aka_refused ? "aka:card refused AUTN" : "aka:bootstrap failed");
			return;
		}
	}
	else
		out->reused_bootstrap = true;
	if (!uicc_bootstrap(card, b_tid, sizeof(b_tid), &boot_expires))
	{
		snprintf(out->outcome_key, sizeof(out->outcome_key), "aka:no bootstrap");
		return;
	}

	/* 202-204: identities, and the Ua key from the card. */
	if (uicc_gba_naf(card, sim->naf_id, sim->naf_id_len, ks_ext_naf) != 0)
	{
		snprintf(out->outcome_key, sizeof(out->outcome_key), "card:no NAF key");
		return;
	}
	req.b_tid = b_tid;
	req.terminal_id = d->terminal_id;
	req.imei = d->imei;
	req.imsi = uicc_imsi(card);
	req.iccid = uicc_iccid(card);
	req.terminal_appli_id = TERMINAL_APPLI_ID;
	req.uicc_appli_id = uicc_appli_id(card);
	req.ks_ext_naf = ks_ext_naf;

	/* 205 */
	out->requested = true;
	naf_key_request(conn, sim->bsf, sim->naf_id, sim->naf_id_len, &req, &out->resp);
	gba_wipe(ks_ext_naf, sizeof(ks_ext_naf));
	set_outcome_key(out);

	/* 206 */
	if (out->resp.has_key)
	{
		d->has_key = true;
		snprintf(d->key_iccid, sizeof(d->key_iccid), "%s", uicc_iccid(card));
		memcpy(d->ks_local, out->resp.ks_local, 32);
		d->key_expires_dev_us = out->resp.expires_us + sim->fleet_offset_us;

		out->key_checked = true;
		out->key_matches =
			uicc_derive_ks_local(card, sim->naf_id, sim->naf_id_len, d->terminal_id,
								 TERMINAL_APPLI_ID, out->resp.rand_x, out->resp.rand_y) == 0 &&
			uicc_ks_local_matches(card, d->terminal_id, d->ks_local);
		gba_wipe(out->resp.ks_local, sizeof(out->resp.ks_local));
	}
}

/*
 * naf.h: the NAF front end.  It receives a device's key request, fetches
 * Ks_int_NAF and its expiry from the BSF over Zn, checks the device's Ua
 * key (the shared-key TLS handshake, reduced to a comparison of
 * Ks_ext_NAF), and calls mtcbind.request_key over libpq with bound
 * parameters, one transaction per request, on its own connection from a
 * pool.  Administration (authorize_transfer, bind), the audit reads and the
 * LISTEN connection live here too: everything that speaks SQL.
 *
 * Every wait for the server has a deadline, so the simulator never hangs:
 * a lost connection or a server that does not answer ends the call with
 * DB_LOST or DB_TIMEOUT.
 */
#ifndef SIM_NAF_H
#define SIM_NAF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "bsf.h"

#define NAF_APPLICATION_NAME "mtcbind-sim"

typedef enum DbStatus
{
	DB_OK,
	DB_SQL_ERROR,				/* the statement failed; the connection is fine */
	DB_LOST,					/* the connection is gone */
	DB_TIMEOUT,					/* no answer within the deadline */
	DB_STOPPED					/* the run is being stopped */
} DbStatus;

typedef struct DbError
{
	char		sqlstate[6];
	char		message[600];
} DbError;

typedef struct NafConn NafConn;

/* Settings for every connection; set once before connecting. */
void naf_configure(const char *dsn, int timeout_s);
/* Opens a connection and sets it up; NULL with err filled on failure. */
NafConn *naf_connect(DbError *err);
/* Prepares the statements of the NAF front end and the administrator. */
DbStatus naf_prepare(NafConn *c, DbError *err);
void naf_close(NafConn *c);
PGconn *naf_pg(NafConn *c);

/* Any statement, text parameters and text results. */
DbStatus naf_query(NafConn *c, const char *sql, int nparams, const char *const *values,
				   PGresult **result, DbError *err);

/* Stops every wait soon (signals, a lost connection elsewhere). */
void naf_request_stop(void);
bool naf_stop_requested(void);

const char *db_status_name(DbStatus s);

/* A device's key request, as the NAF front end receives it over Ua. */
typedef struct KeyRequest
{
	const char *b_tid;
	const char *terminal_id;
	const char *imei;			/* NULL: not sent */
	const char *imsi;			/* NULL: not sent */
	const char *iccid;
	const char *terminal_appli_id;
	const char *uicc_appli_id;
	const uint8_t *ks_ext_naf;	/* the device's Ua key, from its card */
} KeyRequest;

typedef enum NafStatus
{
	NAF_ANSWERED,				/* request_key answered: outcome is set */
	NAF_UNKNOWN_B_TID,			/* the BSF does not know the B-TID */
	NAF_UA_FAILED,				/* the device's Ks_ext_NAF differs from the BSF's */
	NAF_DB_ERROR,				/* request_key raised an error: err */
	NAF_DB_LOST,				/* the connection is gone, or no answer: err */
	NAF_INTERNAL				/* OpenSSL failed */
} NafStatus;

typedef struct KeyResponse
{
	NafStatus	status;
	char		outcome[32];
	char		reason[64];		/* "" when NULL */
	int64_t		binding_id;		/* 0 when NULL */
	bool		has_key;
	uint8_t		ks_local[32];
	uint8_t		rand_x[16];
	uint8_t		rand_y[16];
	int64_t		expires_us;		/* Unix microseconds, server clock */
	int64_t		ks_int_naf_expires_us;	/* what the BSF said */
	int64_t		latency_us;		/* the request_key round trip */
	bool		malformed;		/* a key column missing or of the wrong length */
	DbStatus	db_status;
	DbError		err;
} KeyResponse;

void naf_key_request(NafConn *c, Bsf *bsf, const uint8_t *naf_id, size_t naf_id_len,
					 const KeyRequest *req, KeyResponse *resp);

/* mtcbind.authorize_transfer(iccid, new_terminal_id, '1 hour', reason) */
DbStatus naf_authorize_transfer(NafConn *c, const char *iccid, const char *new_terminal_id,
								const char *reason, int64_t *authorization_id, DbError *err);
/* mtcbind.bind(terminal_id, iccid, imei, imsi => imsi, note => note) */
DbStatus naf_bind(NafConn *c, const char *terminal_id, const char *iccid, const char *imei,
				  const char *imsi, const char *note, int64_t *binding_id, DbError *err);
/* Is no binding holding this terminal_id? */
DbStatus naf_terminal_is_free(NafConn *c, const char *terminal_id, bool *is_free, DbError *err);

/* LISTEN mtcbind_rejected */
DbStatus naf_listen(NafConn *c, DbError *err);
/* Calls fn for each notification until fn returns true or timeout_ms pass. */
DbStatus naf_drain_notifications(NafConn *c, int timeout_ms,
								 bool (*fn) (void *arg, const char *payload), void *arg,
								 DbError *err);

#endif

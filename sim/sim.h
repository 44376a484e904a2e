/*
 * sim.h: the simulation as a whole: the fleet, the scenarios and their
 * tallies, and the runner that spreads a phase's tasks over the NAF's
 * connection pool.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bsf.h"
#include "naf.h"
#include "uicc.h"
#include "util.h"

#define SIM_VERSION "1.1"
#define SIM_MIN_DEVICES 10
#define SIM_MAX_DEVICES 200000
#define SIM_MAX_CLIENTS 200
#define SIM_NSCENARIOS 5		/* 1..5; 6 is the summary */

/* The extension versions whose public SQL interface this simulator knows. */
#define SIM_KNOWN_VERSIONS "1.0 1.1"

#define NAF_FQDN "naf.mtcbind-sim.example"
#define TERMINAL_APPLI_ID "metering-app"
#define UICC_APPLI_ID "A0000000871002"	/* a USIM AID: RID A000000087, app 1002 */
#define BSF_LIFETIME_US (INT64_C(2) * 86400 * USEC_PER_SEC)	/* 2 days */
#define SHORT_LIFETIME_US (1 * USEC_PER_SEC)	/* scenario 4 */

typedef struct Options
{
	const char *dsn;			/* NULL: libpq's environment */
	unsigned	devices;
	unsigned	clients;
	unsigned	scenarios;		/* bit i: scenario i */
	uint64_t	seed;
	bool		json;
	int			timeout_s;
} Options;

typedef struct ServerInfo
{
	char		version[64];
	char		mtcbind[32];
	char		database[128];
	char		where[256];
	char		first_use[32];
	char		key_lifetime[64];
	char		log_key_issue[16];
	int64_t		key_lifetime_us;	/* 0 if unknown */
	int64_t		clock_offset_us;	/* the server's clock minus ours */
} ServerInfo;

/* One kind of action in a scenario, and what became of it. */
#define MAX_OUTCOMES 12

typedef struct OutcomeCount
{
	char		key[128];		/* "bound", "rejected:uicc_bound_elsewhere", "error:40001" */
	long		count;
} OutcomeCount;

typedef enum StepKind
{
	STEP_REQUEST,				/* a key request to the NAF: mtcbind.request_key */
	STEP_ADMIN,					/* an administration call */
	STEP_CHECK					/* a check without request_key */
} StepKind;

typedef struct Step
{
	const char *label;
	StepKind	kind;
	char		expect[128];		/* the outcome key every action should have */
	long		expected;		/* how many actions */
	long		done;
	OutcomeCount outcomes[MAX_OUTCOMES];
	int			noutcomes;
	long		keys_issued;
	long		keys_matched;
	long		keys_mismatched;
	long		malformed;
	char		first_error[1024];
} Step;

typedef struct Check
{
	char		name[200];
	bool		ok;
	char		detail[400];
} Check;

typedef struct Refusal
{
	char	   *terminal_id;
	char	   *iccid;
	char	   *reason;
} Refusal;

#define MAX_STEPS 6
#define MAX_CHECKS 8
#define MAX_NOTES 6

typedef struct Scenario
{
	int			id;
	const char *name;			/* for JSON */
	const char *title;
	const char *story;			/* what happens, in a sentence or two */
	const char *conclusion;		/* what it shows, when all went as expected */
	bool		ran;
	pthread_mutex_t mu;
	Step		steps[MAX_STEPS];
	int			nsteps;
	Check		checks[MAX_CHECKS];
	int			nchecks;
	char		notes[MAX_NOTES][300];
	int			nnotes;
	int64_t    *latency;		/* request_key round trips, microseconds */
	size_t		nlatency;
	size_t		caplatency;
	int64_t		busy_us;		/* wall time of the phases that made requests */
	int64_t		wall_us;		/* the whole scenario */
	long		requests;
	long		bootstraps;
	long		aka_refused;	/* genuine challenges the card refused */
	long		resyncs;
	long		reused_bootstraps;
	Refusal    *refusals;
	size_t		nrefusals;
	size_t		caprefusals;
	int64_t		event_mark;		/* the largest event_id before the scenario */
} Scenario;

typedef struct Device
{
	unsigned	index;
	const char *kind;			/* "dev", "thief", "clone", "new" */
	char		terminal_id[48];
	char		imei[16];
	Uicc	   *card;			/* the card in its slot, or NULL */
	/* The key store of step 206. */
	bool		has_key;
	char		key_iccid[21];
	uint8_t		ks_local[32];
	int64_t		key_expires_dev_us;
} Device;

typedef struct Sim
{
	Options		opt;
	unsigned	run;			/* seed mod 10000: part of every identity */
	unsigned	n;				/* fleet size */
	unsigned	k;				/* theft: per kind of attempt */
	unsigned	p;				/* theft: pairs swapping cards */
	unsigned	m;				/* expired bootstrap: devices */
	unsigned	r;				/* field replacement: devices */
	Device	   *devices;		/* fleet [0,n), thieves [n,n+k), clones, new devices */
	unsigned	ndevices;
	Uicc	  **cards;			/* fleet [0,n), spares [n,n+k) */
	unsigned	ncards;
	unsigned   *holder;			/* per card: the device it should be bound to at the end */
	unsigned   *order;			/* the fleet in an order drawn from the seed */
	Bsf		   *bsf;
	uint8_t		naf_id[64];
	size_t		naf_id_len;
	NafConn   **pool;
	unsigned	npool;
	NafConn    *listener;
	ServerInfo	server;
	bool		provisioned;	/* first_use = reject: pairs bound with mtcbind.bind first */
	int64_t		fleet_offset_us;	/* the devices' clock minus the server's */
	Scenario	scen[SIM_NSCENARIOS + 1];	/* 1..5 */
	Check		invariants[12];
	int			ninvariants;
	long		invariant_breaks;
	StrMap	   *notices;		/* event_id -> reason, from LISTEN */
	long		notices_received;
	int64_t		started_mono_us;

	/* Set once when the run must stop (server lost, interrupted). */
	pthread_mutex_t abort_mu;
	atomic_bool aborted;
	bool		interrupted;
	char		abort_message[800];
	int			current_scenario;
} Sim;

/* device.c: steps 200-206 */
#define DEV_FORCE_REQUEST   0x01	/* ask even with a valid key */
#define DEV_FORCE_BOOTSTRAP 0x02	/* bootstrap even with a valid B-TID */
#define DEV_NO_BOOTSTRAP    0x04	/* send the card's B-TID even if it expired */

typedef struct Attempt
{
	bool		requested;		/* the NAF was asked */
	bool		used_valid_key; /* step 200 found a valid key: nothing sent */
	bool		bootstrapped;
	bool		reused_bootstrap;
	int			aka_refused;
	int			resyncs;
	KeyResponse resp;
	bool		key_checked;
	bool		key_matches;
	char		outcome_key[128];
} Attempt;

void device_insert_card(Device *d, Uicc *card);
Uicc *device_remove_card(Device *d);
int64_t device_now_us(const Sim *sim);
void device_get_key(Sim *sim, NafConn *conn, Device *d, int flags, int64_t lifetime_us,
					Attempt *out);

/* scenario.c */
void sim_abort(Sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sim_run_scenarios(Sim *sim);
void sim_check_invariants(Sim *sim);

/* report.c */
void report_header(const Sim *sim);
void report_scenario_start(const Sim *sim, const Scenario *sc);
void report_scenario(const Sim *sim, const Scenario *sc);
void report_summary(const Sim *sim);
void report_json(const Sim *sim, const char *result);
void report_progress(const Sim *sim, unsigned done, unsigned total, int64_t elapsed_us);
void report_progress_clear(const Sim *sim);
bool report_passed(const Sim *sim);
int64_t percentile(const int64_t *sorted, size_t n, double q);

#endif

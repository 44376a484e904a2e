/*
 * scenario.c: scenarios 1-5, the runner that spreads their tasks over the
 * connection pool, the audit checks (event log and LISTEN) and the
 * invariant checks at the end.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#include "fleet.h"

/* ------------------------------------------------------------------ */
/* Stopping                                                            */
/* ------------------------------------------------------------------ */

void
sim_abort(Sim *sim, const char *fmt, ...)
{
	va_list		ap;

	pthread_mutex_lock(&sim->abort_mu);
	if (!atomic_load(&sim->aborted))
	{
		va_start(ap, fmt);
		vsnprintf(sim->abort_message, sizeof(sim->abort_message), fmt, ap);
		va_end(ap);
		atomic_store(&sim->aborted, true);
	}
	pthread_mutex_unlock(&sim->abort_mu);
	naf_request_stop();
}

static bool
stopping(Sim *sim)
{
	return atomic_load(&sim->aborted) || naf_stop_requested();
}

/* A database call failed in a way that ends the run. */
static void
abort_on_db(Sim *sim, DbStatus status, const DbError *err, const char *doing)
{
	if (status == DB_STOPPED)
	{
		sim_abort(sim, "stopped");
		return;
	}
	sim_abort(sim, "%s while %s%s%s",
			  status == DB_TIMEOUT ? "no answer from the server" : "lost the connection to the server",
			  doing, err->message[0] ? ": " : "", err->message);
}

/* ------------------------------------------------------------------ */
/* Tallies                                                             */
/* ------------------------------------------------------------------ */

static Scenario *
scenario_begin(Sim *sim, int id, const char *name, const char *title, const char *story)
{
	Scenario   *sc = &sim->scen[id];

	memset(sc, 0, sizeof(*sc));
	pthread_mutex_init(&sc->mu, NULL);
	sc->id = id;
	sc->name = name;
	sc->title = title;
	sc->story = story;
	sc->ran = true;
	sim->current_scenario = id;
	return sc;
}

static Step *
add_step(Scenario *sc, const char *label, StepKind kind, const char *expect, long expected)
{
	Step	   *st = &sc->steps[sc->nsteps++];

	memset(st, 0, sizeof(*st));
	st->label = label;
	st->kind = kind;
	snprintf(st->expect, sizeof(st->expect), "%s", expect);
	st->expected = expected;
	return st;
}

static void
add_check(Scenario *sc, bool ok, const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
add_check(Scenario *sc, bool ok, const char *detail, const char *fmt, ...)
{
	Check	   *c;
	va_list		ap;

	if (sc->nchecks >= MAX_CHECKS)
		return;
	c = &sc->checks[sc->nchecks++];
	c->ok = ok;
	snprintf(c->detail, sizeof(c->detail), "%s", detail ? detail : "");
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
}

static void
add_note(Scenario *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add_note(Scenario *sc, const char *fmt, ...)
{
	va_list		ap;

	if (sc->nnotes >= MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(sc->notes[sc->nnotes++], sizeof(sc->notes[0]), fmt, ap);
	va_end(ap);
}

/* Called with sc->mu held. */
static void
count_outcome(Step *st, const char *key)
{
	st->done++;
	for (int i = 0; i < st->noutcomes; i++)
		if (strcmp(st->outcomes[i].key, key) == 0)
		{
			st->outcomes[i].count++;
			return;
		}
	if (st->noutcomes < MAX_OUTCOMES)
	{
		snprintf(st->outcomes[st->noutcomes].key, sizeof(st->outcomes[0].key), "%s", key);
		st->outcomes[st->noutcomes++].count = 1;
	}
	else
		st->outcomes[MAX_OUTCOMES - 1].count++;
}

static void
record_simple(Scenario *sc, Step *st, const char *key, const char *error)
{
	pthread_mutex_lock(&sc->mu);
	count_outcome(st, key);
	if (error && error[0] && st->first_error[0] == '\0')
		str_copy(st->first_error, sizeof(st->first_error), error);
	pthread_mutex_unlock(&sc->mu);
}

/* Records what a device's key attempt did; false if the run must stop. */
static bool
record_attempt(Sim *sim, Scenario *sc, Step *st, const Device *d, const Attempt *a)
{
	const KeyResponse *r = &a->resp;

	if (a->requested && r->status == NAF_DB_LOST)
	{
		char		doing[160];

		snprintf(doing, sizeof(doing), "%s asked for a key in scenario %d (%s)",
				 d->terminal_id, sc->id, sc->name);
		abort_on_db(sim, r->db_status, &r->err, doing);
		return false;
	}

	pthread_mutex_lock(&sc->mu);
	count_outcome(st, a->outcome_key);
	if (a->bootstrapped)
		sc->bootstraps++;
	if (a->requested && a->reused_bootstrap)
		sc->reused_bootstraps++;
	sc->aka_refused += a->aka_refused;
	sc->resyncs += a->resyncs;
	if (a->requested && (r->status == NAF_ANSWERED || r->status == NAF_DB_ERROR))
	{
		sc->requests++;
		if (sc->nlatency == sc->caplatency)
		{
			sc->caplatency = sc->caplatency ? 2 * sc->caplatency : 1024;
			sc->latency = xrealloc(sc->latency, sc->caplatency * sizeof(int64_t));
		}
		sc->latency[sc->nlatency++] = r->latency_us;
	}
	if (r->status == NAF_ANSWERED && strcmp(r->outcome, "rejected") == 0 && d->card)
	{
		Refusal    *f;

		if (sc->nrefusals == sc->caprefusals)
		{
			sc->caprefusals = sc->caprefusals ? 2 * sc->caprefusals : 64;
			sc->refusals = xrealloc(sc->refusals, sc->caprefusals * sizeof(Refusal));
		}
		f = &sc->refusals[sc->nrefusals++];
		f->terminal_id = xstrdup(d->terminal_id);
		f->iccid = xstrdup(uicc_iccid(d->card));
		f->reason = xstrdup(r->reason);
	}
	if (r->malformed)
		st->malformed++;
	if (a->key_checked)
	{
		st->keys_issued++;
		if (a->key_matches)
			st->keys_matched++;
		else
			st->keys_mismatched++;
	}
	if (r->status == NAF_DB_ERROR && st->first_error[0] == '\0')
		snprintf(st->first_error, sizeof(st->first_error), "%s: SQLSTATE %s: %s",
				 d->terminal_id, r->err.sqlstate, r->err.message);
	pthread_mutex_unlock(&sc->mu);
	return true;
}

/* ------------------------------------------------------------------ */
/* The runner                                                          */
/* ------------------------------------------------------------------ */

typedef void (*TaskFn) (Sim *sim, NafConn *conn, unsigned task, void *arg);

typedef struct Phase
{
	Sim		   *sim;
	unsigned	total;
	atomic_uint next;
	atomic_uint done;
	TaskFn		fn;
	void	   *arg;
	pthread_mutex_t mu;
	pthread_cond_t all_done;
	unsigned	finished;		/* workers that have left their loop */
	int64_t		last_end_us;	/* when the last of them did */
} Phase;

typedef struct Worker
{
	Phase	   *phase;
	NafConn    *conn;
	pthread_t	thread;
} Worker;

static void *
worker_main(void *p)
{
	Worker	   *w = p;
	Phase	   *ph = w->phase;

	while (!stopping(ph->sim))
	{
		unsigned	task = atomic_fetch_add(&ph->next, 1);

		if (task >= ph->total)
			break;
		ph->fn(ph->sim, w->conn, task, ph->arg);
		atomic_fetch_add(&ph->done, 1);
	}
	pthread_mutex_lock(&ph->mu);
	ph->finished++;
	ph->last_end_us = clock_mono_us();
	pthread_cond_signal(&ph->all_done);
	pthread_mutex_unlock(&ph->mu);
	return NULL;
}

/* Runs total tasks on the pool; false if the run is stopping. */
static bool
run_phase(Sim *sim, Scenario *sc, unsigned total, TaskFn fn, void *arg, bool busy)
{
	Phase		ph;
	unsigned	nworkers = total < sim->npool ? total : sim->npool;
	Worker	   *workers;
	int64_t		t0 = clock_mono_us();

	if (total == 0 || stopping(sim))
		return !stopping(sim);
	memset(&ph, 0, sizeof(ph));
	ph.sim = sim;
	ph.total = total;
	atomic_init(&ph.next, 0);
	atomic_init(&ph.done, 0);
	ph.fn = fn;
	ph.arg = arg;
	pthread_mutex_init(&ph.mu, NULL);
	pthread_cond_init(&ph.all_done, NULL);
	workers = xcalloc(nworkers, sizeof(Worker));
	for (unsigned i = 0; i < nworkers; i++)
	{
		workers[i].phase = &ph;
		workers[i].conn = sim->pool[i];
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
			fatal(EXIT_ABORTED, "could not start a thread");
	}
	/* Wait for the workers, drawing the progress bar every 100 ms. */
	pthread_mutex_lock(&ph.mu);
	while (ph.finished < nworkers)
	{
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000 * 1000 * 1000)
		{
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&ph.all_done, &ph.mu, &until);
		if (ph.finished < nworkers)
		{
			pthread_mutex_unlock(&ph.mu);
			report_progress(sim, atomic_load(&ph.done), total, clock_mono_us() - t0);
			pthread_mutex_lock(&ph.mu);
		}
	}
	pthread_mutex_unlock(&ph.mu);
	for (unsigned i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	report_progress_clear(sim);
	free(workers);
	if (busy)
		sc->busy_us += ph.last_end_us - t0;
	pthread_cond_destroy(&ph.all_done);
	pthread_mutex_destroy(&ph.mu);
	return !stopping(sim);
}

/* ------------------------------------------------------------------ */
/* Refusals: the event log and LISTEN                                 */
/* ------------------------------------------------------------------ */

static bool
parse_notice(const char *payload, int64_t *event_id, char *reason, size_t len)
{
	const char *p = strstr(payload, "\"event_id\"");
	const char *q = strstr(payload, "\"reason\"");
	size_t		n = 0;

	if (p == NULL || q == NULL)
		return false;
	p = strchr(p + 10, ':');
	q = strchr(q + 8, ':');
	if (p == NULL || q == NULL)
		return false;
	*event_id = strtoll(p + 1, NULL, 10);
	for (q++; *q == ' '; q++)
		;
	if (*q++ != '"')
		return false;
	while (*q && *q != '"' && n + 1 < len)
		reason[n++] = *q++;
	reason[n] = '\0';
	return *event_id > 0;
}

static bool
on_notice(void *arg, const char *payload)
{
	Sim		   *sim = arg;
	int64_t		id;
	char		reason[64];
	char		key[32];

	sim->notices_received++;
	if (parse_notice(payload, &id, reason, sizeof(reason)))
	{
		snprintf(key, sizeof(key), "%" PRId64, id);
		free(strmap_del(sim->notices, key));
		strmap_put(sim->notices, key, xstrdup(reason));
	}
	return false;
}

static bool
event_mark(Sim *sim, Scenario *sc)
{
	PGresult   *res;
	DbError		err;
	DbStatus	s = naf_query(sim->pool[0], "SELECT coalesce(max(event_id), 0) FROM mtcbind.binding_event",
							  0, NULL, &res, &err);

	if (s != DB_OK)
	{
		if (s == DB_SQL_ERROR)
			sim_abort(sim, "could not read mtcbind.binding_event: %s", err.message);
		else
			abort_on_db(sim, s, &err, "reading the event log");
		return false;
	}
	sc->event_mark = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return true;
}

typedef struct Matched
{
	int64_t		event_id;
	char	   *reason;
} Matched;

static void
free_matched(Matched *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].reason);
	free(m);
}

static bool
notices_complete(Sim *sim, const Matched *m, size_t n, long *announced)
{
	long		count = 0;

	for (size_t i = 0; i < n; i++)
	{
		char		key[32];
		const char *reason;

		snprintf(key, sizeof(key), "%" PRId64, m[i].event_id);
		reason = strmap_get(sim->notices, key);
		if (reason && strcmp(reason, m[i].reason) == 0)
			count++;
	}
	*announced = count;
	return (size_t) count == n;
}

/* Every refusal a device received is an event with its identities and reason, and was announced. */
static bool
check_refusals(Sim *sim, Scenario *sc)
{
	char		mark[32];
	const char *params[1] = {mark};
	PGresult   *res;
	DbError		err;
	DbStatus	s;
	StrMap	   *want;
	Matched    *matched;
	size_t		nmatched = 0;
	long		announced = 0;
	char		detail[400];
	int64_t		deadline;

	if (sc->nrefusals == 0)
		return true;
	snprintf(mark, sizeof(mark), "%" PRId64, sc->event_mark);
	s = naf_query(sim->pool[0],
				  "SELECT e.event_id, e.reason, e.terminal_id, e.iccid::text"
				  "  FROM mtcbind.binding_event e"
				  " WHERE e.event OPERATOR(pg_catalog.=) 'rejected'"
				  "   AND e.event_id OPERATOR(pg_catalog.>) $1::bigint ORDER BY e.event_id",
				  1, params, &res, &err);
	if (s != DB_OK)
	{
		if (s == DB_SQL_ERROR)
			sim_abort(sim, "could not read mtcbind.binding_event: %s", err.message);
		else
			abort_on_db(sim, s, &err, "reading the event log");
		return false;
	}

	want = strmap_new(sc->nrefusals);
	for (size_t i = 0; i < sc->nrefusals; i++)
	{
		char		key[400];

		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", sc->refusals[i].terminal_id,
				 sc->refusals[i].iccid, sc->refusals[i].reason);
		strmap_put(want, key, (void *) ((intptr_t) strmap_get(want, key) + 1));
	}
	matched = xcalloc(sc->nrefusals, sizeof(Matched));
	for (int row = 0; row < PQntuples(res); row++)
	{
		char		key[400];
		intptr_t	left;

		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", PQgetvalue(res, row, 2),
				 PQgetvalue(res, row, 3), PQgetvalue(res, row, 1));
		left = (intptr_t) strmap_get(want, key);
		if (left > 0 && nmatched < sc->nrefusals)
		{
			strmap_put(want, key, (void *) (left - 1));
			matched[nmatched].event_id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
			matched[nmatched].reason = xstrdup(PQgetvalue(res, row, 1));
			nmatched++;
		}
	}
	PQclear(res);
	strmap_free(want);

	snprintf(detail, sizeof(detail), "%zu of %zu", nmatched, sc->nrefusals);
	add_check(sc, nmatched == sc->nrefusals, detail,
			  "event log: each refusal is a 'rejected' event with its terminal_id, ICCID and reason");

	/* Notifications arrive after the commits: wait a little for stragglers. */
	deadline = clock_mono_us() + 5 * USEC_PER_SEC;
	while (!notices_complete(sim, matched, nmatched, &announced) &&
		   clock_mono_us() < deadline)
	{
		s = naf_drain_notifications(sim->listener, 100, on_notice, sim, &err);
		if (s != DB_OK)
		{
			abort_on_db(sim, s, &err, "listening on mtcbind_rejected");
			free_matched(matched, nmatched);
			return false;
		}
	}
	snprintf(detail, sizeof(detail), "%ld of %zu", announced, nmatched);
	add_check(sc, (size_t) announced == nmatched && nmatched == sc->nrefusals, detail,
			  "LISTEN mtcbind_rejected: each such event was announced with its event_id and reason");
	free_matched(matched, nmatched);
	return true;
}

/* ------------------------------------------------------------------ */
/* The fleet's bindings                                               */
/* ------------------------------------------------------------------ */

/*
 * Compares the bindings of this run's identities with the pairs the
 * simulator expects (Sim.holder): the number of rows that differ, are
 * missing or are extra; -1 if the run had to stop.
 */
static long
fleet_bindings_off(Sim *sim, char *detail, size_t len)
{
	PGresult   *res;
	DbError		err;
	DbStatus	s;
	char		pt[32], pc[32], pe[32], ps[32];
	const char *params[4] = {pt, pc, pe, ps};
	StrMap	   *expect;
	long		wrong = 0, missing = 0, unexpected = 0, expected_rows = 0;

	fleet_patterns(sim->run, pt, pc, pe, ps);
	s = naf_query(sim->pool[0],
				  "SELECT terminal_id, iccid::text, imei::text, imsi::text FROM mtcbind.binding"
				  " WHERE terminal_id LIKE $1 OR iccid::text LIKE $2 OR imei::text LIKE $3"
				  "    OR imsi::text LIKE $4", 4, params, &res, &err);
	if (s != DB_OK)
	{
		if (s == DB_SQL_ERROR)
			sim_abort(sim, "could not read mtcbind.binding: %s", err.message);
		else
			abort_on_db(sim, s, &err, "reading mtcbind.binding");
		return -1;
	}
	expect = strmap_new(sim->ncards);
	for (unsigned c = 0; c < sim->ncards; c++)
		if (sim->holder[c] != UINT_MAX)
		{
			strmap_put(expect, uicc_iccid(sim->cards[c]), (void *) (uintptr_t) (c + 1));
			expected_rows++;
		}
	for (int row = 0; row < PQntuples(res); row++)
	{
		const char *iccid = PQgetvalue(res, row, 1);
		uintptr_t	slot = (uintptr_t) strmap_get(expect, iccid);
		const Uicc *card;
		const Device *d;

		if (slot == 0)
		{
			unexpected++;
			continue;
		}
		card = sim->cards[slot - 1];
		d = &sim->devices[sim->holder[slot - 1]];
		/* The device and card identities the last request reported. */
		if (strcmp(PQgetvalue(res, row, 0), d->terminal_id) != 0 ||
			strcmp(PQgetvalue(res, row, 2), d->imei) != 0 ||
			strcmp(PQgetvalue(res, row, 3), uicc_imsi(card)) != 0)
			wrong++;
		strmap_del(expect, iccid);
	}
	missing = expected_rows - (PQntuples(res) - unexpected);
	if (missing < 0)
		missing = 0;
	snprintf(detail, len, "%ld of %ld; %ld wrong, %ld missing, %ld extra",
			 PQntuples(res) - unexpected - wrong, expected_rows, wrong, missing, unexpected);
	PQclear(res);
	strmap_free(expect);
	return wrong + missing + unexpected;
}

/* ------------------------------------------------------------------ */
/* Scenario 1: onboarding                                             */
/* ------------------------------------------------------------------ */

typedef struct StepArg
{
	Scenario   *sc;
	Step	   *step;
	Step	   *step2;
	int			flags;
	int64_t		lifetime_us;
	const unsigned *devices;	/* task -> device index; NULL: task = device */
} StepArg;

static void
provision_task(Sim *sim, NafConn *conn, unsigned task, void *arg)
{
	StepArg    *a = arg;
	Device	   *d = &sim->devices[task];
	int64_t		id = 0;
	DbError		err;
	DbStatus	s = naf_bind(conn, d->terminal_id, uicc_iccid(d->card), d->imei,
							 uicc_imsi(d->card), "mtcbind-sim: pre-provisioned", &id, &err);

	if (s == DB_OK)
		record_simple(a->sc, a->step, "provisioned", NULL);
	else if (s == DB_SQL_ERROR)
	{
		char		key[32];
		char		msg[700];

		snprintf(key, sizeof(key), "error:%s", err.sqlstate);
		snprintf(msg, sizeof(msg), "%s: SQLSTATE %s: %s", d->terminal_id, err.sqlstate, err.message);
		record_simple(a->sc, a->step, key, msg);
	}
	else
		abort_on_db(sim, s, &err, "provisioning with mtcbind.bind");
}

static void
key_task(Sim *sim, NafConn *conn, unsigned task, void *arg)
{
	StepArg    *a = arg;
	Device	   *d = &sim->devices[a->devices ? a->devices[task] : task];
	Attempt		at;

	device_get_key(sim, conn, d, a->flags, a->lifetime_us, &at);
	record_attempt(sim, a->sc, a->step, d, &at);
}

static bool
scenario_onboarding(Sim *sim)
{
	Scenario   *sc = scenario_begin(sim, 1, "onboarding", "Onboarding",
									"Every device finds no key (step 200), bootstraps with the BSF through its card "
									"(201: the card checks AUTN), sends its own and its card's identities to the NAF "
									"(202-205) and stores the key (206). Its card derives Ks_local itself; the two must be equal.");
	sc->conclusion = sim->provisioned
		? "mtcbind granted each pre-provisioned pair its key, and every card derived the same key itself."
		: "mtcbind bound each device to the card it came with (trust on first use, mtcbind.first_use = bind) "
		"and issued each pair a key; every card derived the same key itself.";
	StepArg		a = {sc, NULL, NULL, 0, 0, NULL};
	int64_t		t0 = clock_mono_us();
	bool		ok = true;

	if (sim->provisioned)
	{
		Step	   *prov = add_step(sc, "pre-provisioned with mtcbind.bind (mtcbind.first_use = reject)",
									STEP_ADMIN, "provisioned", sim->n);

		report_scenario_start(sim, sc);
		a.step = prov;
		ok = run_phase(sim, sc, sim->n, provision_task, &a, false);
		a.step = add_step(sc, "first key request of a pre-provisioned pair", STEP_REQUEST, "granted", sim->n);
	}
	else
	{
		a.step = add_step(sc, "first key request", STEP_REQUEST, "bound", sim->n);
		report_scenario_start(sim, sc);
	}
	ok = ok && event_mark(sim, sc) && run_phase(sim, sc, sim->n, key_task, &a, true);
	ok = ok && check_refusals(sim, sc);
	sc->wall_us = clock_mono_us() - t0;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Scenario 2: re-keying after expiry                                 */
/* ------------------------------------------------------------------ */

static bool
scenario_rekeying(Sim *sim)
{
	Scenario   *sc = scenario_begin(sim, 2, "rekeying", "Re-keying after Ks_local expiry",
									"The devices' clock moves past the end of every key's lifetime (the server's and "
									"the BSF's clocks do not move). Each device finds its key expired and asks again, "
									"reusing its card's bootstrap while that is still valid.");
	sc->conclusion = "A bound pair that asks again is granted a fresh key (new RANDx and RANDy); the binding "
		"does not expire with its keys, and a device with a valid key asks nothing.";
	StepArg		a = {sc, NULL, NULL, 0, 0, NULL};
	int64_t		t0 = clock_mono_us();
	int64_t		now = device_now_us(sim);
	int64_t		latest = 0;
	int64_t		jump;
	char		span[64];
	bool		ok;
	Step	   *again;

	for (unsigned i = 0; i < sim->n; i++)
		if (sim->devices[i].has_key && sim->devices[i].key_expires_dev_us > latest)
			latest = sim->devices[i].key_expires_dev_us;
	jump = latest > now ? latest - now + USEC_PER_SEC : USEC_PER_SEC;
	sim->fleet_offset_us += jump;
	format_span(jump, span, sizeof(span));

	a.step = add_step(sc, "key request after expiry", STEP_REQUEST, "granted", sim->n);
	again = add_step(sc, "a second look right after: the new key is valid (step 200)", STEP_CHECK,
					 "valid key, nothing sent", sim->n);
	report_scenario_start(sim, sc);
	add_note(sc, "the devices' clock moved forward by %s", span);
	ok = event_mark(sim, sc) && run_phase(sim, sc, sim->n, key_task, &a, true);
	if (ok)
	{
		a.step = again;
		ok = run_phase(sim, sc, sim->n, key_task, &a, false);
	}
	add_note(sc, "%ld requests reused the card's bootstrap, %ld came after a new one",
			 sc->reused_bootstraps, sc->bootstraps);
	ok = ok && check_refusals(sim, sc);
	sc->wall_us = clock_mono_us() - t0;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Scenario 3: theft                                                  */
/* ------------------------------------------------------------------ */

typedef struct TheftTask
{
	Step	   *step;
	unsigned	device;
} TheftTask;

typedef struct TheftArg
{
	Scenario   *sc;
	TheftTask  *tasks;
} TheftArg;

static void
theft_task(Sim *sim, NafConn *conn, unsigned task, void *arg)
{
	TheftArg   *t = arg;
	Device	   *d = &sim->devices[t->tasks[task].device];
	Attempt		at;

	device_get_key(sim, conn, d, DEV_FORCE_REQUEST, 0, &at);
	record_attempt(sim, t->sc, t->tasks[task].step, d, &at);
}

static bool
scenario_theft(Sim *sim)
{
	Scenario   *sc = scenario_begin(sim, 3, "theft", "Theft",
									"Cards are put into other devices, devices are fed other cards, and clones appear. "
									"Each asks the NAF for a key with its genuine card (the bootstrap succeeds) and "
									"must be refused; every refusal must be in the event log and announced on "
									"LISTEN mtcbind_rejected.");
	sc->conclusion = "mtcbind gave no key to a device and a card that are not bound to each other: "
		"uicc_bound_elsewhere (the card belongs to another device), both_bound_elsewhere, "
		"device_bound_elsewhere (the device belongs to another card), identity_mismatch (a known "
		"terminal_id with another IMEI). Each refusal is an event in mtcbind.binding_event and was "
		"announced on mtcbind_rejected; no binding changed.";
	unsigned	k = sim->k, p = sim->p, n = sim->n;
	const unsigned *o = sim->order;
	Step	   *moved, *swapped, *fed, *cloned;
	TheftTask  *tasks = xcalloc(3 * k + 2 * p, sizeof(TheftTask));
	unsigned	nt = 0;
	TheftArg	arg = {sc, tasks};
	int64_t		t0 = clock_mono_us();
	bool		ok;

	moved = add_step(sc, "a card moved into a thief's unbound device", STEP_REQUEST,
					 "rejected:uicc_bound_elsewhere", k);
	swapped = add_step(sc, "two bound devices swap cards", STEP_REQUEST,
					   "rejected:both_bound_elsewhere", 2 * p);
	fed = add_step(sc, "a bound device fed a spare, unbound card", STEP_REQUEST,
				   "rejected:device_bound_elsewhere", k);
	cloned = add_step(sc, "a clone: the device's terminal_id, its own IMEI, the stolen card", STEP_REQUEST,
					  "rejected:identity_mismatch", k);
	report_scenario_start(sim, sc);

	/* The fleet order gives disjoint victims: [0,k) [k,k+2p) [k+2p,2k+2p) [2k+2p,3k+2p). */
	for (unsigned j = 0; j < k; j++)
	{
		Device	   *victim = &sim->devices[o[j]];
		Device	   *thief = &sim->devices[n + j];

		device_insert_card(thief, device_remove_card(victim));
		tasks[nt++] = (TheftTask) {moved, thief->index};
	}
	for (unsigned j = 0; j < p; j++)
	{
		Device	   *a = &sim->devices[o[k + 2 * j]];
		Device	   *b = &sim->devices[o[k + 2 * j + 1]];
		Uicc	   *ca = device_remove_card(a);

		device_insert_card(a, device_remove_card(b));
		device_insert_card(b, ca);
		tasks[nt++] = (TheftTask) {swapped, a->index};
		tasks[nt++] = (TheftTask) {swapped, b->index};
	}
	for (unsigned j = 0; j < k; j++)
	{
		Device	   *victim = &sim->devices[o[k + 2 * p + j]];

		device_remove_card(victim);	/* its own card goes into a drawer */
		device_insert_card(victim, sim->cards[n + j]);
		tasks[nt++] = (TheftTask) {fed, victim->index};
	}
	for (unsigned j = 0; j < k; j++)
	{
		Device	   *victim = &sim->devices[o[2 * k + 2 * p + j]];
		Device	   *clone = &sim->devices[n + k + j];

		str_copy(clone->terminal_id, sizeof(clone->terminal_id), victim->terminal_id);
		device_insert_card(clone, device_remove_card(victim));
		tasks[nt++] = (TheftTask) {cloned, clone->index};
	}

	ok = event_mark(sim, sc) && run_phase(sim, sc, nt, theft_task, &arg, true);

	/* Every card goes back where it belongs. */
	for (unsigned j = 0; j < k; j++)
		device_insert_card(&sim->devices[o[j]], device_remove_card(&sim->devices[n + j]));
	for (unsigned j = 0; j < p; j++)
	{
		Device	   *a = &sim->devices[o[k + 2 * j]];
		Device	   *b = &sim->devices[o[k + 2 * j + 1]];
		Uicc	   *ca = device_remove_card(a);

		device_insert_card(a, device_remove_card(b));
		device_insert_card(b, ca);
	}
	for (unsigned j = 0; j < k; j++)
	{
		Device	   *victim = &sim->devices[o[k + 2 * p + j]];

		device_remove_card(victim);
		device_insert_card(victim, sim->cards[victim->index]);
	}
	for (unsigned j = 0; j < k; j++)
		device_insert_card(&sim->devices[o[2 * k + 2 * p + j]],
						   device_remove_card(&sim->devices[n + k + j]));
	add_note(sc, "afterwards every card went back to its own device");

	if (ok)
	{
		char		detail[200];
		long		off = fleet_bindings_off(sim, detail, sizeof(detail));

		ok = off >= 0;
		if (ok)
			add_check(sc, off == 0, detail, "no binding changed: the fleet's bindings are still the onboarded pairs");
	}
	ok = ok && check_refusals(sim, sc);
	free(tasks);
	sc->wall_us = clock_mono_us() - t0;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Scenario 4: an expired bootstrap replayed                          */
/* ------------------------------------------------------------------ */

static bool
scenario_expired_bootstrap(Sim *sim)
{
	Scenario   *sc = scenario_begin(sim, 4, "expired_bootstrap", "Expired bootstrap replayed",
									"Some devices bootstrap with a BSF that gives them a 1-second lifetime and get a "
									"key that lives no longer. When the bootstrap has expired they send its B-TID "
									"again instead of bootstrapping: refused. Then they bootstrap afresh and are granted.");
	sc->conclusion = "A key never outlives the bootstrap it comes from, a B-TID past its expiry gets no key "
		"(bootstrap_expired), and a fresh bootstrap does.";
	unsigned	m = sim->m;
	unsigned   *devs = xcalloc(m, sizeof(unsigned));
	StepArg		a = {sc, NULL, NULL, 0, 0, devs};
	Step	   *first, *replay, *fresh;
	int64_t		t0 = clock_mono_us();
	int64_t		latest = 0;
	long		capped = 0, granted = 0;
	int64_t		waited;
	char		span[64], detail[64];
	bool		ok;

	for (unsigned j = 0; j < m; j++)
		devs[j] = sim->order[j];
	first = add_step(sc, "key request on a 1-second bootstrap", STEP_REQUEST, "granted", m);
	replay = add_step(sc, "the expired B-TID sent again", STEP_REQUEST, "rejected:bootstrap_expired", m);
	fresh = add_step(sc, "a new bootstrap, then the request", STEP_REQUEST, "granted", m);
	report_scenario_start(sim, sc);

	ok = event_mark(sim, sc);
	a.step = first;
	a.flags = DEV_FORCE_REQUEST | DEV_FORCE_BOOTSTRAP;
	a.lifetime_us = SHORT_LIFETIME_US;
	ok = ok && run_phase(sim, sc, m, key_task, &a, true);
	if (!ok)
		goto out;

	/* The keys of the first round end with their bootstrap. */
	for (unsigned j = 0; j < m; j++)
	{
		Device	   *d = &sim->devices[devs[j]];
		char		b_tid[BSF_B_TID_MAX];
		int64_t		boot_dev;

		if (d->card && uicc_bootstrap(d->card, b_tid, sizeof(b_tid), &boot_dev))
		{
			int64_t		boot = boot_dev - sim->fleet_offset_us;

			if (boot > latest)
				latest = boot;
			if (d->has_key)
			{
				granted++;
				if (d->key_expires_dev_us == boot_dev)
					capped++;
			}
		}
	}
	snprintf(detail, sizeof(detail), "%ld of %ld", capped, granted);
	if (sim->server.key_lifetime_us == 0 || sim->server.key_lifetime_us > SHORT_LIFETIME_US)
		add_check(sc, capped == granted && granted == (long) m, detail,
				  "each key's expires_at is its bootstrap's expiry, the earlier of the two");

	waited = latest + 250000 - server_now_us();
	sleep_us(waited);
	format_span(waited > 0 ? waited : 0, span, sizeof(span));
	add_note(sc, "waited %s for the bootstraps to expire", span);

	a.step = replay;
	a.flags = DEV_FORCE_REQUEST | DEV_NO_BOOTSTRAP;
	a.lifetime_us = 0;
	ok = run_phase(sim, sc, m, key_task, &a, true);
	a.step = fresh;
	a.flags = DEV_FORCE_REQUEST;
	ok = ok && run_phase(sim, sc, m, key_task, &a, true);
	ok = ok && check_refusals(sim, sc);
out:
	free(devs);
	sc->wall_us = clock_mono_us() - t0;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Scenario 5: field replacement                                      */
/* ------------------------------------------------------------------ */

typedef struct ReplaceArg
{
	Scenario   *sc;
	Step	   *authorize, *moved, *free_check, *back, *again;
} ReplaceArg;

static void
replace_task(Sim *sim, NafConn *conn, unsigned task, void *arg)
{
	ReplaceArg *ra = arg;
	Device	   *old = &sim->devices[sim->order[sim->n - 1 - task]];
	Device	   *fresh = &sim->devices[sim->n + 2 * sim->k + task];
	Uicc	   *card = old->card;
	char		reason[200];
	int64_t		id = 0;
	bool		is_free = false;
	DbError		err;
	DbStatus	s;
	Attempt		at;

	/* 5a: the operator authorises the move. */
	snprintf(reason, sizeof(reason), "field replacement: %s damaged, its card goes into %s",
			 old->terminal_id, fresh->terminal_id);
	s = naf_authorize_transfer(conn, uicc_iccid(card), fresh->terminal_id, reason, &id, &err);
	if (s == DB_SQL_ERROR)
	{
		char		key[32], msg[700];

		snprintf(key, sizeof(key), "error:%s", err.sqlstate);
		snprintf(msg, sizeof(msg), "%s: SQLSTATE %s: %s", uicc_iccid(card), err.sqlstate, err.message);
		record_simple(ra->sc, ra->authorize, key, msg);
	}
	else if (s != DB_OK)
	{
		abort_on_db(sim, s, &err, "calling mtcbind.authorize_transfer");
		return;
	}
	else
		record_simple(ra->sc, ra->authorize, "authorized", NULL);

	/* 5b: the card in the new device. */
	device_remove_card(old);
	device_insert_card(fresh, card);
	device_get_key(sim, conn, fresh, 0, 0, &at);
	if (!record_attempt(sim, ra->sc, ra->moved, fresh, &at))
		return;

	/* 5c: the old device holds no binding any more. */
	s = naf_terminal_is_free(conn, old->terminal_id, &is_free, &err);
	if (s == DB_SQL_ERROR)
		record_simple(ra->sc, ra->free_check, "error", err.message);
	else if (s != DB_OK)
	{
		abort_on_db(sim, s, &err, "reading mtcbind.binding");
		return;
	}
	else
		record_simple(ra->sc, ra->free_check, is_free ? "free" : "still bound", NULL);

	/* 5d: the card back in the old device. */
	device_remove_card(fresh);
	device_insert_card(old, card);
	device_get_key(sim, conn, old, 0, 0, &at);
	if (!record_attempt(sim, ra->sc, ra->back, old, &at))
		return;

	/* 5e: and in the new device again, where it stays. */
	device_remove_card(old);
	device_insert_card(fresh, card);
	device_get_key(sim, conn, fresh, 0, 0, &at);
	record_attempt(sim, ra->sc, ra->again, fresh, &at);
	sim->holder[old->index] = fresh->index;
}

static bool
scenario_replacement(Sim *sim)
{
	Scenario   *sc = scenario_begin(sim, 5, "replacement", "Field replacement",
									"A damaged device is replaced. The operator calls mtcbind.authorize_transfer for "
									"its card and the new device; the card in the new device is bound there. The old "
									"device is then free, and with that card it is refused.");
	sc->conclusion = "authorize_transfer let each card move once, to the named device, which was bound on its "
		"first request; the old device is left unbound, and the card is refused there "
		"(uicc_bound_elsewhere).";
	ReplaceArg	ra;
	int64_t		t0 = clock_mono_us();
	bool		ok;

	ra.sc = sc;
	ra.authorize = add_step(sc, "mtcbind.authorize_transfer(card, new device)", STEP_ADMIN,
							"authorized", sim->r);
	ra.moved = add_step(sc, "the card in the new device", STEP_REQUEST, "bound", sim->r);
	ra.free_check = add_step(sc, "the old device holds no binding", STEP_CHECK, "free", sim->r);
	ra.back = add_step(sc, "the card back in the old device", STEP_REQUEST,
					   "rejected:uicc_bound_elsewhere", sim->r);
	ra.again = add_step(sc, "the card in the new device again", STEP_REQUEST, "granted", sim->r);
	report_scenario_start(sim, sc);
	ok = event_mark(sim, sc) && run_phase(sim, sc, sim->r, replace_task, &ra, true);
	ok = ok && check_refusals(sim, sc);
	sc->wall_us = clock_mono_us() - t0;
	return ok;
}

/* ------------------------------------------------------------------ */

bool
sim_run_scenarios(Sim *sim)
{
	typedef bool (*ScenarioFn) (Sim *);
	static const ScenarioFn fns[SIM_NSCENARIOS + 1] = {NULL, scenario_onboarding, scenario_rekeying,
		scenario_theft, scenario_expired_bootstrap, scenario_replacement};

	for (int id = 1; id <= SIM_NSCENARIOS; id++)
	{
		if (id > 1 && !(sim->opt.scenarios & (1u << id)))
			continue;
		if (!fns[id] (sim) || stopping(sim))
			return false;
		report_scenario(sim, &sim->scen[id]);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Invariants at the end                                              */
/* ------------------------------------------------------------------ */

static void
add_invariant(Sim *sim, bool ok, long breaks, const char *detail, const char *name)
{
	Check	   *c = &sim->invariants[sim->ninvariants++];

	c->ok = ok;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->detail, sizeof(c->detail), "%s", detail);
	if (!ok)
		sim->invariant_breaks += breaks > 0 ? breaks : 1;
}

void
sim_check_invariants(Sim *sim)
{
	PGresult   *res;
	DbError		err;
	DbStatus	s;
	char		detail[400];
	long		steps_off = 0, checks_off = 0, malformed = 0;

	/* 1. No identity in two bindings, over the whole table. */
	s = naf_query(sim->pool[0],
				  "SELECT count(*) - count(DISTINCT terminal_id), count(*) - count(DISTINCT iccid::text),"
				  "       count(imei) - count(DISTINCT imei::text), count(imsi) - count(DISTINCT imsi::text),"
				  "       count(*)"
				  "  FROM mtcbind.binding", 0, NULL, &res, &err);
	if (s != DB_OK)
	{
		if (s == DB_SQL_ERROR)
			sim_abort(sim, "could not read mtcbind.binding: %s", err.message);
		else
			abort_on_db(sim, s, &err, "reading mtcbind.binding");
		return;
	}
	{
		static const char *what[4] = {"terminal_id", "ICCID", "IMEI", "IMSI"};

		for (int i = 0; i < 4; i++)
		{
			long		dup = strtol(PQgetvalue(res, 0, i), NULL, 10);
			char		name[96];

			snprintf(detail, sizeof(detail), "%ld duplicate%s among %s", dup,
					 dup == 1 ? "" : "s", PQgetvalue(res, 0, 4));
			snprintf(name, sizeof(name), "no %s is in two bindings", what[i]);
			add_invariant(sim, dup == 0, dup, detail, name);
		}
	}
	PQclear(res);

	/* 2. The fleet's bindings are exactly the pairs the simulator expects. */
	{
		long		off = fleet_bindings_off(sim, detail, sizeof(detail));

		if (off < 0)
			return;
		add_invariant(sim, off == 0, off, detail, "the fleet's bindings are the pairs the scenarios leave");
	}

	/* 3. Every scenario's counts, and its audit checks. */
	for (int id = 1; id <= SIM_NSCENARIOS; id++)
	{
		const Scenario *sc = &sim->scen[id];

		if (!sc->ran)
			continue;
		for (int i = 0; i < sc->nsteps; i++)
		{
			const Step *st = &sc->steps[i];
			long		hit = 0;

			for (int j = 0; j < st->noutcomes; j++)
				if (strcmp(st->outcomes[j].key, st->expect) == 0)
					hit = st->outcomes[j].count;
			if (hit != st->expected || st->done != st->expected)
				steps_off++;
			malformed += st->malformed;
		}
		for (int i = 0; i < sc->nchecks; i++)
			if (!sc->checks[i].ok)
				checks_off++;
	}
	snprintf(detail, sizeof(detail), "%ld step%s off", steps_off, steps_off == 1 ? "" : "s");
	add_invariant(sim, steps_off == 0, steps_off, detail,
				  "every outcome count is as expected");
	snprintf(detail, sizeof(detail), "%ld check%s failed", checks_off, checks_off == 1 ? "" : "s");
	add_invariant(sim, checks_off == 0, checks_off, detail,
				  "refusals logged and announced; scenario checks hold");
	snprintf(detail, sizeof(detail), "%ld malformed answers", malformed);
	add_invariant(sim, malformed == 0, malformed, detail,
				  "a key with every grant, none with a refusal");
}

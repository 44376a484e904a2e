/*
 * report.c: what the simulator prints.  A section per scenario while the
 * run goes on, the summary at the end, or with --json one JSON document
 * instead.  The progress bar appears only on a terminal, and only once a
 * phase has run for a second.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#include "bsf.h"

#define WIDTH 96

static bool progress_shown;

static bool
human(const Sim *sim)
{
	return !sim->opt.json;
}

/* Prints text wrapped at WIDTH, every line indented. */
static void
wrap(const char *indent, const char *text)
{
	size_t		ind = strlen(indent);
	const char *p = text;

	while (*p)
	{
		size_t		room = WIDTH - ind;
		size_t		len = strlen(p);
		size_t		cut = len;

		if (len > room)
		{
			cut = room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room;
		}
		printf("%s%.*s\n", indent, (int) cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a, y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

int64_t
percentile(const int64_t *sorted, size_t n, double q)
{
	size_t		rank;

	if (n == 0)
		return 0;
	rank = (size_t) (q * (double) n + 0.999999);	/* nearest rank */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static void
ms(int64_t us, char *buf, size_t len)
{
	if (us < 10000)
		snprintf(buf, len, "%.2f ms", us / 1000.0);
	else
		snprintf(buf, len, "%.1f ms", us / 1000.0);
}

typedef struct Latency
{
	size_t		n;
	int64_t		p50, p95, p99, max;
} Latency;

static Latency
latency_of(const Sim *sim, int only)	/* only: a scenario id, or 0 for all */
{
	Latency		l = {0};
	size_t		total = 0, pos = 0;
	int64_t    *all;

	for (int id = 1; id <= SIM_NSCENARIOS; id++)
		if (sim->scen[id].ran && (only == 0 || only == id))
			total += sim->scen[id].nlatency;
	if (total == 0)
		return l;
	all = xmalloc(total * sizeof(int64_t));
	for (int id = 1; id <= SIM_NSCENARIOS; id++)
		if (sim->scen[id].ran && (only == 0 || only == id))
		{
			memcpy(all + pos, sim->scen[id].latency, sim->scen[id].nlatency * sizeof(int64_t));
			pos += sim->scen[id].nlatency;
		}
	qsort(all, total, sizeof(int64_t), cmp_int64);
	l.n = total;
	l.p50 = percentile(all, total, 0.50);
	l.p95 = percentile(all, total, 0.95);
	l.p99 = percentile(all, total, 0.99);
	l.max = all[total - 1];
	free(all);
	return l;
}

static long
step_hits(const Step *st)
{
	for (int j = 0; j < st->noutcomes; j++)
		if (strcmp(st->outcomes[j].key, st->expect) == 0)
			return st->outcomes[j].count;
	return 0;
}

static bool
step_ok(const Step *st)
{
	return step_hits(st) == st->expected && st->done == st->expected && st->malformed == 0;
}

static bool
scenario_ok(const Scenario *sc)
{
	for (int i = 0; i < sc->nsteps; i++)
		if (!step_ok(&sc->steps[i]) || sc->steps[i].keys_mismatched)
			return false;
	for (int i = 0; i < sc->nchecks; i++)
		if (!sc->checks[i].ok)
			return false;
	return sc->aka_refused == 0;
}

typedef struct Totals
{
	long		requests, bound, granted, rejected, errors, other;
	long		bootstraps, aka_refused, resyncs;
	long		keys_issued, keys_matched, keys_mismatched;
	int64_t		busy_us;
	long		steps_ok, steps;
} Totals;

static Totals
totals_of(const Sim *sim)
{
	Totals		t = {0};

	for (int id = 1; id <= SIM_NSCENARIOS; id++)
	{
		const Scenario *sc = &sim->scen[id];

		if (!sc->ran)
			continue;
		t.requests += sc->requests;
		t.bootstraps += sc->bootstraps;
		t.aka_refused += sc->aka_refused;
		t.resyncs += sc->resyncs;
		t.busy_us += sc->busy_us;
		for (int i = 0; i < sc->nsteps; i++)
		{
			const Step *st = &sc->steps[i];

			t.steps++;
			t.steps_ok += step_ok(st);
			t.keys_issued += st->keys_issued;
			t.keys_matched += st->keys_matched;
			t.keys_mismatched += st->keys_mismatched;
			if (st->kind != STEP_REQUEST)
				continue;
			for (int j = 0; j < st->noutcomes; j++)
			{
				const OutcomeCount *o = &st->outcomes[j];

				if (strcmp(o->key, "bound") == 0)
					t.bound += o->count;
				else if (strcmp(o->key, "granted") == 0)
					t.granted += o->count;
				else if (strncmp(o->key, "rejected", 8) == 0)
					t.rejected += o->count;
				else if (strncmp(o->key, "error:", 6) == 0)
					t.errors += o->count;
				else
					t.other += o->count;
			}
		}
	}
	return t;
}

bool
report_passed(const Sim *sim)
{
	Totals		t = totals_of(sim);

	return !atomic_load(&sim->aborted) && t.keys_mismatched == 0 && sim->invariant_breaks == 0 &&
		t.aka_refused == 0;
}

/* ------------------------------------------------------------------ */

void
report_header(const Sim *sim)
{
	const ServerInfo *si = &sim->server;
	char		life[64], offset[64], naf_hex[16];

	if (!human(sim))
		return;
	format_span(BSF_LIFETIME_US, life, sizeof(life));
	snprintf(offset, sizeof(offset), "%.1f ms %s", llabs(si->clock_offset_us) / 1000.0,
			 si->clock_offset_us >= 0 ? "ahead of" : "behind");
	hex_encode(sim->naf_id + sim->naf_id_len - 5, 5, naf_hex);

	printf("mtcbind-sim %s: %u MTC devices with their UICCs, the BSF and HSS, and the NAF front end,\n"
		   "against the NAF's database.\n", SIM_VERSION, sim->n);
	printf("  server     PostgreSQL %s, mtcbind %s, database \"%s\" at %s\n",
		   si->version, si->mtcbind, si->database, si->where);
	printf("  in effect  first_use = %s, key_lifetime = %s, log_key_issue = %s (settings and database policy)\n",
		   si->first_use[0] ? si->first_use : "?", si->key_lifetime[0] ? si->key_lifetime : "?",
		   si->log_key_issue[0] ? si->log_key_issue : "?");
	printf("  fleet      seed %" PRIu64 ": terminal_id %s .. %s, ICCID %s .., IMSI %s ..\n",
		   sim->opt.seed, sim->devices[0].terminal_id, sim->devices[sim->n - 1].terminal_id,
		   uicc_iccid(sim->cards[0]), uicc_imsi(sim->cards[0]));
	printf("  NAF        NAF_Id %s + Ua protocol %.2s %.2s %.2s %.2s %.2s; %u connections, request_key\n"
		   "             with bound parameters, one transaction per request\n",
		   NAF_FQDN, naf_hex, naf_hex + 2, naf_hex + 4, naf_hex + 6, naf_hex + 8, sim->npool);
	printf("  BSF        %s, bootstrap lifetime %s\n", BSF_DOMAIN, life);
	printf("  clock      the server's clock is %s ours\n", offset);
}

void
report_scenario_start(const Sim *sim, const Scenario *sc)
{
	if (!human(sim))
		return;
	printf("\n== %d. %s\n", sc->id, sc->title);
	wrap("   ", sc->story);
	fflush(stdout);
}

static void
print_step(const Step *st)
{
	const char *unit = st->kind == STEP_REQUEST ? "requests" : st->kind == STEP_ADMIN ? "calls" : "checks";
	long		hits = step_hits(st);
	bool		ok = step_ok(st);

	printf("   %s: %ld %s\n", st->label, st->done, unit);
	printf("     %-36s %7ld   expected %ld%s\n", st->expect, hits, st->expected,
		   ok ? "   ok" : "   <-- NOT AS EXPECTED");
	for (int j = 0; j < st->noutcomes; j++)
		if (strcmp(st->outcomes[j].key, st->expect) != 0)
			printf("     %-36s %7ld   not expected\n", st->outcomes[j].key, st->outcomes[j].count);
	if (st->malformed)
		printf("     %ld answers had a key where none belongs, or none where one does\n", st->malformed);
	if (st->keys_issued)
		printf("     keys issued %ld: the card's own Ks_local is equal in %ld, different in %ld%s\n",
			   st->keys_issued, st->keys_matched, st->keys_mismatched,
			   st->keys_mismatched ? "   <-- MISMATCH" : "");
	if (st->first_error[0])
		printf("     first error: %s\n", st->first_error);
}

void
report_scenario(const Sim *sim, const Scenario *sc)
{
	Latency		l;
	char		p50[32], p95[32], p99[32], wall[32];

	if (!human(sim))
		return;
	for (int i = 0; i < sc->nsteps; i++)
		print_step(&sc->steps[i]);
	if (sc->bootstraps || sc->aka_refused)
		printf("   bootstraps %ld: every AUTN checked by the card; refused %ld, resynchronised %ld\n",
			   sc->bootstraps, sc->aka_refused, sc->resyncs);
	l = latency_of(sim, sc->id);
	if (l.n)
	{
		char		busy[32];

		ms(l.p50, p50, sizeof(p50));
		ms(l.p95, p95, sizeof(p95));
		ms(l.p99, p99, sizeof(p99));
		format_span(sc->busy_us, busy, sizeof(busy));
		printf("   %ld requests in %s: %.0f requests/s; latency p50 %s, p95 %s, p99 %s\n",
			   sc->requests, busy, sc->busy_us ? sc->requests * 1e6 / (double) sc->busy_us : 0.0,
			   p50, p95, p99);
	}
	format_span(sc->wall_us, wall, sizeof(wall));
	if (sc->wall_us > sc->busy_us + USEC_PER_SEC / 2)
		printf("   the scenario took %s in all\n", wall);
	for (int i = 0; i < sc->nnotes; i++)
		printf("   %s\n", sc->notes[i]);
	for (int i = 0; i < sc->nchecks; i++)
		printf("   %s %s (%s)\n", sc->checks[i].ok ? "ok  " : "FAIL", sc->checks[i].name,
			   sc->checks[i].detail);
	if (scenario_ok(sc))
	{
		char		line[1024];

		snprintf(line, sizeof(line), "=> as expected. %s", sc->conclusion ? sc->conclusion : "");
		wrap("   ", line);
	}
	else
		printf("   => NOT AS EXPECTED: see the lines marked above\n");
	fflush(stdout);
}

void
report_summary(const Sim *sim)
{
	Totals		t = totals_of(sim);
	Latency		l = latency_of(sim, 0);
	char		p50[32], p95[32], p99[32], max[32], busy[32];
	bool		pass = report_passed(sim);

	if (!human(sim))
		return;
	ms(l.p50, p50, sizeof(p50));
	ms(l.p95, p95, sizeof(p95));
	ms(l.p99, p99, sizeof(p99));
	ms(l.max, max, sizeof(max));
	format_span(t.busy_us, busy, sizeof(busy));

	printf("\n== 6. Summary\n");
	printf("   requests          %ld to mtcbind.request_key: bound %ld, granted %ld, rejected %ld, errors %ld",
		   t.requests, t.bound, t.granted, t.rejected, t.errors);
	if (t.other)
		printf(", other %ld", t.other);
	printf("\n");
	printf("   throughput        %.0f requests/s over %s of requests on %u connections\n",
		   t.busy_us ? t.requests * 1e6 / (double) t.busy_us : 0.0, busy, sim->npool);
	printf("   latency           p50 %s, p95 %s, p99 %s, max %s (request_key round trip at the NAF)\n",
		   p50, p95, p99, max);
	printf("   bootstraps        %ld AKA runs with the BSF; AUTN refused by a card %ld; resynchronisations %ld\n",
		   t.bootstraps, t.aka_refused, t.resyncs);
	printf("   keys issued       %ld; the card derived the same Ks_local for %ld\n",
		   t.keys_issued, t.keys_matched);
	printf("   key mismatches    %ld\n", t.keys_mismatched);
	printf("   outcome counts    %ld of %ld steps as expected\n", t.steps_ok, t.steps);
	printf("   at the end\n");
	for (int i = 0; i < sim->ninvariants; i++)
		printf("     %s %s (%s)\n", sim->invariants[i].ok ? "ok  " : "FAIL", sim->invariants[i].name,
			   sim->invariants[i].detail);
	printf("   invariant breaks  %ld\n", sim->invariant_breaks);
	printf("   result            %s\n", pass
		   ? "PASS: every key the database issued is the card's own, every count is as expected"
		   : "FAIL: see the lines marked above");
	fflush(stdout);
}

/* ------------------------------------------------------------------ */

static void
json_latency(StrBuf *sb, Latency l)
{
	sb_printf(sb, "{\"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f, \"max\": %.3f}",
			  l.p50 / 1000.0, l.p95 / 1000.0, l.p99 / 1000.0, l.max / 1000.0);
}

static void
json_checks(StrBuf *sb, const Check *checks, int n)
{
	sb_printf(sb, "[");
	for (int i = 0; i < n; i++)
	{
		sb_printf(sb, "%s{\"name\": ", i ? ", " : "");
		sb_json_string(sb, checks[i].name);
		sb_printf(sb, ", \"ok\": %s, \"detail\": ", checks[i].ok ? "true" : "false");
		sb_json_string(sb, checks[i].detail);
		sb_printf(sb, "}");
	}
	sb_printf(sb, "]");
}

void
report_json(const Sim *sim, const char *result)
{
	StrBuf		sb;
	Totals		t = totals_of(sim);
	const ServerInfo *si = &sim->server;
	bool		first = true;

	sb_init(&sb);
	sb_printf(&sb, "{\n  \"simulator\": \"mtcbind-sim\", \"version\": \"%s\",\n", SIM_VERSION);
	sb_printf(&sb, "  \"seed\": %" PRIu64 ", \"devices\": %u, \"clients\": %u,\n",
			  sim->opt.seed, sim->opt.devices, sim->opt.clients);
	sb_printf(&sb, "  \"server\": {\"version\": ");
	sb_json_string(&sb, si->version);
	sb_printf(&sb, ", \"mtcbind\": ");
	sb_json_string(&sb, si->mtcbind);
	sb_printf(&sb, ", \"database\": ");
	sb_json_string(&sb, si->database);
	sb_printf(&sb, ", \"first_use\": ");
	sb_json_string(&sb, si->first_use);
	sb_printf(&sb, ", \"key_lifetime\": ");
	sb_json_string(&sb, si->key_lifetime);
	sb_printf(&sb, ", \"log_key_issue\": ");
	sb_json_string(&sb, si->log_key_issue);
	sb_printf(&sb, ", \"clock_offset_ms\": %.3f},\n", si->clock_offset_us / 1000.0);

	sb_printf(&sb, "  \"scenarios\": [");
	for (int id = 1; id <= SIM_NSCENARIOS; id++)
	{
		const Scenario *sc = &sim->scen[id];
		long		issued = 0, mismatched = 0;

		if (!sc->ran)
			continue;
		for (int i = 0; i < sc->nsteps; i++)
		{
			issued += sc->steps[i].keys_issued;
			mismatched += sc->steps[i].keys_mismatched;
		}
		sb_printf(&sb, "%s\n    {\"id\": %d, \"name\": \"%s\", \"ok\": %s, \"seconds\": %.3f,"
				  " \"requests\": %ld, \"requests_per_second\": %.1f,\n     \"latency_ms\": ",
				  first ? "" : ",", id, sc->name, scenario_ok(sc) ? "true" : "false",
				  sc->wall_us / 1e6, sc->requests,
				  sc->busy_us ? sc->requests * 1e6 / (double) sc->busy_us : 0.0);
		first = false;
		json_latency(&sb, latency_of(sim, id));
		sb_printf(&sb, ",\n     \"bootstraps\": %ld, \"aka_refused\": %ld, \"resyncs\": %ld,"
				  " \"keys_issued\": %ld, \"key_mismatches\": %ld,\n     \"steps\": [",
				  sc->bootstraps, sc->aka_refused, sc->resyncs, issued, mismatched);
		for (int i = 0; i < sc->nsteps; i++)
		{
			const Step *st = &sc->steps[i];

			sb_printf(&sb, "%s\n       {\"name\": ", i ? "," : "");
			sb_json_string(&sb, st->label);
			sb_printf(&sb, ", \"kind\": \"%s\", \"ok\": %s, \"done\": %ld, \"expected\": {",
					  st->kind == STEP_REQUEST ? "request" : st->kind == STEP_ADMIN ? "admin" : "check",
					  step_ok(st) ? "true" : "false", st->done);
			sb_json_string(&sb, st->expect);
			sb_printf(&sb, ": %ld}, \"outcomes\": {", st->expected);
			for (int j = 0; j < st->noutcomes; j++)
			{
				sb_printf(&sb, "%s", j ? ", " : "");
				sb_json_string(&sb, st->outcomes[j].key);
				sb_printf(&sb, ": %ld", st->outcomes[j].count);
			}
			sb_printf(&sb, "}, \"keys_issued\": %ld, \"key_mismatches\": %ld",
					  st->keys_issued, st->keys_mismatched);
			if (st->first_error[0])
			{
				sb_printf(&sb, ", \"first_error\": ");
				sb_json_string(&sb, st->first_error);
			}
			sb_printf(&sb, "}");
		}
		sb_printf(&sb, "],\n     \"checks\": ");
		json_checks(&sb, sc->checks, sc->nchecks);
		sb_printf(&sb, ",\n     \"notes\": [");
		for (int i = 0; i < sc->nnotes; i++)
		{
			sb_printf(&sb, "%s", i ? ", " : "");
			sb_json_string(&sb, sc->notes[i]);
		}
		sb_printf(&sb, "]}");
	}
	sb_printf(&sb, "],\n");

	sb_printf(&sb, "  \"summary\": {\"requests\": %ld, \"outcomes\": {\"bound\": %ld, \"granted\": %ld,"
			  " \"rejected\": %ld, \"errors\": %ld, \"other\": %ld},\n",
			  t.requests, t.bound, t.granted, t.rejected, t.errors, t.other);
	sb_printf(&sb, "    \"request_seconds\": %.3f, \"requests_per_second\": %.1f, \"latency_ms\": ",
			  t.busy_us / 1e6, t.busy_us ? t.requests * 1e6 / (double) t.busy_us : 0.0);
	json_latency(&sb, latency_of(sim, 0));
	sb_printf(&sb, ",\n    \"bootstraps\": %ld, \"aka_refused\": %ld, \"resyncs\": %ld,"
			  " \"keys_issued\": %ld, \"keys_matched\": %ld, \"key_mismatches\": %ld,\n"
			  "    \"steps\": %ld, \"steps_ok\": %ld, \"invariant_breaks\": %ld},\n",
			  t.bootstraps, t.aka_refused, t.resyncs, t.keys_issued, t.keys_matched,
			  t.keys_mismatched, t.steps, t.steps_ok, sim->invariant_breaks);
	sb_printf(&sb, "  \"invariants\": ");
	json_checks(&sb, sim->invariants, sim->ninvariants);
	sb_printf(&sb, ",\n  \"result\": ");
	sb_json_string(&sb, result);
	if (atomic_load(&sim->aborted))
	{
		sb_printf(&sb, ", \"message\": ");
		sb_json_string(&sb, sim->abort_message);
	}
	sb_printf(&sb, "\n}\n");
	fputs(sb.data, stdout);
	fflush(stdout);
	sb_free(&sb);
}

void
report_progress(const Sim *sim, unsigned done, unsigned total, int64_t elapsed_us)
{
	int			width = 40;
	int			filled;

	if (!human(sim) || elapsed_us < USEC_PER_SEC || total == 0 || !isatty(STDOUT_FILENO))
		return;
	filled = (int) ((uint64_t) done * (uint64_t) width / total);
	printf("\r   [%.*s%*s] %u/%u", filled,
		   "########################################", width - filled, "", done, total);
	fflush(stdout);
	progress_shown = true;
}

void
report_progress_clear(const Sim *sim)
{
	(void) sim;
	if (progress_shown)
	{
		printf("\r\033[K");
		fflush(stdout);
		progress_shown = false;
	}
}

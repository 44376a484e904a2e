/*
 * mtcbind-sim: plays a fleet of MTC devices with their UICCs, the BSF and
 * HSS, and the NAF front end against the NAF's database (mtcbind), runs the
 * scenarios of issue 8 and checks every issued key and every count.
 * docs/simulator.md explains every option and every line of output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "setup.h"

static const char usage_text[] =
	"Usage: mtcbind-sim [OPTION]...\n"
	"Plays MTC devices, their UICCs, the BSF/HSS and the NAF front end against a database\n"
	"with the mtcbind extension, and checks that the card's own Ks_local equals every key\n"
	"the database issues.\n"
	"\n"
	"  --dsn=DSN          libpq connection string or URI of the NAF's database\n"
	"                     (default: libpq's environment, PGHOST, PGPORT, PGDATABASE, ...)\n"
	"  --devices=N        devices in the fleet, each with its own card (%u..%u, default 1000)\n"
	"  --clients=C        connections of the NAF front end, run concurrently (1..%u, default 8)\n"
	"  --scenario=LIST    scenarios to run: all (default), or numbers and ranges such as 1-3,5;\n"
	"                     1 onboarding, 2 re-keying, 3 theft, 4 expired bootstrap,\n"
	"                     5 field replacement, 6 summary; 1 always runs, 6 is always printed\n"
	"  --seed=S           fleet and run from this seed (0..2^64-1, default 1); runs with seeds\n"
	"                     that differ modulo 10000 use distinct identities\n"
	"  --timeout=SECONDS  statement timeout; no answer within it plus 5 s ends the run (1..3600, default 10)\n"
	"  --json             print one JSON document instead of the report\n"
	"  --help             this text\n"
	"\n"
	"Exit status: 0 all as expected; 1 a key mismatch, an unexpected count or a broken invariant;\n"
	"2 bad options or a server that cannot take the run; 3 the server went away or did not answer;\n"
	"130 interrupted.  See docs/simulator.md.\n";

static void
usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
usage_error(const char *fmt, ...)
{
	va_list		ap;
	char		msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mtcbind-sim: %s\nTry 'mtcbind-sim --help' for more information.\n", msg);
	exit(EXIT_USAGE);
}

static unsigned long long
parse_number(const char *option, const char *text, unsigned long long min, unsigned long long max)
{
	char	   *end;
	unsigned long long v;

	errno = 0;
	if (text[0] == '\0' || text[0] == '-' || text[0] == '+' || text[0] == ' ')
		usage_error("%s must be a whole number from %llu to %llu, not '%s'", option, min, max, text);
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		usage_error("%s must be a whole number from %llu to %llu, not '%s'", option, min, max, text);
	return v;
}

/* "all", or "1-3,5": a bit per scenario 1..6. */
static unsigned
parse_scenarios(const char *text)
{
	unsigned	bits = 0;
	const char *p = text;

	if (strcmp(text, "all") == 0)
		return 0x7e;
	while (*p)
	{
		char	   *end;
		long		from, to;

		from = strtol(p, &end, 10);
		if (end == p || from < 1 || from > 6)
			goto bad;
		to = from;
		p = end;
		if (*p == '-')
		{
			p++;
			to = strtol(p, &end, 10);
			if (end == p || to < from || to > 6)
				goto bad;
			p = end;
		}
		for (long i = from; i <= to; i++)
			bits |= 1u << i;
		if (*p == ',')
		{
			p++;
			if (*p == '\0')
				goto bad;
		}
		else if (*p != '\0')
			goto bad;
	}
	if (bits == 0)
		goto bad;
	return bits | 1u << 1 | 1u << 6;
bad:
	usage_error("--scenario must be 'all' or scenario numbers 1 to 6 with ranges, such as 1-3,5; not '%s'", text);
}

static void
parse_options(int argc, char **argv, Options *opt)
{
	static const struct option longopts[] = {
		{"dsn", required_argument, NULL, 'd'},
		{"devices", required_argument, NULL, 'n'},
		{"clients", required_argument, NULL, 'c'},
		{"scenario", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},
		{"timeout", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			ch;

	opt->dsn = NULL;
	opt->devices = 1000;
	opt->clients = 8;
	opt->scenarios = 0x7e;
	opt->seed = 1;
	opt->json = false;
	opt->timeout_s = 10;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'd':
				{
					char	   *err = NULL;
					PQconninfoOption *parsed = PQconninfoParse(optarg, &err);

					if (parsed == NULL)
						usage_error("--dsn is not a valid connection string or URI: %s",
									err ? err : "out of memory");
					PQconninfoFree(parsed);
					opt->dsn = optarg;
					break;
				}
			case 'n':
				opt->devices = (unsigned) parse_number("--devices", optarg, SIM_MIN_DEVICES, SIM_MAX_DEVICES);
				break;
			case 'c':
				opt->clients = (unsigned) parse_number("--clients", optarg, 1, SIM_MAX_CLIENTS);
				break;
			case 's':
				opt->scenarios = parse_scenarios(optarg);
				break;
			case 'S':
				opt->seed = (uint64_t) parse_number("--seed", optarg, 0, UINT64_MAX);
				break;
			case 't':
				opt->timeout_s = (int) parse_number("--timeout", optarg, 1, 3600);
				break;
			case 'j':
				opt->json = true;
				break;
			case 'h':
				printf(usage_text, SIM_MIN_DEVICES, SIM_MAX_DEVICES, SIM_MAX_CLIENTS);
				exit(EXIT_PASS);
			case ':':
				usage_error("option %s needs a value", argv[optind - 1]);
			default:
				if (optopt)
					usage_error("unknown option -%c", optopt);
				usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (options take the form --name=value)", argv[optind]);
}

static Sim	sim;

static void
on_signal(int signo)
{
	(void) signo;
	sim.interrupted = true;
	atomic_store(&sim.aborted, true);
	naf_request_stop();
}

int
main(int argc, char **argv)
{
	struct sigaction sa;

	parse_options(argc, argv, &sim.opt);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	sim.started_mono_us = clock_mono_us();
	sim_setup(&sim);
	report_header(&sim);

	if (!sim_run_scenarios(&sim) || atomic_load(&sim.aborted))
	{
		const Scenario *sc = &sim.scen[sim.current_scenario];

		if (sim.interrupted)
		{
			if (sim.opt.json)
				report_json(&sim, "interrupted");
			else
				printf("\n");
			warnmsg("interrupted during scenario %d (%s); the run is incomplete", sc->id, sc->title);
			return EXIT_INTERRUPTED;
		}
		if (sim.opt.json)
			report_json(&sim, "aborted");
		else
			printf("\n");
		warnmsg("%s", sim.abort_message);
		warnmsg("the run stopped in scenario %d (%s) after %ld answered requests in it; "
				"no summary. Is the server running?", sc->id, sc->title, sc->requests);
		return EXIT_ABORTED;
	}

	sim_check_invariants(&sim);
	if (atomic_load(&sim.aborted))
	{
		if (sim.opt.json)
			report_json(&sim, "aborted");
		warnmsg("%s", sim.abort_message);
		warnmsg("the run stopped while checking the invariants; no summary");
		return sim.interrupted ? EXIT_INTERRUPTED : EXIT_ABORTED;
	}
	report_summary(&sim);
	if (sim.opt.json)
		report_json(&sim, report_passed(&sim) ? "pass" : "fail");
	return report_passed(&sim) ? EXIT_PASS : EXIT_CHECK_FAIL;
}

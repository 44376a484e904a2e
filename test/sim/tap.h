/* tap.h: the smallest TAP producer for the simulator's unit tests. */
#ifndef SIM_TAP_H
#define SIM_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int	tap_count;
static int	tap_failed;

static bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
tap_ok(bool cond, const char *fmt, ...)
{
	va_list		ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
tap_diag(const char *fmt, ...)
{
	va_list		ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif

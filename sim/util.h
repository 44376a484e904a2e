/*
 * util.h: clocks, hex and base64, messages, allocation, a string-keyed hash
 * map.  Nothing here knows about 3GPP or PostgreSQL.
 */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of mtcbind-sim (docs/simulator.md, "Exit status"). */
#define EXIT_PASS        0
#define EXIT_CHECK_FAIL  1
#define EXIT_USAGE       2
#define EXIT_ABORTED     3
#define EXIT_INTERRUPTED 130

#define USEC_PER_SEC INT64_C(1000000)

int64_t clock_real_us(void);    /* CLOCK_REALTIME, microseconds since 1970 */
int64_t clock_mono_us(void);    /* CLOCK_MONOTONIC, microseconds */
void sleep_us(int64_t us);

void hex_encode(const uint8_t *in, size_t n, char *out);          /* out: 2n+1 */
int hex_decode(const char *hex, uint8_t *out, size_t n);          /* exactly n octets; -1 if not */
size_t base64_encode(const uint8_t *in, size_t n, char *out);     /* out: 4*ceil(n/3)+1 */

/* "2024-05-01 12:00:00.123456+00" for a Unix time in microseconds. */
void format_timestamp(int64_t unix_us, char *buf, size_t len);
/* "1 day 0 h 0 min 2 s", "1.2 s", "350 ms": a span for people. */
void format_span(int64_t us, char *buf, size_t len);

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Copies src into dst of size n, cutting it if need be; always terminated. */
void str_copy(char *dst, size_t n, const char *src);

/* "mtcbind-sim: <message>" on stderr. */
void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, then exit(code). */
void fatal(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* Appends to a growable string. */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} StrBuf;

void sb_init(StrBuf *sb);
void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_string(StrBuf *sb, const char *s);   /* a JSON string literal, quoted */
void sb_free(StrBuf *sb);

/* String keys (copied) to pointers; not thread-safe by itself. */
typedef struct StrMap StrMap;

StrMap *strmap_new(size_t expected);
void *strmap_get(const StrMap *m, const char *key);
void strmap_put(StrMap *m, const char *key, void *value);   /* replaces */
void *strmap_del(StrMap *m, const char *key);               /* returns the old value */
void strmap_free(StrMap *m);
void strmap_foreach(StrMap *m, void (*fn) (const char *key, void *value));

#endif

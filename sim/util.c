/* util.c: see util.h. */
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
clock_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

void
sleep_us(int64_t us)
{
	struct timespec ts;

	if (us <= 0)
		return;
	ts.tv_sec = us / USEC_PER_SEC;
	ts.tv_nsec = (long) (us % USEC_PER_SEC) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++)
	{
		int			hi = hex_value(hex[2 * i]);
		int			lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return 0;
}

size_t
base64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		o = 0;

	for (size_t i = 0; i < n; i += 3)
	{
		uint32_t	v = (uint32_t) in[i] << 16;
		size_t		left = n - i;

		if (left > 1)
			v |= (uint32_t) in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = left > 2 ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

void
format_timestamp(int64_t unix_us, char *buf, size_t len)
{
	time_t		secs = (time_t) (unix_us / USEC_PER_SEC);
	long		frac = (long) (unix_us % USEC_PER_SEC);
	struct tm	tm;
	char		base[32];

	if (frac < 0)
	{
		frac += USEC_PER_SEC;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ld+00", base, frac);
}

void
format_span(int64_t us, char *buf, size_t len)
{
	static const struct
	{
		int64_t		secs;
		const char *one;
		const char *many;
	}			units[] = {{86400, "day", "days"}, {3600, "h", "h"}, {60, "min", "min"}, {1, "s", "s"}};
	int64_t		s;
	size_t		used = 0;

	if (us < 0)
		us = -us;
	if (us < USEC_PER_SEC)
	{
		snprintf(buf, len, "%.*f ms", us < 10000 ? 1 : 0, us / 1000.0);
		return;
	}
	if (us < 60 * USEC_PER_SEC)
	{
		snprintf(buf, len, "%.1f s", us / 1e6);
		return;
	}
	s = us / USEC_PER_SEC;
	buf[0] = '\0';
	for (int i = 0; i < 4 && used < len; i++)
	{
		int64_t		v = s / units[i].secs;

		s %= units[i].secs;
		if (v == 0)
			continue;
		used += (size_t) snprintf(buf + used, len - used, "%s%" PRId64 " %s", used ? " " : "", v,
								  v == 1 ? units[i].one : units[i].many);
	}
}

void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal(EXIT_ABORTED, "out of memory");
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void	   *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		fatal(EXIT_ABORTED, "out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal(EXIT_ABORTED, "out of memory");
	return q;
}

char *
xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

static void
vmessage(const char *fmt, va_list ap)
{
	char		line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* libpq messages end in a newline; one is enough. */
	for (size_t n = strlen(line); n > 0 && line[n - 1] == '\n'; n--)
		line[n - 1] = '\0';
	fprintf(stderr, "mtcbind-sim: %s\n", line);
}

void
warnmsg(const char *fmt, ...)
{
	va_list		ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void
fatal(int code, const char *fmt, ...)
{
	va_list		ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(code);
}

void
sb_init(StrBuf *sb)
{
	sb->cap = 256;
	sb->len = 0;
	sb->data = xmalloc(sb->cap);
	sb->data[0] = '\0';
}

void
sb_printf(StrBuf *sb, const char *fmt, ...)
{
	for (;;)
	{
		va_list		ap;
		int			n;

		va_start(ap, fmt);
		n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t) n < sb->cap - sb->len)
		{
			sb->len += (size_t) n;
			return;
		}
		sb->cap = 2 * sb->cap + (size_t) n;
		sb->data = xrealloc(sb->data, sb->cap);
	}
}

void
sb_json_string(StrBuf *sb, const char *s)
{
	sb_printf(sb, "\"");
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			sb_printf(sb, "\\%c", *p);
		else if (*p < 0x20)
			sb_printf(sb, "\\u%04x", *p);
		else
			sb_printf(sb, "%c", *p);
	}
	sb_printf(sb, "\"");
}

void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

/* Open addressing with linear probing; deleted slots are tombstones. */
typedef struct Slot
{
	char	   *key;			/* NULL: empty */
	void	   *value;
	bool		deleted;
} Slot;

struct StrMap
{
	Slot	   *slots;
	size_t		cap;			/* a power of two */
	size_t		used;			/* live + tombstones */
};

static uint64_t
hash_string(const char *s)
{
	uint64_t	h = UINT64_C(14695981039346656037);

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

StrMap *
strmap_new(size_t expected)
{
	StrMap	   *m = xcalloc(1, sizeof(StrMap));

	m->cap = 16;
	while (m->cap < expected * 2)
		m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(Slot));
	return m;
}

static Slot *
find_slot(const StrMap *m, const char *key, bool for_insert)
{
	size_t		mask = m->cap - 1;
	size_t		i = (size_t) hash_string(key) & mask;
	Slot	   *tomb = NULL;

	for (;;)
	{
		Slot	   *s = &m->slots[i];

		if (s->key == NULL)
		{
			if (!s->deleted)
				return for_insert ? (tomb ? tomb : s) : NULL;
			if (tomb == NULL)
				tomb = s;
		}
		else if (strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & mask;
	}
}

static void
grow(StrMap *m)
{
	Slot	   *old = m->slots;
	size_t		oldcap = m->cap;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(Slot));
	m->used = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
		{
			Slot	   *s = find_slot(m, old[i].key, true);

			*s = old[i];
			m->used++;
		}
	free(old);
}

void *
strmap_get(const StrMap *m, const char *key)
{
	Slot	   *s = find_slot(m, key, false);

	return s ? s->value : NULL;
}

void
strmap_put(StrMap *m, const char *key, void *value)
{
	Slot	   *s;

	if ((m->used + 1) * 2 > m->cap)
		grow(m);
	s = find_slot(m, key, true);
	if (s->key)
	{
		s->value = value;
		return;
	}
	if (!s->deleted)
		m->used++;
	s->key = xstrdup(key);
	s->value = value;
	s->deleted = false;
}

void *
strmap_del(StrMap *m, const char *key)
{
	Slot	   *s = find_slot(m, key, false);
	void	   *value;

	if (s == NULL)
		return NULL;
	value = s->value;
	free(s->key);
	s->key = NULL;
	s->value = NULL;
	s->deleted = true;
	return value;
}

void
strmap_free(StrMap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

void
strmap_foreach(StrMap *m, void (*fn) (const char *key, void *value))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			fn(m->slots[i].key, m->slots[i].value);
}

void
str_copy(char *dst, size_t n, const char *src)
{
	size_t		len = strlen(src);

	if (n == 0)
		return;
	if (len >= n)
		len = n - 1;
	memmove(dst, src, len);
	dst[len] = '\0';
}

/*
 * args.h
 *		Checks every SQL entry point applies to its arguments and to the
 *		transaction it runs in, so that each rule is written once.
 */
#ifndef MTCBIND_ARGS_H
#define MTCBIND_ARGS_H

#include "fmgr.h"

#define TERMINAL_ID_MAX_LEN	255
#define APPLI_ID_MAX_LEN	255
#define REASON_MAX_LEN		1000

/*
 * Refuses to run outside READ COMMITTED (0A000): a transaction snapshot
 * could show a binding that has since changed, and a key or a binding
 * decision must never rest on that.
 */
extern void require_read_committed(const char *function_name);

/* Raises 22004 naming the argument when it is NULL. */
extern void require_arg(FunctionCallInfo fcinfo, int argno, const char *name);

/* Raises 22023 unless min <= len <= max, naming the argument. */
extern void check_octet_length(const char *name, size_t len, size_t min, size_t max);

/* A terminal_id argument: not NULL, 1 to 255 octets; as a C string. */
extern char *get_terminal_id_arg(FunctionCallInfo fcinfo, int argno, const char *name);

/*
 * A reason argument: NULL only when not required; never empty or blank
 * (white space only, Unicode spaces included); at most REASON_MAX_LEN
 * octets.  Returns NULL for an allowed NULL.
 */
extern char *get_reason_arg(FunctionCallInfo fcinfo, int argno, bool required);

/*
 * Text for a message: s itself when short, else its first 40 characters
 * and "...", so that an error never copies unbounded input.
 */
extern const char *bounded_text(const char *s);

#endif							/* MTCBIND_ARGS_H */

/*
 * settings.h
 *		The mtcbind.* configuration parameters (GUCs).
 */
#ifndef MTCBIND_SETTINGS_H
#define MTCBIND_SETTINGS_H

/* mtcbind.first_use */
typedef enum FirstUsePolicy
{
	FIRST_USE_BIND,				/* trust on first use: bind the pair */
	FIRST_USE_REJECT			/* only pre-provisioned pairs get keys */
} FirstUsePolicy;

/*
 * mtcbind.key_issue_log and mtcbind.refusal_log: where a key issue or a
 * refusal is recorded
 */
typedef enum LogMode
{
	LOG_MODE_EVENTS,			/* an event in binding_event */
	LOG_MODE_COMPACT			/* a row of the compact log (key_issue, refusal) */
} LogMode;

extern int	mtcbind_first_use;
extern int	mtcbind_key_issue_log;
extern int	mtcbind_refusal_log;
extern int64 mtcbind_key_lifetime_usecs;	/* mtcbind.key_lifetime */
extern char *mtcbind_key_lifetime_text;
extern bool mtcbind_log_key_issue;
extern char *mtcbind_reason;
extern bool mtcbind_allow_drop_with_data;

/* Longest key lifetime the setting or a policy may give: ten years. */
#define KEY_LIFETIME_MAX_USECS	(INT64CONST(3650) * USECS_PER_DAY)

/*
 * Parses a key lifetime written as an interval ('1 day', '12h', 'PT30M')
 * with PostgreSQL's own interval parser, without raising an error: returns
 * false and a message in *problem for anything that is not a positive
 * interval of at most ten years.  Months count as 30 days.
 */
extern bool parse_key_lifetime(const char *text, int64 *usecs, const char **problem);

extern void mtcbind_define_settings(void);

/*
 * Raises 42501 if a role that may not set them gave superuser settings
 * for this session before the library loaded (settings.c says why).
 */
extern void settings_check_client(void);

#endif							/* MTCBIND_SETTINGS_H */

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

extern int	mtcbind_first_use;
extern int64 mtcbind_key_lifetime_usecs;	/* mtcbind.key_lifetime */
extern bool mtcbind_log_key_issue;
extern char *mtcbind_reason;

extern void mtcbind_define_settings(void);

#endif							/* MTCBIND_SETTINGS_H */

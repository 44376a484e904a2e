/*
 * policy.h
 *		What request_key runs with: the mtcbind.* settings, tightened by the
 *		database's own policy table (which pg_dump carries with the data).
 */
#ifndef MTCBIND_POLICY_H
#define MTCBIND_POLICY_H

typedef struct EffectivePolicy
{
	bool		first_use_reject;	/* setting or policy says reject */
	int64		key_lifetime_usecs; /* the setting, capped by the policy */
	bool		log_key_issue;
	bool		key_issue_compact;	/* mtcbind.key_issue_log = compact */
	bool		refusal_compact;	/* mtcbind.refusal_log = compact */
} EffectivePolicy;

/* The policy in effect now (reads the table once per change of it). */
extern void policy_current(EffectivePolicy *out);

#endif							/* MTCBIND_POLICY_H */

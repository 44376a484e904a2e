/*
 * blocks.h
 *		The blocklist: cards and devices no request may bind or key until an
 *		administrator lifts the block, and the locks that keep a block and a
 *		concurrent binding from missing each other.
 */
#ifndef MTCBIND_BLOCKS_H
#define MTCBIND_BLOCKS_H

/* The identities of a pair, as far as blocks and their locks concern them. */
typedef struct BlockIdentities
{
	bool		has_iccid;
	int64		iccid;
	const char *terminal_id;	/* NULL: none */
	bool		has_imei;
	int64		imei;
} BlockIdentities;

/*
 * Orders blocks against bindings, for the rest of the transaction: whatever
 * binds or moves a binding calls it with blocking = false before it reads
 * the blocklist, whatever changes the blocklist with blocking = true before
 * it flags bindings.  So a block waits for the bindings in progress and then
 * flags them, and a binding waits for a block in progress and then sees it.
 * One relation lock per transaction, however many rows it writes.
 */
extern void blocklist_lock(bool blocking);

/* False only if no block was ever written (no query is run). */
extern bool blocklist_maybe_nonempty(void);

/*
 * The same, asked once per command: for callers that hold blocklist_lock
 * (blocking = false) and may ask for every row of a bulk load.
 */
extern bool blocklist_maybe_nonempty_in_command(void);

/* What the blocklist says about a pair. */
typedef struct BlockHit
{
	bool		found;
	bool		uicc;			/* the card is blocked (else the device) */
	int64		block_id;
} BlockHit;

/*
 * Looks the identities up in the blocklist (a blocked card first); no query
 * when the blocklist has never held a row.  With latest, reads with a fresh
 * snapshot whatever the isolation level.  Needs an SPI connection.
 */
extern void blocklist_find(const BlockIdentities *ids, bool latest, BlockHit *hit);

#endif							/* MTCBIND_BLOCKS_H */

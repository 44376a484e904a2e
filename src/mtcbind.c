/*
 * mtcbind.c
 *		Module entry point: the magic block and _PG_init.
 */
#include "postgres.h"

#include "fmgr.h"

#include "planner.h"
#include "settings.h"
#include "stats.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Called once per backend when the library is loaded. */
void
_PG_init(void)
{
	mtcbind_define_settings();
	stats_init();
	planner_init();
}

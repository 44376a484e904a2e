/*
 * planner.h
 *		mtcbind's statements are planned with fixed settings (planner.c).
 */
#ifndef MTCBIND_PLANNER_H
#define MTCBIND_PLANNER_H

/* Installs the planner hook; from _PG_init. */
extern void planner_init(void);

#endif							/* MTCBIND_PLANNER_H */

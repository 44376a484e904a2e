/* setup.h: see setup.c. */
#ifndef SIM_SETUP_H
#define SIM_SETUP_H

#include "sim.h"

/* Connects, checks the server, opens the pool, builds the fleet; exits 2 on problems. */
void sim_setup(Sim *sim);

#endif

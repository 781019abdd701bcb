/* SPDX-License-Identifier: GPL-2.0 */
/* Pieces of synthetic runs that the run model, run document and report
 * tests share. */
#ifndef MO_RUN_FIXTURE_H
#define MO_RUN_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/run.h"

/* A NULL-terminated copy of up to three strings (an argv, a stack's
 * frames); the first NULL ends it. */
static inline char **strv(const char *a, const char *b, const char *c)
{
	char **v = calloc(4, sizeof(*v));
	size_t n = 0;

	if (a)
		v[n++] = strdup(a);
	if (b)
		v[n++] = strdup(b);
	if (c)
		v[n++] = strdup(c);
	return v;
}

/* A phase placed in the tree and in time; its figures are the caller's. */
static inline struct mo_phase_rec *fixture_phase_at(struct mo_run *run, const char *name, size_t parent,
						    unsigned depth, double start, double end)
{
	struct mo_phase_rec *ph = run_add_phase(run);

	snprintf(ph->name, sizeof(ph->name), "%s", name);
	ph->parent = parent;
	ph->depth = depth;
	ph->start_s = start;
	ph->end_s = end;
	return ph;
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Two runs side by side: the totals, then each phase matched by name (in
 * the order of run A, then phases only run B has). Rows where both runs
 * have 0 or nothing (heap figures without --heap, items never counted) are
 * left out. cmd_compare renders it. */
#ifndef MO_COMPARE_H
#define MO_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/units.h"
#include "model/summary.h"

struct mo_compare_row {
	const char *metric;	/* a total ("peak_rss") or a phase field ("rss.peak"); static */
	enum mo_unit unit;
	bool has_a, has_b;
	double a, b;
};

struct mo_compare_phase {
	char *name;
	bool in_a, in_b;	/* false: the phase ran in the other run only */
	struct mo_compare_row *rows;
	size_t nrows;
};

struct mo_compare {
	struct mo_compare_row *totals;
	size_t ntotals;
	struct mo_compare_phase *phases;
	size_t nphases, phases_alloc;
};

/* Compare run a with run b into *c (initialised here; free it with
 * compare_free even on error). 0 or -ENOMEM. */
int compare_runs(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c);

void compare_free(struct mo_compare *c);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Two runs side by side: the totals (with the largest process), the
 * commands (by_command) whose peak changed most, each phase matched by name
 * (in the order of run A, then phases only run B has), and the rows of
 * commands and phases that changed most, first. Rows where both runs have 0
 * or nothing (heap figures without --heap, items never counted) are left
 * out. cmd_compare renders it. */
#ifndef MO_COMPARE_H
#define MO_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/units.h"
#include "model/summary.h"

#define COMPARE_COMMANDS 10	/* commands shown, those whose peak changed most */
#define COMPARE_LARGEST 5	/* rows of commands and phases that changed most */

struct mo_compare_row {
	const char *metric;	/* a total ("peak_rss"), a phase field ("rss.peak") or a comm: static or owned */
	char *owned;		/* metric when it is this row's own ("phase.render.rss.peak"), or NULL */
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
	struct mo_compare_row *commands;	/* rss_peak_max per comm, by change, at most COMPARE_COMMANDS */
	size_t ncommands, commands_alloc, commands_left_out;
	struct mo_compare_row *largest;	/* metric names in full, by relative change */
	size_t nlargest;
	struct mo_compare_phase *phases;
	size_t nphases, phases_alloc;
};

/* Compare run a with run b into *c (initialised here; free it with
 * compare_free even on error). 0 or -ENOMEM. */
int compare_runs(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c);

void compare_free(struct mo_compare *c);

#endif

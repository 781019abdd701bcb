/* SPDX-License-Identifier: GPL-2.0 */
/* The regression gate: a run against a baseline, metric by metric, each
 * with its allowed growth. The default baseline is, per metric, the median
 * of the GATE_BASELINE_RUNS runs before it in the same series: the same
 * label, or for runs without one, the same command line. */
#ifndef MO_GATE_H
#define MO_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include "history/history.h"
#include "model/metrics.h"

#define GATE_BASELINE_RUNS 5

struct mo_gate_row {
	const char *metric;	/* points into the threshold */
	enum mo_unit unit;
	double baseline;	/* median over nbaseline runs */
	size_t nbaseline;
	double current;
	double change_pct;	/* units_change_pct(baseline, current) */
	double bound_pct;
	bool pass;
	char who[48];		/* max_process metrics: the process, "cc1 (pid 4242)"; else "" */
	char base_who[48];	/* the same in the newest baseline run */
};

struct mo_gate {
	struct mo_gate_row *rows;
	size_t nrows;
	bool pass;		/* every row passed */
};

/* The newest run of h in the series of `label` (any run when NULL), as an
 * index; -1 when there is none. */
long gate_newest(const struct mo_history *h, const char *label);

/* Did the run's command fail (exit status not 0; unknown for -p and -a
 * runs, which then did not)? Its figures are not those of a whole run. */
bool gate_failed(const struct mo_summary *run);

/* How it failed: "exited with status 3", "was killed by signal 9 (exit
 * status 137)". Returns buf. */
const char *gate_failure(const struct mo_summary *run, char *buf, size_t len);

/* Indexes of up to max runs among h->runs[0..before) in the series of
 * `current` (label `label`, or the current run's own when NULL), newest
 * first, skipping runs equal to `current` (the same run read back from its
 * -o file) and runs that failed. Returns the count written to out. */
size_t gate_pick_baseline(const struct mo_history *h, size_t before, const struct mo_summary *current,
			  const char *label, size_t *out, size_t max);

/* Median of metric over the runs that have it (mean of the middle two for
 * an even count). 0 and *used, or -ENOENT when none has it. */
int gate_median(const struct mo_summary *const *runs, size_t n, const char *metric, double *out, size_t *used);

/* Does growing from baseline to current stay within max_growth_pct? Exactly
 * at the bound passes; any growth from 0 fails. */
bool gate_within(double baseline, double current, double max_growth_pct);

/* Evaluate the thresholds for current against the baseline runs into *g
 * (initialised here; free with gate_free even on error); g->pass is false
 * too when current failed (gate_failed). 0; -ENOENT when
 * the current run or every baseline run lacks a metric, -EINVAL for an
 * unknown one (err says which and what to do); -ENOMEM. */
int gate_evaluate(const struct mo_summary *current, const struct mo_summary *const *baseline, size_t nbaseline,
		  const struct mo_threshold *t, size_t nt, struct mo_gate *g, char *err, size_t errlen);

void gate_free(struct mo_gate *g);

#endif

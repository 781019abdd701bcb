/* SPDX-License-Identifier: GPL-2.0 */
/* Metric names and their values in a run's summary (summary.h).
 *
 * Names: the totals peak_rss, peak_heap, alloc_bytes, alloc_count, duration;
 * and phase.NAME.FIELD with FIELD one of the phase figures (duration_s,
 * items, rss.peak, heap.peak_live, ...: summary_phase_figs). A phase NAME
 * may contain dots: the metric ends with exactly one known FIELD (no field is
 * a dotted suffix of another), and everything between "phase." and it is the
 * NAME, so "phase.a.b.rss.peak" is field rss.peak of phase "a.b" - the
 * longest phase name the metric can mean. */
#ifndef MO_METRICS_H
#define MO_METRICS_H

#include <stddef.h>
#include "lib/units.h"
#include "model/summary.h"

#define METRICS_NAME_MAX 192	/* "phase." + a 63-byte name + field, with room */

/* --max-growth METRIC=PCT */
struct mo_threshold {
	char metric[METRICS_NAME_MAX];
	double max_growth_pct;
};

/* 0 when name is a metric, else -EINVAL with the reason (and the valid
 * names) in err. */
int metrics_check_name(const char *name, char *err, size_t errlen);

/* Unit of a metric that metrics_check_name accepts. */
enum mo_unit metrics_unit(const char *name);

/* Value of metric `name` in run. Returns 0; -EINVAL when name is no metric;
 * -ENOENT when this run does not have it (no such phase, the figure is
 * absent, or it is a heap figure of a run recorded without --heap). err says
 * which. */
int metrics_get(const struct mo_summary *run, const char *name, double *out, char *err, size_t errlen);

/* Figure fig of the phase named `phase`: 0, or -ENOENT when the run has no
 * such phase or not that figure of it (a heap figure without --heap). */
int metrics_phase(const struct mo_summary *run, const char *phase, enum mo_phase_fig fig, double *out);

/* Parse "METRIC=PCT" (PCT: "10%", "10", "0.5%"; not negative). The metric
 * is split at the last '=' and must pass metrics_check_name. 0 or -EINVAL
 * with the reason in err. */
int metrics_parse_threshold(const char *arg, struct mo_threshold *t, char *err, size_t errlen);

#endif

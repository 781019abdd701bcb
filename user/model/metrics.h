/* SPDX-License-Identifier: GPL-2.0 */
/* Metric names and their values in a run's summary (summary.h).
 *
 * Names: the totals (summary_totals: peak_rss, peak_physical, peak_heap,
 * alloc_bytes, alloc_count, duration); the largest process,
 * max_process.peak_rss and max_process.peak_heap (summary_max_figs);
 * by_command.COMM.FIELD with FIELD a figure of the processes named COMM
 * (rss_peak_max, ...: summary_command_figs); and phase.NAME.FIELD with FIELD
 * one of the phase figures (duration_s, items, rss.peak, heap.peak_live,
 * ...: summary_phase_figs; peak_over_baseline alone is rss's). A NAME may
 * contain dots: the metric ends with the longest known FIELD, and everything
 * between the prefix and it is the NAME, so "phase.a.b.rss.peak" is field
 * rss.peak of phase "a.b". */
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

/* Figure fig of the processes named comm (by_command): 0, or -ENOENT. */
int metrics_command(const struct mo_summary *run, const char *comm, enum mo_command_fig fig, double *out);

/* Which process a max_process metric is, "cc1 (pid 4242)" in buf; NULL for
 * other metrics or when the run has none. */
const char *metrics_who(const struct mo_summary *run, const char *name, char *buf, size_t len);

/* Parse "METRIC=PCT" (PCT: "10%", "10", "0.5%"; not negative). The metric
 * is split at the last '=' and must pass metrics_check_name. 0 or -EINVAL
 * with the reason in err. */
int metrics_parse_threshold(const char *arg, struct mo_threshold *t, char *err, size_t errlen);

#endif

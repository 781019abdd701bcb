/* SPDX-License-Identifier: GPL-2.0 */
/* Metric names and their values in a run document (a cJSON tree, as
 * run_json.c writes it and history.c reads it back).
 *
 * Names: the totals peak_rss, peak_heap, alloc_bytes, alloc_count, duration;
 * and phase.NAME.FIELD with FIELD one of the phase fields (duration_s,
 * items, rss.peak, heap.peak_live, ...: metrics_phase_fields). A phase NAME
 * may contain dots: the metric ends with exactly one known FIELD (no field is
 * a dotted suffix of another), and everything between "phase." and it is the
 * NAME, so "phase.a.b.rss.peak" is field rss.peak of phase "a.b" - the
 * longest phase name the metric can mean.
 *
 * A phase that ran several times (one phases[] entry per window) counts as
 * one: peaks are the highest window's, additive figures (duration, items,
 * bytes, counts, deltas) the sum, baselines the first window's, ends the
 * last's. */
#ifndef MO_METRICS_H
#define MO_METRICS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "lib/units.h"

#define METRICS_NAME_MAX 192	/* "phase." + a 63-byte name + field, with room */

struct mo_metric_total {
	const char *name;	/* "peak_rss" */
	const char *path;	/* in the document: "totals.rss.peak" */
	enum mo_unit unit;
};

enum mo_metric_agg {
	MO_METRIC_AGG_MAX,
	MO_METRIC_AGG_SUM,
	MO_METRIC_AGG_FIRST,
	MO_METRIC_AGG_LAST,
};

struct mo_phase_field {
	const char *path;	/* inside a phases[] entry: "rss.peak" */
	enum mo_unit unit;
	enum mo_metric_agg agg;	/* across windows of the same name */
};

#define METRICS_NTOTALS 5
#define METRICS_NPHASE_FIELDS 15
extern const struct mo_metric_total metrics_totals[METRICS_NTOTALS];
extern const struct mo_phase_field metrics_phase_fields[METRICS_NPHASE_FIELDS];

/* --max-growth METRIC=PCT */
struct mo_threshold {
	char metric[METRICS_NAME_MAX];
	double max_growth_pct;
};

/* 0 when name is a metric, else -EINVAL with the reason (and the valid
 * names) in err. */
int metrics_check_name(const char *name, char *err, size_t errlen);

/* The phase field of that path ("rss.peak"), NULL when there is none. */
const struct mo_phase_field *metrics_phase_field(const char *path);

/* Unit of a metric that metrics_check_name accepts. */
enum mo_unit metrics_unit(const char *name);

/* Value of metric `name` in run. Returns 0; -EINVAL when name is no metric;
 * -ENOENT when this run does not have it (no such phase, the figure is
 * absent or null, or it is a heap figure of a run with "heap_traced": false).
 * err says which. */
int metrics_get(const cJSON *run, const char *name, double *out, char *err, size_t errlen);

/* FIELD (a metrics_phase_fields path) over all windows of the phases named
 * `phase`, aggregated as documented above. 0, or -ENOENT when no window of
 * that name has the field (or it is a heap field of a run without heap). */
int metrics_phase(const cJSON *run, const char *phase, const struct mo_phase_field *field, double *out);

/* Parse "METRIC=PCT" (PCT: "10%", "10", "0.5%"; not negative). The metric
 * is split at the last '=' and must pass metrics_check_name. 0 or -EINVAL
 * with the reason in err. */
int metrics_parse_threshold(const char *arg, struct mo_threshold *t, char *err, size_t errlen);

#endif

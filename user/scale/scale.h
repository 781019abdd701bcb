/* SPDX-License-Identifier: GPL-2.0 */
/* A scaling sweep (`memobs scale`): the runs of one command at several
 * sizes, the metrics read from their run documents, and a growth curve
 * (fit.h) fitted to each; predictions at a size not run, and a budget check.
 * No processes here (scale_exec.c runs them): this is data and numerics.
 *
 * Metrics are named as metrics.h names them: the totals peak_rss and
 * duration, with the heap traced also peak_heap and alloc_bytes; per phase
 * (every phase but the root) phase.NAME.rss.peak_over_baseline, with the heap
 * also phase.NAME.heap.peak_over_baseline and phase.NAME.heap.alloc_bytes.
 * Each metric gets one point per size of the sweep that has it: the median
 * over the repeats.
 *
 * Sizes. A point's N is the sweep size, unless the run counted work items
 * (`items` markers): then a phase's metrics are fitted against the items of
 * that phase, and the totals against the items fired outside any named phase
 * (the root's), when every run has items there and they take at least
 * FIT_MIN_SIZES distinct values. Predictions are asked in sweep sizes: for a
 * metric fitted against items, the items at that size come from a fit of the
 * items against the sweep size. */
#ifndef MO_SCALE_H
#define MO_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "model/summary.h"
#include "scale/fit.h"
#include "model/metrics.h"

#define SCALE_MAX_SIZES 64
#define SCALE_MAX_SIZE 1000000000000000ull	/* 10^15: exact in a double */
#define SCALE_NOISE_BYTES (256 << 10)	/* RSS of identical runs differs by up to ~150 KiB */
#define SCALE_NOISE_SECONDS 0.01

/* What the user asked for. */
struct mo_scale_setup {
	char **command;			/* the template, `{}` where the size goes; borrowed */
	const char *env;		/* --env NAME, or NULL */
	uint64_t *sizes;		/* ascending, distinct; owned (scale_free) */
	size_t nsizes;
	unsigned repeat;		/* runs per size, >= 1 */
	bool heap;
	uint64_t predict;		/* size to extrapolate to, 0: none */
	uint64_t budget;		/* bytes that peak_rss must fit in at `predict`, 0: none */
};

struct mo_scale_run {
	uint64_t size;
	unsigned repeat;		/* 1-based */
	cJSON *doc;			/* the run's document without its per-process, timeline
					 * and stack arrays (history_read_file); owned */
	struct mo_summary sum;		/* what the metrics read */
};

struct mo_scale_point {
	uint64_t size;			/* the sweep size */
	double n;			/* what the fit used: the size, or the items */
	double value;			/* median over the repeats */
};

struct mo_scale_metric {
	char name[METRICS_NAME_MAX];
	enum mo_unit unit;
	bool by_items;			/* N is the items counted, not the sweep size */
	struct mo_scale_point *points;	/* ascending size */
	size_t npoints;
	int err;			/* 0: fit holds the curve; else -EINVAL and why */
	char why[160];
	struct mo_fit fit;
	struct mo_fit items_fit;	/* by_items: items against the sweep size */
};

struct mo_scale {
	struct mo_scale_setup setup;
	struct mo_scale_run *runs;
	size_t nruns, runs_alloc;
	struct mo_scale_metric *metrics;
	size_t nmetrics, metrics_alloc;
};

struct mo_scale_budget {
	double predicted;		/* peak_rss at setup.predict */
	double interval;		/* half its 95% prediction interval, NAN unknown */
	double margin;			/* budget - predicted: < 0 when it does not fit */
	bool fits;
	bool fits_upper;		/* predicted + interval fits too (false when unknown) */
};

void scale_init(struct mo_scale *s);
void scale_free(struct mo_scale *s);

/* Parse --sizes: comma-separated positive integers (at most
 * SCALE_MAX_SIZE), distinct, at least FIT_MIN_SIZES and at most
 * SCALE_MAX_SIZES of them. *sizes (ascending; caller frees) and *n.
 * 0, or -EINVAL / -ENOMEM with the reason in err. */
int scale_parse_sizes(const char *list, uint64_t **sizes, size_t *n, char *err, size_t errlen);

/* Record a run; takes doc (also on failure). 0/-ENOMEM. */
int scale_add_run(struct mo_scale *s, uint64_t size, unsigned repeat, cJSON *doc);

/* Find the metrics in the runs and fit each; a metric that cannot be
 * fitted keeps err and why. 0/-ENOMEM. */
int scale_fit(struct mo_scale *s);

/* The metric of that name, or NULL. */
const struct mo_scale_metric *scale_metric(const struct mo_scale *s, const char *name);

/* Metric m at sweep size `size`: *value, *n the N its fit was evaluated at
 * (the items predicted at that size when by_items), and when interval is
 * not NULL half the 95% prediction interval (fit_interval; NAN unknown). 0,
 * or -ENOENT when m has no fit. */
int scale_predict(const struct mo_scale_metric *m, double size, double *value, double *n, double *interval);

/* Is a prediction worth acting on: a fit with a trend (not unclear), a
 * value not below 0 (a decreasing fit may cross it), and a known 95%
 * interval within half the value either way. */
bool scale_reliable(const struct mo_scale_metric *m, double value, double interval);

/* peak_rss at setup.predict against setup.budget. 0, or -ENOENT with the
 * reason in err when peak_rss has no fit. */
int scale_budget(const struct mo_scale *s, struct mo_scale_budget *out, char *err, size_t errlen);

#endif

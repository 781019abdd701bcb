// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "history/gate.h"
#include "lib/units.h"

/* Does run belong to the series: label equal when label is not NULL, else
 * no label and the same command line as `current` (which has one)? */
static bool same_series(const struct mo_summary *run, const char *label, const struct mo_summary *current)
{
	if (label)
		return run->label && !strcmp(run->label, label);
	return !run->label && current->command && summary_same_command(run, current);
}

bool gate_failed(const struct mo_summary *run)
{
	return run->exit_status > 0;
}

const char *gate_failure(const struct mo_summary *run, char *buf, size_t len)
{
	/* 128+N: signal N killed it (shell style); N is at most 64 on Linux. */
	if (run->exit_status > 128 && run->exit_status <= 128 + 64)
		snprintf(buf, len, "was killed by signal %d (exit status %d)", run->exit_status - 128, run->exit_status);
	else
		snprintf(buf, len, "exited with status %d", run->exit_status);
	return buf;
}

long gate_newest(const struct mo_history *h, const char *label)
{
	for (size_t i = h->nruns; i-- > 0;) {
		const char *own = h->runs[i].sum.label;

		if (!label || (own && !strcmp(own, label)))
			return i;
	}
	return -1;
}

size_t gate_pick_baseline(const struct mo_history *h, size_t before, const struct mo_summary *current,
			  const char *label, size_t *out, size_t max)
{
	size_t n = 0;

	if (!label)
		label = current->label;
	for (size_t i = before < h->nruns ? before : h->nruns; i-- > 0 && n < max;) {
		const struct mo_summary *run = &h->runs[i].sum;

		if (same_series(run, label, current) && !summary_same_run(run, current) && !gate_failed(run))
			out[n++] = i;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int gate_median(const struct mo_summary *const *runs, size_t n, const char *metric, double *out, size_t *used)
{
	double *v = calloc(n ? n : 1, sizeof(*v));
	char err[256];
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!metrics_get(runs[i], metric, &v[k], err, sizeof(err)))
			k++;
	if (!k) {
		free(v);
		return -ENOENT;
	}
	qsort(v, k, sizeof(*v), cmp_double);
	*out = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	*used = k;
	free(v);
	return 0;
}

bool gate_within(double baseline, double current, double max_growth_pct)
{
	/* Growth is relative to the baseline's magnitude, so that a negative
	 * baseline (a phase's rss.delta) grows towards and past 0. */
	double bound = baseline + fabs(baseline) * max_growth_pct / 100;

	/* The slack only absorbs rounding: 10.1% is no exact double, and
	 * "exactly at the bound" must pass. */
	return current <= bound + fabs(bound) * 1e-12;
}

static int evaluate_one(const struct mo_summary *current, const struct mo_summary *const *baseline, size_t nbaseline,
			const struct mo_threshold *t, struct mo_gate_row *row, char *err, size_t errlen)
{
	char why[384];
	int ret;

	row->metric = t->metric;
	row->unit = metrics_unit(t->metric);
	row->bound_pct = t->max_growth_pct;
	ret = metrics_get(current, t->metric, &row->current, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "the run checked lacks a metric: %s: gate on a figure it records", why);
		return ret;
	}
	ret = gate_median(baseline, nbaseline, t->metric, &row->baseline, &row->nbaseline);
	if (ret == -ENOENT)
		snprintf(err, errlen, "%s: none of the %zu baseline runs has this figure%s: gate on another metric, "
			 "or pick a baseline that has it (--baseline)", t->metric, nbaseline,
			 strstr(t->metric, "heap") || strstr(t->metric, "alloc") ? " (heap figures need --heap)" : "");
	else if (ret)
		snprintf(err, errlen, "out of memory");
	if (ret)
		return ret;
	row->change_pct = units_change_pct(row->baseline, row->current);
	row->pass = gate_within(row->baseline, row->current, t->max_growth_pct);
	if (!metrics_who(current, t->metric, row->who, sizeof(row->who)))
		row->who[0] = 0;
	if (!nbaseline || !metrics_who(baseline[0], t->metric, row->base_who, sizeof(row->base_who)))
		row->base_who[0] = 0;
	return 0;
}

int gate_evaluate(const struct mo_summary *current, const struct mo_summary *const *baseline, size_t nbaseline,
		  const struct mo_threshold *t, size_t nt, struct mo_gate *g, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	g->rows = calloc(nt ? nt : 1, sizeof(*g->rows));
	if (!g->rows) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->pass = !gate_failed(current);
	for (size_t i = 0; i < nt; i++) {
		int ret = evaluate_one(current, baseline, nbaseline, &t[i], &g->rows[i], err, errlen);

		if (ret)
			return ret;
		g->nrows++;
		g->pass &= g->rows[i].pass;
	}
	return 0;
}

void gate_free(struct mo_gate *g)
{
	free(g->rows);
	memset(g, 0, sizeof(*g));
}

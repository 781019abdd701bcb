// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "scale/scale.h"

void scale_init(struct mo_scale *s)
{
	memset(s, 0, sizeof(*s));
	s->setup.repeat = 1;
}

void scale_free(struct mo_scale *s)
{
	for (size_t i = 0; i < s->nruns; i++) {
		cJSON_Delete(s->runs[i].doc);
		summary_free(&s->runs[i].sum);
	}
	for (size_t i = 0; i < s->nmetrics; i++)
		free(s->metrics[i].points);
	free(s->runs);
	free(s->metrics);
	free(s->setup.sizes);
	scale_init(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int parse_size(const char *tok, size_t len, uint64_t *out, char *err, size_t errlen)
{
	if (!len) {
		snprintf(err, errlen, "an empty size in the list: sizes are whole numbers separated by commas");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)tok[i])) {
			snprintf(err, errlen, "'%.*s' is not a size: sizes are whole numbers, e.g. --sizes 100,1000,5000",
				 (int)(len > 40 ? 40 : len), tok);
			return -EINVAL;
		}
	*out = len > 16 ? 0 : strtoull(tok, NULL, 10);
	if (*out == 0 || *out > SCALE_MAX_SIZE) {
		snprintf(err, errlen, "size %.*s is out of range: sizes go from 1 to %llu (the fit is on log-log axes)",
			 (int)(len > 40 ? 40 : len), tok, SCALE_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

int scale_parse_sizes(const char *list, uint64_t **sizes, size_t *n, char *err, size_t errlen)
{
	uint64_t v[SCALE_MAX_SIZES];
	size_t count = 0;
	const char *p = list;
	int ret;

	*sizes = NULL;
	*n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (count == SCALE_MAX_SIZES) {
			snprintf(err, errlen, "more than %d sizes", SCALE_MAX_SIZES);
			return -EINVAL;
		}
		ret = parse_size(p, len, &v[count], err, errlen);
		if (ret)
			return ret;
		for (size_t i = 0; i < count; i++)
			if (v[i] == v[count]) {
				snprintf(err, errlen, "size %llu is given twice: --repeat runs each size several times",
					 (unsigned long long)v[i]);
				return -EINVAL;
			}
		count++;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (count < FIT_MIN_SIZES) {
		snprintf(err, errlen, "%zu size%s: fitting a + b*N^k needs at least %d distinct sizes", count,
			 count == 1 ? "" : "s", FIT_MIN_SIZES);
		return -EINVAL;
	}
	qsort(v, count, sizeof(v[0]), cmp_u64);
	*sizes = malloc(count * sizeof(**sizes));
	if (!*sizes) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(*sizes, v, count * sizeof(**sizes));
	*n = count;
	return 0;
}

int scale_add_run(struct mo_scale *s, uint64_t size, unsigned repeat, cJSON *doc)
{
	struct mo_scale_run *r;

	if (GROW(s->runs, s->nruns + 1, s->runs_alloc) || summary_from_json(doc, &s->runs[s->nruns].sum)) {
		cJSON_Delete(doc);
		return -ENOMEM;
	}
	r = s->runs;
	r[s->nruns].size = size;
	r[s->nruns].repeat = repeat;
	r[s->nruns++].doc = doc;
	return 0;
}

/* A spread of values at most this is noise whatever its relative size. */
static double noise_floor(enum mo_unit unit)
{
	switch (unit) {
	case MO_UNIT_BYTES:
		return SCALE_NOISE_BYTES;
	case MO_UNIT_SECONDS:
		return SCALE_NOISE_SECONDS;
	case MO_UNIT_COUNT:
		break;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Items the run counted for a metric: its phase's, or the root's (items
 * fired outside any named phase) for the totals. */
static double run_items(const struct mo_summary *run, const char *phase)
{
	double v = 0;

	if (phase)
		return metrics_phase(run, phase, MO_PHASE_ITEMS, &v) ? 0 : v;
	return run->nphases && !isnan(run->phases[0].fig[MO_PHASE_ITEMS]) ? run->phases[0].fig[MO_PHASE_ITEMS] : 0;
}

static size_t distinct(const double *v, size_t n)
{
	size_t d = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && v[j] != v[i])
			j++;
		d += j == i;
	}
	return d;
}

/* Medians per size, items (when every run counted some) in items[]. */
static int collect_points(const struct mo_scale *s, struct mo_scale_metric *m, const char *phase, double *items,
			  bool *have_items)
{
	double *vals = malloc(s->nruns * sizeof(*vals)), *its = malloc(s->nruns * sizeof(*its));
	char err[256];

	m->points = calloc(s->setup.nsizes, sizeof(*m->points));
	if (!vals || !its || !m->points) {
		free(vals);
		free(its);
		return -ENOMEM;
	}
	*have_items = true;
	for (size_t i = 0; i < s->setup.nsizes; i++) {
		uint64_t size = s->setup.sizes[i];
		size_t nv = 0;

		for (size_t r = 0; r < s->nruns; r++) {
			if (s->runs[r].size != size || metrics_get(&s->runs[r].sum, m->name, &vals[nv], err, sizeof(err)))
				continue;
			its[nv] = run_items(&s->runs[r].sum, phase);
			*have_items &= its[nv] > 0;
			nv++;
		}
		if (!nv)
			continue;
		items[m->npoints] = median(its, nv);
		m->points[m->npoints++] = (struct mo_scale_point){ size, (double)size, median(vals, nv) };
	}
	free(vals);
	free(its);
	return 0;
}

static void fit_metric(struct mo_scale_metric *m, const double *items, bool have_items)
{
	double n[SCALE_MAX_SIZES], y[SCALE_MAX_SIZES];

	m->by_items = have_items && distinct(items, m->npoints) >= FIT_MIN_SIZES;
	for (size_t i = 0; i < m->npoints; i++) {
		n[i] = (double)m->points[i].size;
		if (m->by_items)
			m->points[i].n = items[i];
		y[i] = m->points[i].value;
	}
	/* The items a size gives, for predictions asked in sweep sizes. */
	if (m->by_items && fit_power(n, items, m->npoints, 0, &m->items_fit, m->why, sizeof(m->why))) {
		m->err = -EINVAL;
		return;
	}
	for (size_t i = 0; i < m->npoints; i++)
		n[i] = m->points[i].n;
	m->err = fit_power(n, y, m->npoints, noise_floor(m->unit), &m->fit, m->why, sizeof(m->why));
}

/* Add metric `name` when at least one run has it, and fit it. */
static int add_metric(struct mo_scale *s, const char *name, const char *phase)
{
	double items[SCALE_MAX_SIZES], v;
	struct mo_scale_metric *m;
	bool have_items, any = false;
	char err[256];
	int ret;

	for (size_t r = 0; r < s->nruns && !any; r++)
		any = !metrics_get(&s->runs[r].sum, name, &v, err, sizeof(err));
	if (!any)
		return 0;
	if (GROW(s->metrics, s->nmetrics + 1, s->metrics_alloc))
		return -ENOMEM;
	m = &s->metrics[s->nmetrics++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->unit = metrics_unit(name);
	ret = collect_points(s, m, phase, items, &have_items);
	if (ret)
		return ret;
	fit_metric(m, items, have_items);
	return 0;
}

static int add_phase_metrics(struct mo_scale *s, const char *phase)
{
	static const char *const fields[] = { "rss.peak_over_baseline", "heap.peak_over_baseline", "heap.alloc_bytes" };
	char name[METRICS_NAME_MAX];

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		int ret;

		snprintf(name, sizeof(name), "phase.%s.%s", phase, fields[f]);
		ret = add_metric(s, name, phase);
		if (ret)
			return ret;
	}
	return 0;
}

int scale_fit(struct mo_scale *s)
{
	static const char *const totals[] = { "peak_rss", "peak_heap", "alloc_bytes", "duration" };
	int ret;

	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
		ret = add_metric(s, totals[i], NULL);
		if (ret)
			return ret;
	}
	/* Phases in the order they first appear; [0] is the root, the totals.
	 * A phase is done once its first metric (always present) is. */
	for (size_t r = 0; r < s->nruns; r++) {
		const struct mo_summary *run = &s->runs[r].sum;

		for (size_t i = 1; i < run->nphases; i++) {
			const char *name = run->phases[i].name;
			char first[METRICS_NAME_MAX];

			if (!strcmp(name, run->phases[0].name))
				continue;
			snprintf(first, sizeof(first), "phase.%s.rss.peak_over_baseline", name);
			if (scale_metric(s, first))
				continue;
			ret = add_phase_metrics(s, name);
			if (ret)
				return ret;
		}
	}
	return 0;
}

const struct mo_scale_metric *scale_metric(const struct mo_scale *s, const char *name)
{
	for (size_t i = 0; i < s->nmetrics; i++)
		if (!strcmp(s->metrics[i].name, name))
			return &s->metrics[i];
	return NULL;
}

int scale_predict(const struct mo_scale_metric *m, double size, double *value, double *n, double *interval)
{
	if (m->err)
		return -ENOENT;
	*n = m->by_items ? fit_eval(&m->items_fit, size) : size;
	*value = fit_eval(&m->fit, *n);
	if (interval)
		*interval = fit_interval(&m->fit, *n);
	return 0;
}

bool scale_reliable(const struct mo_scale_metric *m, double value, double interval)
{
	return m->fit.shape != MO_FIT_UNCLEAR && value >= 0 && isfinite(interval) && interval <= 0.5 * value;
}

int scale_budget(const struct mo_scale *s, struct mo_scale_budget *out, char *err, size_t errlen)
{
	const struct mo_scale_metric *m = scale_metric(s, "peak_rss");
	double n;

	if (!m || scale_predict(m, (double)s->setup.predict, &out->predicted, &n, &out->interval)) {
		snprintf(err, errlen, "no budget answer: peak_rss has no fit%s%s", m ? ": " : "", m ? m->why : "");
		return -ENOENT;
	}
	out->margin = (double)s->setup.budget - out->predicted;
	out->fits = out->margin >= 0;
	out->fits_upper = isfinite(out->interval) && out->margin >= out->interval;
	return 0;
}

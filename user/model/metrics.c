// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/metrics.h"

#define PHASE_PREFIX "phase."
#define NAMES_HELP "peak_rss, peak_heap, alloc_bytes, alloc_count, duration, or phase.NAME.FIELD " \
	"(FIELD: duration_s, items, rss.{baseline,peak,end,delta,peak_over_baseline}, " \
	"heap.{baseline_live,peak_live,end_live,peak_over_baseline,alloc_bytes,alloc_count,free_bytes,free_count})"

static int find_total(const char *name)
{
	for (size_t i = 0; i < MO_TOTALS; i++)
		if (!strcmp(name, summary_totals[i].name))
			return i;
	return -1;
}

/* For "phase.NAME.FIELD": the field's index, and NAME's length (it starts
 * after the prefix). -1 when the metric is no phase metric. */
static int split_phase(const char *metric, size_t *name_len)
{
	size_t len;

	if (strncmp(metric, PHASE_PREFIX, strlen(PHASE_PREFIX)))
		return -1;
	metric += strlen(PHASE_PREFIX);
	len = strlen(metric);
	for (size_t i = 0; i < MO_PHASE_FIGS; i++) {
		size_t flen = strlen(summary_phase_figs[i].name);

		if (len >= flen + 2 && metric[len - flen - 1] == '.' &&
		    !strcmp(metric + len - flen, summary_phase_figs[i].name)) {
			*name_len = len - flen - 1;
			return i;
		}
	}
	return -1;
}

int metrics_check_name(const char *name, char *err, size_t errlen)
{
	size_t name_len;

	if (find_total(name) >= 0 || split_phase(name, &name_len) >= 0)
		return 0;
	if (!strncmp(name, PHASE_PREFIX, strlen(PHASE_PREFIX)))
		snprintf(err, errlen, "'%s' is not a phase metric: write phase.NAME.FIELD, "
			 "FIELD one of duration_s, items, rss.{baseline,peak,end,delta,peak_over_baseline}, "
			 "heap.{baseline_live,peak_live,end_live,peak_over_baseline,alloc_bytes,alloc_count,free_bytes,"
			 "free_count}",
			 name);
	else
		snprintf(err, errlen, "unknown metric '%s': use " NAMES_HELP, name);
	return -EINVAL;
}

enum mo_unit metrics_unit(const char *name)
{
	int total = find_total(name), fig;
	size_t name_len;

	if (total >= 0)
		return summary_totals[total].unit;
	fig = split_phase(name, &name_len);
	return fig >= 0 ? summary_phase_figs[fig].unit : MO_UNIT_COUNT;
}

/* A run recorded without --heap has heap figures of 0 that mean "not
 * measured": they are absent, not a baseline to gate against. */
static bool unmeasured(const struct mo_summary *run, const struct mo_summary_field *f)
{
	return f->heap && !run->heap_traced;
}

int metrics_phase(const struct mo_summary *run, const char *phase, enum mo_phase_fig fig, double *out)
{
	const struct mo_summary_phase *p = summary_phase(run, phase);

	if (!p || isnan(p->fig[fig]) || unmeasured(run, &summary_phase_figs[fig]))
		return -ENOENT;
	*out = p->fig[fig];
	return 0;
}

static int get_phase_metric(const struct mo_summary *run, const char *metric, int fig, size_t name_len,
			    double *out, char *err, size_t errlen)
{
	const struct mo_summary_field *f = &summary_phase_figs[fig];
	char name[METRICS_NAME_MAX];

	if (name_len >= sizeof(name)) {
		snprintf(err, errlen, "metric '%.40s...' is too long", metric);
		return -EINVAL;
	}
	memcpy(name, metric + strlen(PHASE_PREFIX), name_len);
	name[name_len] = 0;
	if (!summary_phase(run, name)) {
		snprintf(err, errlen, "%s: the run has no phase '%s'%s", metric, name,
			 run->phases_left_out ? " among the phase names its summary keeps" : "");
		return -ENOENT;
	}
	if (metrics_phase(run, name, fig, out)) {
		snprintf(err, errlen, "%s: phase '%s' of the run has no %s figure%s", metric, name, f->name,
			 unmeasured(run, f) ? " (it was recorded without --heap)" : "");
		return -ENOENT;
	}
	return 0;
}

int metrics_get(const struct mo_summary *run, const char *name, double *out, char *err, size_t errlen)
{
	int total = find_total(name), fig;
	size_t name_len;

	if (total >= 0) {
		const struct mo_summary_field *f = &summary_totals[total];

		if (unmeasured(run, f)) {
			snprintf(err, errlen, "%s: the run was recorded without --heap", name);
			return -ENOENT;
		}
		if (isnan(run->total[total])) {
			snprintf(err, errlen, "%s: the run has no %s figure%s", name, f->path,
				 f->heap ? " (was it recorded without --heap?)" : "");
			return -ENOENT;
		}
		*out = run->total[total];
		return 0;
	}
	fig = split_phase(name, &name_len);
	if (fig >= 0)
		return get_phase_metric(run, name, fig, name_len, out, err, errlen);
	return metrics_check_name(name, err, errlen);
}

/* A percentage: digits with at most one dot, then an optional '%'. */
static int parse_pct(const char *s, double *out)
{
	const char *p = s;
	bool dot = false, digit = false;

	for (; isdigit((unsigned char)*p) || (*p == '.' && !dot); p++) {
		dot |= *p == '.';
		digit |= *p != '.';
	}
	if (!digit || (*p && strcmp(p, "%")))
		return -EINVAL;
	*out = strtod(s, NULL);
	/* 400 digits overflow to +inf: a bound that never fails, so refused. */
	return isfinite(*out) ? 0 : -ERANGE;
}

int metrics_parse_threshold(const char *arg, struct mo_threshold *t, char *err, size_t errlen)
{
	const char *eq = strrchr(arg, '=');
	size_t mlen = eq ? (size_t)(eq - arg) : 0;
	char why[512];

	if (!eq || !mlen) {
		snprintf(err, errlen, "'%s': expected METRIC=PCT, e.g. peak_rss=10%%", arg);
		return -EINVAL;
	}
	if (mlen >= sizeof(t->metric)) {
		snprintf(err, errlen, "'%.40s...': metric name too long", arg);
		return -EINVAL;
	}
	memcpy(t->metric, arg, mlen);
	t->metric[mlen] = 0;
	if (metrics_check_name(t->metric, why, sizeof(why))) {
		snprintf(err, errlen, "'%s': %s", arg, why);
		return -EINVAL;
	}
	if (!eq[1]) {
		snprintf(err, errlen, "'%s': missing the allowed growth after '=', e.g. %s=10%%", arg, t->metric);
		return -EINVAL;
	}
	if (eq[1] == '-') {
		snprintf(err, errlen, "'%s': the allowed growth cannot be negative (0%% allows no growth)", arg);
		return -EINVAL;
	}
	if (parse_pct(eq + 1, &t->max_growth_pct)) {
		snprintf(err, errlen, "'%s': '%s' is not a percentage (e.g. 10%%, 10 or 0.5%%)", arg, eq + 1);
		return -EINVAL;
	}
	return 0;
}

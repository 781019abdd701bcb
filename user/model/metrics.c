// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "model/metrics.h"

const struct mo_metric_total metrics_totals[METRICS_NTOTALS] = {
	{ "peak_rss", "totals.rss.peak", MO_UNIT_BYTES },
	{ "peak_heap", "totals.heap.peak_live", MO_UNIT_BYTES },
	{ "alloc_bytes", "totals.heap.alloc_bytes", MO_UNIT_BYTES },
	{ "alloc_count", "totals.heap.alloc_count", MO_UNIT_COUNT },
	{ "duration", "duration_s", MO_UNIT_SECONDS },
};

const struct mo_phase_field metrics_phase_fields[METRICS_NPHASE_FIELDS] = {
	{ "duration_s", MO_UNIT_SECONDS, MO_METRIC_AGG_SUM },
	{ "items", MO_UNIT_COUNT, MO_METRIC_AGG_SUM },
	{ "rss.baseline", MO_UNIT_BYTES, MO_METRIC_AGG_FIRST },
	{ "rss.peak", MO_UNIT_BYTES, MO_METRIC_AGG_MAX },
	{ "rss.end", MO_UNIT_BYTES, MO_METRIC_AGG_LAST },
	{ "rss.delta", MO_UNIT_BYTES, MO_METRIC_AGG_SUM },
	{ "rss.peak_over_baseline", MO_UNIT_BYTES, MO_METRIC_AGG_MAX },
	{ "heap.baseline_live", MO_UNIT_BYTES, MO_METRIC_AGG_FIRST },
	{ "heap.peak_live", MO_UNIT_BYTES, MO_METRIC_AGG_MAX },
	{ "heap.end_live", MO_UNIT_BYTES, MO_METRIC_AGG_LAST },
	{ "heap.peak_over_baseline", MO_UNIT_BYTES, MO_METRIC_AGG_MAX },
	{ "heap.alloc_bytes", MO_UNIT_BYTES, MO_METRIC_AGG_SUM },
	{ "heap.alloc_count", MO_UNIT_COUNT, MO_METRIC_AGG_SUM },
	{ "heap.free_bytes", MO_UNIT_BYTES, MO_METRIC_AGG_SUM },
	{ "heap.free_count", MO_UNIT_COUNT, MO_METRIC_AGG_SUM },
};

#define PHASE_PREFIX "phase."
#define NAMES_HELP "peak_rss, peak_heap, alloc_bytes, alloc_count, duration, or phase.NAME.FIELD " \
	"(FIELD: duration_s, items, rss.{baseline,peak,end,delta,peak_over_baseline}, " \
	"heap.{baseline_live,peak_live,end_live,peak_over_baseline,alloc_bytes,alloc_count,free_bytes,free_count})"

const struct mo_phase_field *metrics_phase_field(const char *path)
{
	for (size_t i = 0; i < METRICS_NPHASE_FIELDS; i++)
		if (!strcmp(metrics_phase_fields[i].path, path))
			return &metrics_phase_fields[i];
	return NULL;
}

static const struct mo_metric_total *find_total(const char *name)
{
	for (size_t i = 0; i < METRICS_NTOTALS; i++)
		if (!strcmp(name, metrics_totals[i].name))
			return &metrics_totals[i];
	return NULL;
}

/* For "phase.NAME.FIELD": the field, and NAME's length (it starts after
 * the prefix). NULL when the metric is no phase metric. */
static const struct mo_phase_field *split_phase(const char *metric, size_t *name_len)
{
	size_t len;

	if (strncmp(metric, PHASE_PREFIX, strlen(PHASE_PREFIX)))
		return NULL;
	metric += strlen(PHASE_PREFIX);
	len = strlen(metric);
	for (size_t i = 0; i < METRICS_NPHASE_FIELDS; i++) {
		size_t flen = strlen(metrics_phase_fields[i].path);

		if (len >= flen + 2 && metric[len - flen - 1] == '.' &&
		    !strcmp(metric + len - flen, metrics_phase_fields[i].path)) {
			*name_len = len - flen - 1;
			return &metrics_phase_fields[i];
		}
	}
	return NULL;
}

int metrics_check_name(const char *name, char *err, size_t errlen)
{
	size_t name_len;

	if (find_total(name) || split_phase(name, &name_len))
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
	const struct mo_metric_total *total = find_total(name);
	const struct mo_phase_field *field;
	size_t name_len;

	if (total)
		return total->unit;
	field = split_phase(name, &name_len);
	return field ? field->unit : MO_UNIT_COUNT;
}

/* A run recorded without --heap has heap figures of 0 that mean "not
 * measured": they are absent, not a baseline to gate against. */
static bool heap_unmeasured(const cJSON *run, const char *path)
{
	return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(run, "heap_traced")) && strstr(path, "heap");
}

static bool phase_named(const cJSON *phase, const char *name)
{
	const char *s = json_string(phase, "name", NULL);

	return s && !strcmp(s, name);
}

int metrics_phase(const cJSON *run, const char *phase, const struct mo_phase_field *field, double *out)
{
	const cJSON *p;
	bool found = false;
	double acc = 0;

	if (heap_unmeasured(run, field->path))
		return -ENOENT;
	cJSON_ArrayForEach(p, json_path(run, "phases")) {
		const cJSON *v;

		if (!phase_named(p, phase))
			continue;
		v = json_path(p, field->path);
		if (!cJSON_IsNumber(v))
			continue;
		if (!found)
			acc = v->valuedouble;
		else if (field->agg == MO_METRIC_AGG_MAX && v->valuedouble > acc)
			acc = v->valuedouble;
		else if (field->agg == MO_METRIC_AGG_SUM)
			acc += v->valuedouble;
		else if (field->agg == MO_METRIC_AGG_LAST)
			acc = v->valuedouble;
		found = true;
	}
	if (!found)
		return -ENOENT;
	*out = acc;
	return 0;
}

static bool has_phase(const cJSON *run, const char *name)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, json_path(run, "phases"))
		if (phase_named(p, name))
			return true;
	return false;
}

static int get_phase_metric(const cJSON *run, const char *metric, const struct mo_phase_field *field,
			    size_t name_len, double *out, char *err, size_t errlen)
{
	char name[METRICS_NAME_MAX];

	if (name_len >= sizeof(name)) {
		snprintf(err, errlen, "metric '%.40s...' is too long", metric);
		return -EINVAL;
	}
	memcpy(name, metric + strlen(PHASE_PREFIX), name_len);
	name[name_len] = 0;
	if (!has_phase(run, name)) {
		snprintf(err, errlen, "%s: the run has no phase '%s'", metric, name);
		return -ENOENT;
	}
	if (metrics_phase(run, name, field, out)) {
		snprintf(err, errlen, "%s: phase '%s' of the run has no %s figure%s", metric, name, field->path,
			 heap_unmeasured(run, field->path) ? " (it was recorded without --heap)" : "");
		return -ENOENT;
	}
	return 0;
}

int metrics_get(const cJSON *run, const char *name, double *out, char *err, size_t errlen)
{
	const struct mo_metric_total *total = find_total(name);
	const struct mo_phase_field *field;
	const cJSON *v;
	size_t name_len;

	if (total) {
		v = json_path(run, total->path);
		if (heap_unmeasured(run, total->path)) {
			snprintf(err, errlen, "%s: the run was recorded without --heap", name);
			return -ENOENT;
		}
		if (!cJSON_IsNumber(v)) {
			snprintf(err, errlen, "%s: the run has no %s figure%s", name, total->path,
				 strstr(total->path, "heap") ? " (was it recorded without --heap?)" : "");
			return -ENOENT;
		}
		*out = v->valuedouble;
		return 0;
	}
	field = split_phase(name, &name_len);
	if (field)
		return get_phase_metric(run, name, field, name_len, out, err, errlen);
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

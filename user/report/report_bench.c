// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "model/metrics.h"
#include "report/report_bench.h"

#define ROOT_PHASE "main"

/* What each format exports, and under which name. */
static const struct {
	const char *metric;	/* a total */
	const char *measure;	/* Bencher's name for it */
} totals[] = {
	{ "peak_rss", "peak-rss" },
	{ "peak_heap", "peak-heap" },
	{ "alloc_bytes", "alloc-bytes" },
	{ "duration", "duration" },
};

static const struct {
	enum mo_phase_fig fig;
	const char *measure;
	bool in_gh;		/* github-action-benchmark gets the peaks only */
} phase_figures[] = {
	{ MO_PHASE_RSS_PEAK, "peak-rss", true },
	{ MO_PHASE_HEAP_PEAK, "peak-heap", true },
	{ MO_PHASE_DURATION, "duration", false },
};

static int gh_add(cJSON *arr, const char *name, enum mo_unit unit, double v)
{
	cJSON *o = cJSON_CreateObject();
	bool size = unit == MO_UNIT_BYTES;

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if (!json_add_str(o, "name", name) || !json_add_str(o, "unit", size ? "MiB" : unit == MO_UNIT_SECONDS ? "s" : "") ||
	    !json_add_num(o, "value", size ? v / (1 << 20) : v, size ? 4 : 3))
		return -ENOMEM;
	return 0;
}

static int gh_phases(const struct mo_summary *run, cJSON *arr)
{
	char metric[METRICS_NAME_MAX + 64];

	for (size_t k = 0; k < run->nphases; k++) {
		const char *name = run->phases[k].name;

		if (!strcmp(name, ROOT_PHASE))
			continue;
		for (size_t i = 0; i < sizeof(phase_figures) / sizeof(phase_figures[0]); i++) {
			const struct mo_summary_field *f = &summary_phase_figs[phase_figures[i].fig];
			double v;

			if (!phase_figures[i].in_gh || metrics_phase(run, name, phase_figures[i].fig, &v))
				continue;
			snprintf(metric, sizeof(metric), "phase.%s.%s", name, f->name);
			if (gh_add(arr, metric, f->unit, v))
				return -ENOMEM;
		}
	}
	return 0;
}

int report_bench_gh(const struct mo_summary *run, char **out)
{
	cJSON *arr = cJSON_CreateArray();
	char err[256];
	int ret = arr ? 0 : -ENOMEM;

	for (size_t i = 0; !ret && i < sizeof(totals) / sizeof(totals[0]); i++) {
		double v;

		if (!metrics_get(run, totals[i].metric, &v, err, sizeof(err)))
			ret = gh_add(arr, totals[i].metric, metrics_unit(totals[i].metric), v);
	}
	if (!ret)
		ret = gh_phases(run, arr);
	*out = ret ? NULL : cJSON_Print(arr);
	cJSON_Delete(arr);
	return ret ? ret : *out ? 0 : -ENOMEM;
}

static int bencher_add(cJSON *bench, const char *measure, enum mo_unit unit, double v)
{
	cJSON *m = cJSON_AddObjectToObject(bench, measure);

	if (!m)
		return -ENOMEM;
	/* Sizes and counts exact: cJSON would print a large double in exponent form. */
	if (unit == MO_UNIT_SECONDS)
		return json_add_num(m, "value", v, 6) ? 0 : -ENOMEM;
	return json_add_int(m, "value", (int64_t)v) ? 0 : -ENOMEM;
}

/* The benchmark's name: the label, else the command line. Caller frees. */
static char *bench_name(const struct mo_summary *run)
{
	size_t len = 1;
	char *s;

	if (run->label)
		return strdup(run->label);
	for (char **arg = run->command; arg && *arg; arg++)
		len += strlen(*arg) + 1;
	if (len == 1)
		return strdup("memobs");
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (char **arg = run->command; *arg; arg++) {
		if (*s)
			strcat(s, " ");
		strcat(s, *arg);
	}
	return s;
}

static int bencher_phases(const struct mo_summary *run, const char *bench, cJSON *root)
{
	for (size_t k = 0; k < run->nphases; k++) {
		const char *name = run->phases[k].name;
		size_t len;
		cJSON *obj;
		char *key;

		if (!strcmp(name, ROOT_PHASE))
			continue;
		len = strlen(bench) + strlen("/phase/") + strlen(name) + 1;
		key = malloc(len);
		if (!key)
			return -ENOMEM;
		snprintf(key, len, "%s/phase/%s", bench, name);
		obj = cJSON_AddObjectToObject(root, key);
		free(key);
		if (!obj)
			return -ENOMEM;
		for (size_t i = 0; i < sizeof(phase_figures) / sizeof(phase_figures[0]); i++) {
			enum mo_phase_fig fig = phase_figures[i].fig;
			double v;

			if (!metrics_phase(run, name, fig, &v) &&
			    bencher_add(obj, phase_figures[i].measure, summary_phase_figs[fig].unit, v))
				return -ENOMEM;
		}
	}
	return 0;
}

int report_bench_bencher(const struct mo_summary *run, char **out)
{
	cJSON *root = cJSON_CreateObject(), *bench;
	char *name = bench_name(run), err[256];
	int ret = root && name ? 0 : -ENOMEM;

	bench = ret ? NULL : cJSON_AddObjectToObject(root, name);
	if (!ret && !bench)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < sizeof(totals) / sizeof(totals[0]); i++) {
		double v;

		if (!metrics_get(run, totals[i].metric, &v, err, sizeof(err)))
			ret = bencher_add(bench, totals[i].measure, metrics_unit(totals[i].metric), v);
	}
	if (!ret)
		ret = bencher_phases(run, name, root);
	*out = ret ? NULL : cJSON_Print(root);
	cJSON_Delete(root);
	free(name);
	return ret ? ret : *out ? 0 : -ENOMEM;
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "history/history.h"
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
	const char *field;	/* a metrics_phase_fields path */
	const char *measure;
	bool in_gh;		/* github-action-benchmark gets the peaks only */
} phase_figures[] = {
	{ "rss.peak", "peak-rss", true },
	{ "heap.peak_live", "peak-heap", true },
	{ "duration_s", "duration", false },
};

/* Is phases[index] the first entry with its name (a phase with several
 * windows is exported once), and not the root? */
static bool first_of_name(const cJSON *phases, const cJSON *phase, const char **name)
{
	const cJSON *p;

	*name = json_string(phase, "name", NULL);
	if (!*name || !strcmp(*name, ROOT_PHASE))
		return false;
	cJSON_ArrayForEach(p, phases) {
		if (p == phase)
			return true;
		if (!strcmp(json_string(p, "name", ""), *name))
			return false;
	}
	return false;
}

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

static int gh_phases(const cJSON *run, cJSON *arr)
{
	const cJSON *phases = json_path(run, "phases"), *p;
	char metric[METRICS_NAME_MAX + 64];

	cJSON_ArrayForEach(p, phases) {
		const char *name;

		if (!first_of_name(phases, p, &name))
			continue;
		for (size_t i = 0; i < sizeof(phase_figures) / sizeof(phase_figures[0]); i++) {
			const struct mo_phase_field *f = metrics_phase_field(phase_figures[i].field);
			double v;

			if (!phase_figures[i].in_gh || metrics_phase(run, name, f, &v))
				continue;
			snprintf(metric, sizeof(metric), "phase.%s.%s", name, f->path);
			if (gh_add(arr, metric, f->unit, v))
				return -ENOMEM;
		}
	}
	return 0;
}

int report_bench_gh(const cJSON *run, char **out)
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
static char *bench_name(const cJSON *run)
{
	const char *label = history_label(run);
	const cJSON *arg;
	size_t len = 1;
	char *s;

	if (label)
		return strdup(label);
	cJSON_ArrayForEach(arg, json_path(run, "command"))
		if (cJSON_IsString(arg))
			len += strlen(arg->valuestring) + 1;
	if (len == 1)
		return strdup("memobs");
	s = calloc(1, len);
	if (!s)
		return NULL;
	cJSON_ArrayForEach(arg, json_path(run, "command")) {
		if (!cJSON_IsString(arg))
			continue;
		if (*s)
			strcat(s, " ");
		strcat(s, arg->valuestring);
	}
	return s;
}

static int bencher_phases(const cJSON *run, const char *bench, cJSON *root)
{
	const cJSON *phases = json_path(run, "phases"), *p;

	cJSON_ArrayForEach(p, phases) {
		size_t len;
		const char *name;
		cJSON *obj;
		char *key;

		if (!first_of_name(phases, p, &name))
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
			const struct mo_phase_field *f = metrics_phase_field(phase_figures[i].field);
			double v;

			if (!metrics_phase(run, name, f, &v) && bencher_add(obj, phase_figures[i].measure, f->unit, v))
				return -ENOMEM;
		}
	}
	return 0;
}

int report_bench_bencher(const cJSON *run, char **out)
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

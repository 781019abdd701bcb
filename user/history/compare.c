// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "history/compare.h"
#include "lib/json_util.h"
#include "model/metrics.h"

/* The phase fields a comparison shows, in this order. */
static const char *const fields[] = {
	"duration_s", "items", "rss.peak", "rss.peak_over_baseline", "heap.peak_live", "heap.alloc_bytes",
};

static bool shown(const struct mo_compare_row *row)
{
	return (row->has_a && row->a != 0) || (row->has_b && row->b != 0);
}

static int compare_totals(const cJSON *a, const cJSON *b, struct mo_compare *c)
{
	char err[256];

	c->totals = calloc(METRICS_NTOTALS, sizeof(*c->totals));
	if (!c->totals)
		return -ENOMEM;
	for (size_t i = 0; i < METRICS_NTOTALS; i++) {
		struct mo_compare_row *row = &c->totals[c->ntotals];

		row->metric = metrics_totals[i].name;
		row->unit = metrics_totals[i].unit;
		row->has_a = !metrics_get(a, row->metric, &row->a, err, sizeof(err));
		row->has_b = !metrics_get(b, row->metric, &row->b, err, sizeof(err));
		if (shown(row))
			c->ntotals++;
	}
	return 0;
}

static bool has_phase(const struct mo_compare *c, const char *name)
{
	for (size_t i = 0; i < c->nphases; i++)
		if (!strcmp(c->phases[i].name, name))
			return true;
	return false;
}

static int compare_phase(const cJSON *a, const cJSON *b, const char *name, struct mo_compare_phase *p)
{
	p->name = strdup(name);
	p->rows = calloc(sizeof(fields) / sizeof(fields[0]), sizeof(*p->rows));
	if (!p->name || !p->rows)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct mo_phase_field *f = metrics_phase_field(fields[i]);
		struct mo_compare_row *row = &p->rows[p->nrows];

		row->metric = f->path;
		row->unit = f->unit;
		row->has_a = !metrics_phase(a, name, f, &row->a);
		row->has_b = !metrics_phase(b, name, f, &row->b);
		if (shown(row))
			p->nrows++;
	}
	return 0;
}

static bool run_has_phase(const cJSON *run, const char *name)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, json_path(run, "phases")) {
		const char *s = json_string(p, "name", NULL);

		if (s && !strcmp(s, name))
			return true;
	}
	return false;
}

/* Add the phases of `from` that are not in c yet. */
static int add_phases(const cJSON *from, const cJSON *a, const cJSON *b, struct mo_compare *c)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, json_path(from, "phases")) {
		const char *name = json_string(p, "name", NULL);
		struct mo_compare_phase *grown;
		int ret;

		if (!name || has_phase(c, name))
			continue;
		grown = realloc(c->phases, (c->nphases + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->phases = grown;
		memset(&grown[c->nphases], 0, sizeof(*grown));
		grown[c->nphases].in_a = run_has_phase(a, name);
		grown[c->nphases].in_b = run_has_phase(b, name);
		ret = compare_phase(a, b, name, &grown[c->nphases++]);
		if (ret)
			return ret;
	}
	return 0;
}

int compare_runs(const cJSON *a, const cJSON *b, struct mo_compare *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = compare_totals(a, b, c);
	if (!ret)
		ret = add_phases(a, a, b, c);
	if (!ret)
		ret = add_phases(b, a, b, c);
	return ret;
}

void compare_free(struct mo_compare *c)
{
	for (size_t i = 0; i < c->nphases; i++) {
		free(c->phases[i].name);
		free(c->phases[i].rows);
	}
	free(c->phases);
	free(c->totals);
	memset(c, 0, sizeof(*c));
}

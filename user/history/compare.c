// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "history/compare.h"
#include "model/metrics.h"

/* The phase figures a comparison shows, in this order. */
static const enum mo_phase_fig fields[] = {
	MO_PHASE_DURATION, MO_PHASE_ITEMS, MO_PHASE_RSS_PEAK, MO_PHASE_RSS_PEAK_OVER_BASELINE, MO_PHASE_HEAP_PEAK,
	MO_PHASE_ALLOC_BYTES,
};

static bool shown(const struct mo_compare_row *row)
{
	return (row->has_a && row->a != 0) || (row->has_b && row->b != 0);
}

static int compare_totals(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c)
{
	char err[256];

	c->totals = calloc(MO_TOTALS, sizeof(*c->totals));
	if (!c->totals)
		return -ENOMEM;
	for (size_t i = 0; i < MO_TOTALS; i++) {
		struct mo_compare_row *row = &c->totals[c->ntotals];

		row->metric = summary_totals[i].name;
		row->unit = summary_totals[i].unit;
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

static int compare_phase(const struct mo_summary *a, const struct mo_summary *b, const char *name,
			 struct mo_compare_phase *p)
{
	p->name = strdup(name);
	p->rows = calloc(sizeof(fields) / sizeof(fields[0]), sizeof(*p->rows));
	if (!p->name || !p->rows)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct mo_summary_field *f = &summary_phase_figs[fields[i]];
		struct mo_compare_row *row = &p->rows[p->nrows];

		row->metric = f->name;
		row->unit = f->unit;
		row->has_a = !metrics_phase(a, name, fields[i], &row->a);
		row->has_b = !metrics_phase(b, name, fields[i], &row->b);
		if (shown(row))
			p->nrows++;
	}
	return 0;
}

/* Add the phases of `from` that are not in c yet. */
static int add_phases(const struct mo_summary *from, const struct mo_summary *a, const struct mo_summary *b,
		      struct mo_compare *c)
{
	for (size_t k = 0; k < from->nphases; k++) {
		const char *name = from->phases[k].name;
		struct mo_compare_phase *p;
		int ret;

		if (has_phase(c, name))
			continue;
		if (GROW(c->phases, c->nphases + 1, c->phases_alloc))
			return -ENOMEM;
		p = memset(&c->phases[c->nphases++], 0, sizeof(*p));
		p->in_a = summary_phase(a, name) != NULL;
		p->in_b = summary_phase(b, name) != NULL;
		ret = compare_phase(a, b, name, p);
		if (ret)
			return ret;
	}
	return 0;
}

int compare_runs(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c)
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

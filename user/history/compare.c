// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
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

/* The totals, then the largest processes. */
static const char *const total_rows[] = {
	"peak_rss", "peak_physical", "peak_heap", "alloc_bytes", "alloc_count", "duration", "max_process.peak_rss",
	"max_process.peak_heap",
};

static int compare_totals(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c)
{
	const size_t n = sizeof(total_rows) / sizeof(total_rows[0]);
	char err[256];

	c->totals = calloc(n, sizeof(*c->totals));
	if (!c->totals)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct mo_compare_row *row = &c->totals[c->ntotals];

		row->metric = total_rows[i];
		row->unit = metrics_unit(row->metric);
		row->has_a = !metrics_get(a, row->metric, &row->a, err, sizeof(err));
		row->has_b = !metrics_get(b, row->metric, &row->b, err, sizeof(err));
		if (shown(row))
			c->ntotals++;
	}
	return 0;
}

/* How much a row changed, for ordering: relative, and a figure appearing
 * or vanishing counts as a full change. */
static double change_of(const struct mo_compare_row *r)
{
	if (!r->has_a || !r->has_b)
		return 1;
	if (!r->a)
		return r->b ? 1 : 0;
	return fabs(r->b - r->a) / fabs(r->a);
}

static int by_change(const void *x, const void *y)
{
	double a = change_of(x), b = change_of(y);

	return (a < b) - (a > b);
}

static bool has_command(const struct mo_compare *c, const char *comm)
{
	for (size_t i = 0; i < c->ncommands; i++)
		if (!strcmp(c->commands[i].metric, comm))
			return true;
	return false;
}

/* rss_peak_max of every comm of a or b; those that changed most are kept. */
static int compare_commands(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c)
{
	for (int side = 0; side < 2; side++) {
		const struct mo_summary *from = side ? b : a;

		for (size_t i = 0; i < from->ncommands; i++) {
			const char *comm = from->commands[i].comm;
			struct mo_compare_row *row;

			if (has_command(c, comm))
				continue;
			if (GROW(c->commands, c->ncommands + 1, c->commands_alloc))
				return -ENOMEM;
			row = memset(&c->commands[c->ncommands], 0, sizeof(*row));
			if (!(row->owned = strdup(comm)))
				return -ENOMEM;
			c->ncommands++;
			row->metric = row->owned;
			row->unit = MO_UNIT_BYTES;
			row->has_a = !metrics_command(a, comm, MO_COMMAND_RSS_PEAK_MAX, &row->a);
			row->has_b = !metrics_command(b, comm, MO_COMMAND_RSS_PEAK_MAX, &row->b);
		}
	}
	if (c->ncommands)
		qsort(c->commands, c->ncommands, sizeof(*c->commands), by_change);
	while (c->ncommands > COMPARE_COMMANDS) {
		free(c->commands[--c->ncommands].owned);
		c->commands_left_out++;
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

/* A candidate for the largest changes: the row, named in full as a metric
 * (prefix.name.field). */
static int add_largest(struct mo_compare *c, const struct mo_compare_row *r, const char *prefix, const char *name,
		       const char *field)
{
	struct mo_compare_row *slot;

	if (!r->has_a || !r->has_b || change_of(r) == 0)
		return 0;
	if (c->nlargest == COMPARE_LARGEST) {
		qsort(c->largest, c->nlargest, sizeof(*c->largest), by_change);
		if (change_of(r) <= change_of(&c->largest[c->nlargest - 1]))
			return 0;
		free(c->largest[--c->nlargest].owned);
	}
	slot = &c->largest[c->nlargest];
	*slot = *r;
	if (asprintf(&slot->owned, "%s.%s.%s", prefix, name, field) < 0)
		return -ENOMEM;
	slot->metric = slot->owned;
	c->nlargest++;
	return 0;
}

static int find_largest(struct mo_compare *c)
{
	int ret = 0;

	c->largest = calloc(COMPARE_LARGEST, sizeof(*c->largest));
	if (!c->largest)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < c->ncommands; i++)
		ret = add_largest(c, &c->commands[i], "by_command", c->commands[i].metric, "rss_peak_max");
	for (size_t i = 0; i < c->nphases; i++)
		for (size_t k = 0; !ret && k < c->phases[i].nrows; k++)
			ret = add_largest(c, &c->phases[i].rows[k], "phase", c->phases[i].name, c->phases[i].rows[k].metric);
	qsort(c->largest, c->nlargest, sizeof(*c->largest), by_change);
	return ret;
}

int compare_runs(const struct mo_summary *a, const struct mo_summary *b, struct mo_compare *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = compare_totals(a, b, c);
	if (!ret)
		ret = compare_commands(a, b, c);
	if (!ret)
		ret = add_phases(a, a, b, c);
	if (!ret)
		ret = add_phases(b, a, b, c);
	if (!ret)
		ret = find_largest(c);
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
	for (size_t i = 0; i < c->ncommands; i++)
		free(c->commands[i].owned);
	free(c->commands);
	for (size_t i = 0; i < c->nlargest; i++)
		free(c->largest[i].owned);
	free(c->largest);
	memset(c, 0, sizeof(*c));
}

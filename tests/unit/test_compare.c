// SPDX-License-Identifier: GPL-2.0
/* compare_runs: totals and phases matched by name, phases present in one
 * run only, rows without figures left out. */
#include <stdlib.h>
#include "check.h"
#include "history/compare.h"
#include "summary_fixture.h"

static const struct mo_compare_row *row(const struct mo_compare_row *rows, size_t n, const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].metric, metric))
			return &rows[i];
	return NULL;
}

static const struct mo_compare_phase *phase(const struct mo_compare *c, const char *name)
{
	for (size_t i = 0; i < c->nphases; i++)
		if (!strcmp(c->phases[i].name, name))
			return &c->phases[i];
	return NULL;
}

static bool test_totals_and_phases(void)
{
	struct mo_summary *a = summary_of(
		"{\"schema\":1,\"duration_s\":2.0,\"totals\":{\"rss\":{\"peak\":1000},\"heap\":{\"peak_live\":0,"
		"\"alloc_bytes\":0,\"alloc_count\":0}},\"phases\":["
		"{\"name\":\"main\",\"duration_s\":2.0,\"rss\":{\"peak\":1000}},"
		"{\"name\":\"parse\",\"duration_s\":0.5,\"items\":0,\"rss\":{\"peak\":400,\"peak_over_baseline\":100}},"
		"{\"name\":\"render\",\"duration_s\":1.0,\"rss\":{\"peak\":900}}]}");
	struct mo_summary *b = summary_of(
		"{\"schema\":1,\"duration_s\":2.5,\"totals\":{\"rss\":{\"peak\":1200},\"heap\":{\"peak_live\":0,"
		"\"alloc_bytes\":0,\"alloc_count\":0}},\"phases\":["
		"{\"name\":\"main\",\"duration_s\":2.5,\"rss\":{\"peak\":1200}},"
		"{\"name\":\"render\",\"duration_s\":1.5,\"rss\":{\"peak\":1100}},"
		"{\"name\":\"link\",\"duration_s\":0.2,\"rss\":{\"peak\":300}},"
		"{\"name\":\"render\",\"duration_s\":0.5,\"rss\":{\"peak\":1150}}]}");
	const struct mo_compare_phase *p;
	const struct mo_compare_row *r;
	struct mo_compare c;

	ASSERT_TRUE(a && b, "parse");
	ASSERT_EQ(compare_runs(a, b, &c), 0);
	/* Heap figures are all 0 in both: not shown. */
	ASSERT_EQ(c.ntotals, 2);
	r = row(c.totals, c.ntotals, "peak_rss");
	ASSERT_TRUE(r && r->has_a && r->has_b, "peak_rss in both");
	ASSERT_EQ(r->a, 1000);
	ASSERT_EQ(r->b, 1200);
	ASSERT_EQ(r->unit, MO_UNIT_BYTES);
	r = row(c.totals, c.ntotals, "duration");
	ASSERT_TRUE(r && r->unit == MO_UNIT_SECONDS, "duration");
	ASSERT_TRUE(!row(c.totals, c.ntotals, "peak_heap"), "zero heap left out");

	/* A's phases in order, then B's own. */
	ASSERT_EQ(c.nphases, 4);
	ASSERT_STR_EQ(c.phases[0].name, "main");
	ASSERT_STR_EQ(c.phases[1].name, "parse");
	ASSERT_STR_EQ(c.phases[2].name, "render");
	ASSERT_STR_EQ(c.phases[3].name, "link");

	p = phase(&c, "parse");
	ASSERT_TRUE(p->in_a && !p->in_b, "parse only in A");
	r = row(p->rows, p->nrows, "rss.peak");
	ASSERT_TRUE(r && r->has_a && !r->has_b, "A side only");
	ASSERT_EQ(r->a, 400);
	ASSERT_TRUE(!row(p->rows, p->nrows, "items"), "zero items left out");
	ASSERT_TRUE(row(p->rows, p->nrows, "rss.peak_over_baseline"), "peak over baseline shown");

	p = phase(&c, "link");
	ASSERT_TRUE(!p->in_a && p->in_b, "link only in B");
	r = row(p->rows, p->nrows, "rss.peak");
	ASSERT_TRUE(r && !r->has_a && r->has_b && r->b == 300, "B side only");

	/* render ran twice in B: the highest peak, the summed duration. */
	p = phase(&c, "render");
	ASSERT_TRUE(p->in_a && p->in_b, "render in both");
	r = row(p->rows, p->nrows, "rss.peak");
	ASSERT_EQ(r->a, 900);
	ASSERT_EQ(r->b, 1150);
	r = row(p->rows, p->nrows, "duration_s");
	ASSERT_NEAR(r->b, 2.0, 1e-9);
	compare_free(&c);
	summary_del(a);
	summary_del(b);
	return true;
}

static bool test_runs_without_phases(void)
{
	struct mo_summary *a = summary_of("{\"schema\":1,\"totals\":{\"rss\":{\"peak\":5}}}");
	struct mo_summary *b = summary_of("{\"schema\":1,\"totals\":{\"rss\":{\"peak\":7},\"heap\":{\"peak_live\":3}},"
			       "\"phases\":[{\"name\":\"x\"}, {\"nameless\":1}]}");
	const struct mo_compare_row *r;
	struct mo_compare c;

	ASSERT_TRUE(a && b, "parse");
	ASSERT_EQ(compare_runs(a, b, &c), 0);
	r = row(c.totals, c.ntotals, "peak_heap");
	ASSERT_TRUE(r && !r->has_a && r->has_b, "heap only in B");
	/* A phase with no figures at all is still listed, with no rows. */
	ASSERT_EQ(c.nphases, 1);
	ASSERT_EQ(c.phases[0].nrows, 0);
	ASSERT_TRUE(!c.phases[0].in_a && c.phases[0].in_b, "x only in B");
	compare_free(&c);
	summary_del(a);
	summary_del(b);
	return true;
}

int main(void)
{
	RUN(test_totals_and_phases);
	RUN(test_runs_without_phases);
	return check_summary();
}

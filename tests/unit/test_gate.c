// SPDX-License-Identifier: GPL-2.0
/* The regression gate: bounds, median baselines, series selection, verdicts. */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "history/gate.h"
#include "summary_fixture.h"

static struct mo_summary *run(const char *label, const char *command, double peak_rss, double peak_heap)
{
	char buf[512], labelj[64], heap[64];

	snprintf(labelj, sizeof(labelj), label ? "\"%s\"" : "null", label);
	snprintf(heap, sizeof(heap), peak_heap < 0 ? "null" : "%.0f", peak_heap);
	snprintf(buf, sizeof(buf),
		 "{\"schema\":1,\"label\":%s,\"command\":%s,\"totals\":{\"rss\":{\"peak\":%.0f},"
		 "\"heap\":{\"peak_live\":%s}},\"phases\":[{\"name\":\"render\",\"rss\":{\"peak\":%.0f}}]}",
		 labelj, command, peak_rss, heap, peak_rss / 2);
	return summary_of(buf);
}

/* A history of copies of n runs. */
static void history_of(struct mo_history *h, struct mo_summary **runs, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->runs = calloc(n, sizeof(*h->runs));
	for (size_t i = 0; i < n; i++) {
		summary_copy(&h->runs[i].sum, runs[i]);
		h->runs[i].line = i + 1;
	}
	h->nruns = n;
}

static bool test_bounds(void)
{
	/* Exactly at the bound passes, a byte more fails. */
	ASSERT_TRUE(gate_within(1000, 1100, 10), "at +10%%");
	ASSERT_TRUE(!gate_within(1000, 1101, 10), "past +10%%");
	ASSERT_TRUE(gate_within(104857600, 115343360, 10), "100 MiB -> 110 MiB at 10%%");
	ASSERT_TRUE(!gate_within(104857600, 115343361, 10), "a byte past");
	ASSERT_TRUE(gate_within(1000, 1005, 0.5), "at +0.5%%");
	ASSERT_TRUE(!gate_within(1000, 1006, 0.5), "past +0.5%%");
	/* 0.1 and 10.1 are no exact doubles: the bound still holds exactly. */
	ASSERT_TRUE(gate_within(1000, 1001, 0.1), "at +0.1%%");
	ASSERT_TRUE(gate_within(1000, 1101, 10.1), "at +10.1%%");
	ASSERT_TRUE(!gate_within(1000, 1102, 10.1), "past +10.1%%");
	ASSERT_TRUE(gate_within(4e15, 4.4e15, 10), "large values");
	/* 0% allows no growth; shrinking always passes. */
	ASSERT_TRUE(gate_within(500, 500, 0), "equal at 0%%");
	ASSERT_TRUE(!gate_within(500, 501, 0), "growth at 0%%");
	ASSERT_TRUE(gate_within(500, 1, 0), "shrinking");
	/* From nothing: any growth fails. */
	ASSERT_TRUE(gate_within(0, 0, 10), "0 -> 0");
	ASSERT_TRUE(!gate_within(0, 1, 1000), "0 -> 1");
	/* A negative baseline (a phase's rss.delta) grows towards 0. */
	ASSERT_TRUE(gate_within(-1000, -900, 10), "-1000 -> -900 at 10%%");
	ASSERT_TRUE(!gate_within(-1000, -899, 10), "-1000 -> -899 at 10%%");
	return true;
}

static bool test_median(void)
{
	struct mo_summary *r[6] = { run("L", "[\"a\"]", 10, 1), run("L", "[\"a\"]", 30, -1), run("L", "[\"a\"]", 20, 3),
			run("L", "[\"a\"]", 40, 4), run("L", "[\"a\"]", 50, -1), run("L", "[\"a\"]", 60, -1) };
	const struct mo_summary *runs[6];
	size_t used;
	double m;

	for (int i = 0; i < 6; i++) {
		ASSERT_TRUE(r[i], "parse");
		runs[i] = r[i];
	}
	ASSERT_EQ(gate_median(runs, 3, "peak_rss", &m, &used), 0);	/* 10 30 20 */
	ASSERT_EQ(m, 20);
	ASSERT_EQ(used, 3);
	ASSERT_EQ(gate_median(runs, 4, "peak_rss", &m, &used), 0);	/* 10 30 20 40 */
	ASSERT_EQ(m, 25);
	ASSERT_EQ(gate_median(runs, 1, "peak_rss", &m, &used), 0);
	ASSERT_EQ(m, 10);
	ASSERT_EQ(gate_median(runs, 5, "phase.render.rss.peak", &m, &used), 0);	/* halves */
	ASSERT_EQ(m, 15);
	/* Runs without the figure do not count: heap of 1, 3, 4 only. */
	ASSERT_EQ(gate_median(runs, 6, "peak_heap", &m, &used), 0);
	ASSERT_EQ(m, 3);
	ASSERT_EQ(used, 3);
	ASSERT_EQ(gate_median(runs + 4, 2, "peak_heap", &m, &used), -ENOENT);
	ASSERT_EQ(gate_median(runs, 0, "peak_rss", &m, &used), -ENOENT);
	ASSERT_EQ(gate_median(runs, 3, "phase.link.rss.peak", &m, &used), -ENOENT);
	for (int i = 0; i < 6; i++)
		summary_del(r[i]);
	return true;
}

static bool test_series(void)
{
	struct mo_summary *docs[] = {
		run("L", "[\"make\"]", 1, 0),		/* 0 */
		run(NULL, "[\"make\",\"-j8\"]", 2, 0),	/* 1 */
		run("L", "[\"other\"]", 3, 0),		/* 2: same label, other command: in */
		run(NULL, "[\"make\"]", 4, 0),		/* 3 */
		run("M", "[\"make\",\"-j8\"]", 5, 0),	/* 4 */
		run("L", "[\"make\"]", 6, 0),		/* 5 */
		run(NULL, "[\"make\",\"-j8\"]", 7, 0),	/* 6 */
		run("L", "[\"make\"]", 8, 0),		/* 7 */
		run("L", "[\"make\"]", 9, 0),		/* 8 */
		run("L", "[\"make\"]", 10, 0),		/* 9 */
		run("L", "[\"make\"]", 11, 0),		/* 10 */
		run(NULL, "[\"make\",\"-j8\"]", 12, 0),	/* 11 */
	};
	size_t n = sizeof(docs) / sizeof(docs[0]), idx[GATE_BASELINE_RUNS];
	struct mo_history h;

	for (size_t i = 0; i < n; i++)
		ASSERT_TRUE(docs[i], "parse %zu", i);
	history_of(&h, docs, n);
	ASSERT_EQ(gate_newest(&h, NULL), 11);
	ASSERT_EQ(gate_newest(&h, "L"), 10);
	ASSERT_EQ(gate_newest(&h, "M"), 4);
	ASSERT_EQ(gate_newest(&h, "nope"), -1);

	/* Labelled: the 5 previous runs with the label, newest first, whatever the command. */
	ASSERT_EQ(gate_pick_baseline(&h, 10, docs[10], NULL, idx, GATE_BASELINE_RUNS), 5);
	ASSERT_EQ(idx[0], 9);
	ASSERT_EQ(idx[1], 8);
	ASSERT_EQ(idx[2], 7);
	ASSERT_EQ(idx[3], 5);
	ASSERT_EQ(idx[4], 2);
	/* Fewer than 5 available. */
	ASSERT_EQ(gate_pick_baseline(&h, 5, docs[5], NULL, idx, GATE_BASELINE_RUNS), 2);
	ASSERT_EQ(idx[0], 2);
	ASSERT_EQ(idx[1], 0);
	ASSERT_EQ(gate_pick_baseline(&h, 0, docs[0], NULL, idx, GATE_BASELINE_RUNS), 0);

	/* Unlabelled: the same command line, without a label (run 4 has one). */
	ASSERT_EQ(gate_pick_baseline(&h, 11, docs[11], NULL, idx, GATE_BASELINE_RUNS), 2);
	ASSERT_EQ(idx[0], 6);
	ASSERT_EQ(idx[1], 1);
	ASSERT_EQ(gate_pick_baseline(&h, 3, docs[3], NULL, idx, GATE_BASELINE_RUNS), 0);

	/* An explicit label wins over the run's own. */
	ASSERT_EQ(gate_pick_baseline(&h, 11, docs[11], "M", idx, GATE_BASELINE_RUNS), 1);
	ASSERT_EQ(idx[0], 4);

	/* The run checked from its -o file is also in the history: not its own baseline. */
	ASSERT_EQ(gate_pick_baseline(&h, n, docs[10], NULL, idx, GATE_BASELINE_RUNS), 5);
	ASSERT_EQ(idx[0], 9);
	ASSERT_EQ(idx[4], 2);
	history_free(&h);
	for (size_t i = 0; i < n; i++)
		summary_del(docs[i]);
	return true;
}

static bool test_verdicts(void)
{
	struct mo_summary *base[3] = { run("L", "[\"a\"]", 1000, 100), run("L", "[\"a\"]", 1100, 100),
			   run("L", "[\"a\"]", 900, -1) };
	struct mo_summary *at = run("L", "[\"a\"]", 1100, 105), *past = run("L", "[\"a\"]", 1101, 90);
	struct mo_summary *noheap = run("L", "[\"a\"]", 1000, -1);
	const struct mo_summary *b[3] = { base[0], base[1], base[2] };
	struct mo_threshold t[3];
	struct mo_gate g;
	char err[768];

	ASSERT_TRUE(at && past && noheap && base[0] && base[1] && base[2], "parse");
	ASSERT_EQ(metrics_parse_threshold("peak_rss=10%", &t[0], err, sizeof(err)), 0);
	ASSERT_EQ(metrics_parse_threshold("peak_heap=5", &t[1], err, sizeof(err)), 0);
	ASSERT_EQ(metrics_parse_threshold("phase.render.rss.peak=10%", &t[2], err, sizeof(err)), 0);

	ASSERT_EQ(gate_evaluate(at, b, 3, t, 3, &g, err, sizeof(err)), 0);
	ASSERT_TRUE(g.pass, "exactly at the bounds passes");
	ASSERT_EQ(g.nrows, 3);
	ASSERT_EQ(g.rows[0].baseline, 1000);	/* median of 1000 1100 900 */
	ASSERT_EQ(g.rows[0].nbaseline, 3);
	ASSERT_NEAR(g.rows[0].change_pct, 10, 1e-9);
	ASSERT_EQ(g.rows[1].baseline, 100);	/* median of the two with heap */
	ASSERT_EQ(g.rows[1].nbaseline, 2);
	ASSERT_EQ(g.rows[2].baseline, 500);
	ASSERT_EQ(g.rows[2].current, 550);
	ASSERT_STR_EQ(g.rows[2].metric, "phase.render.rss.peak");
	ASSERT_EQ(g.rows[2].unit, MO_UNIT_BYTES);
	gate_free(&g);

	ASSERT_EQ(gate_evaluate(past, b, 3, t, 3, &g, err, sizeof(err)), 0);
	ASSERT_TRUE(!g.pass, "a byte past fails");
	ASSERT_TRUE(!g.rows[0].pass && g.rows[1].pass && g.rows[2].pass, "only peak_rss fails");
	ASSERT_NEAR(g.rows[1].change_pct, -10, 1e-9);
	gate_free(&g);

	/* The run checked lacks a metric: bad input, saying which. */
	ASSERT_EQ(gate_evaluate(noheap, b, 3, t, 3, &g, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "peak_heap") && strstr(err, "the run checked"), "%s", err);
	gate_free(&g);
	/* No baseline run has it. */
	ASSERT_EQ(gate_evaluate(at, b + 2, 1, t + 1, 1, &g, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "peak_heap") && strstr(err, "baseline"), "%s", err);
	gate_free(&g);

	for (int i = 0; i < 3; i++)
		summary_del(base[i]);
	summary_del(at);
	summary_del(past);
	summary_del(noheap);
	return true;
}

int main(void)
{
	RUN(test_bounds);
	RUN(test_median);
	RUN(test_series);
	RUN(test_verdicts);
	return check_summary();
}

// SPDX-License-Identifier: GPL-2.0
/* History files (JSON Lines; history, compare, check) and run document files
 * (-o) read back: the input is the whole file. Every run read is then put
 * through what the subcommands do with it: describe, resolve, metrics,
 * compare with its neighbour, and the gate against the runs before it. */
#include <errno.h>
#include "history/compare.h"
#include "fuzz.h"
#include "history/gate.h"
#include "history/history.h"
#include "model/metrics.h"

static void use_run(const struct mo_history *h, size_t i)
{
	static const char *const names[] = { "peak_rss", "peak_heap", "alloc_bytes", "alloc_count", "duration",
					     "phase.main.rss.peak", "phase.a.b.heap.peak_live", "phase.x.items" };
	const struct mo_summary *run = &h->runs[i].sum, *base[GATE_BASELINE_RUNS];
	struct mo_threshold t[2] = { { "peak_rss", 10 }, { "phase.main.rss.peak", 0 } };
	size_t idx[GATE_BASELINE_RUNS], n;
	struct mo_compare c;
	struct mo_gate g;
	char buf[256];
	double v;

	history_describe(run, buf, sizeof(buf));
	FUZZ_ASSERT(memchr(buf, 0, sizeof(buf)));
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		int ret = metrics_get(run, names[k], &v, buf, sizeof(buf));

		FUZZ_ASSERT(!ret || ret == -ENOENT);
	}
	if (i) {
		compare_runs(&h->runs[i - 1].sum, run, &c);
		compare_free(&c);
	}
	n = gate_pick_baseline(h, i, run, NULL, idx, GATE_BASELINE_RUNS);
	FUZZ_ASSERT(n <= GATE_BASELINE_RUNS);
	for (size_t k = 0; k < n; k++) {
		FUZZ_ASSERT(idx[k] < i);
		base[k] = &h->runs[idx[k]].sum;
	}
	gate_evaluate(run, base, n, t, 2, &g, buf, sizeof(buf));
	gate_free(&g);
}

static void resolve(const struct mo_history *h, const char *ref)
{
	struct mo_summary run;
	char err[512];
	size_t line;

	if (!history_resolve(h, ref, &run, &line, err, sizeof(err)))
		FUZZ_ASSERT(run.nphases <= SUMMARY_MAX_PHASES && run.ncommands <= SUMMARY_MAX_COMMANDS);
	summary_free(&run);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_history h;
	char path[64], err[512];
	cJSON *doc;

	fuzz_file(data, size, path, sizeof(path));
	FUZZ_ASSERT(!history_load(path, &h, err, sizeof(err)));
	FUZZ_ASSERT(h.nwarnings <= HISTORY_MAX_WARNINGS + 1);
	for (size_t i = 0; i < h.nruns; i++)
		use_run(&h, i);
	resolve(&h, "@-1");
	resolve(&h, "@-3");
	resolve(&h, "abcd");
	resolve(&h, "nightly");
	if (h.nruns)
		gate_newest(&h, "nightly");
	history_free(&h);
	if (!history_read_file(path, &doc, err, sizeof(err)))
		cJSON_Delete(doc);
	return 0;
}

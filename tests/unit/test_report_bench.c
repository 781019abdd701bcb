// SPDX-License-Identifier: GPL-2.0
/* Benchmark tracker exports: github-action-benchmark and Bencher. */
#include <stdlib.h>
#include "check.h"
#include "summary_fixture.h"
#include "report/report_bench.h"

#define RUN_JSON(label, heap) \
	"{\"schema\":1,\"label\":" label ",\"command\":[\"make\",\"-j8\"],\"duration_s\":2.5," \
	"\"totals\":{\"rss\":{\"peak\":9007199254740991},\"heap\":" heap "}," \
	"\"phases\":[{\"name\":\"main\",\"duration_s\":2.5,\"rss\":{\"peak\":9007199254740991}}," \
	"{\"name\":\"render\",\"duration_s\":1.0,\"rss\":{\"peak\":2097152},\"heap\":{\"peak_live\":1048576}}," \
	"{\"name\":\"render\",\"duration_s\":0.5,\"rss\":{\"peak\":3145728},\"heap\":{\"peak_live\":0}}," \
	"{\"name\":\"link\",\"duration_s\":0.25,\"rss\":{\"peak\":1048576}}]}"

static const cJSON *find(const cJSON *arr, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
		if (!strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name))
			return e;
	return NULL;
}

static bool test_gh(void)
{
	struct mo_summary *run = summary_of(RUN_JSON("\"nightly\"", "{\"peak_live\":5242880,\"alloc_bytes\":10485760}"));
	const cJSON *e;
	cJSON *out;
	char *text;

	ASSERT_TRUE(run, "parse");
	ASSERT_EQ(report_bench_gh(run, &text), 0);
	out = cJSON_Parse(text);
	ASSERT_TRUE(cJSON_IsArray(out), "%s", text);
	/* peak_rss, peak_heap, alloc_bytes, duration; render and link peaks; no main. */
	ASSERT_EQ(cJSON_GetArraySize(out), 4 + 2 + 1);
	e = find(out, "peak_heap");
	ASSERT_TRUE(e, "peak_heap");
	ASSERT_STR_EQ(cJSON_GetObjectItem(e, "unit")->valuestring, "MiB");
	ASSERT_NEAR(cJSON_GetObjectItem(e, "value")->valuedouble, 5, 1e-9);
	e = find(out, "duration");
	ASSERT_STR_EQ(cJSON_GetObjectItem(e, "unit")->valuestring, "s");
	ASSERT_NEAR(cJSON_GetObjectItem(e, "value")->valuedouble, 2.5, 1e-9);
	e = find(out, "phase.render.rss.peak");
	ASSERT_TRUE(e, "render peak");
	ASSERT_NEAR(cJSON_GetObjectItem(e, "value")->valuedouble, 3, 1e-9);
	ASSERT_TRUE(find(out, "phase.render.heap.peak_live"), "render heap");
	ASSERT_TRUE(find(out, "phase.link.rss.peak"), "link");
	ASSERT_TRUE(!find(out, "phase.link.heap.peak_live"), "link has no heap figure");
	ASSERT_TRUE(!find(out, "phase.main.rss.peak"), "the root repeats the totals");
	cJSON_Delete(out);
	cJSON_free(text);
	summary_del(run);
	return true;
}

static bool test_bencher(void)
{
	struct mo_summary *run = summary_of(RUN_JSON("null", "null"));
	const cJSON *bench, *phase;
	cJSON *out;
	char *text;

	ASSERT_TRUE(run, "parse");
	ASSERT_EQ(report_bench_bencher(run, &text), 0);
	/* Bytes stay exact, not 9.007e+15. */
	ASSERT_TRUE(strstr(text, "9007199254740991"), "%s", text);
	out = cJSON_Parse(text);
	ASSERT_TRUE(out, "%s", text);
	ASSERT_EQ(cJSON_GetArraySize(out), 3);	/* the run, render, link */
	bench = cJSON_GetObjectItem(out, "make -j8");
	ASSERT_TRUE(bench, "named by the command line: %s", text);
	ASSERT_TRUE(cJSON_GetObjectItem(bench, "peak-rss"), "peak-rss");
	ASSERT_TRUE(!cJSON_GetObjectItem(bench, "peak-heap"), "no heap without --heap");
	ASSERT_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(bench, "duration"), "value")->valuedouble, 2.5, 1e-9);
	phase = cJSON_GetObjectItem(out, "make -j8/phase/render");
	ASSERT_TRUE(phase, "render");
	ASSERT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(phase, "peak-rss"), "value")->valuedouble, 3145728);
	ASSERT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(phase, "peak-heap"), "value")->valuedouble, 1048576);
	ASSERT_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(phase, "duration"), "value")->valuedouble, 1.5, 1e-9);
	ASSERT_TRUE(!cJSON_GetObjectItem(out, "make -j8/phase/main"), "no root phase");
	cJSON_Delete(out);
	cJSON_free(text);
	summary_del(run);

	run = summary_of(RUN_JSON("\"nightly\"", "null"));
	ASSERT_EQ(report_bench_bencher(run, &text), 0);
	out = cJSON_Parse(text);
	ASSERT_TRUE(cJSON_GetObjectItem(out, "nightly") && cJSON_GetObjectItem(out, "nightly/phase/link"),
		    "named by the label: %s", text);
	cJSON_Delete(out);
	cJSON_free(text);
	summary_del(run);
	return true;
}

int main(void)
{
	RUN(test_gh);
	RUN(test_bencher);
	return check_summary();
}

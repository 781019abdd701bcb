// SPDX-License-Identifier: GPL-2.0
/* The run summary: read from a document (phases merged by name, the largest
 * processes found, heap figures absent without --heap), written as a history
 * line and read back the same; the metrics of the largest process and of a
 * command. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "model/metrics.h"
#include "summary_fixture.h"

#define MiB 1048576
#define DOC \
	"{\"schema\":1,\"time_utc\":\"2024-05-01T12:00:00Z\",\"host\":\"ci\",\"label\":\"L\"," \
	"\"command\":[\"make\",\"-j2\"],\"exit_status\":0,\"heap_traced\":false,\"duration_s\":2.5," \
	"\"totals\":{\"rss\":{\"peak\":300000000},\"heap\":{\"peak_live\":0}}," \
	"\"phases\":[{\"name\":\"main\",\"rss\":{\"peak\":300000000}}," \
	"{\"name\":\"cc\",\"duration_s\":1,\"rss\":{\"baseline\":10,\"peak\":200,\"peak_over_baseline\":190}}," \
	"{\"name\":\"cc\",\"duration_s\":0.5,\"rss\":{\"baseline\":20,\"peak\":150,\"peak_over_baseline\":130}}]," \
	"\"processes\":[{\"pid\":7,\"comm\":\"ld\",\"rss\":{\"peak\":40000000}}," \
	"{\"pid\":8,\"comm\":\"cc1\",\"rss\":{\"peak\":70000000}}," \
	"{\"pid\":9,\"comm\":\"memobs\",\"observer\":true,\"rss\":{\"peak\":90000000}}]," \
	"\"by_command\":[{\"comm\":\"cc1\",\"processes\":3,\"rss_peak_max\":70000000,\"rss_peak_sum\":150000000," \
	"\"heap_alloc_bytes\":0},{\"comm\":\"ld\",\"processes\":1,\"rss_peak_max\":40000000," \
	"\"rss_peak_sum\":40000000,\"heap_alloc_bytes\":0}]}"

static bool test_from_a_document(void)
{
	struct mo_summary *s = summary_of(DOC);
	char err[256], who[64];
	double v;

	ASSERT_TRUE(s, "parse");
	ASSERT_EQ(s->nphases, 2);
	ASSERT_EQ(s->phases[1].windows, 2);
	ASSERT_EQ(s->phases[1].fig[MO_PHASE_RSS_PEAK], 200);	/* the highest window's */
	ASSERT_NEAR(s->phases[1].fig[MO_PHASE_DURATION], 1.5, 1e-9);	/* summed */
	ASSERT_EQ(s->phases[1].fig[MO_PHASE_RSS_BASELINE], 10);	/* the first window's */
	ASSERT_TRUE(isnan(s->total[MO_TOTAL_PEAK_HEAP]), "no heap figure without --heap");
	/* memobs's own marker process is no workload. */
	ASSERT_TRUE(s->max[MO_MAX_PEAK_RSS].present && s->max[MO_MAX_PEAK_RSS].pid == 8, "cc1 is the largest");
	ASSERT_EQ(metrics_get(s, "max_process.peak_rss", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 70000000);
	ASSERT_STR_EQ(metrics_who(s, "max_process.peak_rss", who, sizeof(who)), "cc1 (pid 8)");
	ASSERT_EQ(metrics_get(s, "by_command.cc1.rss_peak_sum", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 150000000);
	ASSERT_EQ(metrics_get(s, "phase.cc.peak_over_baseline", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 190);
	ASSERT_EQ(metrics_get(s, "max_process.peak_heap", &v, err, sizeof(err)), -ENOENT);
	ASSERT_EQ(metrics_get(s, "by_command.ld.heap_alloc_bytes", &v, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "without --heap"), "%s", err);
	ASSERT_EQ(metrics_check_name("by_command.cc1.rss", err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "by_command.COMM.FIELD"), "%s", err);
	ASSERT_EQ(metrics_unit("by_command.cc1.processes"), MO_UNIT_COUNT);
	summary_del(s);
	return true;
}

static bool test_line_reads_back_the_same(void)
{
	struct mo_summary *s = summary_of(DOC), again;
	char *line;
	cJSON *doc;

	ASSERT_TRUE(s, "parse");
	s->document = strdup("runs/x.json");
	line = summary_json_render(s);
	ASSERT_TRUE(line && !strchr(line, '\n'), "one line");
	ASSERT_TRUE(strstr(line, "\"summary\":true") && !strstr(line, "processes\":[{\"pid"), "%s", line);
	doc = cJSON_Parse(line);
	ASSERT_EQ(summary_from_json(doc, &again), 0);
	ASSERT_TRUE(summary_same_run(s, &again), "the same run");
	ASSERT_TRUE(again.from_line && !strcmp(again.document, "runs/x.json"), "a line naming its document");
	ASSERT_EQ(again.nphases, 2);
	ASSERT_EQ(again.phases[1].windows, 2);
	ASSERT_EQ(again.phases[1].fig[MO_PHASE_RSS_PEAK], 200);
	ASSERT_EQ(again.ncommands, 2);
	ASSERT_STR_EQ(again.max[MO_MAX_PEAK_RSS].comm, "cc1");
	ASSERT_TRUE(!again.max[MO_MAX_PEAK_HEAP].present, "no heap peak without --heap");
	summary_free(&again);
	cJSON_Delete(doc);
	free(line);
	summary_del(s);
	return true;
}

int main(void)
{
	RUN(test_from_a_document);
	RUN(test_line_reads_back_the_same);
	return check_summary();
}

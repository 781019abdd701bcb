// SPDX-License-Identifier: GPL-2.0
/* Metric names and values in run documents; sizes, percentages and
 * --max-growth thresholds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "model/metrics.h"
#include "lib/units.h"
#include "summary_fixture.h"

#define doc summary_of

#define RUN_JSON \
	"{\"schema\":1,\"duration_s\":2.5,\"totals\":{\"rss\":{\"peak\":104857600}," \
	"\"heap\":{\"peak_live\":5000,\"alloc_bytes\":9007199254740991,\"alloc_count\":12,\"free_bytes\":0,\"free_count\":0}}," \
	"\"phases\":[{\"name\":\"main\",\"duration_s\":2.5,\"items\":0,\"rss\":{\"peak\":104857600}}," \
	"{\"name\":\"render\",\"duration_s\":1.0,\"items\":10,\"rss\":{\"baseline\":100,\"peak\":2000,\"end\":150,\"delta\":50},\"heap\":{\"peak_live\":300,\"alloc_count\":4}}," \
	"{\"name\":\"render.pages\",\"duration_s\":0.5,\"items\":3,\"rss\":{\"peak\":1500},\"heap\":{\"peak_live\":null}}," \
	"{\"name\":\"render\",\"duration_s\":0.25,\"items\":5,\"rss\":{\"baseline\":120,\"peak\":1800,\"end\":170,\"delta\":-20},\"heap\":{\"peak_live\":900,\"alloc_count\":6}}," \
	"{\"name\":\"a.rss\",\"duration_s\":0.1,\"rss\":{\"peak\":77}}]}"

static bool test_totals(void)
{
	struct mo_summary *run = doc(RUN_JSON);
	char err[512];
	double v;

	ASSERT_TRUE(run, "test document parses");
	ASSERT_EQ(metrics_get(run, "peak_rss", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 104857600);
	ASSERT_EQ(metrics_get(run, "peak_heap", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 5000);
	ASSERT_EQ(metrics_get(run, "alloc_bytes", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 9007199254740991LL);	/* 2^53 - 1 stays exact */
	ASSERT_EQ(metrics_get(run, "alloc_count", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 12);
	ASSERT_EQ(metrics_get(run, "duration", &v, err, sizeof(err)), 0);
	ASSERT_NEAR(v, 2.5, 1e-9);
	ASSERT_EQ(metrics_unit("peak_rss"), MO_UNIT_BYTES);
	ASSERT_EQ(metrics_unit("duration"), MO_UNIT_SECONDS);
	ASSERT_EQ(metrics_unit("alloc_count"), MO_UNIT_COUNT);
	summary_del(run);
	return true;
}

static bool test_phase_metrics(void)
{
	struct mo_summary *run = doc(RUN_JSON);
	char err[512];
	double v;

	ASSERT_TRUE(run, "test document parses");
	/* Two windows of "render": peaks take the max, additive figures the
	 * sum, baselines the first window, ends the last. */
	ASSERT_EQ(metrics_get(run, "phase.render.rss.peak", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 2000);
	ASSERT_EQ(metrics_get(run, "phase.render.heap.peak_live", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 900);
	ASSERT_EQ(metrics_get(run, "phase.render.duration_s", &v, err, sizeof(err)), 0);
	ASSERT_NEAR(v, 1.25, 1e-9);
	ASSERT_EQ(metrics_get(run, "phase.render.items", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 15);
	ASSERT_EQ(metrics_get(run, "phase.render.heap.alloc_count", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 10);
	ASSERT_EQ(metrics_get(run, "phase.render.rss.baseline", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 100);
	ASSERT_EQ(metrics_get(run, "phase.render.rss.end", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 170);
	ASSERT_EQ(metrics_get(run, "phase.render.rss.delta", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 30);
	ASSERT_EQ(metrics_get(run, "phase.main.rss.peak", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 104857600);
	ASSERT_EQ(metrics_unit("phase.render.items"), MO_UNIT_COUNT);
	ASSERT_EQ(metrics_unit("phase.render.duration_s"), MO_UNIT_SECONDS);
	ASSERT_EQ(metrics_unit("phase.render.heap.peak_live"), MO_UNIT_BYTES);
	summary_del(run);
	return true;
}

static bool test_dotted_phase_names(void)
{
	struct mo_summary *run = doc(RUN_JSON);
	char err[512];
	double v;

	ASSERT_TRUE(run, "test document parses");
	/* "render.pages" is a phase of its own, not field "pages..." of "render". */
	ASSERT_EQ(metrics_get(run, "phase.render.pages.rss.peak", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 1500);
	ASSERT_EQ(metrics_get(run, "phase.render.pages.items", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 3);
	/* A name that ends like a field: "a.rss" + "rss.peak". */
	ASSERT_EQ(metrics_get(run, "phase.a.rss.rss.peak", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 77);
	ASSERT_EQ(metrics_get(run, "phase.a.rss.peak", &v, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "no phase 'a'"), "%s", err);
	summary_del(run);
	return true;
}

static bool test_unknown_and_absent(void)
{
	struct mo_summary *run = doc(RUN_JSON), *bare = doc("{\"schema\":1,\"totals\":{\"rss\":{\"peak\":1},\"heap\":null}}");
	char err[512];
	double v;

	ASSERT_TRUE(run && bare, "test documents parse");
	ASSERT_EQ(metrics_get(run, "peak_rs", &v, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "unknown metric 'peak_rs'") && strstr(err, "peak_rss"), "%s", err);
	ASSERT_EQ(metrics_check_name("phase.render", err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "phase.NAME.FIELD"), "%s", err);
	ASSERT_EQ(metrics_check_name("phase.render.rss.peek", err, sizeof(err)), -EINVAL);
	ASSERT_EQ(metrics_check_name("phase..rss.peak", err, sizeof(err)), -EINVAL);
	ASSERT_EQ(metrics_check_name("phase.rss.peak", err, sizeof(err)), -EINVAL);
	ASSERT_EQ(metrics_check_name("", err, sizeof(err)), -EINVAL);
	ASSERT_EQ(metrics_check_name("phase.x.heap.free_count", err, sizeof(err)), 0);
	ASSERT_EQ(metrics_get(run, "phase.link.rss.peak", &v, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "no phase 'link'"), "%s", err);
	/* A null figure is absent: render.pages recorded no heap peak. */
	ASSERT_EQ(metrics_get(run, "phase.render.pages.heap.peak_live", &v, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "has no heap.peak_live"), "%s", err);
	ASSERT_EQ(metrics_get(bare, "peak_heap", &v, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "--heap"), "%s", err);
	ASSERT_EQ(metrics_get(bare, "duration", &v, err, sizeof(err)), -ENOENT);
	ASSERT_EQ(metrics_check_name("phase.x.heap.peak_over_baseline", err, sizeof(err)), 0);
	ASSERT_EQ(metrics_get(bare, "phase.main.rss.peak", &v, err, sizeof(err)), -ENOENT);
	summary_del(run);
	summary_del(bare);
	return true;
}

/* Without --heap the run has heap figures of 0 that were never measured. */
static bool test_heap_not_traced(void)
{
#define HEAP_RUN(traced) "{\"schema\":1,\"heap_traced\":" traced ",\"totals\":{\"rss\":{\"peak\":7}," \
	"\"heap\":{\"peak_live\":0,\"alloc_bytes\":0,\"alloc_count\":0}}," \
	"\"phases\":[{\"name\":\"x\",\"rss\":{\"peak\":5},\"heap\":{\"peak_live\":0}}]}"
	struct mo_summary *run = doc(HEAP_RUN("false"));
	char err[512];
	double v;

	ASSERT_TRUE(run, "test document parses");
	ASSERT_EQ(metrics_get(run, "peak_rss", &v, err, sizeof(err)), 0);
	ASSERT_EQ(metrics_get(run, "phase.x.rss.peak", &v, err, sizeof(err)), 0);
	static const char *const heap[] = { "peak_heap", "alloc_bytes", "alloc_count", "phase.x.heap.peak_live" };
	for (size_t i = 0; i < sizeof(heap) / sizeof(heap[0]); i++) {
		ASSERT_EQ(metrics_get(run, heap[i], &v, err, sizeof(err)), -ENOENT);
		ASSERT_TRUE(strstr(err, "without --heap"), "%s", err);
	}
	summary_del(run);
	/* The same figures measured: 0 is a value then. */
	run = doc(HEAP_RUN("true"));
	ASSERT_EQ(metrics_get(run, "peak_heap", &v, err, sizeof(err)), 0);
	ASSERT_EQ(v, 0);
	summary_del(run);
	return true;
}

static bool test_thresholds(void)
{
	struct mo_threshold t;
	char err[1024];

	ASSERT_EQ(metrics_parse_threshold("peak_rss=10%", &t, err, sizeof(err)), 0);
	ASSERT_STR_EQ(t.metric, "peak_rss");
	ASSERT_NEAR(t.max_growth_pct, 10, 0);
	ASSERT_EQ(metrics_parse_threshold("peak_rss=10", &t, err, sizeof(err)), 0);
	ASSERT_NEAR(t.max_growth_pct, 10, 0);
	ASSERT_EQ(metrics_parse_threshold("peak_heap=0.5%", &t, err, sizeof(err)), 0);
	ASSERT_NEAR(t.max_growth_pct, 0.5, 0);
	ASSERT_EQ(metrics_parse_threshold("duration=0", &t, err, sizeof(err)), 0);
	ASSERT_NEAR(t.max_growth_pct, 0, 0);
	ASSERT_EQ(metrics_parse_threshold("phase.render.heap.peak_live=5%", &t, err, sizeof(err)), 0);
	ASSERT_STR_EQ(t.metric, "phase.render.heap.peak_live");
	/* The split is at the last '=': a phase name may hold one. */
	ASSERT_EQ(metrics_parse_threshold("phase.k=v.rss.peak=.5%", &t, err, sizeof(err)), 0);
	ASSERT_STR_EQ(t.metric, "phase.k=v.rss.peak");
	ASSERT_NEAR(t.max_growth_pct, 0.5, 0);

	ASSERT_EQ(metrics_parse_threshold("peak_rss", &t, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "METRIC=PCT"), "%s", err);
	ASSERT_EQ(metrics_parse_threshold("=10%", &t, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(metrics_parse_threshold("peak_rss=", &t, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "missing"), "%s", err);
	ASSERT_EQ(metrics_parse_threshold("peak_rss=-5%", &t, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "negative"), "%s", err);
	static const char *const garbage[] = { "peak_rss=abc", "peak_rss=10%%", "peak_rss=1.2.3", "peak_rss=%",
					       "peak_rss=.", "peak_rss=0x10", "peak_rss=inf", "peak_rss=nan",
					       "peak_rss=+5", "peak_rss=5 %", "peak_rss=5%x", "peak_rss= 5" };
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		ASSERT_EQ(metrics_parse_threshold(garbage[i], &t, err, sizeof(err)), -EINVAL);
		ASSERT_TRUE(strstr(err, "not a percentage"), "%s: %s", garbage[i], err);
	}
	ASSERT_EQ(metrics_parse_threshold("peak_rsss=10%", &t, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "unknown metric 'peak_rsss'"), "%s", err);
	char longname[400];

	memset(longname, 'x', sizeof(longname));
	memcpy(longname, "phase.", 6);
	strcpy(longname + 380, ".rss.peak=1");
	ASSERT_EQ(metrics_parse_threshold(longname, &t, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "too long"), "%s", err);
	return true;
}

static bool test_parse_size(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "4096", 4096 }, { "512KiB", 512 << 10 }, { "512K", 512 << 10 }, { "2GiB", 2ull << 30 },
		{ "2 GiB", 2ull << 30 }, { "100MB", 100000000 }, { "1kB", 1000 }, { "1.5MiB", 3 << 19 },
		{ "10B", 10 }, { "1tib", 1ull << 40 }, { "3m", 3 << 20 }, { ".5KiB", 512 },
		{ "8388607TiB", 8388607ull << 40 },
	};
	static const char *const bad[] = { "", "KiB", "-1", "+1", "1 2", "1XB", "0x10", "1..5K", ".", "1KiB ", "inf" };
	char err[256];
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT_EQ(units_parse_size(good[i].s, &v, err, sizeof(err)), 0);
		ASSERT_TRUE(v == good[i].v, "%s: %" PRIu64 " != %" PRIu64, good[i].s, v, good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(units_parse_size(bad[i], &v, err, sizeof(err)), -EINVAL);
		ASSERT_TRUE(strstr(err, bad[i]), "%s", err);
	}
	ASSERT_EQ(units_parse_size("8388608TiB", &v, err, sizeof(err)), -ERANGE);
	ASSERT_EQ(units_parse_size("99999999999999999999", &v, err, sizeof(err)), -ERANGE);
	ASSERT_EQ(units_parse_size("9000000.5TiB", &v, err, sizeof(err)), -ERANGE);
	return true;
}

static bool test_format(void)
{
	char buf[64];

	ASSERT_STR_EQ(units_fmt_size(0, buf, sizeof(buf)), "0 B");
	ASSERT_STR_EQ(units_fmt_size(1023, buf, sizeof(buf)), "1023 B");
	ASSERT_STR_EQ(units_fmt_size(1536, buf, sizeof(buf)), "1.5 KiB");
	ASSERT_STR_EQ(units_fmt_size(48.25 * 1048576, buf, sizeof(buf)), "48.2 MiB");
	ASSERT_STR_EQ(units_fmt_size(2.05 * 1073741824, buf, sizeof(buf)), "2.05 GiB");
	ASSERT_STR_EQ(units_fmt_size(3.0 * 1099511627776, buf, sizeof(buf)), "3.00 TiB");
	ASSERT_STR_EQ(units_fmt_size(-1572864, buf, sizeof(buf)), "-1.5 MiB");
	ASSERT_STR_EQ(units_fmt(1.234, MO_UNIT_SECONDS, buf, sizeof(buf)), "1.23 s");
	ASSERT_STR_EQ(units_fmt(42, MO_UNIT_COUNT, buf, sizeof(buf)), "42");
	ASSERT_STR_EQ(units_fmt_delta(1572864, MO_UNIT_BYTES, buf, sizeof(buf)), "+1.5 MiB");
	ASSERT_STR_EQ(units_fmt_delta(-0.2, MO_UNIT_SECONDS, buf, sizeof(buf)), "-0.20 s");
	ASSERT_STR_EQ(units_fmt_delta(0, MO_UNIT_COUNT, buf, sizeof(buf)), "+0");
	ASSERT_NEAR(units_change_pct(100, 110), 10, 1e-9);
	ASSERT_NEAR(units_change_pct(-100, -50), 50, 1e-9);
	ASSERT_NEAR(units_change_pct(0, 0), 0, 0);
	ASSERT_TRUE(isinf(units_change_pct(0, 5)) && units_change_pct(0, 5) > 0, "growth from 0 is +inf");
	ASSERT_STR_EQ(units_fmt_pct(12.345, buf, sizeof(buf)), "+12.3%");
	ASSERT_STR_EQ(units_fmt_pct(-0.44, buf, sizeof(buf)), "-0.4%");
	ASSERT_STR_EQ(units_fmt_pct(0.01, buf, sizeof(buf)), "0.0%");
	ASSERT_STR_EQ(units_fmt_pct(INFINITY, buf, sizeof(buf)), "+inf%");
	return true;
}

int main(void)
{
	RUN(test_totals);
	RUN(test_phase_metrics);
	RUN(test_dotted_phase_names);
	RUN(test_unknown_and_absent);
	RUN(test_heap_not_traced);
	RUN(test_thresholds);
	RUN(test_parse_size);
	RUN(test_format);
	return check_summary();
}

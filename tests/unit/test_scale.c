// SPDX-License-Identifier: GPL-2.0
/* memobs scale without running anything: --sizes, the {} expansion, the
 * metrics of synthetic run documents, medians, items as sizes, predictions,
 * the budget, and the table, run set and SVG rendered from them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "scale/scale.h"
#include "scale/scale_exec.h"
#include "scale/scale_json.h"
#include "scale/scale_svg.h"
#include "scale/scale_text.h"

#define KiB 1024.0
#define MiB (1024.0 * 1024.0)

static bool test_parse_sizes(void)
{
	uint64_t *sizes;
	size_t n;
	char err[256];

	ASSERT_EQ(scale_parse_sizes("5000,100,1000", &sizes, &n, err, sizeof(err)), 0);
	ASSERT_EQ(n, 3);
	ASSERT_EQ(sizes[0], 100);
	ASSERT_EQ(sizes[1], 1000);
	ASSERT_EQ(sizes[2], 5000);
	free(sizes);
	ASSERT_EQ(scale_parse_sizes("100,1000", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "2 sizes: fitting a + b*N^k needs at least 3 distinct sizes");
	ASSERT_TRUE(!sizes, "nothing to free on error");
	ASSERT_EQ(scale_parse_sizes("1,2,1k", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "'1k' is not a size: sizes are whole numbers, e.g. --sizes 100,1000,5000");
	ASSERT_EQ(scale_parse_sizes("1,-2,3", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(scale_parse_sizes("1,2,3,", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "an empty size in the list: sizes are whole numbers separated by commas");
	ASSERT_EQ(scale_parse_sizes("0,2,3", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(scale_parse_sizes("1,2,1000000000000001", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(scale_parse_sizes("1,2,1000000000000000", &sizes, &n, err, sizeof(err)), 0);
	free(sizes);
	ASSERT_EQ(scale_parse_sizes("7,8,7", &sizes, &n, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "size 7 is given twice: --repeat runs each size several times");
	return true;
}

static bool test_expand(void)
{
	char *tmpl[] = { "./build", "--pages={}", "{}{}", "plain", NULL };
	char *none[] = { "./build", "{ }", NULL };
	char **argv = scale_exec_expand(tmpl, 42);

	ASSERT_TRUE(argv, "expanded");
	ASSERT_STR_EQ(argv[0], "./build");
	ASSERT_STR_EQ(argv[1], "--pages=42");
	ASSERT_STR_EQ(argv[2], "4242");
	ASSERT_STR_EQ(argv[3], "plain");
	ASSERT_TRUE(!argv[4], "NULL-terminated");
	scale_exec_free_argv(argv);
	ASSERT_TRUE(scale_exec_has_placeholder(tmpl), "{} found");
	ASSERT_TRUE(!scale_exec_has_placeholder(none), "no {}");
	return true;
}

/* A run document at size n: peak RSS 1 MiB + 64 KiB per unit (plus
 * `extra`), phase "render" with 2n items at 32 KiB each, phase "setup"
 * fixed at 5 MiB, and phase "late" only from size 1000 on. */
static cJSON *synthetic_run(double n, double extra, const char *odd_phase)
{
	char json[2048];
	int len;

	len = snprintf(json, sizeof(json),
		       "{\"schema\":1,\"heap_traced\":false,\"exit_status\":0,\"duration_s\":%.3f,"
		       "\"totals\":{\"rss\":{\"peak\":%.0f}},\"phases\":["
		       "{\"name\":\"main\",\"items\":0,\"rss\":{\"peak_over_baseline\":%.0f}},"
		       "{\"name\":\"setup\",\"items\":0,\"rss\":{\"peak_over_baseline\":%.0f}},"
		       "{\"name\":\"render\",\"items\":%.0f,\"rss\":{\"peak_over_baseline\":%.0f}}",
		       0.5 + 0.001 * n, MiB + 64 * KiB * n + extra, MiB + 64 * KiB * n, 5 * MiB, 2 * n,
		       32 * KiB * 2 * n);
	if (n >= 1000)
		len += snprintf(json + len, sizeof(json) - len, ",{\"name\":\"late\",\"rss\":{\"peak_over_baseline\":%.0f}}",
				n);
	if (odd_phase)
		len += snprintf(json + len, sizeof(json) - len, ",{\"name\":\"%s\",\"rss\":{\"peak_over_baseline\":%.0f}}",
				odd_phase, 100 * n);
	snprintf(json + len, sizeof(json) - len, "]}");
	return cJSON_Parse(json);
}

static uint64_t sweep_sizes[] = { 100, 1000, 5000 };
static char *command[] = { "./build", "--pages", "{}", NULL };

/* Three repeats per size; one of them an outlier the median ignores. */
static bool make_sweep(struct mo_scale *s, const char *odd_phase)
{
	scale_init(s);
	s->setup.command = command;
	s->setup.sizes = malloc(sizeof(sweep_sizes));
	ASSERT_TRUE(s->setup.sizes, "allocated");
	memcpy(s->setup.sizes, sweep_sizes, sizeof(sweep_sizes));
	s->setup.nsizes = 3;
	s->setup.repeat = 3;
	s->setup.predict = 10000;
	s->setup.budget = 1ull << 30;
	for (size_t i = 0; i < 3; i++)
		for (unsigned r = 1; r <= 3; r++) {
			double extra = r == 2 ? (i == 1 ? 300 * MiB : 0) : r == 3 ? 8 * KiB : 4 * KiB;

			cJSON *doc = synthetic_run(sweep_sizes[i], extra, odd_phase);

			ASSERT_TRUE(doc, "test document parses");
			ASSERT_EQ(scale_add_run(s, sweep_sizes[i], r, doc), 0);
		}
	ASSERT_EQ(scale_fit(s), 0);
	return true;
}

static bool test_metrics(void)
{
	const struct mo_scale_metric *m;
	struct mo_scale s;
	double v, n;

	ASSERT_TRUE(make_sweep(&s, NULL), "sweep");
	ASSERT_EQ(s.nmetrics, 5);
	ASSERT_STR_EQ(s.metrics[0].name, "peak_rss");
	ASSERT_STR_EQ(s.metrics[1].name, "duration");
	ASSERT_STR_EQ(s.metrics[2].name, "phase.setup.rss.peak_over_baseline");
	ASSERT_STR_EQ(s.metrics[3].name, "phase.render.rss.peak_over_baseline");
	ASSERT_STR_EQ(s.metrics[4].name, "phase.late.rss.peak_over_baseline");

	m = scale_metric(&s, "peak_rss");
	ASSERT_TRUE(m && !m->err, "peak_rss fitted");
	ASSERT_TRUE(!m->by_items, "the root counted no items");
	ASSERT_EQ(m->npoints, 3);
	ASSERT_NEAR(m->points[1].value, MiB + 64 * KiB * 1000 + 8 * KiB, 0);	/* the median, not the outlier */
	ASSERT_EQ(m->fit.shape, MO_FIT_LINEAR);
	ASSERT_NEAR(m->fit.b, 64 * KiB, 1);
	ASSERT_EQ(scale_predict(m, 10000, &v, &n, NULL), 0);
	ASSERT_NEAR(n, 10000, 0);
	ASSERT_NEAR(v, MiB + 64 * KiB * 10000 + 4 * KiB, 4 * KiB);	/* medians 4, 8, 4 KiB over */

	m = scale_metric(&s, "phase.render.rss.peak_over_baseline");
	ASSERT_TRUE(m && !m->err && m->by_items, "render fitted against its items");
	ASSERT_NEAR(m->points[2].n, 10000, 0);
	ASSERT_NEAR(m->fit.b, 32 * KiB, 1e-6);
	ASSERT_NEAR(m->items_fit.b, 2, 1e-9);
	ASSERT_EQ(scale_predict(m, 10000, &v, &n, NULL), 0);
	ASSERT_NEAR(n, 20000, 1e-6);
	ASSERT_NEAR(v, 32 * KiB * 20000, 1);

	m = scale_metric(&s, "phase.setup.rss.peak_over_baseline");
	ASSERT_TRUE(m && !m->err, "setup fitted");
	ASSERT_EQ(m->fit.shape, MO_FIT_CONSTANT);
	ASSERT_NEAR(m->fit.a, 5 * MiB, 0);

	m = scale_metric(&s, "phase.late.rss.peak_over_baseline");
	ASSERT_TRUE(m && m->err == -EINVAL, "two sizes cannot be fitted");
	ASSERT_STR_EQ(m->why, "2 distinct sizes: a fit of a + b*N^k needs at least 3");
	ASSERT_EQ(scale_predict(m, 10000, &v, &n, NULL), -ENOENT);
	ASSERT_TRUE(!scale_metric(&s, "peak_heap"), "no heap metrics without the heap");
	scale_free(&s);
	return true;
}

static bool test_budget(void)
{
	struct mo_scale_budget b;
	struct mo_scale s;
	char err[256];

	ASSERT_TRUE(make_sweep(&s, NULL), "sweep");
	ASSERT_EQ(scale_budget(&s, &b, err, sizeof(err)), 0);
	ASSERT_TRUE(b.fits, "626 MiB fit in 1 GiB");
	ASSERT_NEAR(b.margin, (1 << 30) - b.predicted, 1e-6);
	s.setup.budget = 512ull << 20;
	ASSERT_EQ(scale_budget(&s, &b, err, sizeof(err)), 0);
	ASSERT_TRUE(!b.fits && b.margin < 0, "626 MiB do not fit in 512 MiB");
	scale_free(&s);
	return true;
}

static char *render(int (*fn)(FILE *, const struct mo_scale *), void (*text)(FILE *, const struct mo_scale *),
		    const struct mo_scale *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (fn && fn(f, s)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (text)
		text(f, s);
	fclose(f);
	return buf;
}

static bool test_text(void)
{
	struct mo_scale s;
	char *out;

	ASSERT_TRUE(make_sweep(&s, NULL), "sweep");
	out = render(NULL, scale_text, &s);
	ASSERT_TRUE(out, "rendered");
	ASSERT_TRUE(strstr(out, "memobs scale: ./build --pages {}\n"), "%s", out);
	ASSERT_TRUE(strstr(out, "sizes 100, 1000, 5000; 3 runs each (median)"), "%s", out);
	ASSERT_TRUE(strstr(out, "1.0 MiB + 64.0 KiB*N      1.00 1.0000 linear"), "%s", out);
	ASSERT_TRUE(strstr(out, "phase.render.rss.peak_over_baseline\n                     items"), "%s", out);
	ASSERT_TRUE(strstr(out, "not fitted: 2 distinct sizes"), "%s", out);
	ASSERT_TRUE(strstr(out, "(at 20000 items) 625.0 MiB +- 0 B"), "%s", out);
	ASSERT_TRUE(strstr(out, "budget: peak_rss at size 10000 is predicted at 626.0 MiB +- "), "%s", out);
	ASSERT_TRUE(strstr(out, "61.1% of the 1.00 GiB budget:\n        it fits, 398.0 MiB to spare"), "%s", out);
	for (const char *l = out; *l; l = strchr(l, '\n') + 1)
		ASSERT_TRUE(strchr(l, '\n') - l <= 100, "%.*s", (int)(strchr(l, '\n') - l), l);
	free(out);
	scale_free(&s);
	return true;
}

static bool test_json(void)
{
	const cJSON *m, *fit;
	struct mo_scale s;
	char *text;
	cJSON *doc;

	ASSERT_TRUE(make_sweep(&s, NULL), "sweep");
	text = scale_json_render(&s);
	ASSERT_TRUE(text, "rendered");
	doc = cJSON_Parse(text);
	ASSERT_TRUE(doc, "valid JSON");
	ASSERT_STR_EQ(cJSON_GetObjectItem(doc, "kind")->valuestring, "memobs-scale");
	ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "runs")), 9);
	ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "sizes")), 3);
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "metrics"), 0);
	fit = cJSON_GetObjectItem(m, "fit");
	ASSERT_STR_EQ(cJSON_GetObjectItem(fit, "shape")->valuestring, "linear");
	ASSERT_NEAR(cJSON_GetObjectItem(fit, "per_unit")->valuedouble, 64 * KiB, 1);
	ASSERT_EQ(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "points"), 1), "value")->valuedouble,
		  MiB + 64 * KiB * 1000 + 8 * KiB);
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "budget"), "fits")), "fits");
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "metrics"), 2);
	ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "fit"), "r2")), "constant: no R^2");
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "metrics"), 4);
	ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(m, "fit")), "late: not fitted");
	ASSERT_STR_EQ(cJSON_GetObjectItem(m, "error")->valuestring, "2 distinct sizes: a fit of a + b*N^k needs at least 3");
	cJSON_Delete(doc);
	free(text);
	scale_free(&s);
	return true;
}

static bool test_svg(void)
{
	struct mo_scale s;
	char *a, *b;

	ASSERT_TRUE(make_sweep(&s, "<b>&amp;\\\"'"), "sweep");
	a = render(scale_svg, NULL, &s);
	b = render(scale_svg, NULL, &s);
	ASSERT_TRUE(a && b, "rendered");
	ASSERT_TRUE(!strcmp(a, b), "the same sweep gives the same bytes");
	ASSERT_TRUE(!strncmp(a, "<?xml", 5) && strstr(a, "</svg>\n"), "a whole document");
	ASSERT_TRUE(strstr(a, "phase.&lt;b&gt;&amp;amp;&quot;&#39;.rss.peak_over_baseline"), "names escaped");
	ASSERT_TRUE(!strstr(a, "<b>"), "no markup from a phase name");
	ASSERT_TRUE(strstr(a, "budget 1.00 GiB"), "the budget line");
	ASSERT_TRUE(strstr(a, "predicted at size 10000"), "the prediction");
	ASSERT_TRUE(strstr(a, "stroke-dasharray=\"6 4\""), "the curve beyond the sweep");
	ASSERT_TRUE(strstr(a, ">64 MiB<") && strstr(a, ">1000<"), "round labels on both axes");
	free(a);
	free(b);
	scale_free(&s);
	return true;
}

int main(void)
{
	RUN(test_parse_sizes);
	RUN(test_expand);
	RUN(test_metrics);
	RUN(test_budget);
	RUN(test_text);
	RUN(test_json);
	RUN(test_svg);
	return check_summary();
}

// SPDX-License-Identifier: GPL-2.0
/* The SVG timeline and the chart geometry under it: well-formed and escaped
 * whatever the names, degenerate timelines, nested phases, determinism. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "report/chart.h"
#include "report_fixture.h"
#include "report/report_svg.h"

static char *svg_of(const struct mo_run *run, size_t processes)
{
	struct mo_svg_opts o = { .processes = processes };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret = report_svg(f, run, &o);

	fclose(f);
	if (ret) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool test_axes(void)
{
	struct mo_axis ax;
	char buf[32];

	chart_axis_bytes(32.7 * MiB, &ax);
	ASSERT_STR_EQ(ax.unit_name, "MiB");
	ASSERT_NEAR(ax.step, 10 * MiB, 1);
	ASSERT_EQ(ax.nticks, 4);
	ASSERT_STR_EQ(chart_axis_label(&ax, 4, buf, sizeof(buf)), "40 MiB");
	ASSERT_STR_EQ(chart_axis_label(&ax, 0, buf, sizeof(buf)), "0");
	/* A value right under a round top leaves no room for its label. */
	chart_axis_bytes(39.9 * MiB, &ax);
	ASSERT_EQ(ax.nticks, 5);
	chart_axis_bytes(3.0 * (1LL << 30), &ax);
	ASSERT_STR_EQ(ax.unit_name, "GiB");
	ASSERT_TRUE(ax.max >= 3.0 * (1LL << 30), "3 GiB fits");
	chart_axis_bytes(0, &ax);
	ASSERT_TRUE(ax.max > 0, "an empty axis still has a scale");
	/* The time axis ends where the run ends, its last tick before. */
	chart_axis_seconds(20.07, &ax);
	ASSERT_NEAR(ax.step, 2.5, 1e-9);
	ASSERT_NEAR(ax.max, 20.07, 1e-9);
	ASSERT_EQ(ax.nticks, 8);
	ASSERT_STR_EQ(chart_axis_label(&ax, 1, buf, sizeof(buf)), "2.5 s");
	chart_axis_seconds(0.3, &ax);
	ASSERT_STR_EQ(chart_axis_label(&ax, 1, buf, sizeof(buf)), "0.05 s");
	chart_axis_seconds(3600, &ax);
	ASSERT_STR_EQ(ax.unit_name, "min");
	ASSERT_NEAR(ax.max, 3600, 1e-6);
	return true;
}

static bool test_boxes(void)
{
	struct mo_boxes bs = {};
	struct mo_box a = { 0, 0, 10, 10 }, b = { 10, 0, 20, 10 }, c = { 5, 5, 15, 15 };

	ASSERT_TRUE(chart_boxes_fit(&bs, &a), "nothing to overlap");
	ASSERT_EQ(chart_boxes_add(&bs, &a), 0);
	ASSERT_TRUE(chart_boxes_fit(&bs, &b), "touching is not overlapping");
	ASSERT_TRUE(!chart_boxes_fit(&bs, &c), "overlapping boxes");
	chart_boxes_free(&bs);
	ASSERT_EQ(chart_text_width("h\xc3\xa9", 10), 12);
	return true;
}

/* The checker the other tests rely on does reject what it must. */
static bool test_checker_rejects(void)
{
	const char *const bad[] = { "<a>&</a>", "<a><b></a></b>", "<a x=1/>", "<a>\x01</a>", "<a>\xff</a>",
				    "<a>\xef\xbf\xbe</a>", "<a x=\"<\"/>", "<a>" };
	char why[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_TRUE(!xml_well_formed(bad[i], false, why, sizeof(why)), "accepted %s", bad[i]);
	ASSERT_TRUE(xml_well_formed("<a x=\"&amp;&#39;\"><b/>&lt;</a>", false, why, sizeof(why)), "%s", why);
	return true;
}

static bool test_well_formed_and_labelled(void)
{
	struct mo_run run;
	char *svg, why[160];

	fixture_run(&run, NULL, 50);
	svg = svg_of(&run, 2);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	ASSERT_TRUE(!strncmp(svg, "<?xml", 5), "standalone: XML declaration");
	/* Phase labels, each phase's peak value, marks, legend, axes. */
	ASSERT_HAS(svg, ">outer</text>", ">inner</text>", ">late</text>", ">first</text>", ">second</text>",
		   ">48.0 MiB</text>", ">40.0 MiB</text>", ">64.0 MiB</text>", ">memobs: make x</text>",
		   ">anon RSS</text>", ">file RSS</text>", ">live heap</text>", ">0</text>", ">20 MiB</text>",
		   ">10 s</text>");
	/* The two top processes, not memobs's own marker process. */
	ASSERT_HAS(svg, ">cc1 100: 60.0 MiB</text>", ">ld 101: 20.0 MiB</text>");
	ASSERT_TRUE(!strstr(svg, "memobs 102"), "memobs's own marker process is not drawn");
	ASSERT_TRUE(!strstr(svg, "kind unknown"), "members add up: no unsplit layer");
	free(svg);
	return true;
}

static bool test_hostile_names_escaped(void)
{
	struct mo_run run;
	char *svg, why[160];

	fixture_run(&run, hostile, 20);
	svg = svg_of(&run, 3);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	ASSERT_TRUE(!strstr(svg, "<script"), "no raw script tag");
	ASSERT_TRUE(!strstr(svg, "]]>"), "no CDATA end");
	ASSERT_HAS(svg, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
	free(svg);
	return true;
}

static bool test_empty_timeline(void)
{
	struct mo_run run;
	char *svg, why[160];

	/* No samples, no phases, no processes: a frame that says so. */
	run_init(&run);
	svg = svg_of(&run, 3);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	ASSERT_HAS(svg, "no timeline samples", "memobs: pid 0");
	ASSERT_TRUE(!strstr(svg, "nan") && !strstr(svg, "inf"), "finite coordinates");
	free(svg);
	fixture_run(&run, NULL, 0);
	svg = svg_of(&run, 0);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	ASSERT_HAS(svg, "no timeline samples", ">outer</text>");
	free(svg);
	return true;
}

static bool test_single_sample(void)
{
	struct mo_run run;
	char *svg, why[160];

	fixture_run(&run, NULL, 1);
	svg = svg_of(&run, 0);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	ASSERT_TRUE(!strstr(svg, "no timeline samples"), "one sample is a timeline");
	ASSERT_HAS(svg, "<path fill=\"#4c72b0\" d=\"M", "class=\"heap\"");
	ASSERT_TRUE(!strstr(svg, "nan") && !strstr(svg, "inf"), "finite coordinates");
	free(svg);
	return true;
}

/* The band of the phase named name: its rectangle's geometry. */
static bool band_of(const char *svg, const char *name, double *x, double *y, double *w)
{
	char key[80];
	const char *t, *r;

	snprintf(key, sizeof(key), "<title>%s:", name);
	t = strstr(svg, key);
	if (!t)
		return false;
	for (r = t; r > svg && strncmp(r, "<rect ", 6); r--)
		;
	return sscanf(r, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\"", x, y, w) == 3;
}

static bool test_nested_phase_inside_parent(void)
{
	struct mo_run run;
	double ox, oy, ow, ix, iy, iw, lx, ly, lw;
	char *svg;

	fixture_run(&run, NULL, 30);
	svg = svg_of(&run, 0);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(band_of(svg, "outer", &ox, &oy, &ow) && band_of(svg, "inner", &ix, &iy, &iw) &&
		    band_of(svg, "late", &lx, &ly, &lw), "bands");
	ASSERT_TRUE(ix > ox && ix + iw < ox + ow, "inner [%g,%g] within outer [%g,%g]", ix, ix + iw, ox, ox + ow);
	ASSERT_TRUE(iy > oy, "inner starts below its parent's top");
	ASSERT_NEAR(ly, oy, 1e-9);
	/* Drawn after its parent, so on top of it. */
	ASSERT_TRUE(strstr(svg, "<title>inner:") > strstr(svg, "<title>outer:"), "inner drawn after outer");
	ASSERT_TRUE(!strstr(svg, "<title>main:"), "the root band is the whole run: not drawn");
	free(svg);
	return true;
}

/* Dozens of short phases: the labels that fit, the rest named by their
 * band's tooltip, never a pile of overlapping text. */
static bool test_crowded_phases(void)
{
	struct mo_run run;
	char *svg, why[160], key[32];
	size_t labels = 0;

	fixture_run(&run, NULL, 30);
	for (int i = 0; i < 80; i++) {
		snprintf(key, sizeof(key), "page-%02d", i);
		fixture_phase(&run, key, 1, 2, 1 + i * 0.05, 1.04 + i * 0.05, 30 * MiB);
	}
	svg = svg_of(&run, 0);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	for (int i = 0; i < 80; i++) {
		snprintf(key, sizeof(key), "<title>page-%02d:", i);
		ASSERT_TRUE(strstr(svg, key), "%s", key);
		snprintf(key, sizeof(key), ">page-%02d</text>", i);
		labels += strstr(svg, key) != NULL;
	}
	ASSERT_TRUE(labels > 10 && labels < 80, "%zu of 80 labels drawn", labels);
	ASSERT_HAS(svg, ">outer</text>", ">late</text>");
	free(svg);
	return true;
}

/* A document may hold anything: nothing hangs, nothing leaves the frame. */
static bool test_absurd_values(void)
{
	struct mo_run run;
	struct mo_sample back = { .t = -5, .rss = -1 };
	char *svg, why[160];

	fixture_run(&run, NULL, 5);
	fixture_phase(&run, "deep", 1, UINT32_MAX, 8, 2, -7);
	run.phases[1].start_s = -100;
	run_add_sample(&run, &back, 0);
	run.duration_s = -1;
	svg = svg_of(&run, 8);
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	ASSERT_TRUE(xml_well_formed(svg, false, why, sizeof(why)), "%s", why);
	ASSERT_HAS(svg, ">deep</text>");
	ASSERT_TRUE(!strstr(svg, "nan") && !strstr(svg, "inf") && !strstr(svg, "=\"-"), "inside the frame");
	free(svg);
	return true;
}

static bool test_deterministic(void)
{
	struct mo_run a, b;
	char *x, *y;

	fixture_run(&a, NULL, 40);
	fixture_run(&b, NULL, 40);
	x = svg_of(&a, 2);
	y = svg_of(&b, 2);
	ASSERT_TRUE(x && y, "rendered");
	ASSERT_STR_EQ(x, y);
	free(y);
	y = svg_of(&a, 2);
	ASSERT_STR_EQ(x, y);
	free(x);
	free(y);
	run_free(&a);
	run_free(&b);
	return true;
}

/* The y of the lane bar whose tooltip starts with what. */
static double lane_y(const char *svg, const char *what)
{
	char key[80];
	const char *t, *r;
	double x, y;

	snprintf(key, sizeof(key), "><title>%s", what);
	t = strstr(svg, key);
	for (r = t; r && r > svg && strncmp(r, "<rect ", 6); r--)
		;
	return r && sscanf(r, "<rect x=\"%lf\" y=\"%lf\"", &x, &y) == 2 ? y : -1;
}

/* Issue 18, item 5: the time axis ends with the run; no band for the root;
 * processes alive at once in lanes of their own; the y axis says what it
 * measures. */
static bool test_timeline_frame(void)
{
	struct mo_run run;
	double xmax = 0;
	char *svg, *p, *end;

	fixture_run(&run, NULL, 30);
	run.duration_s = 10.3;
	fixture_proc(&run, 103, "as", "x", 0.2, 0.4, 10 * MiB);
	svg = svg_of(&run, 3);
	ASSERT_TRUE(svg, "rendered");
	/* The last sample (9.9 s) is at 9.9/10.3 of the plot, not 9.9/11. */
	p = strstr(svg, "<path fill=\"#4c72b0\" d=\"M");
	end = p ? strstr(p, " Z") : NULL;
	for (char *q = p; q && (q = strchr(q + 1, 'L')) && q < end;)
		xmax = fmax(xmax, strtod(q + 1, NULL));
	ASSERT_TRUE(xmax > 76 + 900 * 9.8 / 10.3, "the last sample at x %g", xmax);
	ASSERT_TRUE(!strstr(svg, ">11 s</text>"), "no tick past the run's end");
	ASSERT_HAS(svg, "rotate(-90)\" text-anchor=\"middle\">session RSS by kind, live heap</text>");
	/* cc1 [0.5, 9.5] and ld [6, 9] overlap: two lanes; as [0.2, 0.4] ends before ld starts. */
	ASSERT_TRUE(lane_y(svg, "cc1 100") >= 0 && lane_y(svg, "ld 101") >= 0, "bars drawn");
	ASSERT_TRUE(lane_y(svg, "cc1 100") != lane_y(svg, "ld 101"), "overlapping lifetimes share no lane");
	free(svg);
	/* Only the root: no band over the whole plot. */
	run.nphases = 1;
	svg = svg_of(&run, 0);
	run.nphases = 4;
	run_free(&run);
	ASSERT_TRUE(svg, "rendered");
	p = strstr(svg, "fill-opacity=\"0.35\"");
	free(svg);
	ASSERT_TRUE(!p, "a band over the whole plot for the root");
	return true;
}

int main(void)
{
	RUN(test_axes);
	RUN(test_boxes);
	RUN(test_checker_rejects);
	RUN(test_well_formed_and_labelled);
	RUN(test_hostile_names_escaped);
	RUN(test_empty_timeline);
	RUN(test_single_sample);
	RUN(test_nested_phase_inside_parent);
	RUN(test_crowded_phases);
	RUN(test_absurd_values);
	RUN(test_deterministic);
	RUN(test_timeline_frame);
	return check_summary();
}

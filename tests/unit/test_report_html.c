// SPDX-License-Identifier: GPL-2.0
/* The HTML report: self-contained, escaped whatever the names, every
 * section present, stack sections only when the run sampled stacks or has
 * sites. */
#include <stdlib.h>
#include "check.h"
#include "report_fixture.h"
#include "report/report_html.h"

static char *html_of(const struct mo_run *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret = report_html(f, run, 2);

	fclose(f);
	if (ret) {
		free(buf);
		return NULL;
	}
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static bool test_sections(void)
{
	struct mo_run run;
	char *html, why[160];

	fixture_run(&run, NULL, 30);
	html = html_of(&run);
	run_free(&run);
	ASSERT_TRUE(html, "rendered");
	ASSERT_TRUE(xml_well_formed(html, true, why, sizeof(why)), "%s", why);
	ASSERT_TRUE(!strncmp(html, "<!DOCTYPE html>", 15), "a standards-mode page");
	ASSERT_HAS(html, "<svg xmlns=\"http://www.w3.org/2000/svg\"", "id=\"phases\"", "id=\"processes\"",
		   "id=\"by-command\"", "id=\"marks\"", "id=\"drops\"", "id=\"warnings\"", "<table class=\"sortable\">",
		   "<script>");
	ASSERT_TRUE(!strstr(html, "<?xml"), "no XML declaration inside HTML");
	/* Phase rows, nested indented deeper; process rows with sortable values. */
	ASSERT_HAS(html, "<td class=\"wrap\" style=\"padding-left:22px\">outer</td>",
		   "<td class=\"wrap\" style=\"padding-left:38px\">inner</td>",
		   "<td class=\"n\" data-v=\"62914560\">60.0 MiB</td>", ">cc1</td>", ">memobs marker</td>");
	ASSERT_EQ(count(html, "<tr><td class=\"n\" data-v=\"10"), 3);
	ASSERT_TRUE(!strstr(html, "id=\"top-allocators\"") && !strstr(html, "id=\"rss-growth-sites\""),
		    "no stack sections in a run that sampled no stacks");
	free(html);
	return true;
}

static bool test_self_contained(void)
{
	struct mo_run run;
	char *html;

	fixture_run(&run, NULL, 10);
	html = html_of(&run);
	run_free(&run);
	ASSERT_TRUE(html, "rendered");
	/* Nothing to fetch: the SVG namespace is a name, not a request. */
	ASSERT_EQ(count(html, "http"), 1);
	ASSERT_TRUE(!strstr(html, "src=") && !strstr(html, "href=") && !strstr(html, "@import") &&
		    !strstr(html, "url("), "no external resource");
	free(html);
	return true;
}

static bool test_hostile_names_escaped(void)
{
	struct mo_run run;
	struct mo_site_where where = { strv("a.c:1", "<b.c>:2", NULL), strdup("<i>cc"), strdup("/bin/\"x\"") };
	char *html, why[160];

	fixture_run(&run, hostile, 10);
	run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "<img src=x onerror=alert(1)>", NULL), 2, &where, 1048576,
		     3, 0);
	html = html_of(&run);
	run_free(&run);
	ASSERT_TRUE(html, "rendered");
	ASSERT_TRUE(xml_well_formed(html, true, why, sizeof(why)), "%s", why);
	/* The page's own and the flame graph's data and code: none from a name. */
	ASSERT_EQ(count(html, "<script"), 3);
	ASSERT_TRUE(!strstr(html, "<img"), "frames escaped");
	ASSERT_HAS(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;",
		   "<b>&lt;img src=x onerror=alert(1)&gt;</b>", "<td title=\"/bin/&quot;x&quot;\">&lt;i&gt;cc</td>",
		   "<span title=\"&lt;b.c&gt;:2\">");
	free(html);
	return true;
}

static bool test_stack_sections(void)
{
	struct mo_run run;
	struct mo_site_where where = { strv("/src/main.c:10", "", "/src/render.c:42"), strdup("cc1"),
				       strdup("/usr/lib/gcc/cc1") };
	char *html, why[160];

	fixture_run(&run, NULL, 10);
	run.alloc_sample_bytes = run.rss_sample_bytes = 4096;
	run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "render_page", "grow"), 3, &where, 94371840, 90, 1048576);
	run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "leak", NULL), 2, NULL, 4096, 1, 4096);
	run_add_site(&run, MO_SITE_OF_RSS, strv("main", "load_index", NULL), 2, NULL, 8388608, 2048, 0);
	html = html_of(&run);
	ASSERT_TRUE(html, "rendered");
	ASSERT_TRUE(xml_well_formed(html, true, why, sizeof(why)), "%s", why);
	ASSERT_HAS(html, "id=\"top-allocators\"", "id=\"rss-growth-sites\"",
		   "<td class=\"n\" data-v=\"94371840\">90.0 MiB</td>", "<th class=\"n\">live at end</th>",
		   "<th class=\"n\">faults</th>", "<b>load_index</b>", "<td class=\"n\" data-v=\"2048\">2048</td>",
		   /* The program, its executable on hover; each frame's file:line on
		    * hover, the leaf's file:line shown. */
		   "<td title=\"/usr/lib/gcc/cc1\">cc1</td>",
		   "<span title=\"/src/main.c:10\">main</span> &#8594; render_page &#8594; "
		   "<span title=\"/src/render.c:42\"><b>grow</b> <small>render.c:42</small></span>");
	ASSERT_TRUE(!strstr(html, "<th class=\"n\">count</th>"), "columns no site has are left out");
	ASSERT_EQ(count(html, "<td class=\"stack\">"), 3);
	free(html);
	run_free(&run);
	/* Sampled but none found: the section says so; without --heap, no allocation section. */
	fixture_run(&run, NULL, 10);
	run.alloc_sample_bytes = run.rss_sample_bytes = 4096;
	html = html_of(&run);
	ASSERT_TRUE(html, "rendered");
	ASSERT_HAS(html, "id=\"top-allocators\"", "none recorded");
	free(html);
	run.heap = false;
	html = html_of(&run);
	ASSERT_TRUE(html && !strstr(html, "id=\"top-allocators\"") && strstr(html, "id=\"rss-growth-sites\""),
		    "growth sites only");
	free(html);
	run_free(&run);
	return true;
}

static bool test_empty_run(void)
{
	struct mo_run run;
	char *html, why[160];

	run_init(&run);
	html = html_of(&run);
	ASSERT_TRUE(html, "rendered");
	ASSERT_TRUE(xml_well_formed(html, true, why, sizeof(why)), "%s", why);
	ASSERT_HAS(html, "no timeline samples", "Processes (0)", "not traced");
	free(html);
	return true;
}

static bool test_deterministic(void)
{
	struct mo_run a, b;
	char *x, *y;

	fixture_run(&a, NULL, 40);
	fixture_run(&b, NULL, 40);
	x = html_of(&a);
	y = html_of(&b);
	ASSERT_TRUE(x && y, "rendered");
	ASSERT_STR_EQ(x, y);
	free(x);
	free(y);
	run_free(&a);
	run_free(&b);
	return true;
}

int main(void)
{
	RUN(test_sections);
	RUN(test_self_contained);
	RUN(test_hostile_names_escaped);
	RUN(test_stack_sections);
	RUN(test_empty_run);
	RUN(test_deterministic);
	return check_summary();
}

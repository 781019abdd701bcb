// SPDX-License-Identifier: GPL-2.0
/* The HTML report: self-contained, escaped whatever the names, every
 * section present, stack sections only when the document has them. */
#include <stdlib.h>
#include "check.h"
#include "report_fixture.h"
#include "report/report_html.h"

static char *html_of(const struct mo_run *run, const cJSON *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret = report_html(f, run, doc, 2);

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
	html = html_of(&run, NULL);
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
		    "no stack sections without the arrays");
	free(html);
	return true;
}

static bool test_self_contained(void)
{
	struct mo_run run;
	char *html;

	fixture_run(&run, NULL, 10);
	html = html_of(&run, NULL);
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
	cJSON *doc = cJSON_Parse("{\"top_allocators\":[{\"frames\":[\"main\",\"<img src=x onerror=alert(1)>\"],"
				 "\"alloc_bytes\":1048576,\"alloc_count\":3,\"live_bytes\":0}]}");
	char *html, why[160];

	fixture_run(&run, hostile, 10);
	html = html_of(&run, doc);
	run_free(&run);
	cJSON_Delete(doc);
	ASSERT_TRUE(html, "rendered");
	ASSERT_TRUE(xml_well_formed(html, true, why, sizeof(why)), "%s", why);
	ASSERT_EQ(count(html, "<script"), 1);
	ASSERT_TRUE(!strstr(html, "<img"), "frames escaped");
	ASSERT_HAS(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;",
		   "<b>&lt;img src=x onerror=alert(1)&gt;</b>");
	free(html);
	return true;
}

static bool test_stack_sections(void)
{
	struct mo_run run;
	cJSON *doc = cJSON_Parse(
		"{\"top_allocators\":[{\"frames\":[\"main\",\"render_page\",\"grow\"],\"alloc_bytes\":94371840,"
		"\"alloc_count\":90,\"live_bytes\":1048576},{\"frames\":[\"main\",\"leak\"],\"alloc_bytes\":4096,"
		"\"alloc_count\":1,\"live_bytes\":4096}],"
		"\"rss_growth_sites\":[{\"frames\":[\"main\",\"load_index\"],\"bytes\":8388608,\"faults\":2048}]}");
	char *html, why[160];

	fixture_run(&run, NULL, 10);
	html = html_of(&run, doc);
	ASSERT_TRUE(html, "rendered");
	ASSERT_TRUE(xml_well_formed(html, true, why, sizeof(why)), "%s", why);
	ASSERT_HAS(html, "id=\"top-allocators\"", "id=\"rss-growth-sites\"",
		   "main &#8594; render_page &#8594; <b>grow</b>", "<td class=\"n\" data-v=\"94371840\">90.0 MiB</td>",
		   "<th class=\"n\">live at end</th>", "<th class=\"n\">faults</th>", "<b>load_index</b>",
		   "<td class=\"n\" data-v=\"2048\">2048</td>");
	ASSERT_TRUE(!strstr(html, "<th class=\"n\">count</th>"), "columns no site has are left out");
	free(html);
	/* Present but empty: the section says so. */
	cJSON_Delete(doc);
	doc = cJSON_Parse("{\"top_allocators\":[]}");
	html = html_of(&run, doc);
	ASSERT_TRUE(html, "rendered");
	ASSERT_HAS(html, "id=\"top-allocators\"", "none recorded");
	free(html);
	cJSON_Delete(doc);
	run_free(&run);
	return true;
}

static bool test_empty_run(void)
{
	struct mo_run run;
	char *html, why[160];

	run_init(&run);
	html = html_of(&run, NULL);
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
	x = html_of(&a, NULL);
	y = html_of(&b, NULL);
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

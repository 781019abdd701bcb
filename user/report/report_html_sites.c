// SPDX-License-Identifier: GPL-2.0
/* The tables of stack sites on the HTML page. */
#include <string.h>
#include "lib/json_util.h"
#include "report/html.h"

#define TOP_SITES 20		/* rows shown before "show all" */

struct site_column {
	const char *key;
	const char *title;
	bool bytes;
};

/* The site's program (comm; its executable on hover). */
static void site_program(struct html *h, const cJSON *site)
{
	const cJSON *comm = cJSON_GetObjectItemCaseSensitive(site, "comm");
	const cJSON *exe = cJSON_GetObjectItemCaseSensitive(site, "exe");

	if (!cJSON_IsString(comm)) {
		html_td_none(h);
		return;
	}
	fputs("<td", h->out);
	if (cJSON_IsString(exe)) {
		fputs(" title=\"", h->out);
		html_esc(h, exe->valuestring);
		fputs("\"", h->out);
	}
	fputs(">", h->out);
	html_esc(h, comm->valuestring);
	fputs("</td>", h->out);
}

/* Frames root to leaf, each with its file:line on hover; the leaf, where
 * the memory was taken, stands out with its file:line. */
static void site_frames(struct html *h, const cJSON *site)
{
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(site, "frames");
	const cJSON *sources = cJSON_GetObjectItemCaseSensitive(site, "sources"), *f;
	int n = cJSON_GetArraySize(frames), i = 0;

	fputs("<td class=\"stack\">", h->out);
	cJSON_ArrayForEach(f, frames) {
		const cJSON *src = cJSON_GetArrayItem(sources, i);
		bool has_src = cJSON_IsString(src) && *src->valuestring;

		fputs(i ? " &#8594; " : "", h->out);
		if (has_src) {
			fputs("<span title=\"", h->out);
			html_esc(h, src->valuestring);
			fputs("\">", h->out);
		}
		fputs(i == n - 1 ? "<b>" : "", h->out);
		html_esc(h, cJSON_IsString(f) ? f->valuestring : "?");
		fputs(i == n - 1 ? "</b>" : "", h->out);
		if (has_src && i == n - 1) {
			const char *slash = strrchr(src->valuestring, '/');

			fputs(" <small>", h->out);
			html_esc(h, slash ? slash + 1 : src->valuestring);
			fputs("</small>", h->out);
		}
		fputs(has_src ? "</span>" : "", h->out);
		i++;
	}
	fputs("</td>", h->out);
}

/* A table of stack sites (top_allocators, rss_growth_sites), with the
 * columns among cols that some site has. Nothing when the run has none. */
static void sites(struct html *h, const cJSON *doc, const char *member, const char *id, const char *title,
		  const struct site_column *cols, size_t ncols)
{
	const cJSON *arr = doc ? cJSON_GetObjectItemCaseSensitive(doc, member) : NULL, *site;
	bool show[8] = {};
	size_t rank = 0;

	if (!cJSON_IsArray(arr))
		return;
	fprintf(h->out, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
	if (!cJSON_GetArraySize(arr)) {
		fputs("<p class=\"note\">none recorded</p></section>\n", h->out);
		return;
	}
	if (cJSON_GetArraySize(arr) > TOP_SITES)
		fprintf(h->out, "<p class=\"note\">The first %d of %d sites; click a column header to sort.</p>\n",
			TOP_SITES, cJSON_GetArraySize(arr));
	fprintf(h->out, "<table class=\"sortable\" data-top=\"%d\"><thead><tr><th class=\"n\">#</th>", TOP_SITES);
	for (size_t c = 0; c < ncols; c++) {
		cJSON_ArrayForEach(site, arr)
			show[c] |= cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(site, cols[c].key));
		if (show[c])
			fprintf(h->out, "<th class=\"n\">%s</th>", cols[c].title);
	}
	fputs("<th>program</th><th>stack (root &#8594; leaf)</th></tr></thead>\n<tbody>\n", h->out);
	cJSON_ArrayForEach(site, arr) {
		fputs("<tr>", h->out);
		html_td_count(h, ++rank);
		for (size_t c = 0; c < ncols; c++) {
			double v = json_num(site, cols[c].key, -1);

			if (!show[c])
				continue;
			/* A document may say 1e300: casting that is undefined.
			 * Clamp to the largest double below 2^63. */
			if (v >= 0x1p63)
				v = 0x1p63 - 1024;
			if (v < 0)
				html_td_none(h);
			else if (cols[c].bytes)
				html_td_size(h, (int64_t)v);
			else
				html_td_count(h, (uint64_t)v);
		}
		site_program(h, site);
		site_frames(h, site);
		fputs("</tr>\n", h->out);
	}
	fputs("</tbody></table></section>\n", h->out);
}

void report_html_sites(struct html *h, const cJSON *doc)
{
	static const struct site_column alloc_cols[] = {
		{ "alloc_bytes", "allocated", true }, { "alloc_count", "calls", false }, { "live_bytes", "live at end", true },
	};
	static const struct site_column growth_cols[] = {
		{ "bytes", "RSS growth", true }, { "faults", "faults", false }, { "count", "count", false },
		{ "live_bytes", "live at end", true },
	};

	sites(h, doc, "top_allocators", "top-allocators", "Top allocators", alloc_cols,
	      sizeof(alloc_cols) / sizeof(alloc_cols[0]));
	sites(h, doc, "rss_growth_sites", "rss-growth-sites", "RSS growth sites", growth_cols,
	      sizeof(growth_cols) / sizeof(growth_cols[0]));
}

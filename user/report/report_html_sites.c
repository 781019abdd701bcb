// SPDX-License-Identifier: GPL-2.0
/* The tables of stack sites on the HTML page, from the run's site records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report/html.h"

#define TOP_SITES 20		/* rows shown before "show all" */

/* The site's program (comm; its executable on hover). */
static void site_program(struct html *h, const struct mo_site_where *where)
{
	if (!where->comm) {
		html_td_none(h);
		return;
	}
	fputs("<td", h->out);
	if (where->exe) {
		fputs(" title=\"", h->out);
		html_esc(h, where->exe);
		fputs("\"", h->out);
	}
	fputs(">", h->out);
	html_esc(h, where->comm);
	fputs("</td>", h->out);
}

/* Frames root to leaf, each with its file:line on hover; the leaf, where
 * the memory was taken, stands out with its file:line. */
static void site_frames(struct html *h, const struct mo_site_rec *site)
{
	fputs("<td class=\"stack\">", h->out);
	for (size_t i = 0; i < site->nframes; i++) {
		const char *src = site->where.sources ? site->where.sources[i] : NULL;
		bool has_src = src && *src, leaf = i == site->nframes - 1;

		fputs(i ? " &#8594; " : "", h->out);
		if (has_src) {
			fputs("<span title=\"", h->out);
			html_esc(h, src);
			fputs("\">", h->out);
		}
		fputs(leaf ? "<b>" : "", h->out);
		html_esc(h, site->frames[i] ? site->frames[i] : "?");
		fputs(leaf ? "</b>" : "", h->out);
		if (has_src && leaf) {
			const char *slash = strrchr(src, '/');

			fputs(" <small>", h->out);
			html_esc(h, slash ? slash + 1 : src);
			fputs("</small>", h->out);
		}
		fputs(has_src ? "</span>" : "", h->out);
	}
	fputs("</td>", h->out);
}

/* A table of the stack sites of a kind, as the run document lists them.
 * Nothing when the run sampled no such stacks and has none. */
static void sites(struct html *h, enum mo_site_of kind, bool sampled, const char *id, const char *title)
{
	static const char *const alloc_cols[] = { "##", "#allocated", "#calls", "#live at end", "program",
						  "stack (root &#8594; leaf)" };
	static const char *const growth_cols[] = { "##", "#RSS growth", "#faults", "program",
						   "stack (root &#8594; leaf)" };
	const struct mo_run *run = h->run;
	bool alloc = kind == MO_SITE_OF_ALLOC;
	size_t *idx = malloc(2 * MO_RUN_LISTED_SITES * sizeof(*idx)), n;

	if (!idx) {
		h->err = h->err ?: -ENOMEM;
		return;
	}
	n = run_listed_sites(run, kind, idx, MO_RUN_LISTED_SITES);
	if (!n && !sampled)
		goto out;
	fprintf(h->out, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
	if (!n) {
		fputs("<p class=\"note\">none recorded</p></section>\n", h->out);
		goto out;
	}
	if (n > TOP_SITES)
		fprintf(h->out, "<p class=\"note\">The first %d of %zu sites; click a column header to sort.</p>\n",
			TOP_SITES, n);
	fprintf(h->out, "<table class=\"sortable\" data-top=\"%d\">", TOP_SITES);
	if (alloc)
		html_thead(h, alloc_cols, sizeof(alloc_cols) / sizeof(alloc_cols[0]));
	else
		html_thead(h, growth_cols, sizeof(growth_cols) / sizeof(growth_cols[0]));
	for (size_t i = 0; i < n; i++) {
		const struct mo_site_rec *site = &run->sites[idx[i]];

		fputs("<tr>", h->out);
		html_td_count(h, i + 1);
		html_td_size(h, (int64_t)site->bytes);
		html_td_count(h, site->count);
		if (alloc && site->live >= 0)
			html_td_size(h, site->live);
		else if (alloc)
			html_td_none(h);
		site_program(h, &site->where);
		site_frames(h, site);
		fputs("</tr>\n", h->out);
	}
	fputs("</tbody></table></section>\n", h->out);
out:
	free(idx);
}

void report_html_sites(struct html *h)
{
	const struct mo_run *run = h->run;

	sites(h, MO_SITE_OF_ALLOC, run->heap && run->alloc_sample_bytes, "top-allocators", "Top allocators");
	sites(h, MO_SITE_OF_RSS, run->rss_sample_bytes, "rss-growth-sites", "RSS growth sites");
}

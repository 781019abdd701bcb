/* SPDX-License-Identifier: GPL-2.0 */
/* The pieces the HTML page is written with (report_html.c and the sections
 * in report_html_*.c): escaped text and table cells. Private to them. */
#ifndef MO_HTML_H
#define MO_HTML_H

#include <stdint.h>
#include <stdio.h>
#include "model/run.h"

struct html {
	FILE *out;
	const struct mo_run *run;
	int err;		/* the first failure */
};

/* s escaped for element text and attribute values. */
void html_esc(struct html *h, const char *s);
void html_td(struct html *h, const char *s);
/* Numeric cells carry their value in data-v, for sorting. */
void html_td_size(struct html *h, int64_t v);
void html_td_count(struct html *h, uint64_t v);
void html_td_seconds(struct html *h, double v);
void html_td_none(struct html *h);
/* Header cells: a leading '#' marks a numeric column. */
void html_th_cells(struct html *h, const char *const *cols, size_t n);
void html_thead(struct html *h, const char *const *cols, size_t n);

/* The sections of the stack sites (top_allocators, rss_growth_sites) of h->run. */
void report_html_sites(struct html *h);

#endif

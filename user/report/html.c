// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include "report/html.h"
#include "lib/units.h"
#include "lib/xmlesc.h"

void html_esc(struct html *h, const char *s)
{
	if (xmlesc_fputs(h->out, s) && !h->err)
		h->err = -ENOMEM;
}

void html_td(struct html *h, const char *s)
{
	fputs("<td>", h->out);
	html_esc(h, s);
	fputs("</td>", h->out);
}

void html_td_size(struct html *h, int64_t v)
{
	char buf[32];

	fprintf(h->out, "<td class=\"n\" data-v=\"%" PRId64 "\">%s</td>", v, units_fmt_size(v, buf, sizeof(buf)));
}

void html_td_count(struct html *h, uint64_t v)
{
	fprintf(h->out, "<td class=\"n\" data-v=\"%" PRIu64 "\">%" PRIu64 "</td>", v, v);
}

void html_td_seconds(struct html *h, double v)
{
	fprintf(h->out, "<td class=\"n\" data-v=\"%.6f\">%.3f</td>", v, v);
}

void html_td_none(struct html *h)
{
	fputs("<td class=\"n\" data-v=\"-1\">-</td>", h->out);
}

/* Header cells: a leading '#' marks a numeric column. */
void html_th_cells(struct html *h, const char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(h->out, cols[i][0] == '#' ? "<th class=\"n\">%s</th>" : "<th>%s</th>",
			cols[i] + (cols[i][0] == '#'));
}

void html_thead(struct html *h, const char *const *cols, size_t n)
{
	fputs("<thead><tr>", h->out);
	html_th_cells(h, cols, n);
	fputs("</tr></thead>\n<tbody>\n", h->out);
}

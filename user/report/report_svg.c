// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "lib/units.h"
#include "report/report_svg_draw.h"

#define MAX_ROWS 6		/* label rows above the plot, and below it for marks */

static int pick_processes(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;
	size_t want = s->opts->processes < REPORT_SVG_MAX_PROCESSES ? s->opts->processes : REPORT_SVG_MAX_PROCESSES;

	if (!want || !run->nprocs)
		return 0;
	s->procs = malloc(run->nprocs * sizeof(*s->procs));
	if (!s->procs)
		return -ENOMEM;
	for (size_t i = 0; i < run->nprocs; i++)
		if (!run->procs[i].observer && run->procs[i].rss_peak > 0)
			s->procs[s->nprocs++] = i;
	qsort_r(s->procs, s->nprocs, sizeof(*s->procs), run_cmp_procs_by_peak, (void *)run);
	if (s->nprocs > want)
		s->nprocs = want;
	return 0;
}

static void scale(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;
	double tmax = run->duration_s, vmax = 0;

	for (size_t i = 0; i < run->ntimeline; i++) {
		const struct mo_sample *smp = &run->timeline[i];
		int64_t stack = 0;

		for (int k = 0; k < MO_SVG_NR; k++) {
			int64_t v = svg_kind_value(smp, k);

			stack += v > 0 ? v : 0;
			s->any_kind[k] |= v > 0;
		}
		tmax = fmax(tmax, smp->t);
		vmax = fmax(vmax, stack);
		if (run->heap)
			vmax = fmax(vmax, smp->heap_live);
	}
	for (size_t i = 0; i < run->nphases; i++) {
		tmax = fmax(tmax, svg_phase_end(&run->phases[i]));
		if (svg_phase_drawn(run, i))
			vmax = fmax(vmax, run->phases[i].rss_peak);
	}
	for (size_t i = 0; i < run->nmarks; i++)
		tmax = fmax(tmax, run->marks[i].t);
	for (size_t i = 0; i < s->nprocs; i++)
		tmax = fmax(tmax, svg_proc_end(run, &run->procs[s->procs[i]]));
	chart_axis_seconds(tmax, &s->xa);
	chart_axis_bytes(vmax, &s->ya);
	s->x0 = MARGIN_L;
	s->x1 = WIDTH - MARGIN_R;
}

/* The first row where a label of width w centred at cx (clamped to the
 * plot) overlaps nothing, or NO_ROW past MAX_ROWS: dozens of short phases
 * would otherwise bury each other's names. Rows are boxes one unit high in
 * `used`. */
static size_t pick_row(struct mo_svg_chart *s, struct mo_boxes *used, double cx, double w)
{
	struct mo_box b = { .x0 = fmin(fmax(cx - w / 2, s->x0), s->x1 - w) - 3 };
	size_t r;

	b.x1 = b.x0 + w + 6;
	for (r = 0; r < MAX_ROWS; r++) {
		b.y0 = r;
		b.y1 = r + 1;
		if (chart_boxes_fit(used, &b))
			break;
	}
	if (r == MAX_ROWS)
		return NO_ROW;
	b.y0 = r;
	b.y1 = r + 1;
	if (chart_boxes_add(used, &b) && !s->err)
		s->err = -ENOMEM;
	return r;
}

static int place_rows(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;
	struct mo_boxes used = {};

	s->label_row = calloc(run->nphases + 1, sizeof(*s->label_row));
	s->mark_row = calloc(run->nmarks + 1, sizeof(*s->mark_row));
	if (!s->label_row || !s->mark_row)
		return -ENOMEM;
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];

		if (!svg_phase_band(i))
			continue;
		s->label_row[i] = pick_row(s, &used, (svg_x(s, ph->start_s) + svg_x(s, svg_phase_end(ph))) / 2,
					   chart_text_width(ph->name, FONT));
		if (s->label_row[i] != NO_ROW && s->label_row[i] + 1 > s->label_rows)
			s->label_rows = s->label_row[i] + 1;
	}
	chart_boxes_free(&used);
	for (size_t i = 0; i < run->nmarks; i++) {
		s->mark_row[i] = pick_row(s, &used, svg_x(s, run->marks[i].t), chart_text_width(run->marks[i].label, FONT));
		if (s->mark_row[i] != NO_ROW && s->mark_row[i] + 1 > s->mark_rows)
			s->mark_rows = s->mark_row[i] + 1;
	}
	chart_boxes_free(&used);
	return s->err;
}

void svg_proc_bar(const struct mo_svg_chart *s, size_t i, struct svg_proc_bar *b)
{
	const struct mo_proc_rec *p = &s->run->procs[s->procs[i]];
	char sz[32];
	double w;

	b->x0 = svg_x(s, p->start_s);
	b->x1 = fmax(svg_x(s, svg_proc_end(s->run, p)), b->x0 + 2);
	snprintf(b->label, sizeof(b->label), "%s %d: %s", p->comm, p->pid, units_fmt_size(p->rss_peak, sz, sizeof(sz)));
	w = chart_text_width(b->label, FONT);
	/* After the bar, or before it when the plot ends first. */
	b->label_left = b->x1 + 4 + w > s->x1 && b->x0 - 4 - w >= s->x0;
	b->tx = b->label_left ? b->x0 - 4 - w : b->x1 + 4;
}

/* Each process drawn in the first lane where its bar and label overlap
 * nothing: processes alive at once never share a line. */
static int place_lanes(struct mo_svg_chart *s)
{
	struct mo_boxes used = {};

	for (size_t i = 0; i < s->nprocs; i++) {
		struct svg_proc_bar b;
		struct mo_box box;
		size_t lane = 0;

		svg_proc_bar(s, i, &b);
		box.x0 = fmin(b.x0, b.tx) - 2;
		box.x1 = fmax(b.x1, b.tx + chart_text_width(b.label, FONT)) + 2;
		for (;; lane++) {
			box.y0 = lane;
			box.y1 = lane + 1;
			if (chart_boxes_fit(&used, &box))
				break;
		}
		if (chart_boxes_add(&used, &box) && !s->err)
			s->err = -ENOMEM;
		s->proc_lane[i] = lane;
		if (lane + 1 > s->lanes)
			s->lanes = lane + 1;
	}
	chart_boxes_free(&used);
	return s->err;
}

static void layout(struct mo_svg_chart *s)
{
	s->legend_y = 52;
	s->labels_y = s->legend_y + report_svg_draw_legend_rows(s) * 16 + 4;
	s->y0 = s->labels_y + s->label_rows * ROW + 8;
	s->y1 = s->y0 + PLOT_H;
	s->marks_y = s->y1 + 34;
	s->procs_y = s->marks_y + s->mark_rows * ROW + (s->lanes ? 14 : 0);
	s->height = s->procs_y + s->lanes * LANE + 10;
}

int report_svg(FILE *out, const struct mo_run *run, const struct mo_svg_opts *opts)
{
	struct mo_svg_chart s = { .out = out, .run = run, .opts = opts };

	s.err = pick_processes(&s);
	if (!s.err) {
		scale(&s);
		s.err = place_rows(&s);
	}
	if (!s.err)
		s.err = place_lanes(&s);
	if (!s.err) {
		layout(&s);
		report_svg_draw(&s);
	}
	free(s.procs);
	free(s.label_row);
	free(s.mark_row);
	if (!s.err && ferror(out))
		s.err = -EIO;
	return s.err;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* The SVG timeline between its two halves: report_svg.c measures (scales,
 * which processes, where each label goes, the layout) into a struct
 * mo_svg_chart, report_svg_draw.c writes the elements. Private to them. */
#ifndef MO_REPORT_SVG_DRAW_H
#define MO_REPORT_SVG_DRAW_H

#include <stdbool.h>
#include <stdio.h>
#include "report/chart.h"
#include "report/report_svg.h"

#define WIDTH 1000
#define MARGIN_L 76
#define MARGIN_R 24
#define PLOT_H 320
#define FONT 11			/* labels, px */
#define ROW 14			/* one row of labels */
#define NO_ROW ((size_t)-1)	/* a label with no room left: what it names has a tooltip */

/* The layers of session RSS, bottom up. */
enum mo_svg_kind { MO_SVG_ANON, MO_SVG_FILE, MO_SVG_SHMEM, MO_SVG_OTHER, MO_SVG_NR };

struct mo_svg_chart {
	FILE *out;
	const struct mo_run *run;
	const struct mo_svg_opts *opts;
	int err;			/* the first failure */
	struct mo_axis xa, ya;
	double x0, x1, y0, y1;		/* the plot area */
	double legend_y, labels_y, marks_y, height;
	bool any_kind[MO_SVG_NR];	/* layers with something to show */
	size_t *procs;			/* the processes drawn, highest peak first */
	size_t nprocs;
	size_t *label_row;		/* per phase: its label's row above the plot */
	size_t *mark_row;		/* per mark: its label's row below the plot */
	size_t label_rows, mark_rows;
	size_t proc_lane[REPORT_SVG_MAX_PROCESSES];	/* per process drawn: its lane */
	size_t lanes;
	double procs_y;			/* the first lane's top */
};

static inline double svg_x(const struct mo_svg_chart *s, double t)
{
	t = t < 0 ? 0 : t > s->xa.max ? s->xa.max : t;
	return s->x0 + t / s->xa.max * (s->x1 - s->x0);
}

static inline double svg_y(const struct mo_svg_chart *s, double v)
{
	v = v < 0 ? 0 : v > s->ya.max ? s->ya.max : v;
	return s->y1 - v / s->ya.max * (s->y1 - s->y0);
}

/* Is the phase's peak drawn? The root's only when it is the only phase: its
 * peak is the run's. */
static inline bool svg_phase_drawn(const struct mo_run *run, size_t i)
{
	return i != MO_RUN_ROOT || run->nphases == 1;
}

/* Is the phase a band (and a label)? Not the root: the whole run, a band
 * over all the plot. */
static inline bool svg_phase_band(size_t i)
{
	return i != MO_RUN_ROOT;
}

#define LANE 16			/* one process's lane under the plot */

/* A process's bar (its lifetime) and its label, in pixels. */
struct svg_proc_bar {
	double x0, x1;			/* the bar */
	double tx;			/* the label's start */
	bool label_left;		/* the label ends at the bar's start */
	char label[96];
};

void svg_proc_bar(const struct mo_svg_chart *s, size_t i, struct svg_proc_bar *b);

static inline double svg_phase_end(const struct mo_phase_rec *ph)
{
	return ph->end_s > ph->start_s ? ph->end_s : ph->start_s;
}

static inline double svg_proc_end(const struct mo_run *run, const struct mo_proc_rec *p)
{
	return p->exited && p->end_s >= p->start_s ? p->end_s : run->duration_s;
}

static inline int64_t svg_kind_value(const struct mo_sample *smp, enum mo_svg_kind k)
{
	int64_t split;

	switch (k) {
	case MO_SVG_ANON:
		return smp->rss_member[MO_MEM_ANON];
	case MO_SVG_FILE:
		return smp->rss_member[MO_MEM_FILE];
	case MO_SVG_SHMEM:
		return smp->rss_member[MO_MEM_SHMEM];
	default:
		split = smp->rss_member[MO_MEM_ANON] + smp->rss_member[MO_MEM_FILE] + smp->rss_member[MO_MEM_SHMEM];
		return smp->rss > split ? smp->rss - split : 0;
	}
}

/* Rows the legend needs, wrapping at the plot's width. */
size_t report_svg_draw_legend_rows(const struct mo_svg_chart *s);

/* Write the whole document of a measured chart; failures go to s->err. */
void report_svg_draw(struct mo_svg_chart *s);

#endif

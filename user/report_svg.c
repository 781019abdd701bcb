// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "chart.h"
#include "report_svg.h"
#include "report_target.h"
#include "units.h"
#include "xmlesc.h"

#define WIDTH 1000
#define MARGIN_L 76
#define MARGIN_R 24
#define PLOT_H 320
#define FONT 11			/* labels, px */
#define ROW 14			/* one row of labels */
#define INSET 14		/* a nested band starts this far below its parent's top */
#define MAX_ROWS 6		/* label rows above the plot, and below it for marks */
#define NO_ROW ((size_t)-1)	/* a label with no room left: its band's tooltip names it */
#define TITLE_CHARS 110

#define FONTS "DejaVu Sans, Liberation Sans, Arial, sans-serif"

enum kind { KIND_ANON, KIND_FILE, KIND_SHMEM, KIND_OTHER, KIND_NR };

static const struct {
	const char *name;
	const char *color;
} kinds[KIND_NR] = {
	[KIND_ANON] = { "anon RSS", "#4c72b0" },
	[KIND_FILE] = { "file RSS", "#55a868" },
	[KIND_SHMEM] = { "shmem RSS", "#8172b2" },
	/* Samples whose members do not add up to their total (documents that
	 * give only "rss"): shown, not guessed at. */
	[KIND_OTHER] = { "RSS, kind unknown", "#999999" },
};

#define HEAP_COLOR "#c44e52"
#define PEAK_COLOR "#222222"
#define MARK_COLOR "#666666"

static const char *const band_colors[] = {
	"#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#bc80bd",
};
static const char *const proc_colors[REPORT_SVG_MAX_PROCESSES] = {
	"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#444444",
};

struct svg {
	FILE *out;
	const struct mo_run *run;
	const struct mo_svg_opts *opts;
	int err;			/* the first failure */
	struct mo_axis xa, ya;
	double x0, x1, y0, y1;		/* the plot area */
	double legend_y, labels_y, marks_y, height;
	bool any_kind[KIND_NR];
	size_t *procs;			/* the processes drawn, highest peak first */
	size_t nprocs;
	size_t *label_row;		/* per phase: its label's row above the plot */
	size_t *mark_row;		/* per mark: its label's row below the plot */
	size_t label_rows, mark_rows;
};

static void text_esc(struct svg *s, const char *str)
{
	if (xmlesc_fputs(s->out, str) && !s->err)
		s->err = -ENOMEM;
}

static double X(const struct svg *s, double t)
{
	t = t < 0 ? 0 : t > s->xa.max ? s->xa.max : t;
	return s->x0 + t / s->xa.max * (s->x1 - s->x0);
}

static double Y(const struct svg *s, double v)
{
	v = v < 0 ? 0 : v > s->ya.max ? s->ya.max : v;
	return s->y1 - v / s->ya.max * (s->y1 - s->y0);
}

static bool phase_drawn(const struct mo_run *run, size_t i)
{
	/* The root is the whole run: a band only when it is the only phase. */
	return i != MO_PHASE_ROOT || run->nphases == 1;
}

static double phase_end(const struct mo_phase_rec *ph)
{
	return ph->end_s > ph->start_s ? ph->end_s : ph->start_s;
}

static double proc_end(const struct mo_run *run, const struct mo_proc_rec *p)
{
	return p->exited && p->end_s >= p->start_s ? p->end_s : run->duration_s;
}

static int64_t kind_value(const struct mo_sample *smp, enum kind k)
{
	int64_t split;

	switch (k) {
	case KIND_ANON:
		return smp->rss_member[MO_RSS_ANON];
	case KIND_FILE:
		return smp->rss_member[MO_RSS_FILE];
	case KIND_SHMEM:
		return smp->rss_member[MO_RSS_SHMEM];
	default:
		split = smp->rss_member[MO_RSS_ANON] + smp->rss_member[MO_RSS_FILE] + smp->rss_member[MO_RSS_SHMEM];
		return smp->rss > split ? smp->rss - split : 0;
	}
}

static int cmp_peak(const void *a, const void *b, void *arg)
{
	const struct mo_run *run = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int64_t x = run->procs[i].rss_peak, y = run->procs[j].rss_peak;

	/* Ties by document order, so that the output is the same every time. */
	return x != y ? (x < y) - (x > y) : (i > j) - (i < j);
}

static int pick_processes(struct svg *s)
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
	qsort_r(s->procs, s->nprocs, sizeof(*s->procs), cmp_peak, (void *)run);
	if (s->nprocs > want)
		s->nprocs = want;
	return 0;
}

static void scale(struct svg *s)
{
	const struct mo_run *run = s->run;
	double tmax = run->duration_s, vmax = 0;

	for (size_t i = 0; i < run->ntimeline; i++) {
		const struct mo_sample *smp = &run->timeline[i];
		int64_t stack = 0;

		for (int k = 0; k < KIND_NR; k++) {
			int64_t v = kind_value(smp, k);

			stack += v > 0 ? v : 0;
			s->any_kind[k] |= v > 0;
		}
		tmax = fmax(tmax, smp->t);
		vmax = fmax(vmax, stack);
		if (run->heap)
			vmax = fmax(vmax, smp->heap_live);
	}
	for (size_t i = 0; i < run->nphases; i++) {
		tmax = fmax(tmax, phase_end(&run->phases[i]));
		if (phase_drawn(run, i))
			vmax = fmax(vmax, run->phases[i].rss_peak);
	}
	for (size_t i = 0; i < run->nmarks; i++)
		tmax = fmax(tmax, run->marks[i].t);
	for (size_t i = 0; i < s->nprocs; i++) {
		tmax = fmax(tmax, proc_end(run, &run->procs[s->procs[i]]));
		vmax = fmax(vmax, run->procs[s->procs[i]].rss_peak);
	}
	chart_axis_seconds(tmax, &s->xa);
	chart_axis_bytes(vmax, &s->ya);
	s->x0 = MARGIN_L;
	s->x1 = WIDTH - MARGIN_R;
}

/* The first row where a label of width w centred at cx (clamped to the
 * plot) overlaps nothing, or NO_ROW past MAX_ROWS: dozens of short phases
 * would otherwise bury each other's names. Rows are boxes one unit high in
 * `used`. */
static size_t pick_row(struct svg *s, struct mo_boxes *used, double cx, double w)
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

static int place_rows(struct svg *s)
{
	const struct mo_run *run = s->run;
	struct mo_boxes used = {};

	s->label_row = calloc(run->nphases + 1, sizeof(*s->label_row));
	s->mark_row = calloc(run->nmarks + 1, sizeof(*s->mark_row));
	if (!s->label_row || !s->mark_row)
		return -ENOMEM;
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];

		if (!phase_drawn(run, i))
			continue;
		s->label_row[i] = pick_row(s, &used, (X(s, ph->start_s) + X(s, phase_end(ph))) / 2,
					   chart_text_width(ph->name, FONT));
		if (s->label_row[i] != NO_ROW && s->label_row[i] + 1 > s->label_rows)
			s->label_rows = s->label_row[i] + 1;
	}
	chart_boxes_free(&used);
	for (size_t i = 0; i < run->nmarks; i++) {
		s->mark_row[i] = pick_row(s, &used, X(s, run->marks[i].t), chart_text_width(run->marks[i].label, FONT));
		if (s->mark_row[i] != NO_ROW && s->mark_row[i] + 1 > s->mark_rows)
			s->mark_rows = s->mark_row[i] + 1;
	}
	chart_boxes_free(&used);
	return s->err;
}

enum swatch { SWATCH_AREA, SWATCH_LINE, SWATCH_DASH };

struct legend_entry {
	const char *color;
	char text[96];
	enum swatch swatch;
};

static void legend_add(struct legend_entry *e, size_t *n, const char *color, enum swatch swatch,
		       const char *text)
{
	e[*n].color = color;
	e[*n].swatch = swatch;
	snprintf(e[*n].text, sizeof(e[*n].text), "%s", text);
	(*n)++;
}

/* What the legend shows, in order; returns the count. */
static size_t legend_entries(const struct svg *s, struct legend_entry *e)
{
	const struct mo_run *run = s->run;
	size_t n = 0;

	for (int k = 0; k < KIND_NR; k++)
		if (k != KIND_OTHER || s->any_kind[k])
			legend_add(e, &n, kinds[k].color, SWATCH_AREA, kinds[k].name);
	if (run->heap)
		legend_add(e, &n, HEAP_COLOR, SWATCH_LINE, "live heap");
	legend_add(e, &n, PEAK_COLOR, SWATCH_LINE, "phase peak RSS");
	if (run->nmarks)
		legend_add(e, &n, MARK_COLOR, SWATCH_DASH, "mark");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mo_proc_rec *p = &run->procs[s->procs[i]];
		char text[64], sz[32];

		snprintf(text, sizeof(text), "%s %d: %s", p->comm, p->pid, units_fmt_size(p->rss_peak, sz, sizeof(sz)));
		legend_add(e, &n, proc_colors[i], SWATCH_LINE, text);
	}
	return n;
}

#define LEGEND_MAX (KIND_NR + 3 + REPORT_SVG_MAX_PROCESSES)

static double legend_width(const struct legend_entry *e)
{
	return 18 + chart_text_width(e->text, FONT) + 18;
}

/* Rows the legend needs, wrapping at the plot's width. */
static size_t legend_rows(const struct svg *s)
{
	struct legend_entry e[LEGEND_MAX];
	size_t n = legend_entries(s, e), rows = 1;
	double x = s->x0;

	for (size_t i = 0; i < n; i++) {
		if (x > s->x0 && x + legend_width(&e[i]) > s->x1) {
			rows++;
			x = s->x0;
		}
		x += legend_width(&e[i]);
	}
	return rows;
}

static void layout(struct svg *s)
{
	s->legend_y = 52;
	s->labels_y = s->legend_y + legend_rows(s) * 16 + 4;
	s->y0 = s->labels_y + s->label_rows * ROW + 8;
	s->y1 = s->y0 + PLOT_H;
	s->marks_y = s->y1 + 34;
	s->height = s->marks_y + s->mark_rows * ROW + 10;
}

/* Cut s to at most max code points, marking the cut with an ellipsis. */
static void truncate_chars(char *s, size_t size, size_t max)
{
	size_t chars = 0, i;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (++chars > max)
			break;
	}
	if (s[i] && i + 4 <= size)
		memcpy(s + i, "\xe2\x80\xa6", 4);
}

static void head(struct svg *s)
{
	const struct mo_run *run = s->run;
	char target[1024], title[1024], a[32], b[32];
	size_t n;

	report_target(run, target, sizeof(target));
	if (!s->opts->embedded)
		fprintf(s->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(s->out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"memobs-timeline\" width=\"%d\" height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\" font-family=\"%s\" font-size=\"%d\">\n<title>memobs timeline: ",
		WIDTH, s->height, WIDTH, s->height, FONTS, FONT);
	text_esc(s, target);
	fprintf(s->out, "</title>\n<rect width=\"%d\" height=\"%.0f\" fill=\"#ffffff\"/>\n", WIDTH, s->height);
	snprintf(title, sizeof(title), "memobs: %s", target);
	truncate_chars(title, sizeof(title), TITLE_CHARS);
	fprintf(s->out, "<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">", MARGIN_L);
	text_esc(s, title);
	n = snprintf(title, sizeof(title), "%s%s%.2f s, peak RSS %s", run->time_utc, run->time_utc[0] ? ", " : "",
		     run->duration_s, units_fmt_size(run->rss_peak, a, sizeof(a)));
	if (run->heap)
		n += snprintf(title + n, sizeof(title) - n, ", peak live heap %s", units_fmt_size(run->heap_peak, b, sizeof(b)));
	n += snprintf(title + n, sizeof(title) - n, ", %zu process%s", run->nprocs, run->nprocs == 1 ? "" : "es");
	if (run->exit_status >= 0)
		n += snprintf(title + n, sizeof(title) - n, ", exit %d", run->exit_status);
	if (run->label)
		snprintf(title + n, sizeof(title) - n, ", label %s", run->label);
	fprintf(s->out, "</text>\n<text x=\"%d\" y=\"40\" fill=\"#555555\">", MARGIN_L);
	text_esc(s, title);
	fprintf(s->out, "</text>\n");
}

static void legend(struct svg *s)
{
	struct legend_entry e[LEGEND_MAX];
	size_t n = legend_entries(s, e);
	double x = s->x0, y = s->legend_y;

	fprintf(s->out, "<g class=\"legend\">\n");
	for (size_t i = 0; i < n; i++) {
		if (x > s->x0 && x + legend_width(&e[i]) > s->x1) {
			y += 16;
			x = s->x0;
		}
		if (e[i].swatch == SWATCH_AREA)
			fprintf(s->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>", x, y - 9,
				e[i].color);
		else
			fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>",
				x, y - 4, x + 12, y - 4, e[i].color,
				e[i].swatch == SWATCH_DASH ? " stroke-dasharray=\"3 2\"" : "");
		fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\">", x + 18, y);
		text_esc(s, e[i].text);
		fprintf(s->out, "</text>\n");
		x += legend_width(&e[i]);
	}
	fprintf(s->out, "</g>\n");
}

static void band_title(struct svg *s, const struct mo_phase_rec *ph)
{
	char a[32], b[32], c[32];

	fprintf(s->out, "<title>");
	text_esc(s, ph->name);
	fprintf(s->out, ": %.2f-%.2f s, RSS %s to peak %s (+%s)", ph->start_s, phase_end(ph),
		units_fmt_size(ph->rss_baseline, a, sizeof(a)), units_fmt_size(ph->rss_peak, b, sizeof(b)),
		units_fmt_size(ph->rss_peak - ph->rss_baseline, c, sizeof(c)));
	if (ph->items)
		fprintf(s->out, ", %llu items", (unsigned long long)ph->items);
	fprintf(s->out, "%s</title>", ph->unclosed ? ", unclosed" : "");
}

static double band_top(const struct svg *s, const struct mo_phase_rec *ph)
{
	unsigned depth = ph->depth ? ph->depth : 1;

	/* Nested bands step inside their parents, down to half the plot. */
	return s->y0 + fmin(depth - 1, (PLOT_H / 2) / INSET) * INSET;
}

/* Bands deeper down drawn later, so that each lies over its parent. */
static void bands(struct svg *s)
{
	const struct mo_run *run = s->run;
	unsigned max_depth = 0;

	for (size_t i = 0; i < run->nphases; i++)
		if (run->phases[i].depth > max_depth)
			max_depth = run->phases[i].depth;
	fprintf(s->out, "<g class=\"phases\">\n");
	for (unsigned d = 0; d <= max_depth; d++) {
		for (size_t i = 0; i < run->nphases; i++) {
			const struct mo_phase_rec *ph = &run->phases[i];
			double x = X(s, ph->start_s), w = fmax(X(s, phase_end(ph)) - x, 1), top = band_top(s, ph);

			if (ph->depth != d || !phase_drawn(run, i))
				continue;
			fprintf(s->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				"fill-opacity=\"0.35\" stroke=\"%s\" stroke-width=\"0.5\">", x, top, w, s->y1 - top,
				band_colors[i % 8], band_colors[i % 8]);
			band_title(s, ph);
			fprintf(s->out, "</rect>\n");
		}
	}
	fprintf(s->out, "</g>\n");
}

static void grid(struct svg *s)
{
	char label[32];

	fprintf(s->out, "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n");
	for (size_t i = 1; i <= s->ya.nticks; i++)
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", s->x0, Y(s, i * s->ya.step),
			s->x1, Y(s, i * s->ya.step));
	fprintf(s->out, "</g>\n<g class=\"y-axis\" text-anchor=\"end\" fill=\"#333333\">\n");
	for (size_t i = 0; i <= s->ya.nticks; i++)
		fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", s->x0 - 6, Y(s, i * s->ya.step) + 4,
			chart_axis_label(&s->ya, i, label, sizeof(label)));
	fprintf(s->out, "</g>\n<g class=\"x-axis\" text-anchor=\"middle\" fill=\"#333333\">\n");
	for (size_t i = 0; i <= s->xa.nticks; i++)
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", X(s, i * s->xa.step), s->y1, X(s, i * s->xa.step),
			s->y1 + 4, X(s, i * s->xa.step), s->y1 + 16, chart_axis_label(&s->xa, i, label, sizeof(label)));
	fprintf(s->out, "</g>\n");
}

/* A timeline of one sample is drawn 4 px wide, centred on it. */
static size_t npoints(const struct mo_run *run)
{
	return run->ntimeline == 1 ? 2 : run->ntimeline;
}

static double point_x(const struct svg *s, size_t j)
{
	if (s->run->ntimeline == 1)
		return X(s, s->run->timeline[0].t) + (j ? 2 : -2);
	return X(s, s->run->timeline[j].t);
}

static const struct mo_sample *point(const struct svg *s, size_t j)
{
	return &s->run->timeline[s->run->ntimeline == 1 ? 0 : j];
}

static int64_t stack_below(const struct mo_sample *smp, enum kind k)
{
	int64_t sum = 0;

	for (int i = 0; i < (int)k; i++) {
		int64_t v = kind_value(smp, i);

		sum += v > 0 ? v : 0;
	}
	return sum;
}

static void areas(struct svg *s)
{
	size_t n = npoints(s->run);

	fprintf(s->out, "<g class=\"rss\" fill-opacity=\"0.85\">\n");
	for (int k = 0; k < KIND_NR; k++) {
		if (!s->any_kind[k])
			continue;
		fprintf(s->out, "<path fill=\"%s\" d=\"", kinds[k].color);
		for (size_t j = 0; j < n; j++) {
			const struct mo_sample *smp = point(s, j);
			int64_t v = kind_value(smp, k);

			fprintf(s->out, "%s%.1f %.1f", j ? " L" : "M", point_x(s, j),
				Y(s, stack_below(smp, k) + (v > 0 ? v : 0)));
		}
		for (size_t j = n; j-- > 0;)
			fprintf(s->out, " L%.1f %.1f", point_x(s, j), Y(s, stack_below(point(s, j), k)));
		fprintf(s->out, " Z\"><title>%s</title></path>\n", kinds[k].name);
	}
	fprintf(s->out, "</g>\n");
	if (!s->run->heap)
		return;
	fprintf(s->out, "<polyline class=\"heap\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" "
		"stroke-linejoin=\"round\" points=\"", HEAP_COLOR);
	for (size_t j = 0; j < n; j++)
		fprintf(s->out, "%s%.1f,%.1f", j ? " " : "", point_x(s, j), Y(s, point(s, j)->heap_live));
	fprintf(s->out, "\"><title>live heap</title></polyline>\n");
}

static void processes(struct svg *s)
{
	const struct mo_run *run = s->run;

	fprintf(s->out, "<g class=\"processes\" stroke-width=\"2.5\">\n");
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mo_proc_rec *p = &run->procs[s->procs[i]];
		double x0 = X(s, p->start_s), x1 = fmax(X(s, proc_end(run, p)), x0 + 2), y = Y(s, p->rss_peak);
		char sz[32];

		fprintf(s->out, "<path stroke=\"%s\" fill=\"none\" d=\"M%.1f %.1f V%.1f M%.1f %.1f H%.1f M%.1f %.1f V%.1f\">"
			"<title>", proc_colors[i], x0, y - 4, y + 4, x0, y, x1, x1, y - 4, y + 4);
		text_esc(s, p->comm);
		fprintf(s->out, " %d: peak RSS %s, %.2f-%.2f s</title></path>\n", p->pid,
			units_fmt_size(p->rss_peak, sz, sizeof(sz)), p->start_s, proc_end(run, p));
	}
	fprintf(s->out, "</g>\n");
}

/* The value of a phase's peak, over its line if there is room, else in the
 * first free place above or below it; where there is none, the line's
 * tooltip still gives it. */
static void peak_label(struct svg *s, struct mo_boxes *used, double x0, double x1, double y, const char *text)
{
	double w = chart_text_width(text, FONT), cx = (x0 + x1) / 2;
	struct mo_box cand[4];
	size_t n = 0;

	if (x1 - x0 >= w + 4)
		cand[n++] = (struct mo_box){ x0 + 2, y - 3 - FONT, x0 + 2 + w, y - 1 };
	cx = fmin(fmax(cx - w / 2, s->x0 + 1), s->x1 - w - 1);
	/* Two rows up at most: a label stacked further floats away from its line. */
	for (int k = 0; k < 2; k++)
		cand[n++] = (struct mo_box){ cx, y - 3 - FONT - k * ROW, cx + w, y - 1 - k * ROW };
	cand[n++] = (struct mo_box){ cx, y + 2, cx + w, y + 4 + FONT };
	for (size_t i = 0; i < n; i++) {
		if (cand[i].y0 < s->y0 || cand[i].y1 > s->y1 || !chart_boxes_fit(used, &cand[i]))
			continue;
		if (chart_boxes_add(used, &cand[i]) && !s->err)
			s->err = -ENOMEM;
		fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", cand[i].x0, cand[i].y1 - 2, text);
		return;
	}
}

static void peaks(struct svg *s)
{
	const struct mo_run *run = s->run;
	struct mo_boxes used = {};

	fprintf(s->out, "<g class=\"peaks\" stroke=\"%s\" stroke-width=\"1.5\">\n", PEAK_COLOR);
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		double x0 = X(s, ph->start_s), x1 = X(s, phase_end(ph)), cx = (x0 + x1) / 2;
		char sz[32];

		if (!phase_drawn(run, i))
			continue;
		/* A narrow phase still gets a visible tick. */
		if (x1 - x0 < 8) {
			x0 = cx - 4;
			x1 = cx + 4;
		}
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>", x0,
			Y(s, ph->rss_peak), x1, Y(s, ph->rss_peak));
		text_esc(s, ph->name);
		fprintf(s->out, ": peak RSS %s</title></line>\n", units_fmt_size(ph->rss_peak, sz, sizeof(sz)));
	}
	fprintf(s->out, "</g>\n<g class=\"peak-labels\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"3\" "
		"paint-order=\"stroke\">\n", PEAK_COLOR);
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		char sz[32];

		if (phase_drawn(run, i))
			peak_label(s, &used, X(s, ph->start_s), X(s, phase_end(ph)), Y(s, ph->rss_peak),
				   units_fmt_size(ph->rss_peak, sz, sizeof(sz)));
	}
	fprintf(s->out, "</g>\n");
	chart_boxes_free(&used);
}

static void phase_labels(struct svg *s)
{
	const struct mo_run *run = s->run;

	fprintf(s->out, "<g class=\"phase-labels\" text-anchor=\"middle\" fill=\"#222222\">\n");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		double cx = (X(s, ph->start_s) + X(s, phase_end(ph))) / 2, w = chart_text_width(ph->name, FONT);
		double tx = fmin(fmax(cx, s->x0 + w / 2), s->x1 - w / 2), y;

		if (!phase_drawn(run, i) || s->label_row[i] == NO_ROW)
			continue;
		y = s->labels_y + 10 + s->label_row[i] * ROW;
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">", cx, y + 3, cx, band_top(s, ph), band_colors[i % 8], tx, y);
		text_esc(s, ph->name);
		fprintf(s->out, "</text>\n");
	}
	fprintf(s->out, "</g>\n");
}

static void marks(struct svg *s)
{
	const struct mo_run *run = s->run;

	if (!run->nmarks)
		return;
	fprintf(s->out, "<g class=\"marks\" text-anchor=\"middle\" fill=\"%s\">\n", MARK_COLOR);
	for (size_t i = 0; i < run->nmarks; i++) {
		const struct mo_mark_rec *m = &run->marks[i];
		double x = X(s, m->t), w = chart_text_width(m->label, FONT);

		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-dasharray=\"3 2\"><title>", x, s->y0, x, s->y1, MARK_COLOR);
		text_esc(s, m->label);
		fprintf(s->out, " at %.3f s</title></line><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"%s\" stroke-width=\"2\"/>\n", m->t, x, s->y1 - 6, x, s->y1 + 6, MARK_COLOR);
		if (s->mark_row[i] == NO_ROW)
			continue;
		fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\">", fmin(fmax(x, s->x0 + w / 2), s->x1 - w / 2),
			s->marks_y + s->mark_row[i] * ROW);
		text_esc(s, m->label);
		fprintf(s->out, "</text>\n");
	}
	fprintf(s->out, "</g>\n");
}

static void body(struct svg *s)
{
	head(s);
	legend(s);
	bands(s);
	grid(s);
	if (s->run->ntimeline) {
		areas(s);
	} else {
		fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\">"
			"no timeline samples in this run</text>\n", (s->x0 + s->x1) / 2, (s->y0 + s->y1) / 2);
	}
	processes(s);
	marks(s);
	peaks(s);
	fprintf(s->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333333\"/>\n",
		s->x0, s->y0, s->x1 - s->x0, s->y1 - s->y0);
	phase_labels(s);
	fprintf(s->out, "</svg>\n");
}

int report_svg(FILE *out, const struct mo_run *run, const struct mo_svg_opts *opts)
{
	struct svg s = { .out = out, .run = run, .opts = opts };

	s.err = pick_processes(&s);
	if (!s.err) {
		scale(&s);
		s.err = place_rows(&s);
	}
	if (!s.err) {
		layout(&s);
		body(&s);
	}
	free(s.procs);
	free(s.label_row);
	free(s.mark_row);
	if (!s.err && ferror(out))
		s.err = -EIO;
	return s.err;
}

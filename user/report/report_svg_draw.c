// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report/report_svg_draw.h"
#include "report/report_target.h"
#include "lib/textfit.h"
#include "lib/units.h"
#include "lib/xmlesc.h"

#define INSET 14		/* a nested band starts this far below its parent's top */
#define TITLE_CHARS 110
#define FONTS "DejaVu Sans, Liberation Sans, Arial, sans-serif"

static const struct {
	const char *name;
	const char *color;
} kinds[MO_SVG_NR] = {
	[MO_SVG_ANON] = { "anon RSS", "#4c72b0" },
	[MO_SVG_FILE] = { "file RSS", "#55a868" },
	[MO_SVG_SHMEM] = { "shmem RSS", "#8172b2" },
	/* Samples whose members do not add up to their total (documents that
	 * give only "rss"): shown, not guessed at. */
	[MO_SVG_OTHER] = { "RSS, kind unknown", "#999999" },
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

static void text_esc(struct mo_svg_chart *s, const char *str)
{
	if (xmlesc_fputs(s->out, str) && !s->err)
		s->err = -ENOMEM;
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
static size_t legend_entries(const struct mo_svg_chart *s, struct legend_entry *e)
{
	const struct mo_run *run = s->run;
	size_t n = 0;

	for (int k = 0; k < MO_SVG_NR; k++)
		if (k != MO_SVG_OTHER || s->any_kind[k])
			legend_add(e, &n, kinds[k].color, SWATCH_AREA, kinds[k].name);
	if (run->heap)
		legend_add(e, &n, HEAP_COLOR, SWATCH_LINE, "live heap");
	legend_add(e, &n, PEAK_COLOR, SWATCH_LINE, "phase peak RSS");
	if (run->nmarks)
		legend_add(e, &n, MARK_COLOR, SWATCH_DASH, "mark");
	return n;
}

#define LEGEND_MAX (MO_SVG_NR + 3)

static double legend_width(const struct legend_entry *e)
{
	return 18 + chart_text_width(e->text, FONT) + 18;
}

size_t report_svg_draw_legend_rows(const struct mo_svg_chart *s)
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

static void head(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;
	char target[1024], title[1024], a[32], b[32];
	size_t n;

	report_target(run, sizeof(target) / 4, target, sizeof(target));
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
		n = textfit_appendf(title, sizeof(title), n, ", peak live heap %s", units_fmt_size(run->heap_peak, b, sizeof(b)));
	n = textfit_appendf(title, sizeof(title), n, ", %zu process%s", run->nprocs, run->nprocs == 1 ? "" : "es");
	if (run->exit_status >= 0)
		n = textfit_appendf(title, sizeof(title), n, ", exit %d", run->exit_status);
	if (run->label)
		textfit_appendf(title, sizeof(title), n, ", label %s", run->label);
	fprintf(s->out, "</text>\n<text x=\"%d\" y=\"40\" fill=\"#555555\">", MARGIN_L);
	text_esc(s, title);
	fprintf(s->out, "</text>\n");
}

static void legend(struct mo_svg_chart *s)
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

static void band_title(struct mo_svg_chart *s, const struct mo_phase_rec *ph)
{
	char a[32], b[32], c[32];

	fprintf(s->out, "<title>");
	text_esc(s, ph->name);
	fprintf(s->out, ": %.2f-%.2f s, RSS %s to peak %s (+%s)", ph->start_s, svg_phase_end(ph),
		units_fmt_size(ph->rss_baseline, a, sizeof(a)), units_fmt_size(ph->rss_peak, b, sizeof(b)),
		units_fmt_size(ph->rss_peak - ph->rss_baseline, c, sizeof(c)));
	if (ph->items)
		fprintf(s->out, ", %llu items", (unsigned long long)ph->items);
	fprintf(s->out, "%s</title>", ph->unclosed ? ", unclosed" : "");
}

static double band_top(const struct mo_svg_chart *s, const struct mo_phase_rec *ph)
{
	unsigned depth = ph->depth ? ph->depth : 1;

	/* Nested bands step inside their parents, down to half the plot. */
	return s->y0 + fmin(depth - 1, (PLOT_H / 2) / INSET) * INSET;
}

static int cmp_depth(const void *a, const void *b, void *arg)
{
	const struct mo_phase_rec *phases = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (phases[i].depth != phases[j].depth)
		return phases[i].depth < phases[j].depth ? -1 : 1;
	return (i > j) - (i < j);
}

/* Bands deeper down drawn later, so that each lies over its parent. */
static void bands(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;
	size_t *order = malloc((run->nphases + 1) * sizeof(*order));

	if (!order) {
		s->err = s->err ?: -ENOMEM;
		return;
	}
	for (size_t i = 0; i < run->nphases; i++)
		order[i] = i;
	qsort_r(order, run->nphases, sizeof(*order), cmp_depth, run->phases);
	fprintf(s->out, "<g class=\"phases\">\n");
	for (size_t k = 0; k < run->nphases; k++) {
		size_t i = order[k];
		const struct mo_phase_rec *ph = &run->phases[i];
		double x = svg_x(s, ph->start_s), w = fmax(svg_x(s, svg_phase_end(ph)) - x, 1), top = band_top(s, ph);

		if (!svg_phase_band(i))
			continue;
		fprintf(s->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
			"fill-opacity=\"0.35\" stroke=\"%s\" stroke-width=\"0.5\">", x, top, w, s->y1 - top,
			band_colors[i % 8], band_colors[i % 8]);
		band_title(s, ph);
		fprintf(s->out, "</rect>\n");
	}
	fprintf(s->out, "</g>\n");
	free(order);
}

static void grid(struct mo_svg_chart *s)
{
	char label[32];

	fprintf(s->out, "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n");
	for (size_t i = 1; i <= s->ya.nticks; i++)
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", s->x0, svg_y(s, i * s->ya.step),
			s->x1, svg_y(s, i * s->ya.step));
	fprintf(s->out, "</g>\n<g class=\"y-axis\" text-anchor=\"end\" fill=\"#333333\">\n");
	for (size_t i = 0; i <= s->ya.nticks; i++)
		fprintf(s->out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", s->x0 - 6, svg_y(s, i * s->ya.step) + 4,
			chart_axis_label(&s->ya, i, label, sizeof(label)));
	fprintf(s->out, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
		s->x0 - 58, (s->y0 + s->y1) / 2, s->run->heap ? "session RSS by kind, live heap" : "session RSS by kind");
	fprintf(s->out, "</g>\n<g class=\"x-axis\" text-anchor=\"middle\" fill=\"#333333\">\n");
	for (size_t i = 0; i <= s->xa.nticks; i++)
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", svg_x(s, i * s->xa.step), s->y1, svg_x(s, i * s->xa.step),
			s->y1 + 4, svg_x(s, i * s->xa.step), s->y1 + 16, chart_axis_label(&s->xa, i, label, sizeof(label)));
	fprintf(s->out, "</g>\n");
}

/* A timeline of one sample is drawn 4 px wide, centred on it. */
static size_t npoints(const struct mo_run *run)
{
	return run->ntimeline == 1 ? 2 : run->ntimeline;
}

static double point_x(const struct mo_svg_chart *s, size_t j)
{
	if (s->run->ntimeline == 1)
		return svg_x(s, s->run->timeline[0].t) + (j ? 2 : -2);
	return svg_x(s, s->run->timeline[j].t);
}

static const struct mo_sample *point(const struct mo_svg_chart *s, size_t j)
{
	return &s->run->timeline[s->run->ntimeline == 1 ? 0 : j];
}

static int64_t stack_below(const struct mo_sample *smp, enum mo_svg_kind k)
{
	int64_t sum = 0;

	for (int i = 0; i < (int)k; i++) {
		int64_t v = svg_kind_value(smp, i);

		sum += v > 0 ? v : 0;
	}
	return sum;
}

static void areas(struct mo_svg_chart *s)
{
	size_t n = npoints(s->run);

	fprintf(s->out, "<g class=\"rss\" fill-opacity=\"0.85\">\n");
	for (int k = 0; k < MO_SVG_NR; k++) {
		if (!s->any_kind[k])
			continue;
		fprintf(s->out, "<path fill=\"%s\" d=\"", kinds[k].color);
		for (size_t j = 0; j < n; j++) {
			const struct mo_sample *smp = point(s, j);
			int64_t v = svg_kind_value(smp, k);

			fprintf(s->out, "%s%.1f %.1f", j ? " L" : "M", point_x(s, j),
				svg_y(s, stack_below(smp, k) + (v > 0 ? v : 0)));
		}
		for (size_t j = n; j-- > 0;)
			fprintf(s->out, " L%.1f %.1f", point_x(s, j), svg_y(s, stack_below(point(s, j), k)));
		fprintf(s->out, " Z\"><title>%s</title></path>\n", kinds[k].name);
	}
	fprintf(s->out, "</g>\n");
	if (!s->run->heap)
		return;
	fprintf(s->out, "<polyline class=\"heap\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" "
		"stroke-linejoin=\"round\" points=\"", HEAP_COLOR);
	for (size_t j = 0; j < n; j++)
		fprintf(s->out, "%s%.1f,%.1f", j ? " " : "", point_x(s, j), svg_y(s, point(s, j)->heap_live));
	fprintf(s->out, "\"><title>live heap</title></polyline>\n");
}

/* Lanes under the plot: each process drawn as a bar over its lifetime, on
 * the plot's time scale, named with its peak; processes alive at once are
 * in different lanes. */
static void processes(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;

	if (!s->nprocs)
		return;
	fprintf(s->out, "<g class=\"processes\">\n<text x=\"%.1f\" y=\"%.1f\" fill=\"#555555\">processes: the %zu of "
		"highest peak RSS, each over its lifetime</text>\n", s->x0, s->procs_y - 4, s->nprocs);
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct mo_proc_rec *p = &run->procs[s->procs[i]];
		double y = s->procs_y + s->proc_lane[i] * LANE;
		struct svg_proc_bar b;

		svg_proc_bar(s, i, &b);
		fprintf(s->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" fill=\"%s\"><title>", b.x0,
			y + 2, b.x1 - b.x0, proc_colors[i]);
		text_esc(s, b.label);
		fprintf(s->out, ", %.2f-%.2f s</title></rect><text x=\"%.1f\" y=\"%.1f\">", p->start_s,
			svg_proc_end(run, p), b.tx, y + 11);
		text_esc(s, b.label);
		fprintf(s->out, "</text>\n");
	}
	fprintf(s->out, "</g>\n");
}

/* The value of a phase's peak, over its line if there is room, else in the
 * first free place above or below it; where there is none, the line's
 * tooltip still gives it. */
static void peak_label(struct mo_svg_chart *s, struct mo_boxes *used, double x0, double x1, double y, const char *text)
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

static void peaks(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;
	struct mo_boxes used = {};

	fprintf(s->out, "<g class=\"peaks\" stroke=\"%s\" stroke-width=\"1.5\">\n", PEAK_COLOR);
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		double x0 = svg_x(s, ph->start_s), x1 = svg_x(s, svg_phase_end(ph)), cx = (x0 + x1) / 2;
		char sz[32];

		if (!svg_phase_drawn(run, i))
			continue;
		/* A narrow phase still gets a visible tick. */
		if (x1 - x0 < 8) {
			x0 = cx - 4;
			x1 = cx + 4;
		}
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>", x0,
			svg_y(s, ph->rss_peak), x1, svg_y(s, ph->rss_peak));
		text_esc(s, ph->name);
		fprintf(s->out, ": peak RSS %s</title></line>\n", units_fmt_size(ph->rss_peak, sz, sizeof(sz)));
	}
	fprintf(s->out, "</g>\n<g class=\"peak-labels\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"3\" "
		"paint-order=\"stroke\">\n", PEAK_COLOR);
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		char sz[32];

		if (svg_phase_drawn(run, i))
			peak_label(s, &used, svg_x(s, ph->start_s), svg_x(s, svg_phase_end(ph)), svg_y(s, ph->rss_peak),
				   units_fmt_size(ph->rss_peak, sz, sizeof(sz)));
	}
	fprintf(s->out, "</g>\n");
	chart_boxes_free(&used);
}

static void phase_labels(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;

	fprintf(s->out, "<g class=\"phase-labels\" text-anchor=\"middle\" fill=\"#222222\">\n");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		double cx = (svg_x(s, ph->start_s) + svg_x(s, svg_phase_end(ph))) / 2, w = chart_text_width(ph->name, FONT);
		double tx = fmin(fmax(cx, s->x0 + w / 2), s->x1 - w / 2), y;

		if (!svg_phase_band(i) || s->label_row[i] == NO_ROW)
			continue;
		y = s->labels_y + 10 + s->label_row[i] * ROW;
		fprintf(s->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\"/>"
			"<text x=\"%.1f\" y=\"%.1f\">", cx, y + 3, cx, band_top(s, ph), band_colors[i % 8], tx, y);
		text_esc(s, ph->name);
		fprintf(s->out, "</text>\n");
	}
	fprintf(s->out, "</g>\n");
}

static void marks(struct mo_svg_chart *s)
{
	const struct mo_run *run = s->run;

	if (!run->nmarks)
		return;
	fprintf(s->out, "<g class=\"marks\" text-anchor=\"middle\" fill=\"%s\">\n", MARK_COLOR);
	for (size_t i = 0; i < run->nmarks; i++) {
		const struct mo_mark_rec *m = &run->marks[i];
		double x = svg_x(s, m->t), w = chart_text_width(m->label, FONT);

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

void report_svg_draw(struct mo_svg_chart *s)
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

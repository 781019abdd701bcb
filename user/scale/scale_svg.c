// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <string.h>
#include "report/chart.h"
#include "scale/scale_svg.h"
#include "scale/scale_text.h"
#include "lib/xmlesc.h"

#define WIDTH 1000
#define COLS 2
#define PANEL_W (WIDTH / COLS)
#define PANEL_H 290
#define HEAD 58			/* the document's title lines */
#define PAD_L 78		/* inside a panel: room for the value labels */
#define PAD_R 22
#define PAD_T 46		/* two lines of panel title */
#define PAD_B 40		/* tick labels and the axis name */
#define FONT 11
#define CURVE_SAMPLES 64
#define MAX_TICKS 6
#define FONTS "DejaVu Sans, Liberation Sans, Arial, sans-serif"

#define POINT_COLOR "#4c72b0"
#define CURVE_COLOR "#c44e52"
#define PREDICT_COLOR "#222222"
#define BUDGET_COLOR "#d95f02"
#define GRID_COLOR "#e5e5e5"

/* A log axis: ticks at base^e for e = e0, e0 + step, ..., e1. Bytes go in
 * powers of two (1 KiB, 32 KiB, 1 MiB read better than 97.7 KiB), the rest
 * in powers of ten. */
struct log_axis {
	double base;
	int e0, e1, step;
	enum mo_unit unit;
	bool sizes;		/* the N axis: plain numbers */
	double p0, p1;		/* pixels of base^e0 and base^e1 */
};

struct panel {
	FILE *out;
	const struct mo_scale *s;
	const struct mo_scale_metric *m;
	struct log_axis xa, ya;
	double x0, y0, x1, y1;	/* the plot area */
	double n_hi;		/* the curve runs to here: the prediction, or the sweep's end */
	int err;
};

static void esc(struct panel *p, const char *s)
{
	if (xmlesc_fputs(p->out, s) && !p->err)
		p->err = -ENOMEM;
}

static void axis_fit(struct log_axis *ax, double lo, double hi, enum mo_unit unit, bool sizes)
{
	static const int byte_steps[] = { 1, 2, 5, 10, 20, 30 }, dec_steps[] = { 1, 2, 3, 5, 10, 20 };
	bool bytes = unit == MO_UNIT_BYTES && !sizes;
	const int *steps = bytes ? byte_steps : dec_steps;
	int lo_e, hi_e;

	ax->base = bytes ? 2 : 10;
	ax->unit = unit;
	ax->sizes = sizes;
	lo_e = (int)floor(log(lo) / log(ax->base) + 1e-9);
	hi_e = (int)ceil(log(hi) / log(ax->base) - 1e-9);
	if (hi_e <= lo_e)
		hi_e = lo_e + 1;
	for (size_t i = 0; i < 6; i++) {
		ax->step = steps[i];
		/* Multiples of the step, so that labels are round: 1 KiB, 32 KiB, 1 MiB. */
		ax->e0 = (int)floor((double)lo_e / ax->step) * ax->step;
		ax->e1 = (int)ceil((double)hi_e / ax->step) * ax->step;
		if ((ax->e1 - ax->e0) / ax->step <= MAX_TICKS)
			break;
	}
}

static double axis_px(const struct log_axis *ax, double v)
{
	double t = (log(v) / log(ax->base) - ax->e0) / (ax->e1 - ax->e0);

	return ax->p0 + t * (ax->p1 - ax->p0);
}

static const char *axis_label(const struct log_axis *ax, int e, char *buf, size_t len)
{
	static const char *const bytes[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = pow(ax->base, e);

	if (ax->base == 2 && e >= 0 && e / 10 < 6)
		snprintf(buf, len, "%d %s", 1 << (e % 10), bytes[e / 10]);
	else if (ax->unit == MO_UNIT_SECONDS && !ax->sizes)
		snprintf(buf, len, "%g %s", e >= 0 ? v : e >= -3 ? v * 1e3 : e >= -6 ? v * 1e6 : v * 1e9,
			 e >= 0 ? "s" : e >= -3 ? "ms" : e >= -6 ? "us" : "ns");
	else if (e >= 0 && e <= 6)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%g", v);
	return buf;
}

/* The curve's N at sample i of CURVE_SAMPLES, geometric from n_min. */
static double sample_n(const struct panel *p, int i)
{
	return p->m->fit.n_min * pow(p->n_hi / p->m->fit.n_min, (double)i / (CURVE_SAMPLES - 1));
}

static void extend(double v, double *lo, double *hi)
{
	if (v > 0 && isfinite(v)) {
		*lo = fmin(*lo, v);
		*hi = fmax(*hi, v);
	}
}

/* Axes covering the points, the curve, the prediction and the budget. */
static bool measure(struct panel *p)
{
	const struct mo_scale_metric *m = p->m;
	const struct mo_scale *s = p->s;
	double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0, value, n;

	for (size_t i = 0; i < m->npoints; i++) {
		extend(m->points[i].n, &xlo, &xhi);
		extend(m->points[i].value, &ylo, &yhi);
	}
	p->n_hi = m->err ? xhi : m->fit.n_max;
	if (s->setup.predict && !scale_predict(m, (double)s->setup.predict, &value, &n, NULL)) {
		extend(n, &xlo, &xhi);
		extend(value, &ylo, &yhi);
		p->n_hi = fmax(p->n_hi, n);
	}
	for (int i = 0; !m->err && i < CURVE_SAMPLES; i++)
		extend(fit_eval(&m->fit, sample_n(p, i)), &ylo, &yhi);
	if (s->setup.budget && !strcmp(m->name, "peak_rss"))
		extend((double)s->setup.budget, &ylo, &yhi);
	if (!(xhi > 0) || !(yhi > 0))
		return false;
	axis_fit(&p->xa, xlo, xhi, MO_UNIT_COUNT, true);
	axis_fit(&p->ya, ylo, yhi, m->unit, false);
	p->xa.p0 = p->x0;
	p->xa.p1 = p->x1;
	p->ya.p0 = p->y1;
	p->ya.p1 = p->y0;
	return true;
}

static void draw_axes(struct panel *p)
{
	char label[32];

	for (int e = p->ya.e0; e <= p->ya.e1; e += p->ya.step) {
		double y = axis_px(&p->ya, pow(p->ya.base, e));

		fprintf(p->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", p->x0, y, p->x1, y,
			GRID_COLOR);
		fprintf(p->out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", p->x0 - 6, y + 4,
			axis_label(&p->ya, e, label, sizeof(label)));
	}
	for (int e = p->xa.e0; e <= p->xa.e1; e += p->xa.step) {
		double x = axis_px(&p->xa, pow(p->xa.base, e));

		fprintf(p->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x, p->y0, x, p->y1,
			GRID_COLOR);
		fprintf(p->out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, p->y1 + 15,
			axis_label(&p->xa, e, label, sizeof(label)));
	}
	fprintf(p->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999999\"/>\n",
		p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0);
	fprintf(p->out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\">N (%s)</text>\n",
		(p->x0 + p->x1) / 2, p->y1 + 31, p->m->by_items ? "items" : "size");
}

static void curve_path(struct panel *p, int from, int to, bool dashed)
{
	bool pen = false;

	fprintf(p->out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", CURVE_COLOR,
		dashed ? " stroke-dasharray=\"6 4\"" : "");
	for (int i = from; i <= to; i++) {
		double n = sample_n(p, i), v = fit_eval(&p->m->fit, n);

		if (v > 0)
			fprintf(p->out, "%s%.1f %.1f ", pen ? "L" : "M", axis_px(&p->xa, n), axis_px(&p->ya, v));
		pen = v > 0;
	}
	fprintf(p->out, "\"/>\n");
}

/* The fitted curve from n_min to n_hi, solid over the sweep, dashed
 * beyond; a stretch where the model is not positive is left out. */
static void draw_curve(struct panel *p)
{
	int split = 0;

	while (split + 1 < CURVE_SAMPLES && sample_n(p, split + 1) <= p->m->fit.n_max * (1 + 1e-9))
		split++;
	curve_path(p, 0, split, false);
	if (split + 1 < CURVE_SAMPLES)
		curve_path(p, split, CURVE_SAMPLES - 1, true);
}

static void draw_points(struct panel *p, size_t *hidden)
{
	const struct mo_scale_metric *m = p->m;
	char v[32];

	*hidden = 0;
	for (size_t i = 0; i < m->npoints; i++) {
		const struct mo_scale_point *pt = &m->points[i];

		if (!(pt->value > 0)) {
			(*hidden)++;
			continue;
		}
		fprintf(p->out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>size %llu", axis_px(&p->xa, pt->n),
			axis_px(&p->ya, pt->value), POINT_COLOR, (unsigned long long)pt->size);
		if (m->by_items)
			fprintf(p->out, ", %.0f items", pt->n);
		fprintf(p->out, ": %s</title></circle>\n", scale_text_fmt(pt->value, m->unit, v, sizeof(v)));
	}
}

static void draw_answers(struct panel *p)
{
	const struct mo_scale *s = p->s;
	double value, n, x, y;
	char v[32];

	if (s->setup.budget && !strcmp(p->m->name, "peak_rss")) {
		y = axis_px(&p->ya, (double)s->setup.budget);
		fprintf(p->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"3 3\"/>\n",
			p->x0, y, p->x1, y, BUDGET_COLOR);
		fprintf(p->out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">budget %s</text>\n", p->x0 + 4, y - 4, BUDGET_COLOR,
			scale_text_fmt((double)s->setup.budget, MO_UNIT_BYTES, v, sizeof(v)));
	}
	if (!s->setup.predict || scale_predict(p->m, (double)s->setup.predict, &value, &n, NULL) || !(value > 0))
		return;
	x = axis_px(&p->xa, n);
	y = axis_px(&p->ya, value);
	fprintf(p->out, "<path d=\"M%.1f %.1f l5 5 l-5 5 l-5 -5 z\" fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"1.5\">"
		"<title>predicted at size %llu: %s</title></path>\n", x, y - 5, PREDICT_COLOR,
		(unsigned long long)s->setup.predict, scale_text_fmt(value, p->m->unit, v, sizeof(v)));
	fprintf(p->out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x - 8, y - 8, v);
}

/* Cut s to fit px pixels, marking the cut with an ellipsis. */
static void fit_text(char *s, size_t size, double px)
{
	size_t len = strlen(s);

	if (chart_text_width(s, FONT) <= px)
		return;
	while (len > 0 && (chart_text_width(s, FONT) + chart_text_width("\xe2\x80\xa6", FONT) > px ||
			   ((unsigned char)s[len] & 0xc0) == 0x80))
		s[--len] = 0;
	if (len + 4 <= size)
		memcpy(s + len, "\xe2\x80\xa6", 4);
}

static void describe(const struct mo_scale_metric *m, char *buf, size_t len)
{
	char model[96];

	if (m->err)
		snprintf(buf, len, "not fitted: %s", m->why);
	else if (m->fit.shape == MO_FIT_CONSTANT)
		snprintf(buf, len, "constant: %s", scale_text_model(m, model, sizeof(model)));
	else
		snprintf(buf, len, "%s: %s (k %.2f, R^2 %.4f)", fit_shape_name(m->fit.shape),
			 scale_text_model(m, model, sizeof(model)), m->fit.k_free, m->fit.r2);
}

static void draw_panel(FILE *out, const struct mo_scale *s, size_t index, int *err)
{
	struct panel p = { .out = out, .s = s, .m = &s->metrics[index] };
	double left = (double)(index % COLS) * PANEL_W, top = HEAD + (double)(index / COLS) * PANEL_H;
	char title[256], line[320];
	size_t hidden = 0;

	p.x0 = left + PAD_L;
	p.x1 = left + PANEL_W - PAD_R;
	p.y0 = top + PAD_T;
	p.y1 = top + PANEL_H - PAD_B;
	snprintf(title, sizeof(title), "%s", p.m->name);
	fit_text(title, sizeof(title), PANEL_W - PAD_R - 12);
	describe(p.m, line, sizeof(line));
	fit_text(line, sizeof(line), PANEL_W - PAD_R - 12);
	fprintf(out, "<g class=\"metric\">\n<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">", left + 12, top + 16);
	esc(&p, title);
	fprintf(out, "</text>\n<text x=\"%.1f\" y=\"%.1f\" fill=\"#555555\">", left + 12, top + 32);
	esc(&p, line);
	fprintf(out, "</text>\n");
	if (measure(&p)) {
		draw_axes(&p);
		if (!p.m->err)
			draw_curve(&p);
		draw_points(&p, &hidden);
		draw_answers(&p);
	}
	if (hidden || !p.m->npoints)
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555555\">%zu point%s of value 0 or less not drawn (log axis)"
			"</text>\n", p.x0 + 6, p.y0 + 14, hidden, hidden == 1 ? "" : "s");
	fprintf(out, "</g>\n");
	if (p.err && !*err)
		*err = p.err;
}

static void head(FILE *out, const struct mo_scale *s, double height, int *err)
{
	char cmd[1024];

	scale_text_command(s, cmd, sizeof(cmd));
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"memobs-scale\" width=\"%d\" height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\" font-family=\"%s\" font-size=\"%d\">\n<title>memobs scale: ",
		WIDTH, height, WIDTH, height, FONTS, FONT);
	if (xmlesc_fputs(out, cmd))
		*err = -ENOMEM;
	fprintf(out, "</title>\n<rect width=\"%d\" height=\"%.0f\" fill=\"#ffffff\"/>\n", WIDTH, height);
	fit_text(cmd, sizeof(cmd), WIDTH - 140);
	fprintf(out, "<text x=\"12\" y=\"22\" font-size=\"16\" font-weight=\"bold\">memobs scale: ");
	if (xmlesc_fputs(out, cmd))
		*err = -ENOMEM;
	fprintf(out, "</text>\n<text x=\"12\" y=\"42\" fill=\"#555555\">sizes");
	for (size_t i = 0; i < s->setup.nsizes; i++)
		fprintf(out, "%s%llu", i ? ", " : " ", (unsigned long long)s->setup.sizes[i]);
	fprintf(out, "; %u run%s each, the median; log-log axes: the line is a + b*N^k fitted, dashed beyond the "
		"sweep%s</text>\n", s->setup.repeat, s->setup.repeat == 1 ? "" : "s",
		s->setup.predict ? "; the diamond is the prediction" : "");
}

int scale_svg(FILE *out, const struct mo_scale *s)
{
	double height = HEAD + (double)((s->nmetrics + COLS - 1) / COLS) * PANEL_H + 10;
	int err = 0;

	head(out, s, height, &err);
	for (size_t i = 0; i < s->nmetrics; i++)
		draw_panel(out, s, i, &err);
	fprintf(out, "</svg>\n");
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}

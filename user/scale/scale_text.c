// SPDX-License-Identifier: GPL-2.0
/* Every line fits TEXTFIT_WIDTH columns: a metric name longer than its
 * column gets a line of its own, notes wrap. */
#include <math.h>
#include <string.h>
#include "scale/scale_text.h"
#include "lib/termesc.h"
#include "lib/textfit.h"
#include "lib/units.h"

#define WIDTH TEXTFIT_WIDTH
#define NAME_COLS 20
#define MODEL_COLS 24

const char *scale_text_fmt(double v, enum mo_unit unit, char *buf, size_t len)
{
	double a = fabs(v);

	switch (unit) {
	case MO_UNIT_BYTES:
		/* A coefficient may be a fraction of a byte (per N^2). */
		if (a > 0 && a < 1) {
			snprintf(buf, len, "%.3g B", v);
			return buf;
		}
		return units_fmt_size(v, buf, len);
	case MO_UNIT_SECONDS:
		/* Per-unit times are micro- or nanoseconds, or less: "0 ns"
		 * would hide them. */
		if (a >= 1 || a == 0)
			snprintf(buf, len, "%.2f s", v);
		else if (a >= 1e-3)
			snprintf(buf, len, "%.2f ms", v * 1e3);
		else if (a >= 1e-6)
			snprintf(buf, len, "%.2f us", v * 1e6);
		else
			snprintf(buf, len, "%.3g ns", v * 1e9);
		return buf;
	case MO_UNIT_COUNT:
		break;
	}
	snprintf(buf, len, a >= 1e6 || (a > 0 && a < 1) ? "%.3g" : "%.0f", v);
	return buf;
}

const char *scale_text_command(const struct mo_scale *s, char *buf, size_t len)
{
	char arg[1024];
	size_t n = 0;

	buf[0] = 0;
	for (char **a = s->setup.command; a && *a && n < len; a++)
		n += snprintf(buf + n, len - n, "%s%s", a == s->setup.command ? "" : " ", termesc(*a, arg, sizeof(arg)));
	return buf;
}

const char *scale_text_term(const struct mo_scale_metric *m, char *buf, size_t len)
{
	char b[32], k[16] = "";

	if (m->fit.k != 1)
		snprintf(k, sizeof(k), m->fit.snapped ? "^%g" : "^%.2f", m->fit.k);
	snprintf(buf, len, "%s*N%s", scale_text_fmt(m->fit.b, m->unit, b, sizeof(b)), k);
	return buf;
}

const char *scale_text_model(const struct mo_scale_metric *m, char *buf, size_t len)
{
	char a[32], term[48];

	if (m->fit.shape == MO_FIT_CONSTANT)
		snprintf(buf, len, "%s", scale_text_fmt(m->fit.a, m->unit, a, sizeof(a)));
	else if (m->fit.a == 0)
		snprintf(buf, len, "%s", scale_text_term(m, term, sizeof(term)));
	else if (m->fit.b < 0)
		snprintf(buf, len, "%s - %s", scale_text_fmt(m->fit.a, m->unit, a, sizeof(a)),
			 scale_text_term(m, term, sizeof(term)) + 1);
	else
		snprintf(buf, len, "%s + %s", scale_text_fmt(m->fit.a, m->unit, a, sizeof(a)),
			 scale_text_term(m, term, sizeof(term)));
	return buf;
}

static const struct mo_scale_point *point_at(const struct mo_scale_metric *m, uint64_t size)
{
	for (size_t i = 0; i < m->npoints; i++)
		if (m->points[i].size == size)
			return &m->points[i];
	return NULL;
}

/* The metric's name in its column: into buf, or on a line of its own when
 * longer (buf then holds the column blank). */
static const char *name_column(FILE *out, const char *name, const char *indent, char *buf, size_t len)
{
	char esc[4 * METRICS_NAME_MAX];

	termesc(name, esc, sizeof(esc));
	if (textfit_cols(esc) > NAME_COLS) {
		fprintf(out, "%s%s\n", indent, esc);
		esc[0] = 0;
	}
	snprintf(buf, len, "%s%-*s", indent, textfit_pad(esc, NAME_COLS), esc);
	return buf;
}

static void print_row(FILE *out, const struct mo_scale *s, const struct mo_scale_metric *m)
{
	const struct mo_scale_point *lo = point_at(m, s->setup.sizes[0]);
	const struct mo_scale_point *hi = point_at(m, s->setup.sizes[s->setup.nsizes - 1]);
	char first[32] = "-", last[32] = "-", model[96], k[16] = "-", r2[16] = "-", why[256], name[256];
	char lead[512];

	if (lo)
		scale_text_fmt(lo->value, m->unit, first, sizeof(first));
	if (hi)
		scale_text_fmt(hi->value, m->unit, last, sizeof(last));
	snprintf(lead, sizeof(lead), "%s %-5s %10s %10s  ", name_column(out, m->name, "", name, sizeof(name)),
		 m->err ? "-" : m->by_items ? "items" : "size", first, last);
	if (m->err) {
		snprintf(why, sizeof(why), "not fitted: %s", m->why);
		textfit_wrap(out, why, WIDTH, lead, "    ");
		return;
	}
	fputs(lead, out);
	if (m->fit.shape != MO_FIT_CONSTANT) {
		snprintf(k, sizeof(k), "%.2f", m->fit.k_free);
		snprintf(r2, sizeof(r2), "%.4f", m->fit.r2);
	}
	scale_text_model(m, model, sizeof(model));
	/* A model longer than its column goes on alone; the rest below it. */
	if (textfit_cols(model) > MODEL_COLS)
		fprintf(out, "%s\n%*s", model, (int)textfit_cols(lead), "");
	fprintf(out, "%-*s %5s %6s %s\n", MODEL_COLS, textfit_cols(model) > MODEL_COLS ? "" : model, k, r2,
		fit_shape_name(m->fit.shape));
}

static void print_method(FILE *out, const struct mo_scale *s)
{
	char floor[32], secs[32], text[1024];
	bool items = false, origin = false;

	for (size_t i = 0; i < s->nmetrics; i++) {
		items |= s->metrics[i].by_items && !s->metrics[i].err;
		origin |= !s->metrics[i].err && s->metrics[i].fit.origin;
	}
	fputc('\n', out);
	snprintf(text, sizeof(text), "the size%s.", items ? "; items: the work items counted by items markers (a "
		 "phase's own, the run's outside any phase)" : "");
	textfit_wrap(out, text, WIDTH, "N: ", "   ");
	snprintf(text, sizeof(text), "y = a + b*N^k: k by a 1-D search in [%g, %g], a and b by least squares for "
		 "each k, a at least 0 (what is measured is never negative%s); k within %.2f of 0.5, 1, 2 or 3 "
		 "is rounded to it when R^2 drops by at most %g.", FIT_K_MIN, FIT_K_MAX,
		 origin ? ": a fit without a term in a went through 0" : "", FIT_TOL, FIT_SNAP_R2);
	textfit_wrap(out, text, WIDTH, "fit: ", "     ");
	snprintf(text, sizeof(text), "linear when |k - 1| <= %.2f (k as estimated, column k); constant when the "
		 "values vary by at most %.0f%% across the sweep (or by %s, %s); unclear when R^2 < %g.", FIT_TOL,
		 FIT_CONST_TOL * 100, units_fmt_size(SCALE_NOISE_BYTES, floor, sizeof(floor)),
		 scale_text_fmt(SCALE_NOISE_SECONDS, MO_UNIT_SECONDS, secs, sizeof(secs)), FIT_MIN_R2);
	textfit_wrap(out, text, WIDTH, "verdict: ", "     ");
	if (s->setup.nsizes == FIT_MIN_SIZES) {
		snprintf(text, sizeof(text), "%d sizes fit a + b*N^k exactly, so R^2 tests only a rounded k: run more"
			 " sizes to test the shape.", FIT_MIN_SIZES);
		textfit_wrap(out, text, WIDTH, "note: ", "     ");
	}
}

/* After lead, "126.1 MiB +- 1.2 MiB", or the value and why it is not to
 * be relied on. */
static void print_predicted(FILE *out, const char *lead, const struct mo_scale_metric *m, double value,
			    double interval)
{
	char v[32], i[32], text[256];

	scale_text_fmt(value, m->unit, v, sizeof(v));
	/* Rounding noise of an exact fit is no error. */
	scale_text_fmt(interval > 1e-9 * fabs(value) ? interval : 0, m->unit, i, sizeof(i));
	if (scale_reliable(m, value, interval))
		snprintf(text, sizeof(text), "%s +- %s", v, i);
	else if (m->fit.shape == MO_FIT_UNCLEAR)
		snprintf(text, sizeof(text), "%s, not reliable: the fit is unclear (R^2 %.2f), no trend to "
			 "extrapolate", v, m->fit.r2);
	else if (value < 0)
		snprintf(text, sizeof(text), "%s, not reliable: the %s fit falls below 0 there", v,
			 fit_shape_name(m->fit.shape));
	else if (!isfinite(interval))
		snprintf(text, sizeof(text), "%s, not reliable: no run left to measure the error", v);
	else
		snprintf(text, sizeof(text), "%s, not reliable: +- %s", v, i);
	textfit_wrap(out, text, WIDTH, lead, "      ");
}

static void print_prediction(FILE *out, const struct mo_scale *s)
{
	double size = (double)s->setup.predict, largest = (double)s->setup.sizes[s->setup.nsizes - 1];
	char text[256];
	int n;

	n = snprintf(text, sizeof(text), "prediction at size %llu", (unsigned long long)s->setup.predict);
	if (size > largest)
		n = textfit_appendf(text, sizeof(text), n, " (%.3gx the largest size run)", size / largest);
	textfit_appendf(text, sizeof(text), n, ", +- its 95%% prediction interval (assuming the fit holds that "
		 "far; not reliable past half the value):");
	fputc('\n', out);
	textfit_wrap(out, text, WIDTH, "", "  ");
	for (size_t i = 0; i < s->nmetrics; i++) {
		const struct mo_scale_metric *m = &s->metrics[i];
		double value, nn, interval;
		char name[256], lead[512];

		if (scale_predict(m, size, &value, &nn, &interval))
			continue;
		name_column(out, m->name, "  ", name, sizeof(name));
		if (m->by_items)
			snprintf(lead, sizeof(lead), "%s  (at %.0f items) ", name, nn);
		else
			snprintf(lead, sizeof(lead), "%s  ", name);
		print_predicted(out, lead, m, value, interval);
	}
}

static void print_budget(FILE *out, const struct mo_scale *s)
{
	struct mo_scale_budget b;
	char pred[32], budget[32], margin[32], iv[32], err[256], text[512];
	double used;

	units_fmt_size((double)s->setup.budget, budget, sizeof(budget));
	fputc('\n', out);
	if (scale_budget(s, &b, err, sizeof(err))) {
		snprintf(text, sizeof(text), "%s at size %llu: %s", budget, (unsigned long long)s->setup.predict, err);
		textfit_wrap(out, text, WIDTH, "budget ", "  ");
		return;
	}
	units_fmt_size(b.predicted, pred, sizeof(pred));
	units_fmt_size(fabs(b.margin), margin, sizeof(margin));
	units_fmt_size(b.interval, iv, sizeof(iv));
	used = 100.0 * b.predicted / (double)s->setup.budget;
	if (!b.fits)
		snprintf(text, sizeof(text), "peak_rss at size %llu is predicted at %s, %.1f%% of the %s budget: it "
			 "does NOT fit, %s over.", (unsigned long long)s->setup.predict, pred, used, budget, margin);
	else if (b.fits_upper)
		snprintf(text, sizeof(text), "peak_rss at size %llu is predicted at %s +- %s, %.1f%% of the %s budget:"
			 " it fits, %s to spare, at the upper end of its 95%% interval too.",
			 (unsigned long long)s->setup.predict, pred, iv, used, budget, margin);
	else
		snprintf(text, sizeof(text), "peak_rss at size %llu is predicted at %s, %.1f%% of the %s budget: it "
			 "fits, %s to spare, but %s", (unsigned long long)s->setup.predict, pred, used, budget, margin,
			 isfinite(b.interval) ? "not at the upper end of its 95% interval" :
						"its error is unknown (run more sizes)");
	textfit_wrap(out, text, WIDTH, "budget: ", "        ");
	if (scale_metric(s, "peak_rss")->fit.shape == MO_FIT_UNCLEAR) {
		snprintf(text, sizeof(text), "the peak RSS fit is unclear (R^2 %.2f): the answer extrapolates no trend",
			 scale_metric(s, "peak_rss")->fit.r2);
		textfit_wrap(out, text, WIDTH, "        but ", "        ");
	}
}

void scale_text(FILE *out, const struct mo_scale *s)
{
	char cmd[4 * WIDTH], cut[4 * WIDTH], first[32], last[32], sizes[512], text[1024];
	size_t n = 0;

	scale_text_command(s, cmd, sizeof(cmd));
	fprintf(out, "memobs scale: %s\n", textfit_cut(cmd, WIDTH - strlen("memobs scale: "), false, cut, sizeof(cut)));
	for (size_t i = 0; i < s->setup.nsizes; i++)
		n = textfit_appendf(sizes, sizeof(sizes), n, "%s%llu", i ? ", " : "", (unsigned long long)s->setup.sizes[i]);
	snprintf(text, sizeof(text), "%s%s%s; %u run%s each (median)%s", sizes, s->setup.env ? " in $" : "",
		 s->setup.env ? s->setup.env : "", s->setup.repeat, s->setup.repeat == 1 ? "" : "s",
		 s->setup.heap ? "; heap traced" : "");
	textfit_wrap(out, text, WIDTH, "  sizes ", "        ");
	snprintf(first, sizeof(first), "at %llu", (unsigned long long)s->setup.sizes[0]);
	snprintf(last, sizeof(last), "at %llu", (unsigned long long)s->setup.sizes[s->setup.nsizes - 1]);
	fprintf(out, "\n%-*s %-5s %10s %10s  %-*s %5s %6s %s\n", NAME_COLS, "metric", "N", first, last, MODEL_COLS,
		"fit: a + b*N^k", "k", "R^2", "verdict");
	for (size_t i = 0; i < s->nmetrics; i++)
		print_row(out, s, &s->metrics[i]);
	print_method(out, s);
	if (s->setup.predict)
		print_prediction(out, s);
	if (s->setup.budget)
		print_budget(out, s);
}

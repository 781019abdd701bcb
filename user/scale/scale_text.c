// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include "scale/scale_text.h"
#include "lib/units.h"

const char *scale_text_fmt(double v, enum mo_unit unit, char *buf, size_t len)
{
	double a = fabs(v);

	switch (unit) {
	case MO_UNIT_BYTES:
		return units_fmt_size(v, buf, len);
	case MO_UNIT_SECONDS:
		/* Per-unit times are micro- or milliseconds: "0.00 s" would hide them. */
		if (a >= 1 || a == 0)
			snprintf(buf, len, "%.2f s", v);
		else if (a >= 1e-3)
			snprintf(buf, len, "%.2f ms", v * 1e3);
		else if (a >= 1e-6)
			snprintf(buf, len, "%.2f us", v * 1e6);
		else
			snprintf(buf, len, "%.0f ns", v * 1e9);
		return buf;
	case MO_UNIT_COUNT:
		break;
	}
	snprintf(buf, len, a >= 1e6 ? "%.3g" : "%.0f", v);
	return buf;
}

const char *scale_text_command(const struct mo_scale *s, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (char **a = s->setup.command; a && *a && n < len; a++)
		n += snprintf(buf + n, len - n, "%s%s", a == s->setup.command ? "" : " ", *a);
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

static const struct mo_scale_point *point_at(const struct mo_scale_metric *m, uint64_t size)
{
	for (size_t i = 0; i < m->npoints; i++)
		if (m->points[i].size == size)
			return &m->points[i];
	return NULL;
}

static void print_row(FILE *out, const struct mo_scale *s, const struct mo_scale_metric *m, int width)
{
	const struct mo_scale_point *lo = point_at(m, s->setup.sizes[0]);
	const struct mo_scale_point *hi = point_at(m, s->setup.sizes[s->setup.nsizes - 1]);
	char first[32] = "-", last[32] = "-", a[32], term[48], k[16], r2[16];

	if (lo)
		scale_text_fmt(lo->value, m->unit, first, sizeof(first));
	if (hi)
		scale_text_fmt(hi->value, m->unit, last, sizeof(last));
	fprintf(out, "%-*s %-5s %10s %10s", width, m->name, m->err ? "-" : m->by_items ? "items" : "size", first, last);
	if (m->err) {
		fprintf(out, "  not fitted: %s\n", m->why);
		return;
	}
	if (m->fit.shape == MO_FIT_CONSTANT) {
		fprintf(out, " %10s %14s %5s %6s  %s\n", scale_text_fmt(m->fit.a, m->unit, a, sizeof(a)), "-", "-", "-",
			fit_shape_name(m->fit.shape));
		return;
	}
	snprintf(k, sizeof(k), "%.2f", m->fit.k_free);
	snprintf(r2, sizeof(r2), "%.4f", m->fit.r2);
	fprintf(out, " %10s %14s %5s %6s  %s\n", scale_text_fmt(m->fit.a, m->unit, a, sizeof(a)),
		scale_text_term(m, term, sizeof(term)), k, r2, fit_shape_name(m->fit.shape));
}

static void print_method(FILE *out, const struct mo_scale *s)
{
	char floor[32], secs[32];
	bool items = false;

	for (size_t i = 0; i < s->nmetrics; i++)
		items |= s->metrics[i].by_items && !s->metrics[i].err;
	fprintf(out, "\nN: the size%s.\n", items ? "; items: the work items counted by items markers (a phase's own, "
		"the run's outside any phase)" : "");
	fprintf(out, "fit: y = a + b*N^k: k by a 1-D search in [%g, %g], a and b by least squares for each k;\n"
		"     k within %.2f of 0.5, 1, 2 or 3 is rounded to it when R^2 drops by at most %g.\n",
		FIT_K_MIN, FIT_K_MAX, FIT_TOL, FIT_SNAP_R2);
	fprintf(out, "verdict: linear when |k - 1| <= %.2f (k as estimated, column k); constant when the values\n"
		"     vary by at most %.0f%% across the sweep (or by %s, %s); unclear when R^2 < %g.\n", FIT_TOL,
		FIT_CONST_TOL * 100,
		units_fmt_size(SCALE_NOISE_BYTES, floor, sizeof(floor)),
		scale_text_fmt(SCALE_NOISE_SECONDS, MO_UNIT_SECONDS, secs, sizeof(secs)), FIT_MIN_R2);
	if (s->setup.nsizes == FIT_MIN_SIZES)
		fprintf(out, "note: %d sizes fit a + b*N^k exactly, so R^2 tests only a rounded k: run more sizes to\n"
			"     test the shape.\n", FIT_MIN_SIZES);
}

static void print_prediction(FILE *out, const struct mo_scale *s, int width)
{
	double size = (double)s->setup.predict, largest = (double)s->setup.sizes[s->setup.nsizes - 1];
	char v[32];

	fprintf(out, "\nprediction at size %llu", (unsigned long long)s->setup.predict);
	if (size > largest)
		fprintf(out, " (%.3gx the largest size run)", size / largest);
	fprintf(out, ":\n");
	for (size_t i = 0; i < s->nmetrics; i++) {
		const struct mo_scale_metric *m = &s->metrics[i];
		double value, n;

		if (scale_predict(m, size, &value, &n))
			continue;
		fprintf(out, "  %-*s %12s", width, m->name, scale_text_fmt(value, m->unit, v, sizeof(v)));
		if (m->by_items)
			fprintf(out, "  at %.0f items", n);
		if (m->fit.shape == MO_FIT_UNCLEAR)
			fprintf(out, "  (unclear fit, R^2 %.2f: no trend to extrapolate)", m->fit.r2);
		fputc('\n', out);
	}
}

static void print_budget(FILE *out, const struct mo_scale *s)
{
	struct mo_scale_budget b;
	char pred[32], budget[32], margin[32], err[256];

	units_fmt_size((double)s->setup.budget, budget, sizeof(budget));
	if (scale_budget(s, &b, err, sizeof(err))) {
		fprintf(out, "\nbudget %s at size %llu: %s\n", budget, (unsigned long long)s->setup.predict, err);
		return;
	}
	units_fmt_size(b.predicted, pred, sizeof(pred));
	units_fmt_size(fabs(b.margin), margin, sizeof(margin));
	fprintf(out, "\nbudget: peak_rss at size %llu is %s of %s: ", (unsigned long long)s->setup.predict, pred,
		budget);
	if (b.fits)
		fprintf(out, "yes, it fits with %s to spare (%.1f%% of the budget)\n", margin,
			100.0 * b.margin / (double)s->setup.budget);
	else
		fprintf(out, "NO, over by %s (%.1f%% of the budget)\n", margin,
			100.0 * -b.margin / (double)s->setup.budget);
	if (scale_metric(s, "peak_rss")->fit.shape == MO_FIT_UNCLEAR)
		fprintf(out, "        but the peak RSS fit is unclear (R^2 %.2f): the answer extrapolates no trend\n",
			scale_metric(s, "peak_rss")->fit.r2);
}

void scale_text(FILE *out, const struct mo_scale *s)
{
	char cmd[512], first[32], last[32];
	int width = (int)strlen("metric");

	for (size_t i = 0; i < s->nmetrics; i++)
		if ((int)strlen(s->metrics[i].name) > width)
			width = strlen(s->metrics[i].name);
	fprintf(out, "memobs scale: %s\n", scale_text_command(s, cmd, sizeof(cmd)));
	fprintf(out, "  sizes");
	for (size_t i = 0; i < s->setup.nsizes; i++)
		fprintf(out, "%s%llu", i ? ", " : " ", (unsigned long long)s->setup.sizes[i]);
	fprintf(out, "%s%s; %u run%s each (median)%s\n\n", s->setup.env ? " in $" : "", s->setup.env ? s->setup.env : "",
		s->setup.repeat, s->setup.repeat == 1 ? "" : "s", s->setup.heap ? "; heap traced" : "");
	snprintf(first, sizeof(first), "at %llu", (unsigned long long)s->setup.sizes[0]);
	snprintf(last, sizeof(last), "at %llu", (unsigned long long)s->setup.sizes[s->setup.nsizes - 1]);
	fprintf(out, "%-*s %-5s %10s %10s %10s %14s %5s %6s  %s\n", width, "metric", "N", first, last, "a", "b*N^k", "k",
		"R^2", "verdict");
	for (size_t i = 0; i < s->nmetrics; i++)
		print_row(out, s, &s->metrics[i], width);
	print_method(out, s);
	if (s->setup.predict)
		print_prediction(out, s, width);
	if (s->setup.budget)
		print_budget(out, s);
}

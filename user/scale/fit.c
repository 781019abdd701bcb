// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include "scale/fit.h"

#define GOLDEN_ITERATIONS 60	/* the bracket shrinks to 1e-12 of FIT_K_STEP */

const double fit_snap_exponents[FIT_NSNAP] = { 0.5, 1, 2, 3 };

struct points {
	const double *n, *y;
	size_t count;
	double n_max;
};

/* Least squares of y = a + c*x with x = (n/n_max)^k: scaling by n_max keeps
 * x in (0, 1] so that N^3 of large sizes stays well conditioned. a >= 0:
 * bytes and seconds are never negative, and a negative a would predict less
 * than nothing at small N; when the free a is below 0 the line goes through
 * the origin. Returns the residual sum of squares; *a and *b (unscaled) and
 * what the prediction interval needs (*x) when asked. */
static double solve(const struct points *p, double k, double *a, double *b, struct mo_fit *x)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, sq = 0, sqy = 0, mx, my, c, a0, ssr = 0;

	for (size_t i = 0; i < p->count; i++) {
		double xi = pow(p->n[i] / p->n_max, k);

		sx += xi;
		sy += p->y[i];
		sq += xi * xi;
		sqy += xi * p->y[i];
	}
	mx = sx / p->count;
	my = sy / p->count;
	for (size_t i = 0; i < p->count; i++) {
		double dx = pow(p->n[i] / p->n_max, k) - mx;

		sxx += dx * dx;
		sxy += dx * (p->y[i] - my);
	}
	c = sxx > 0 ? sxy / sxx : 0;
	a0 = my - c * mx;
	if (x)
		x->origin = a0 < 0;
	if (a0 < 0) {
		a0 = 0;
		c = sq > 0 ? sqy / sq : 0;
	}
	for (size_t i = 0; i < p->count; i++) {
		double r = p->y[i] - a0 - c * pow(p->n[i] / p->n_max, k);

		ssr += r * r;
	}
	if (a)
		*a = a0;
	if (b)
		*b = c / pow(p->n_max, k);
	if (x) {
		x->x_mean = mx;
		x->x_ss = sxx;
		x->x_sq = sq;
	}
	return ssr;
}

/* The k of least residuals: the best point of a grid, then golden-section
 * search between its neighbours (the residuals of this model are smooth
 * and, near the best grid point, unimodal in k). */
static double best_exponent(const struct points *p)
{
	const double g = (sqrt(5) - 1) / 2;
	double best_k = FIT_K_MIN, best = INFINITY, lo, hi, x1, x2, f1, f2;

	for (double k = FIT_K_MIN; k <= FIT_K_MAX + 1e-9; k += FIT_K_STEP) {
		double ssr = solve(p, k, NULL, NULL, NULL);

		if (ssr < best) {
			best = ssr;
			best_k = k;
		}
	}
	lo = fmax(FIT_K_MIN, best_k - FIT_K_STEP);
	hi = fmin(FIT_K_MAX, best_k + FIT_K_STEP);
	x1 = hi - g * (hi - lo);
	x2 = lo + g * (hi - lo);
	f1 = solve(p, x1, NULL, NULL, NULL);
	f2 = solve(p, x2, NULL, NULL, NULL);
	for (int i = 0; i < GOLDEN_ITERATIONS; i++) {
		if (f1 <= f2) {
			hi = x2;
			x2 = x1;
			f2 = f1;
			x1 = hi - g * (hi - lo);
			f1 = solve(p, x1, NULL, NULL, NULL);
		} else {
			lo = x1;
			x1 = x2;
			f1 = f2;
			x2 = lo + g * (hi - lo);
			f2 = solve(p, x2, NULL, NULL, NULL);
		}
	}
	/* The grid point may beat the interior when the optimum is an edge. */
	return fmin(f1, f2) <= best ? (f1 <= f2 ? x1 : x2) : best_k;
}

static double r_squared(double ssr, double sst)
{
	return sst > 0 ? 1 - ssr / sst : 1;
}

static int check_points(const struct points *p, size_t *nsizes, char *err, size_t errlen)
{
	size_t distinct = 0;

	for (size_t i = 0; i < p->count; i++) {
		bool seen = false;

		if (!(p->n[i] > 0) || !isfinite(p->n[i])) {
			snprintf(err, errlen, "size %g is not a positive number", p->n[i]);
			return -EINVAL;
		}
		if (!isfinite(p->y[i])) {
			snprintf(err, errlen, "the value at size %g is not a number", p->n[i]);
			return -EINVAL;
		}
		for (size_t j = 0; j < i && !seen; j++)
			seen = p->n[j] == p->n[i];
		distinct += !seen;
	}
	*nsizes = distinct;
	if (distinct < FIT_MIN_SIZES) {
		snprintf(err, errlen, "%zu distinct size%s: a fit of a + b*N^k needs at least %d", distinct,
			 distinct == 1 ? "" : "s", FIT_MIN_SIZES);
		return -EINVAL;
	}
	return 0;
}

static void fit_constant(const struct points *p, double mean, double sst, struct mo_fit *out)
{
	out->a = mean;
	out->b = 0;
	out->k = 0;
	out->shape = MO_FIT_CONSTANT;
	/* Nothing varies with N: there is no variance for the model to explain. */
	out->r2 = NAN;
	out->rmse_rel = sqrt(sst / p->count);
	out->ssr = sst;
}

/* Refit with a simple exponent near k_free when it does as well. */
static void snap(const struct points *p, double sst, struct mo_fit *out)
{
	for (size_t i = 0; i < FIT_NSNAP; i++) {
		double s = fit_snap_exponents[i], a, b, ssr, r2;

		if (fabs(out->k_free - s) > FIT_TOL)
			continue;
		struct mo_fit x;

		ssr = solve(p, s, &a, &b, &x);
		r2 = r_squared(ssr, sst);
		if (r2 < out->r2 - FIT_SNAP_R2)
			return;
		out->a = a;
		out->b = b;
		out->k = s;
		out->r2 = r2;
		out->rmse_rel = sqrt(ssr / p->count);
		out->snapped = true;
		out->origin = x.origin;
		out->x_mean = x.x_mean;
		out->x_ss = x.x_ss;
		out->x_sq = x.x_sq;
		out->ssr = ssr;
		return;
	}
}

/* Student's t at 97.5% (two-sided 95%) by degrees of freedom; past 30 the
 * next bounds (40: 2.021, 60: 2.000, 120: 1.980). */
static double t_975(unsigned dof)
{
	static const double t[] = { NAN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
				    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
				    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042 };

	if (dof < sizeof(t) / sizeof(t[0]))
		return t[dof];
	return dof <= 40 ? 2.021 : dof <= 60 ? 2.000 : 1.980;
}

#define K_SCAN_STEP 0.01

/* The exponents the sweep cannot tell from the best: those whose residuals
 * stay within ssr_free * (1 + t^2 / dof), dof = points - 3 (a 95% profile
 * interval of k). The lowest and the highest of them, with their a and b,
 * into out; k_lo NAN without a degree of freedom to judge. Extrapolated,
 * the exponent is what errs most: a 6x extrapolation of k = 0.80 that is
 * 1.0 in truth is 26% low. */
static void exponent_range(const struct points *p, double ssr_free, struct mo_fit *out)
{
	unsigned dof = p->count > 3 ? p->count - 3 : 0;
	double bound, t;

	out->k_lo = out->k_hi = NAN;
	if (!dof)
		return;
	t = t_975(dof);
	bound = ssr_free * (1 + t * t / dof);
	out->k_lo = out->k_hi = out->k_free;
	solve(p, out->k_free, &out->a_lo, &out->b_lo, NULL);
	out->a_hi = out->a_lo;
	out->b_hi = out->b_lo;
	for (double k = FIT_K_MIN; k <= FIT_K_MAX + 1e-9; k += K_SCAN_STEP) {
		double a, b;

		if (solve(p, k, &a, &b, NULL) > bound)
			continue;
		if (k < out->k_lo)
			out->k_lo = k, out->a_lo = a, out->b_lo = b;
		if (k > out->k_hi)
			out->k_hi = k, out->a_hi = a, out->b_hi = b;
	}
}

/* Points less the parameters estimated from them: a (unless held at 0), b,
 * and k unless it was rounded to a simple exponent (then it is chosen, not
 * estimated); the mean alone for a constant. */
static void set_dof(struct mo_fit *f, size_t count)
{
	size_t params = f->shape == MO_FIT_CONSTANT ? 1 : 1 + !f->origin + !f->snapped;

	f->npoints = count;
	f->dof = count > params ? count - params : 0;
}

static enum mo_fit_shape shape_of(double b, double k, double r2)
{
	if (r2 < FIT_MIN_R2)
		return MO_FIT_UNCLEAR;
	if (b < 0)
		return MO_FIT_DECREASING;
	if (fabs(k - 1) <= FIT_TOL)
		return MO_FIT_LINEAR;
	return k < 1 ? MO_FIT_SUBLINEAR : MO_FIT_SUPERLINEAR;
}

int fit_power(const double *n, const double *y, size_t count, double noise_floor, struct mo_fit *out, char *err,
	      size_t errlen)
{
	struct points p = { n, y, count, 0 };
	double sum = 0, sum_abs = 0, lo = INFINITY, hi = -INFINITY, mean, sst = 0, ssr;
	int ret;

	*out = (struct mo_fit){ .n_min = INFINITY };
	ret = check_points(&p, &out->nsizes, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < count; i++) {
		p.n_max = fmax(p.n_max, n[i]);
		out->n_min = fmin(out->n_min, n[i]);
		sum += y[i];
		sum_abs += fabs(y[i]);
		lo = fmin(lo, y[i]);
		hi = fmax(hi, y[i]);
	}
	out->n_max = p.n_max;
	mean = sum / count;
	for (size_t i = 0; i < count; i++)
		sst += (y[i] - mean) * (y[i] - mean);
	out->k_free = best_exponent(&p);
	if (hi - lo <= fmax(FIT_CONST_TOL * fmax(fabs(hi), fabs(lo)), noise_floor)) {
		fit_constant(&p, mean, sst, out);
	} else {
		ssr = solve(&p, out->k_free, &out->a, &out->b, out);
		exponent_range(&p, ssr, out);
		out->k = out->k_free;
		out->r2 = r_squared(ssr, sst);
		out->rmse_rel = sqrt(ssr / count);
		out->ssr = ssr;
		snap(&p, sst, out);
		out->shape = shape_of(out->b, out->k, out->r2);
	}
	out->rmse_rel = sum_abs > 0 ? out->rmse_rel / (sum_abs / count) : 0;
	set_dof(out, count);
	return 0;
}

double fit_interval(const struct mo_fit *f, double n)
{
	double sigma, x, lever, here, spread = 0;

	if (!f->dof)
		return NAN;
	sigma = sqrt(f->ssr / f->dof);
	if (f->shape == MO_FIT_CONSTANT)
		return t_975(f->dof) * sigma * sqrt(1 + 1.0 / f->npoints);
	x = pow(n / f->n_max, f->k);
	if (f->origin)
		lever = f->x_sq > 0 ? x * x / f->x_sq : INFINITY;
	else
		lever = 1.0 / f->npoints + (f->x_ss > 0 ? (x - f->x_mean) * (x - f->x_mean) / f->x_ss : INFINITY);
	/* What the exponents the data allow predict there, apart from this one's. */
	if (!isnan(f->k_lo)) {
		here = fit_eval(f, n);
		spread = fmax(fabs(f->a_lo + f->b_lo * pow(n, f->k_lo) - here), fabs(f->a_hi + f->b_hi * pow(n, f->k_hi) - here));
	}
	return t_975(f->dof) * sigma * sqrt(1 + lever) + spread;
}

double fit_eval(const struct mo_fit *f, double n)
{
	return f->shape == MO_FIT_CONSTANT ? f->a : f->a + f->b * pow(n, f->k);
}

const char *fit_shape_name(enum mo_fit_shape shape)
{
	switch (shape) {
	case MO_FIT_CONSTANT:
		return "constant";
	case MO_FIT_SUBLINEAR:
		return "sub-linear";
	case MO_FIT_LINEAR:
		return "linear";
	case MO_FIT_SUPERLINEAR:
		return "super-linear";
	case MO_FIT_DECREASING:
		return "decreasing";
	case MO_FIT_UNCLEAR:
		return "unclear";
	}
	return "?";
}

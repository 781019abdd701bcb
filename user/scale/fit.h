/* SPDX-License-Identifier: GPL-2.0 */
/* Growth curves: y = a + b*N^k fitted to a sweep of sizes, for `memobs
 * scale`. Pure numerics, no allocation.
 *
 * Method. For a fixed exponent k the model is linear in (a, b), which
 * ordinary least squares gives in closed form; the residual sum of squares
 * is then a function of k alone, minimized by a grid over
 * [FIT_K_MIN, FIT_K_MAX] in steps of FIT_K_STEP refined by golden-section
 * search around the best grid point. The result is the free fit (a, b, k).
 * When k lies within FIT_TOL of a simple exponent (0.5, 1, 2, 3) and that
 * exponent explains the data as well (R^2 lower by at most FIT_SNAP_R2), the
 * model is refitted with it: with k free, a noisy linear sweep that lands
 * on k = 1.03 would inflate b by N^0.03 (25% at N = 5000), so per-unit
 * bytes come from the snapped model.
 *
 * The intercept a is at least 0: what is measured (bytes, seconds, items)
 * is never negative, so when the free a is negative the model goes through
 * the origin (y = b*N^k).
 *
 * Verdicts: constant when the values vary across the sweep by at most
 * FIT_CONST_TOL of the largest (or by at most the caller's noise floor,
 * e.g. a few pages of RSS); then the model is their mean. Otherwise unclear
 * when the model explains less than FIT_MIN_R2 of the variance (values
 * that go up and down: a power law is monotonic), decreasing when b < 0,
 * linear when |k - 1| <= FIT_TOL, sub-linear below, super-linear above. */
#ifndef MO_FIT_H
#define MO_FIT_H

#include <stdbool.h>
#include <stddef.h>

#define FIT_MIN_SIZES 3		/* distinct sizes: three parameters need three points */
#define FIT_TOL 0.1		/* |k - 1| <= FIT_TOL is linear; also the snapping distance */
#define FIT_CONST_TOL 0.05	/* spread / largest value at most this: constant */
#define FIT_SNAP_R2 0.001	/* a snapped exponent may lose this much R^2 */
#define FIT_MIN_R2 0.9		/* below: no trend the model explains */
#define FIT_K_MIN 0.05
#define FIT_K_MAX 4.0
#define FIT_K_STEP 0.05
#define FIT_NSNAP 4

/* The simple exponents a free k is rounded to: 0.5, 1, 2, 3. */
extern const double fit_snap_exponents[FIT_NSNAP];

enum mo_fit_shape {
	MO_FIT_CONSTANT,
	MO_FIT_SUBLINEAR,
	MO_FIT_LINEAR,
	MO_FIT_SUPERLINEAR,
	MO_FIT_DECREASING,
	MO_FIT_UNCLEAR,
};

struct mo_fit {
	double a, b, k;		/* the model: y = a + b*N^k (b = k = 0 when constant) */
	double k_free;		/* the exponent of the free fit */
	bool snapped;		/* k was rounded to a simple exponent */
	double r2;		/* coefficient of determination of the model; NAN when constant */
	double rmse_rel;	/* root mean square residual / mean |y| */
	enum mo_fit_shape shape;
	double n_min, n_max;	/* the range of sizes fitted */
	size_t nsizes;		/* distinct sizes */
	bool origin;		/* a held at 0: the free intercept was negative */
	/* For the prediction interval (fit_interval): the points, the degrees
	 * of freedom left, the residual sum of squares, and the regressor
	 * x = (N/n_max)^k over the points: its mean, sum of squared deviations
	 * and sum of squares. */
	size_t npoints;
	unsigned dof;
	double ssr, x_mean, x_ss, x_sq;
	/* The exponents the data cannot tell from k_free (a 95% profile
	 * interval) and each one's a and b; k_lo NAN when unknown (3 points). */
	double k_lo, a_lo, b_lo, k_hi, a_hi, b_hi;
};

/* Fit count points (n[i] > 0, finite y[i]; sizes may repeat). noise_floor:
 * a spread of y at most this is constant whatever its relative size (0 for
 * none). 0, or -EINVAL with the reason in err: fewer than FIT_MIN_SIZES
 * distinct sizes, a size <= 0, a value not finite. */
int fit_power(const double *n, const double *y, size_t count, double noise_floor, struct mo_fit *out, char *err,
	      size_t errlen);

/* The model at size n (extrapolates beyond the sweep). */
double fit_eval(const struct mo_fit *f, double n);

/* Half the width of the 95% prediction interval of one more run at size n:
 * Student's t of the residuals for the model's exponent, plus how far the
 * exponents the data cannot rule out (k_lo..k_hi) predict from it there.
 * NAN when no degree of freedom is left (as many points as parameters).
 * Valid as far as the model's form holds and the runs' noise is alike at
 * every size. */
double fit_interval(const struct mo_fit *f, double n);

/* "constant", "sub-linear", "linear", "super-linear", "decreasing",
 * "unclear". */
const char *fit_shape_name(enum mo_fit_shape shape);

#endif

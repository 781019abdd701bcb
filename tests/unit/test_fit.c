// SPDX-License-Identifier: GPL-2.0
/* The growth-curve fit on synthetic sweeps: exact shapes, noise, and what
 * cannot be fitted. */
#include <errno.h>
#include <math.h>
#include "check.h"
#include "scale/fit.h"

#define KiB 1024.0
#define MiB (1024.0 * 1024.0)

static const double sizes[] = { 100, 1000, 5000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Deterministic noise in [-1, 1]: the same numbers on every run. */
static double noise(unsigned i)
{
	unsigned x = i * 2654435761u + 12345u;

	x ^= x >> 13;
	x *= 0x5bd1e995u;
	x ^= x >> 15;
	return (x % 20001) / 10000.0 - 1;
}

static bool fit_of(double (*f)(double), const double *n, size_t count, double rel_noise, struct mo_fit *fit)
{
	double y[64];
	char err[128];

	for (size_t i = 0; i < count; i++)
		y[i] = f(n[i]) * (1 + rel_noise * noise(i));
	ASSERT_EQ(fit_power(n, y, count, 64 * KiB, fit, err, sizeof(err)), 0);
	return true;
}

static double linear(double n)
{
	return 1.5 * MiB + 64 * KiB * n;
}

static double quadratic(double n)
{
	return 1.2 * MiB + 1 * KiB * n * n;
}

static double constant(double n)
{
	(void)n;
	return 33 * MiB;
}

static double root(double n)
{
	return 2 * MiB + 40 * KiB * sqrt(n);
}

static double power_1_3(double n)
{
	return 4 * MiB + 100 * pow(n, 1.3);
}

static bool test_exact_linear(void)
{
	struct mo_fit f;

	ASSERT_TRUE(fit_of(linear, sizes, NSIZES, 0, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_LINEAR);
	ASSERT_TRUE(f.snapped, "k rounded to 1");
	ASSERT_NEAR(f.k, 1, 1e-12);
	ASSERT_NEAR(f.k_free, 1, 1e-4);
	ASSERT_NEAR(f.b, 64 * KiB, 1e-3);
	ASSERT_NEAR(f.a, 1.5 * MiB, 1);
	ASSERT_NEAR(f.r2, 1, 1e-12);
	ASSERT_NEAR(fit_eval(&f, 10000), linear(10000), 1);
	ASSERT_EQ(f.nsizes, 3);
	ASSERT_NEAR(f.n_min, 100, 0);
	ASSERT_NEAR(f.n_max, 5000, 0);
	ASSERT_STR_EQ(fit_shape_name(f.shape), "linear");
	return true;
}

static bool test_exact_quadratic(void)
{
	struct mo_fit f;

	ASSERT_TRUE(fit_of(quadratic, sizes, NSIZES, 0, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_SUPERLINEAR);
	ASSERT_NEAR(f.k, 2, 1e-12);
	ASSERT_NEAR(f.b, 1 * KiB, 1e-6);
	ASSERT_NEAR(f.a, 1.2 * MiB, 16);
	ASSERT_NEAR(fit_eval(&f, 20000), quadratic(20000), 1e3);
	return true;
}

static bool test_exact_constant(void)
{
	struct mo_fit f;

	ASSERT_TRUE(fit_of(constant, sizes, NSIZES, 0, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_CONSTANT);
	ASSERT_NEAR(f.a, 33 * MiB, 0);
	ASSERT_EQ(f.b, 0);
	ASSERT_TRUE(isnan(f.r2), "a constant leaves nothing for R^2 to explain");
	ASSERT_NEAR(fit_eval(&f, 1e6), 33 * MiB, 0);
	return true;
}

static bool test_exact_sqrt(void)
{
	struct mo_fit f;

	ASSERT_TRUE(fit_of(root, sizes, NSIZES, 0, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_SUBLINEAR);
	ASSERT_NEAR(f.k, 0.5, 1e-12);
	ASSERT_NEAR(f.b, 40 * KiB, 1e-3);
	ASSERT_STR_EQ(fit_shape_name(f.shape), "sub-linear");
	return true;
}

static bool test_unsnapped_exponent(void)
{
	static const double n[] = { 10, 100, 1000, 10000 };
	struct mo_fit f;

	ASSERT_TRUE(fit_of(power_1_3, n, 4, 0, &f), "fit");
	ASSERT_TRUE(!f.snapped, "1.3 is no simple exponent");
	ASSERT_NEAR(f.k, 1.3, 1e-4);
	ASSERT_NEAR(f.b, 100, 0.1);
	ASSERT_EQ(f.shape, MO_FIT_SUPERLINEAR);
	return true;
}

/* Five sizes, 1% noise: the shape still holds and b within 5%. */
static bool test_noisy(void)
{
	static const double n[] = { 100, 300, 1000, 3000, 5000 };
	struct mo_fit f;

	ASSERT_TRUE(fit_of(linear, n, 5, 0.01, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_LINEAR);
	ASSERT_NEAR(f.b, 64 * KiB, 0.05 * 64 * KiB);
	ASSERT_TRUE(f.r2 > 0.99, "R^2 %g", f.r2);
	ASSERT_TRUE(f.rmse_rel > 0 && f.rmse_rel < 0.02, "relative RMS residual %g", f.rmse_rel);

	ASSERT_TRUE(fit_of(quadratic, n, 5, 0.01, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_SUPERLINEAR);
	ASSERT_NEAR(f.k, 2, 1e-12);
	ASSERT_NEAR(f.b, KiB, 0.05 * KiB);

	ASSERT_TRUE(fit_of(constant, n, 5, 0.01, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_CONSTANT);
	ASSERT_NEAR(f.a, 33 * MiB, 0.01 * 33 * MiB);

	ASSERT_TRUE(fit_of(root, n, 5, 0.002, &f), "fit");
	ASSERT_EQ(f.shape, MO_FIT_SUBLINEAR);
	ASSERT_NEAR(f.b, 40 * KiB, 0.05 * 40 * KiB);
	return true;
}

/* Repeats at the same size are points like any other. */
static bool test_repeated_sizes(void)
{
	static const double n[] = { 100, 100, 1000, 1000, 5000, 5000 };
	struct mo_fit f;

	ASSERT_TRUE(fit_of(linear, n, 6, 0.005, &f), "fit");
	ASSERT_EQ(f.nsizes, 3);
	ASSERT_EQ(f.shape, MO_FIT_LINEAR);
	ASSERT_NEAR(f.b, 64 * KiB, 0.05 * 64 * KiB);
	return true;
}

/* A small growth on a big base is constant; under the noise floor too. */
static bool test_negligible_growth(void)
{
	double y[NSIZES], err_y[NSIZES];
	struct mo_fit f;
	char err[128];

	for (size_t i = 0; i < NSIZES; i++) {
		y[i] = 1024 * MiB + 8 * sizes[i];	/* 40 KB over 1 GiB */
		err_y[i] = 4096 * (i % 2);		/* one page either way */
	}
	ASSERT_EQ(fit_power(sizes, y, NSIZES, 0, &f, err, sizeof(err)), 0);
	ASSERT_EQ(f.shape, MO_FIT_CONSTANT);
	ASSERT_EQ(fit_power(sizes, err_y, NSIZES, 64 * KiB, &f, err, sizeof(err)), 0);
	ASSERT_EQ(f.shape, MO_FIT_CONSTANT);
	ASSERT_EQ(fit_power(sizes, err_y, NSIZES, 0, &f, err, sizeof(err)), 0);
	ASSERT_TRUE(f.shape != MO_FIT_CONSTANT, "without a floor a page is 100%% of nothing");
	return true;
}

static bool test_decreasing(void)
{
	double y[NSIZES];
	struct mo_fit f;
	char err[128];

	for (size_t i = 0; i < NSIZES; i++)
		y[i] = 100 * MiB - 10 * KiB * sizes[i];
	ASSERT_EQ(fit_power(sizes, y, NSIZES, 0, &f, err, sizeof(err)), 0);
	ASSERT_EQ(f.shape, MO_FIT_DECREASING);
	ASSERT_NEAR(f.b, -10 * KiB, 1);
	return true;
}

/* Up and down: no power law explains it, whatever its best exponent. */
static bool test_unclear(void)
{
	static const double n[] = { 100, 300, 1000, 3000, 5000 };
	double y[] = { 10 * MiB, 20 * MiB, 11 * MiB, 21 * MiB, 12 * MiB };
	struct mo_fit f;
	char err[128];

	ASSERT_EQ(fit_power(n, y, 5, 0, &f, err, sizeof(err)), 0);
	ASSERT_EQ(f.shape, MO_FIT_UNCLEAR);
	ASSERT_TRUE(f.r2 < FIT_MIN_R2, "R^2 %g", f.r2);
	ASSERT_STR_EQ(fit_shape_name(f.shape), "unclear");
	return true;
}

static bool test_bad_input(void)
{
	static const double two[] = { 100, 1000, 1000 }, zero[] = { 0, 10, 100 };
	double y[] = { 1, 2, 3 };
	struct mo_fit f;
	char err[128];

	ASSERT_EQ(fit_power(two, y, 3, 0, &f, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "2 distinct sizes: a fit of a + b*N^k needs at least 3");
	ASSERT_EQ(fit_power(sizes, y, 1, 0, &f, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "1 distinct size: a fit of a + b*N^k needs at least 3");
	ASSERT_EQ(fit_power(zero, y, 3, 0, &f, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "size 0 is not a positive number");
	y[1] = NAN;
	ASSERT_EQ(fit_power(sizes, y, 3, 0, &f, err, sizeof(err)), -EINVAL);
	ASSERT_STR_EQ(err, "the value at size 1000 is not a number");
	return true;
}

/* A sweep whose free intercept is negative (small runs cost next to
 * nothing, big ones a lot): the model goes through the origin instead of
 * predicting less than nothing at small N. */
static bool test_intercept_never_negative(void)
{
	static const double n[] = { 10, 100, 1000, 5000 };
	double y[4];
	struct mo_fit f;
	char err[128];

	for (size_t i = 0; i < 4; i++)
		y[i] = n[i] < 100 ? 0.001 : -0.5 + 0.002 * n[i];
	ASSERT_EQ(fit_power(n, y, 4, 0, &f, err, sizeof(err)), 0);
	ASSERT_TRUE(f.a >= 0, "a = %g", f.a);
	ASSERT_TRUE(f.origin, "held at the origin");
	for (double x = 1; x <= 10000; x *= 10)
		ASSERT_TRUE(fit_eval(&f, x) >= 0, "at %g: %g", x, fit_eval(&f, x));
	/* A positive intercept is left alone. */
	ASSERT_TRUE(fit_of(linear, sizes, NSIZES, 0, &f), "fit");
	ASSERT_TRUE(!f.origin && f.a > 0, "a = %g", f.a);
	return true;
}

/* The 95% prediction interval: none without a degree of freedom left, zero
 * for exact data, and for noisy data wide enough to hold the truth, wider
 * the farther it extrapolates. */
static bool test_prediction_interval(void)
{
	static const double n[] = { 100, 300, 1000, 3000, 5000 };
	struct mo_fit f;
	double at10k, at50k;

	ASSERT_TRUE(fit_of(power_1_3, sizes, NSIZES, 0.01, &f), "fit");
	ASSERT_TRUE(!f.snapped && isnan(fit_interval(&f, 10000)), "3 points, 3 parameters: %g",
		    fit_interval(&f, 10000));
	ASSERT_TRUE(fit_of(linear, n, 5, 0, &f), "fit");
	ASSERT_EQ(f.dof, 3);
	ASSERT_NEAR(fit_interval(&f, 10000), 0, 1e-3);
	ASSERT_TRUE(fit_of(linear, n, 5, 0.02, &f), "fit");
	at10k = fit_interval(&f, 10000);
	at50k = fit_interval(&f, 50000);
	ASSERT_TRUE(fabs(fit_eval(&f, 10000) - linear(10000)) <= at10k, "%g off, interval %g",
		    fit_eval(&f, 10000) - linear(10000), at10k);
	ASSERT_TRUE(at10k < 0.1 * linear(10000) && at50k > at10k, "%g then %g", at10k, at50k);
	ASSERT_TRUE(fit_of(constant, n, 5, 0.01, &f), "fit");
	ASSERT_TRUE(fit_interval(&f, 1e6) > 0 && fit_interval(&f, 1e6) < 0.05 * 33 * MiB, "%g",
		    fit_interval(&f, 1e6));
	return true;
}

int main(void)
{
	RUN(test_exact_linear);
	RUN(test_exact_quadratic);
	RUN(test_exact_constant);
	RUN(test_exact_sqrt);
	RUN(test_unsnapped_exponent);
	RUN(test_noisy);
	RUN(test_repeated_sizes);
	RUN(test_negligible_growth);
	RUN(test_decreasing);
	RUN(test_unclear);
	RUN(test_bad_input);
	RUN(test_intercept_never_negative);
	RUN(test_prediction_interval);
	return check_summary();
}

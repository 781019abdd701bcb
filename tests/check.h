/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal test harness for C tests. Each test is `static bool test_x(void)`
 * built from ASSERT_* (which report and return false); main() calls
 * RUN(test_x) for each and returns check_summary(). Output is one line per
 * test, "ok - name" or "not ok - name", which tests/run.sh counts. */
#ifndef MO_CHECK_H
#define MO_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int check_failed, check_passed;

#define ASSERT_TRUE(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stdout, "#   %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stdout, "" __VA_ARGS__); \
		fputc('\n', stdout); \
		return false; \
	} } while (0)

#define ASSERT_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		fprintf(stdout, "#   %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b); \
		return false; \
	} } while (0)

#define ASSERT_STR_EQ(a, b) do { \
	const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b)) { \
		fprintf(stdout, "#   %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
			_a ? _a : "(null)", _b ? _b : "(null)"); \
		return false; \
	} } while (0)

#define ASSERT_NEAR(a, b, tol) do { \
	double _a = (a), _b = (b), _t = (tol); \
	if (!(_a - _b <= _t && _b - _a <= _t)) { \
		fprintf(stdout, "#   %s:%d: %s ~ %s: %g vs %g (tolerance %g)\n", __FILE__, __LINE__, #a, #b, _a, _b, _t); \
		return false; \
	} } while (0)

#define RUN(fn) do { \
	bool _ok = fn(); \
	printf("%s - %s\n", _ok ? "ok" : "not ok", #fn); \
	fflush(stdout); \
	if (_ok) check_passed++; else check_failed++; \
	} while (0)

static inline int check_summary(void)
{
	return check_failed ? 1 : 0;
}

#endif

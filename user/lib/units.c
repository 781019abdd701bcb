// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/units.h"

static const struct {
	const char *suffix;
	uint64_t mult;
} size_suffixes[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ull << 10 }, { "kib", 1ull << 10 }, { "kb", 1000ull },
	{ "m", 1ull << 20 }, { "mib", 1ull << 20 }, { "mb", 1000000ull },
	{ "g", 1ull << 30 }, { "gib", 1ull << 30 }, { "gb", 1000000000ull },
	{ "t", 1ull << 40 }, { "tib", 1ull << 40 }, { "tb", 1000000000000ull },
};

static int size_mult(const char *suffix, uint64_t *mult)
{
	for (size_t i = 0; i < sizeof(size_suffixes) / sizeof(size_suffixes[0]); i++) {
		if (!strcasecmp(suffix, size_suffixes[i].suffix)) {
			*mult = size_suffixes[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

int units_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	const char *p = s, *num_end, *unit;
	bool fraction = false;
	uint64_t mult, whole;

	/* Digits and one dot only: strtod alone would take signs, hex, "inf". */
	while (isdigit((unsigned char)*p) || (*p == '.' && !fraction)) {
		fraction |= *p == '.';
		p++;
	}
	num_end = p;
	if (num_end == s || (num_end - s == 1 && fraction)) {
		snprintf(err, errlen, "'%s' is not a size (a number of bytes, or with a unit: 512KiB, 2GiB, 100MB)", s);
		return -EINVAL;
	}
	unit = num_end;
	while (*unit == ' ')
		unit++;
	if (size_mult(unit, &mult)) {
		snprintf(err, errlen, "'%s': unknown size unit '%s' (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)", s, unit);
		return -EINVAL;
	}
	if (fraction) {
		double v = strtod(s, NULL) * (double)mult;

		if (v >= 9223372036854775807.0) {
			snprintf(err, errlen, "'%s' is too large a size", s);
			return -ERANGE;
		}
		*out = (uint64_t)llround(v);
		return 0;
	}
	errno = 0;
	whole = strtoull(s, NULL, 10);
	if (errno || __builtin_mul_overflow(whole, mult, out) || *out > INT64_MAX) {
		snprintf(err, errlen, "'%s' is too large a size", s);
		return -ERANGE;
	}
	return 0;
}

const char *units_fmt_size(double bytes, char *buf, size_t len)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
	double a = fabs(bytes);
	int i = -1;

	if (a < 1024) {
		snprintf(buf, len, "%.0f B", bytes);
		return buf;
	}
	while (a >= 1024 && i < 3) {
		a /= 1024;
		bytes /= 1024;
		i++;
	}
	/* A GiB figure needs two decimals to show a change of a few percent. */
	snprintf(buf, len, "%.*f %s", i >= 2 ? 2 : 1, bytes, names[i]);
	return buf;
}

const char *units_fmt(double v, enum mo_unit unit, char *buf, size_t len)
{
	switch (unit) {
	case MO_UNIT_BYTES:
		return units_fmt_size(v, buf, len);
	case MO_UNIT_SECONDS:
		snprintf(buf, len, "%.2f s", v);
		return buf;
	case MO_UNIT_COUNT:
		break;
	}
	snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *units_fmt_delta(double d, enum mo_unit unit, char *buf, size_t len)
{
	char tmp[48];

	units_fmt(fabs(d), unit, tmp, sizeof(tmp));
	snprintf(buf, len, "%s%s", d < 0 ? "-" : "+", tmp);
	return buf;
}

double units_change_pct(double from, double to)
{
	if (from == 0)
		return to == 0 ? 0 : to > 0 ? INFINITY : -INFINITY;
	return (to - from) / fabs(from) * 100.0;
}

const char *units_fmt_pct(double pct, char *buf, size_t len)
{
	if (isinf(pct))
		snprintf(buf, len, "%cinf%%", pct > 0 ? '+' : '-');
	else if (fabs(pct) < 0.05)
		snprintf(buf, len, "0.0%%");
	else
		snprintf(buf, len, "%+.1f%%", pct);
	return buf;
}

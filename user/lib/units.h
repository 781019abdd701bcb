/* SPDX-License-Identifier: GPL-2.0 */
/* Sizes, durations and counts for people: parsing "512KiB" and printing
 * "48.3 MiB", "+12.5%". Pure functions, no allocation. */
#ifndef MO_UNITS_H
#define MO_UNITS_H

#include <stddef.h>
#include <stdint.h>

enum mo_unit {
	MO_UNIT_BYTES,
	MO_UNIT_SECONDS,
	MO_UNIT_COUNT,
};

/* Parse a size: plain bytes ("4096"), binary units (K, KiB, M, MiB, G, GiB,
 * T, TiB: powers of 1024), decimal units (kB, MB, GB, TB: powers of 1000),
 * an optional "B", any case, a space before the unit and a fraction
 * ("1.5GiB") allowed. *out gets bytes, the fraction rounded to the nearest.
 * Returns 0, or -EINVAL / -ERANGE with the reason in err. */
int units_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/* "512 B", "1.5 KiB", "48.3 MiB", "2.05 GiB" (negative values keep their
 * sign). Returns buf. */
const char *units_fmt_size(double bytes, char *buf, size_t len);

/* A value in its unit: a size as above, seconds as "1.23 s", a count as an
 * integer. Returns buf. */
const char *units_fmt(double v, enum mo_unit unit, char *buf, size_t len);

/* A difference, always signed: "+1.5 MiB", "-0.20 s", "+0". Returns buf. */
const char *units_fmt_delta(double d, enum mo_unit unit, char *buf, size_t len);

/* Change from `from` to `to` in percent: 0 when both are 0, +INFINITY when
 * only `from` is 0 (growth from nothing). */
double units_change_pct(double from, double to);

/* "+12.3%", "-0.4%", "0.0%", "+inf%". Returns buf. */
const char *units_fmt_pct(double pct, char *buf, size_t len);

#endif

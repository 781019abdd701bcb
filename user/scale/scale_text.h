/* SPDX-License-Identifier: GPL-2.0 */
/* A scaling sweep for people: per metric its values at the smallest and
 * largest size, the fitted curve, the exponent and its verdict; then the
 * method and its tolerances, the prediction and the budget answer. */
#ifndef MO_SCALE_TEXT_H
#define MO_SCALE_TEXT_H

#include <stddef.h>
#include <stdio.h>
#include "scale/scale.h"

/* A value in its unit, small ones too: "64.0 KiB", "0.25 B", "12.5 ms",
 * "3.20 us", "0.0042 ns", "1.5e+03". Returns buf. */
const char *scale_text_fmt(double v, enum mo_unit unit, char *buf, size_t len);

/* The growing term of m's fit: "64.0 KiB*N", "1.0 KiB*N^2", "100 B*N^1.30".
 * Returns buf. */
const char *scale_text_term(const struct mo_scale_metric *m, char *buf, size_t len);

/* The whole model: "1.2 MiB + 64.0 KiB*N", "64.0 KiB*N" (through the
 * origin), "33.0 MiB" (constant). Returns buf. */
const char *scale_text_model(const struct mo_scale_metric *m, char *buf, size_t len);

/* The command of the sweep, arguments joined by spaces (control characters
 * escaped), cut to fit len. Returns buf. */
const char *scale_text_command(const struct mo_scale *s, char *buf, size_t len);

/* Write the table of s (scale_fit done) to out. */
void scale_text(FILE *out, const struct mo_scale *s);

#endif

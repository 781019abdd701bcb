/* SPDX-License-Identifier: GPL-2.0 */
/* A scaling sweep as one self-contained SVG: a panel per metric, its
 * points (the median per size) against N on log-log axes - a power law is
 * a straight line there, its slope the exponent - with the fitted curve
 * drawn over the sweep and on to the predicted size, the prediction marked,
 * and the budget as a line on the peak RSS panel. Points of value 0 or less
 * have no place on a log axis and are left out (the panel says how many).
 * The same sweep gives the same bytes. */
#ifndef MO_SCALE_SVG_H
#define MO_SCALE_SVG_H

#include <stdio.h>
#include "scale/scale.h"

/* Write the chart of s (scale_fit done) to out. 0, -ENOMEM, or -EIO when
 * out reports a write error. */
int scale_svg(FILE *out, const struct mo_scale *s);

#endif

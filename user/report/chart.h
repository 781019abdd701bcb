/* SPDX-License-Identifier: GPL-2.0 */
/* Geometry for the report's charts, apart from any output format: axes in
 * round steps of human units, text width estimates, and a set of occupied
 * boxes against which labels are placed so that they do not overlap. */
#ifndef MO_CHART_H
#define MO_CHART_H

#include <stdbool.h>
#include <stddef.h>

struct mo_axis {
	double max;		/* the axis runs from 0 to max (>= nticks * step) */
	double step;
	size_t nticks;		/* ticks 1..nticks besides 0 */
	double unit;		/* labels show multiples of this unit */
	const char *unit_name;	/* "MiB", "s", ... */
};

/* A byte axis from 0 to at least max (at least 1 MiB when max is 0), about
 * five steps of 1, 2, 2.5 or 5 times a power of ten of B, KiB, MiB, GiB or
 * TiB, with room above max for a label. */
void chart_axis_bytes(double max, struct mo_axis *ax);

/* A time axis from 0 to exactly max seconds (1 s when max is 0): ticks
 * every 1, 2, 2.5 or 5 times a power of ten seconds (minutes past ten
 * minutes), about ten of them, the last at or before max. The plot ends
 * where the run ends. */
void chart_axis_seconds(double max, struct mo_axis *ax);

/* The label of tick i (0..nticks): "0", "16 MiB", "2.5 s". Returns buf. */
const char *chart_axis_label(const struct mo_axis *ax, size_t i, char *buf, size_t len);

/* Approximate width in pixels of s in a proportional sans-serif font of
 * size px: code points, not bytes, count. */
double chart_text_width(const char *s, double px);

struct mo_box {
	double x0, y0, x1, y1;
};

struct mo_boxes {
	struct mo_box *box;
	size_t n, cap;
};

/* Does b overlap none of the boxes? */
bool chart_boxes_fit(const struct mo_boxes *bs, const struct mo_box *b);

/* Occupy b. 0 or -ENOMEM. */
int chart_boxes_add(struct mo_boxes *bs, const struct mo_box *b);

void chart_boxes_free(struct mo_boxes *bs);

#endif

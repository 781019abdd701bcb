// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib/grow.h"
#include "report/chart.h"

/* About this many steps: enough gridlines to read a value off, few enough
 * that their labels never crowd. The time axis is wider than it is high. */
#define SIZE_STEPS 5
#define TIME_STEPS 10

static const double mantissas[] = { 1, 2, 2.5, 5 };

/* The smallest round step (mantissa times a power of ten) that covers v in
 * at most `steps` steps. */
static double round_step(double v, int steps)
{
	double p = pow(10, floor(log10(v / steps)));

	for (;; p *= 10)
		for (size_t i = 0; i < sizeof(mantissas) / sizeof(mantissas[0]); i++)
			if (v / (mantissas[i] * p) <= steps + 1e-9)
				return mantissas[i] * p;
}

static void fill(struct mo_axis *ax, double max_units, int steps, double unit, const char *unit_name,
		 double headroom)
{
	double step = round_step(max_units, steps);

	ax->nticks = (size_t)ceil(max_units / step - 1e-9);
	if (ax->nticks < 1)
		ax->nticks = 1;
	/* A value in the last few percent below the top would put its label on
	 * the frame. */
	if (max_units > (ax->nticks - headroom) * step)
		ax->nticks++;
	ax->step = step * unit;
	ax->max = ax->nticks * ax->step;
	ax->unit = unit;
	ax->unit_name = unit_name;
}

void chart_axis_bytes(double max, struct mo_axis *ax)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double unit = 1;
	size_t i = 0;

	/* Below a byte, round_step's power of ten underflows to 0 and never
	 * grows (a document may say 5e-324). */
	if (!(max >= 1) || !isfinite(max))
		max = 1 << 20;
	while (i + 1 < sizeof(names) / sizeof(names[0]) && max >= 1024 * unit) {
		unit *= 1024;
		i++;
	}
	fill(ax, max / unit, SIZE_STEPS, unit, names[i], 0.05);
}

void chart_axis_seconds(double max, struct mo_axis *ax)
{
	if (!(max >= 1e-6) || !isfinite(max))	/* as for bytes; times have 6 decimals */
		max = 1;
	if (max > 600)
		fill(ax, max / 60, TIME_STEPS, 60, "min", 0);
	else
		fill(ax, max, TIME_STEPS, 1, "s", 0);
	ax->nticks = (size_t)floor(max / ax->step + 1e-9);
	ax->max = max;
}

const char *chart_axis_label(const struct mo_axis *ax, size_t i, char *buf, size_t len)
{
	double v = i * ax->step / ax->unit;

	if (!i)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%.*f %s", v == round(v) ? 0 : fabs(v * 10 - round(v * 10)) < 1e-6 ? 1 : 2, v,
			 ax->unit_name);
	return buf;
}

double chart_text_width(const char *s, double px)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	/* DejaVu Sans and Liberation Sans average ~0.6 em on lower case. */
	return n * px * 0.6;
}

bool chart_boxes_fit(const struct mo_boxes *bs, const struct mo_box *b)
{
	for (size_t i = 0; i < bs->n; i++) {
		const struct mo_box *o = &bs->box[i];

		if (b->x0 < o->x1 && o->x0 < b->x1 && b->y0 < o->y1 && o->y0 < b->y1)
			return false;
	}
	return true;
}

int chart_boxes_add(struct mo_boxes *bs, const struct mo_box *b)
{
	if (GROW(bs->box, bs->n + 1, bs->cap))
		return -ENOMEM;
	bs->box[bs->n++] = *b;
	return 0;
}

void chart_boxes_free(struct mo_boxes *bs)
{
	free(bs->box);
	bs->box = NULL;
	bs->n = bs->cap = 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* The timeline of a run as one self-contained SVG: session RSS over time
 * stacked by kind (anon, file, shmem), live heap as a line when the heap was
 * traced, phase bands labelled by name (a nested phase inset in its parent)
 * with each phase's peak RSS marked with its value, marks as ticks, and
 * optionally the top processes. A process has no samples of its own in the
 * run document, so it is drawn as a bar over its lifetime at its peak RSS.
 * Labels never overlap: one that finds no room (dozens of short phases) is
 * left to the tooltip of what it names. The output depends on the run
 * alone: the same run gives the same bytes. */
#ifndef MO_REPORT_SVG_H
#define MO_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>
#include "model/run.h"

/* Most processes --processes may ask for: more bars than colours tell apart. */
#define REPORT_SVG_MAX_PROCESSES 8

struct mo_svg_opts {
	size_t processes;	/* top processes by peak RSS to draw, 0 for none */
	bool embedded;		/* inside an HTML page: no XML declaration */
};

/* Write the chart of run to out. 0, or -ENOMEM, or -EIO when out reports a
 * write error. */
int report_svg(FILE *out, const struct mo_run *run, const struct mo_svg_opts *opts);

#endif

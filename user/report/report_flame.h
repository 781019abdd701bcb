/* SPDX-License-Identifier: GPL-2.0 */
/* A flame graph of a run's stack sites for the HTML page, self-contained
 * (no network): the sites as inline JSON, drawn into an SVG by inline
 * script. Weights: RSS growth, and with --heap the bytes allocated and
 * live at the end. Hover: a frame's bytes and share; click: zoom; a search
 * colours matching frames. */
#ifndef MO_REPORT_FLAME_H
#define MO_REPORT_FLAME_H

#include <stdio.h>
#include "model/run.h"

/* Write the section (nothing when the run has no sites). 0 or -ENOMEM. */
int report_flame_html(FILE *out, const struct mo_run *run);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* A run as one self-contained HTML page (nothing fetched: no network, no
 * external script or style): the summary, the SVG timeline inline, the
 * phase table, a flame graph of the stack sites (report_flame.h), the
 * process table (sorted by clicking a header: a few lines of inline
 * script; long ones show their first rows and a button for the rest), by
 * command, marks, the top allocators and RSS growth sites when the run has
 * them, drops and warnings. All text is escaped.
 * The output depends on the run alone. */
#ifndef MO_REPORT_HTML_H
#define MO_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>
#include "model/run.h"

/* Write the page for run to out. processes: as mo_svg_opts.processes, for
 * the chart. 0, or -ENOMEM, or -EIO when out reports a write error. */
int report_html(FILE *out, const struct mo_run *run, size_t processes);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The human summary of a run: totals, phase table, top processes, by
 * command, drops and warnings. */
#ifndef MO_REPORT_TEXT_H
#define MO_REPORT_TEXT_H

#include <stdio.h>
#include "model/run.h"

void report_text(FILE *out, const struct mo_run *run);

#endif

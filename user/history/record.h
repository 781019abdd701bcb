/* SPDX-License-Identifier: GPL-2.0 */
/* A run into the history: its summary as one line (a few KB whatever the
 * run; docs/run-summary.schema.json), and where its whole document is kept,
 * if anywhere: beside the history (--history-full) or the -o file. */
#ifndef MO_RECORD_H
#define MO_RECORD_H

#include <stdbool.h>
#include "lib/invoker.h"
#include "model/run.h"

/* Append run's summary to the history at path. With keep, its document is
 * written first into HISTORY_RUNS_DIR beside the history file and the line
 * names it; else the line names output (the -o file) when that is a regular
 * file. 0, or -errno with the reason in err. */
int history_record(const struct mo_invoker *inv, const char *path, const struct mo_run *run, bool keep,
		   const char *output, char *err, size_t errlen);

#endif

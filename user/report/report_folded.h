/* SPDX-License-Identifier: GPL-2.0 */
/* Folded stacks ("root;caller;leaf 1234" per line): the input of
 * flamegraph.pl, inferno and speedscope. */
#ifndef MO_REPORT_FOLDED_H
#define MO_REPORT_FOLDED_H

#include <stdbool.h>
#include <stdio.h>
#include "model/run.h"

enum mo_fold_weight {
	MO_FOLD_ALLOC,		/* allocation sites by allocated bytes */
	MO_FOLD_LIVE,		/* allocation sites by bytes live at the end */
	MO_FOLD_RSS,		/* RSS growth sites by bytes */
};

/* Parse "alloc", "live" or "rss". 0 or -EINVAL. */
int report_folded_weight(const char *s, enum mo_fold_weight *out);

/* One line per site with a positive weight, its program (comm) as the root
 * frame when known. with_lines: each frame followed by its " (file.c:42)" where
 * known. Returns the lines written. */
size_t report_folded(FILE *out, const struct mo_run *run, enum mo_fold_weight weight, bool with_lines);

#endif

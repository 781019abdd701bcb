/* SPDX-License-Identifier: GPL-2.0 */
/* The whole run document a reference names, for reports. history_resolve
 * finds the run but keeps only its summary (the history drops processes,
 * timeline and stacks to bound memory); this reads it again in full from
 * where resolve found it: the -o file, or its line of the history. */
#ifndef MO_RUN_LOAD_H
#define MO_RUN_LOAD_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "history/history.h"

/* Resolve ref against h (loaded from history_path; empty when there is no
 * history) and read that run whole into *doc (caller deletes). 0, or
 * -ENOENT / -EINVAL (no such run, not a run document), -ENOMEM or another
 * -errno, with the reason in err. */
int run_load(const struct mo_history *h, const char *history_path, const char *ref, cJSON **doc, char *err,
	     size_t errlen);

#endif

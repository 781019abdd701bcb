/* SPDX-License-Identifier: GPL-2.0 */
/* The runs of a scaling sweep: the command at one size, observed by memobs
 * itself - this binary (/proc/self/exe) as a child, `memobs -q -o FILE
 * [--heap] -- CMD` - so that each run is an ordinary observation with its
 * sudo handling, exit codes and run document. The command's standard
 * output goes to standard error, which keeps the sweep's own output clean.
 * Allocation sampling is off (--sample-bytes 0 --rss-sample-bytes 0): a
 * sweep reports no stacks and should not pay for them. */
#ifndef MO_SCALE_EXEC_H
#define MO_SCALE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "lib/invoker.h"
#include "scale/scale.h"

#define SCALE_PLACEHOLDER "{}"

/* Does any argument hold SCALE_PLACEHOLDER? */
bool scale_exec_has_placeholder(char *const *tmpl);

/* The command at `size`: a copy of tmpl, NULL-terminated, with every "{}"
 * inside every argument replaced by the size in decimal. Free with
 * scale_exec_free_argv. NULL on ENOMEM. */
char **scale_exec_expand(char *const *tmpl, uint64_t size);
void scale_exec_free_argv(char **argv);

/* A private directory for the run documents, created as the invoking user
 * (the child memobs writes its document as them). dir gets its path. 0 or
 * -errno with the reason in err. */
int scale_exec_mkdir(const struct mo_invoker *inv, char *dir, size_t len, char *err, size_t errlen);

/* Remove dir and the files in it. */
void scale_exec_rmdir(const char *dir);

/* Run the command at `size` under memobs, the document in dir; *running
 * holds the child memobs's pid while it runs (0 otherwise), for a signal
 * handler to pass a signal on. Returns 0 with *doc the run's summary
 * (history_read_file; caller deletes) whatever the command's exit status,
 * which the document holds; -ECHILD when memobs exited without a document,
 * *status its exit code (125: memobs failed, 126/127: the command cannot be
 * run / was not found; its message is on standard error already); another
 * -errno when the child could not be started or the document not read. err
 * says what. */
int scale_exec_run(const struct mo_scale_setup *setup, uint64_t size, unsigned repeat, const char *dir,
		   volatile pid_t *running, cJSON **doc, int *status, char *err, size_t errlen);

#endif

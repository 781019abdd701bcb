/* SPDX-License-Identifier: GPL-2.0 */
/* Unwind tables on demand (issue 16): BPF asks for the table of each file
 * its stack walks meet (MO_EV_UNWIND_FILE); a worker thread opens the file
 * through the asking process's /proc/PID/map_files (any mount namespace),
 * compiles its .eh_frame (stacks/cfi.c) and loads the rows into BPF, once
 * per file, off the thread that reads events; the requests queued meanwhile
 * go in as one batch. The files learned are handed
 * to the build-id table, so their frames are named after the process is
 * gone. */
#ifndef MO_UNWIND_H
#define MO_UNWIND_H

#include <stddef.h>
#include <linux/types.h>
#include "memobs_abi.h"

struct mo_unwinder;
struct mo_session;
struct mo_buildids;

/* NULL+errno. */
struct mo_unwinder *unwind__new(struct mo_session *s);

/* Stop the worker once the requests queued are served. */
void unwind__stop(struct mo_unwinder *u);

/* Stop it (if still running) and free. */
void unwind__free(struct mo_unwinder *u);

/* Load the tables of the files at paths now, in the calling thread, as one
 * batch (one RCU grace period for all), and wait for those of them another
 * thread is loading: a new executable held by the exec gate, its libraries
 * (its first samples walk through them: a short program is done before a
 * worker would be), the C library and the loader before the command runs.
 * 0, or the first -errno. */
int unwind__load_now(struct mo_unwinder *u, const char *const *paths, size_t n);

/* Queue a request from BPF. */
void unwind__request(struct mo_unwinder *u, const struct mo_ev_unwind_file *ev);

/* Hand the files learned so far to ids (path and build id). */
void unwind__learned(struct mo_unwinder *u, struct mo_buildids *ids);

/* What it cost: files compiled, rows loaded, CPU seconds of the worker. */
void unwind__stats(struct mo_unwinder *u, size_t *files, size_t *rows, double *cpu_s);

#endif

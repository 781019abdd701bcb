/* SPDX-License-Identifier: GPL-2.0 */
/* What the full-screen live view (--live) shows at one refresh, filled by
 * the run loop, and its lines as text: plain data and formatting, no
 * terminal, so that it is tested without one. live.c draws it. */
#ifndef MO_LIVE_VIEW_H
#define MO_LIVE_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "memobs_abi.h"

struct mo_live_proc {
	pid_t pid;
	char comm[MO_COMM_LEN];
	int64_t rss;
	int64_t rss_peak;
	int64_t heap_live;		/* -1: heap not traced, or no probes in it */
};

struct mo_live_view {
	double elapsed_s;
	int64_t rss, rss_peak;		/* the session's */
	int64_t heap_live;		/* -1 without --heap */
	const char *phase;		/* the innermost open phase, NULL for none */
	uint64_t drops;			/* everything counted as not recorded */
	const struct mo_live_proc *procs;	/* any order: the view sorts */
	size_t nprocs;
};

/* Indices into view->procs by RSS now, largest first (ties: lower pid
 * first), at most max of them, into idx. Returns the count written. */
size_t live_view_order(const struct mo_live_view *view, size_t *idx, size_t max);

/* The session line: elapsed, processes, RSS now and peak, heap, phase,
 * drops. */
void live_view_status(const struct mo_live_view *view, char *buf, size_t len);

/* The column titles, and one process under them. */
void live_view_columns(char *buf, size_t len);
void live_view_row(const struct mo_live_proc *p, char *buf, size_t len);

#endif

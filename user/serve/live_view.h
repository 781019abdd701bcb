/* SPDX-License-Identifier: GPL-2.0 */
/* What the full-screen live view (--live) shows at one refresh, filled by
 * the run loop, and its lines as text: plain data and formatting, no
 * terminal, so that it is tested without one. live.c draws it. */
#ifndef MO_LIVE_VIEW_H
#define MO_LIVE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "model/run.h"

struct mo_live_proc {
	pid_t pid;
	char comm[MO_RUN_COMM_LEN];
	int64_t rss;
	int64_t rss_peak;
	int64_t heap_live;		/* -1: heap not traced, or no probes in it */
	uid_t uid;			/* effective */
	const char *cgroup;		/* v2 path, NULL while unknown */
};

/* What a row of the view is: a process, or the processes that share a
 * name, a user or a cgroup (the g key cycles through them). */
enum mo_live_by {
	MO_LIVE_BY_PROCESS,
	MO_LIVE_BY_COMM,
	MO_LIVE_BY_USER,
	MO_LIVE_BY_CGROUP,
	MO_LIVE_BY_NR,
};

/* A group's processes summed: RSS now and heap live (-1 when none of
 * them has a heap figure), and the highest of their peaks. */
struct mo_live_group {
	const struct mo_live_proc *first;	/* one of them, for the key */
	size_t nprocs;
	int64_t rss;
	int64_t rss_peak_max;
	int64_t heap_live;
};

struct mo_live_view {
	double elapsed_s;
	int64_t rss, rss_peak;		/* the session's */
	int64_t heap_live;		/* -1 without --heap */
	const char *phase;		/* the newest open phase, NULL for none */
	uint64_t drops;			/* what was lost (run_drops_lost) */
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

/* "process", "comm", "user" or "cgroup". */
const char *live_view_group_name(enum mo_live_by by);

/* The processes grouped by (not MO_LIVE_BY_PROCESS) into *groups (caller
 * frees), largest RSS now first (ties: by key). The count, or -ENOMEM. */
ssize_t live_view_groups(const struct mo_live_view *view, enum mo_live_by by, struct mo_live_group **groups);

/* The last `max` lines of a log (the command's output under --live) made
 * for a screen, '\n'-separated into out: a partial first line left out
 * unless the log starts there (at_start), "\r\n" ends kept as ends, a line
 * redrawn with \r shown in its last state, terminal escape sequences
 * (colours, cursor moves, titles) removed, tabs expanded, other control
 * bytes and invalid UTF-8 escaped (termesc.h). Returns the count. */
size_t live_view_log_tail(const char *buf, size_t len, bool at_start, size_t max, char *out, size_t outlen);

/* The column titles of a grouped view, and one group under them: the key
 * (name, user name or cgroup path) last, as a path may be long. */
void live_view_group_columns(enum mo_live_by by, char *buf, size_t len);
void live_view_group_row(enum mo_live_by by, const struct mo_live_group *g, char *buf, size_t len);

#endif

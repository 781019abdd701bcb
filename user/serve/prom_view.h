/* SPDX-License-Identifier: GPL-2.0 */
/* What one scrape lists under the cardinality limits of prom.h: the
 * largest processes and cgroups, the phase names, and what is left over,
 * summed. Pure; used by prom.c. */
#ifndef MO_PROM_VIEW_H
#define MO_PROM_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "serve/prom.h"

/* The observed processes of one cgroup, summed. */
struct mo_prom_cgroup {
	const char *path;		/* points into the snapshot */
	int64_t rss[MO_MEM_KINDS];
	int64_t sum;			/* file + anon + shmem */
	int64_t nprocs;
};

struct mo_prom_view {
	const struct mo_prom_snapshot *snap;
	size_t *procs, nprocs;		/* listed (indices into snap->procs), largest first */
	char (*pids)[16];		/* their pid labels */
	size_t other_procs;
	int64_t other_rss[MO_MEM_KINDS];
	struct mo_prom_cgroup *cgs;	/* every cgroup, largest first: the first ncgs are listed */
	size_t ncgs, other_cgs;
	int64_t other_cg_rss[MO_MEM_KINDS];
	size_t *phases, nphases;	/* listed (indices into snap->phases), in the order they began */
	size_t other_phases;
};

static inline int64_t prom_view_rss(const int64_t *rss)
{
	return rss[MO_MEM_FILE] + rss[MO_MEM_ANON] + rss[MO_MEM_SHMEM];
}

/* Fill v from snap (which must outlive it) under lim. 0 or -ENOMEM; free
 * with prom_view_free either way. */
int prom_view_build(struct mo_prom_view *v, const struct mo_prom_snapshot *snap, const struct mo_prom_limits *lim);
void prom_view_free(struct mo_prom_view *v);

/* The sum of every cgroup a process of s names, largest first (ties by
 * path), into *out (caller frees). Returns how many, or -ENOMEM. */
ssize_t prom_view_cgroups(const struct mo_prom_snapshot *s, struct mo_prom_cgroup **out);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Which processes to observe: -p PID[,PID...] and, with -a, --comm NAME[,NAME...],
 * --uid UID|NAME and --cgroup PATH. Parsed and checked here before anything
 * is loaded; BPF applies the same rules at fork and exec (bpf/ident.bpf.h),
 * filters_match() to the processes already running at the start. */
#ifndef MO_FILTERS_H
#define MO_FILTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "memobs_abi.h"

struct mo_filters {
	char (*comms)[MO_COMM_LEN];	/* NUL-padded, as BPF compares them */
	size_t ncomms, comms_alloc;
	bool has_uid;
	uid_t uid;
	char *cgroup;			/* canonical path below the cgroup root ("/a/b"), or NULL */
	unsigned cgroup_level;		/* its depth: "/" 0, "/a" 1, ... */
	uint64_t cgroup_id;		/* its directory's inode (the kernel's cgroup id) */
};

/* Add the names of a comma-separated list (repeats are kept once).
 * 0, -EINVAL (empty, or longer than the kernel's 15-byte comm) or -ENOMEM,
 * with the reason in err. */
int filters_add_comms(struct mo_filters *f, const char *list, char *err, size_t errlen);

/* The cgroup given as a path relative to the cgroup2 mount `root` or under
 * it ("/system.slice", "system.slice", "/sys/fs/cgroup/system.slice").
 * 0, -EINVAL (a ".." in it), -ENOENT (no such cgroup) or -ENOMEM, with the
 * reason in err. */
int filters_set_cgroup(struct mo_filters *f, const char *arg, const char *root, char *err, size_t errlen);

/* Any of comm, uid, cgroup given? Their enum mo_filter bits. */
bool filters_any(const struct mo_filters *f);
uint32_t filters_mask(const struct mo_filters *f);

/* Does a process (name, effective uid, cgroup path or NULL when unknown)
 * match every filter given? */
bool filters_match(const struct mo_filters *f, const char *comm, uid_t uid, const char *cgroup);

void filters_free(struct mo_filters *f);

/* Append the pids of a comma-separated list ("4242" or "1,2,3") to
 * *pids (*n of them; repeats kept once). 0, -EINVAL or -ENOMEM, reason in err. */
int filters_parse_pids(const char *list, pid_t **pids, size_t *n, char *err, size_t errlen);

#endif

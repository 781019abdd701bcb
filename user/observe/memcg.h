/* SPDX-License-Identifier: GPL-2.0 */
/* The command's own memory cgroup: the kernel's charge for the whole tree
 * (anon, page cache, kernel memory; a page shared by many processes counts
 * once). It is a child of memobs's own cgroup, so that the command keeps
 * every limit it would have had. cgroup v1's memory controller; or v2's,
 * where its rules allow it without moving any other process (README,
 * "The tree's memory"). If memobs is killed, a child it left for this
 * removes the cgroup once the command has left it; a cgroup left anyway is
 * removed by the next memobs that looks, once it is empty. No libbpf here. */
#ifndef MO_MEMCG_H
#define MO_MEMCG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mo_memcg_version {
	MO_MEMCG_V1 = 1,
	MO_MEMCG_V2 = 2,
};

/* One reading, bytes. */
struct mo_memcg_stat {
	int64_t current;	/* v2 memory.current; v1 memory.usage_in_bytes */
	int64_t anon;		/* v2 anon; v1 total_rss */
	int64_t file;		/* page cache, tmpfs included: v2 file; v1 total_cache */
	int64_t kernel;		/* v2 kernel (or its parts); v1 memory.kmem.usage_in_bytes; -1 unknown */
};

/* Where memobs is in the hierarchy that holds the memory controller. */
struct mo_memcg_place {
	enum mo_memcg_version version;
	char dir[PATH_MAX];	/* its cgroup's directory */
	char path[PATH_MAX];	/* its cgroup as /proc/self/cgroup names it */
};

/* From the texts of /proc/self/mountinfo and /proc/self/cgroup: v1's
 * memory hierarchy if one is mounted, else cgroup2. 0, or -ENOENT with
 * the reason in why. */
int memcg_locate(const char *mountinfo, const char *self_cgroup, struct mo_memcg_place *pl, char *why,
		 size_t len);

/* The files of memobs's cgroup that decide, on v2, whether a child of it
 * can have the memory controller (NULL: the file does not exist). */
struct mo_memcg_v2_files {
	const char *type;		/* cgroup.type: absent on the root */
	const char *controllers;	/* cgroup.controllers */
	const char *subtree_control;	/* cgroup.subtree_control */
	const char *procs;		/* cgroup.procs */
};

/* What v2's rules allow (no process in a cgroup whose children have a
 * domain controller, the root excepted): */
struct mo_memcg_v2_plan {
	bool enable_memory;	/* write +memory to its cgroup.subtree_control */
	bool move_self;		/* memobs alone is in it: memobs moves to a leaf of its own first */
};

/* 0 with the plan, or -EPERM with the reason in why. self: memobs's pid. */
int memcg_v2_plan(const struct mo_memcg_v2_files *f, pid_t self, struct mo_memcg_v2_plan *plan, char *why,
		  size_t len);

/* Parse memory.stat (v1: total_rss, total_cache; v2: anon, file, kernel or
 * its parts). Fields other than anon/file/kernel are left alone. 0, or
 * -EINVAL when anon or file is missing. */
int memcg_parse_stat(const char *text, enum mo_memcg_version v, struct mo_memcg_stat *st);

/* Is name one of the cgroups memobs makes ("memobs-PID-START", and
 * "memobs-PID-START.self" for memobs itself on v2)? Its owner then. */
bool memcg_parse_name(const char *name, pid_t *pid, uint64_t *start_ticks);

struct mo_memcg;

/* Make the command's cgroup under memobs's own (after removing the empty
 * ones that dead memobs processes left there), and fork the child that
 * removes it should memobs end without doing so. NULL with the reason in
 * why when there can be none. */
struct mo_memcg *memcg__create(char *why, size_t len);

/* v2: a descriptor of it, for clone3(CLONE_INTO_CGROUP), or -1. */
int memcg__open_v2(const struct mo_memcg *cg);

/* Move pid (held before its exec) into it. 0/-errno. */
int memcg__enter(struct mo_memcg *cg, pid_t pid);

/* Read the charge now. 0/-errno. */
int memcg__read(struct mo_memcg *cg, struct mo_memcg_stat *st);

/* The kernel's high watermark of the charge (v2 memory.peak, v1
 * memory.max_usage_in_bytes), or -1 when the kernel keeps none. */
int64_t memcg__peak(struct mo_memcg *cg);

enum mo_memcg_version memcg__version(const struct mo_memcg *cg);
/* The cgroup's path in its hierarchy ("/a/memobs-12-345"). */
const char *memcg__path(const struct mo_memcg *cg);

/* Move the processes still in it to where they came from, remove it (and
 * undo what v2 needed), end the child, free cg. 0, or -errno with the
 * reason in why when it could not be removed (the child then removes it
 * once it is empty). */
int memcg__remove(struct mo_memcg *cg, char *why, size_t len);

#endif

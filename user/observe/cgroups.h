/* SPDX-License-Identifier: GPL-2.0 */
/* Cgroup v2 ids to paths. BPF records a process's cgroup as the kernfs id
 * of its directory, which is the directory's inode number under the cgroup2
 * mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host): the cache learns ids by walking that tree when an
 * unknown id appears, and keeps what it learned after a cgroup is removed
 * (a container's cgroup goes away with its last process). No libbpf here. */
#ifndef MO_CGROUPS_H
#define MO_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MO_CGROUPS_MAX 65536	/* cgroups remembered; a host past that leaves the rest unnamed */

struct mo_cgroups;

/* Where cgroup2 is mounted, from /proc/self/mountinfo (the first such
 * mount). 0, -ENOENT (none), -ENAMETOOLONG or another -errno. */
int cgroups_find_mount(char *buf, size_t len);
/* The same over the text of a mountinfo file. */
int cgroups_parse_mountinfo(const char *text, char *buf, size_t len);
/* The first mount of a cgroup hierarchy in mountinfo text: cgroup2 when
 * controller is NULL, else the v1 hierarchy whose options name that
 * controller ("memory"). Its mount point in mount, and in root (if not
 * NULL) the cgroup it shows (a container's mount shows its own subtree).
 * 0, -ENOENT (none) or -ENAMETOOLONG. */
int cgroups_parse_hierarchy(const char *text, const char *controller, char *mount, size_t mlen, char *root,
			    size_t rlen);

/* root: the cgroup2 mount; NULL when there is none (every id is then
 * unknown). NULL+errno (ENOMEM). */
struct mo_cgroups *cgroups__new(const char *root);
void cgroups__free(struct mo_cgroups *c);

/* The path of cgroup id relative to the root ("/" for the root itself,
 * "/system.slice/foo.service" below it), or NULL when unknown. A miss walks
 * the tree again, at most once a second. The string lives as long as c. */
const char *cgroups__path(struct mo_cgroups *c, uint64_t id);

/* Walk the tree now. Returns the number of cgroups known, or -errno when
 * the root cannot be read. */
int cgroups__rescan(struct mo_cgroups *c);

/* The id of a cgroup given by its path relative to the root, remembered.
 * 0/-errno (-ENOENT: no such cgroup). */
int cgroups__id_of(struct mo_cgroups *c, const char *path, uint64_t *id);

/* Is path the cgroup `top` or below it? Both relative to the root,
 * canonical ("/a/b", no trailing slash; "/" is the root). */
bool cgroups_path_within(const char *path, const char *top);

#endif

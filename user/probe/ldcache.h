/* SPDX-License-Identifier: GPL-2.0 */
/* glibc's /etc/ld.so.cache, read the way ld.so reads it: the sonames
 * ldconfig found and the paths they resolve to. The "glibc-ld.so.cache1.1"
 * format (ldconfig's only output since glibc 2.32), alone or after the old
 * "ld.so-1.7.0" table; a file with only the old table is not read. */
#ifndef MO_LDCACHE_H
#define MO_LDCACHE_H

#include <stddef.h>

struct mo_ldcache;

/* Read the cache at path. NULL+errno: ENOENT (none), EINVAL (not a cache
 * in a format known here), ENOMEM. Free with ldcache__free. */
struct mo_ldcache *ldcache__open(const char *path);
void ldcache__free(struct mo_ldcache *c);

/* The next path the cache lists for soname, starting from *iter = 0: one
 * soname may have several (other ELF classes and machines; the caller
 * checks the file). NULL when there are no more. Entries for glibc-hwcaps
 * subdirectories are passed over: they are alternatives ld.so picks by CPU,
 * and the baseline entry is the same library. The string lives until
 * ldcache__free. */
const char *ldcache__find(const struct mo_ldcache *c, const char *soname, size_t *iter);

#endif

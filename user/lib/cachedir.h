/* SPDX-License-Identifier: GPL-2.0 */
/* A cache of files memobs derives from others and can always derive again
 * (as perf's ~/.debug): where it is, and when what is in it is trusted.
 *
 * Root's is /var/cache/memobs; another user's $XDG_CACHE_HOME/memobs, else
 * ~/.cache/memobs. MEMOBS_CACHE=DIR (an absolute path) moves it;
 * MEMOBS_CACHE=off turns it off. Each user of the cache has a subdirectory
 * of its own. A directory or entry is used only when it belongs to the user
 * memobs runs as and no one else may write it (no symbolic link either).
 * Entries are written to a temporary file and renamed: a reader sees a
 * whole entry or none. The subdirectory is kept under a size bound: past
 * it, the entries least recently used go. No memobs concept here. */
#ifndef MO_CACHEDIR_H
#define MO_CACHEDIR_H

#include <stddef.h>
#include <sys/types.h>

#define MO_CACHE_ENV "MEMOBS_CACHE"
#define MO_CACHE_MAX_BYTES (512ull << 20)	/* per subdirectory */

struct mo_cachedir {
	int fd;			/* the subdirectory */
	char path[4096];	/* its path, for messages */
	unsigned long long max_bytes;
};

/* The cache's directory for a user of effective id euid, given the values
 * of MEMOBS_CACHE, XDG_CACHE_HOME and HOME (each may be NULL). 0; -ENOENT:
 * turned off, or no place for it (no home); -EINVAL: MEMOBS_CACHE is not
 * an absolute path. */
int cachedir_location(const char *env, const char *xdg, const char *home, uid_t euid, char *out, size_t len);

/* Open the subdirectory name of the cache (creating what is missing, for
 * the owner only). 0; -ENOENT: the cache is off (err empty); other -errno
 * with the reason in err ("DIR: owned by uid 1000, not 0"). */
int cachedir_open(struct mo_cachedir *c, const char *name, char *err, size_t errlen);
void cachedir_close(struct mo_cachedir *c);

/* Entry name, opened to read, its last use renewed (for the size bound):
 * fd; -ENOENT when absent; -EPERM when not the owner's alone (not used). */
int cachedir_read(const struct mo_cachedir *c, const char *name);

/* A new entry: cachedir_begin gives the fd of a temporary file in the
 * directory (its name in tmp); cachedir_commit renames it to name, closes
 * fd, and makes room past the bound; cachedir_abort removes it. 0/-errno. */
#define MO_CACHE_TMP_LEN 32
int cachedir_begin(const struct mo_cachedir *c, char tmp[MO_CACHE_TMP_LEN]);
int cachedir_commit(const struct mo_cachedir *c, int fd, const char *tmp, const char *name);
void cachedir_abort(const struct mo_cachedir *c, int fd, const char *tmp);

/* Remove entry name (one found bad). */
void cachedir_remove(const struct mo_cachedir *c, const char *name);

#endif

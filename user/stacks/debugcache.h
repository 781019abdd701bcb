/* SPDX-License-Identifier: GPL-2.0 */
/* Separate debug files kept with their sections uncompressed, by build id,
 * in memobs's cache (lib/cachedir.h, subdirectory "debuginfo"). Debian's
 * debug packages compress their DWARF (zlib), and libdw inflates every
 * section whole when it opens one: the C library's 4 MiB become 10 MiB,
 * ~40 ms of CPU at every run. From the cache libdw maps the file instead.
 *
 * An entry, "<build id>.v1.debug", is the ELF file with its compressed
 * sections inflated, laid out anew after the sections before them. It is
 * trusted only when it is its user's alone (lib/cachedir.h), an ELF file
 * of the size its headers give, without a compressed section, with the
 * build id of its name; otherwise it is removed and made again. No libbpf
 * here. */
#ifndef MO_DEBUGCACHE_H
#define MO_DEBUGCACHE_H

#include <stddef.h>

struct mo_debugcache;

/* The cache, or NULL: off (err empty) or unusable (the reason in err). */
struct mo_debugcache *debugcache__open(char *err, size_t errlen);
void debugcache__free(struct mo_debugcache *c);

/* The cached debug file of build id id (len bytes): its fd, its path in
 * *path (malloc'd); -1 when there is none (or none to trust). */
int debugcache__find(struct mo_debugcache *c, const unsigned char *id, size_t len, char **path);

/* The debug file of build id id as installed (/usr/lib/debug/.build-id),
 * when its sections are compressed: stored uncompressed, and the entry
 * opened as debugcache__find does. -1 when there is no such file, nothing
 * to inflate, or it cannot be stored (libdwfl's own search then). */
int debugcache__add(struct mo_debugcache *c, const unsigned char *id, size_t len, char **path);

/* The first failure to store an entry ("" when none): said once, at the
 * end, by the caller; the cache is not written again in this run. */
const char *debugcache__error(const struct mo_debugcache *c);

#endif

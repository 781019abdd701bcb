/* SPDX-License-Identifier: GPL-2.0 */
/* Files memobs knows, by content: (device, inode) and a version (ctime,
 * size) that changes when the file is written in place, so that a file
 * overwritten by `cp` is a new file here. Each entry carries a small value
 * of the user's (what was found or attached in that file) and a tag (a
 * heap prefix, ""). It grows as needed: a build runs hundreds of distinct
 * executables, and what a user remembers is up to it (only files with
 * markers or allocators, say). */
#ifndef MO_PROBESET_H
#define MO_PROBESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct mo_file_id {
	uint64_t dev;		/* st_dev as user space sees it */
	uint64_t ino;
	int64_t ctime_ns;	/* changes with every write, chmod, rename */
	int64_t size;
};

void file_id_from_stat(const struct stat *st, struct mo_file_id *id);
/* Stat path into *id. 0/-errno. */
int file_id_of(const char *path, struct mo_file_id *id);
bool file_id_same_file(const struct mo_file_id *a, const struct mo_file_id *b);	/* dev, ino */
bool file_id_same_content(const struct mo_file_id *a, const struct mo_file_id *b);	/* and version */
/* Do paths a and b lead to one file (dev, ino)? false when either cannot be stat'ed. */
bool file_id_same_path(const char *a, const char *b);

struct mo_probeset;

/* value_size bytes of the user's per entry, zeroed when added. NULL+errno. */
struct mo_probeset *probeset__new(size_t value_size);
/* Free every entry; release(value, ctx) first for each when given. NULL-safe. */
void probeset__free(struct mo_probeset *ps, void (*release)(void *value, void *ctx), void *ctx);

/* The value of (the file of id, tag) whatever its version, with the version
 * it was added with in *known (when known is not NULL); NULL when absent. */
void *probeset__find(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag,
		     struct mo_file_id *known);

/* The value of exactly this content and tag, NULL when absent or when the
 * file changed since it was added. */
void *probeset__get(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag);

/* Add (id, tag), replacing an entry of the same file and tag (another
 * version: release it first). Returns the zeroed value, or NULL on ENOMEM. */
void *probeset__add(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag);

/* Remove the entry of the file of id and tag, if any (release it first). */
void probeset__remove(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag);

size_t probeset__count(const struct mo_probeset *ps);

/* fn(value, id, tag, ctx) for each entry, in no particular order. */
void probeset__each(struct mo_probeset *ps,
		    void (*fn)(void *value, const struct mo_file_id *id, const char *tag, void *ctx), void *ctx);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMOBS_PROBE_PIDLINKS_H
#define MEMOBS_PROBE_PIDLINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "probe/probeset.h"
#include "probe/uprobe_multi.h"

/* Links per process and file: the allocators' two (mo_alloc_entry's, every
 * entry with a cookie each, and mo_alloc_ret's); the markers' one. */
#define MO_PID_LINKS_MAX 2

/* The pid-scoped links of one process on one file (and tag: the heap's
 * symbol prefix; "" for markers). */
struct mo_pid_links {
	pid_t tgid;
	struct mo_file_id id;	/* the content linked */
	char tag[8];
	int fds[MO_PID_LINKS_MAX];
	size_t nfds;
};

/* Every process's pid-scoped links of one kind; the links themselves belong
 * to a link set (struct mo_links), released with their owner. */
struct mo_pid_link_table {
	struct mo_pid_links *v;
	size_t n, alloc;
};

/* tgid's links on exactly this content of the file, or NULL. Links of tgid
 * on another content of the file (written in place since) are closed now,
 * before the new code runs, and forgotten. */
struct mo_pid_links *pid_links__current(struct mo_pid_link_table *t, struct mo_links *links, pid_t tgid,
					const struct mo_file_id *id, const char *tag);

/* Has tgid links on exactly this content of the file? */
bool pid_links__has(const struct mo_pid_link_table *t, pid_t tgid, const struct mo_file_id *id, const char *tag);

/* A new, empty entry for tgid on id (not in the table until kept); NULL: no memory. */
struct mo_pid_links *pid_links__new_entry(struct mo_pid_link_table *t, pid_t tgid, const struct mo_file_id *id,
					  const char *tag);

/* Keep the entry pid_links__new_entry gave, if it holds any link. */
void pid_links__keep(struct mo_pid_link_table *t, struct mo_pid_links *e);

/* Forget tgid's entries (its links go with it from the link set). Had it any? */
bool pid_links__exit(struct mo_pid_link_table *t, pid_t tgid);

void pid_links__free(struct mo_pid_link_table *t);

#endif

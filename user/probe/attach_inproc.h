/* SPDX-License-Identifier: GPL-2.0 */
/* The USDT probes of the in-process heap library (provider memobs_heap:
 * alloc, free, sync) as one uprobe_multi link of mo_heap_usdt, system-wide
 * on the library's file: only processes that load it can trap, and only at
 * a sample, the free of a sampled block, or a phase request. */
#ifndef MO_ATTACH_INPROC_H
#define MO_ATTACH_INPROC_H

#include <stddef.h>

struct memobs_bpf;
struct mo_links;

/* Make mo_heap_usdt loadable for uprobe_multi links: before the skeleton is
 * loaded. 0/-errno. */
int inproc_probes__prepare(struct memobs_bpf *skel);

/* Attach the probes of the library at path; the link goes to links. 0, or
 * -errno with the reason in err. */
int inproc_probes__attach(struct memobs_bpf *skel, struct mo_links *links, const char *path, char *err,
			  size_t errlen);

#endif

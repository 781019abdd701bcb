/* SPDX-License-Identifier: GPL-2.0 */
/* Allocator uprobes: which functions of a file to probe, where (probeplan.h),
 * and the links: one uprobe_multi link per BPF program and file
 * (uprobe_multi.h), in the session's link set, closed together. Each file is
 * planned once per content (kept open: every link is on that content); one
 * written in place loses its old probes first.
 *
 * Either system-wide per file (the C library linked up front for
 * --heap=uprobes or -a: fork children are covered from their first
 * instruction; the BPF programs keep only the session's processes, every
 * other process mapping the file traps), or per process
 * (heap_probes__per_process: -p, and every file found at an exec of a
 * launched command): pid-scoped links, so that no process outside the
 * session traps - nor crashes: a system-wide link on a file written in place
 * since would put the old code's breakpoints into the new program of anyone
 * running it. A child forked without exec carries its parent's breakpoints
 * but not its links (it traps, uncounted): heap_probes__fork gives it links
 * of its own. */
#ifndef MO_ATTACH_HEAP_H
#define MO_ATTACH_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "model/run.h"
#include "probe/allocators.h"

struct mo_heap_probes;
struct memobs_bpf;
struct mo_links;

/* Links go to links (the caller frees them, all at once). The allocator
 * programs are loaded at the first file probed, sharing skel's maps (its
 * configuration is final: loaded). NULL+errno. */
struct mo_heap_probes *heap_probes__new(struct memobs_bpf *skel, struct mo_links *links);
void heap_probes__free(struct mo_heap_probes *hp);

/* From now on, probes are attached for each process alone (before any is). */
void heap_probes__per_process(struct mo_heap_probes *hp);

/* Probe the allocator functions named prefix + malloc, ... defined in the
 * ELF file at path, for process pid alone (0: every process; a file linked
 * for every process gets no pid's links); allocator
 * names their family for the report. Returns the number of functions the
 * file has probed (0: none defined there, or pid is gone), or -errno with the
 * reason in err. */
int heap_probes__attach_file(struct mo_heap_probes *hp, const char *path, const char *prefix,
			     const char *allocator, pid_t pid, char *err, size_t errlen);

/* Per process: child was forked by parent; links of its own on every file
 * parent has them on (none again where it has them). The number of files
 * child has links on, or -errno with the reason in err. */
int heap_probes__fork(struct mo_heap_probes *hp, pid_t parent, pid_t child, char *err, size_t errlen);

/* tgid exited: its links are forgotten here, true when it had some; the
 * caller releases them from the link set (links__release), once for every
 * module. */
bool heap_probes__exit(struct mo_heap_probes *hp, pid_t tgid);

/* Probe every allocator process pid will really call (allocators.h), pid
 * being stopped at the exec of exe (a path memobs can open: /proc/PID/exe).
 * Returns the number of functions its files have probed (0 too when pid is
 * gone), or
 * -errno with the first reason in err: a file that cannot be probed, a
 * library the dynamic linker's search does not find. Either way the other
 * files are probed. */
int heap_probes__attach_exe(struct mo_heap_probes *hp, pid_t pid, const char *exe, char *err, size_t errlen);

/* The same for process pid held at the entry of its exec of img
 * (allocators.h: its environment and executable are not in /proc yet). */
int heap_probes__attach_exec(struct mo_heap_probes *hp, pid_t pid, const struct mo_exec_image *img, char *err,
			     size_t errlen);

const struct mo_heap_site *heap_probes__sites(const struct mo_heap_probes *hp, size_t *count);

/* From now on heap_probes__attach_exe/exec probe only allocators linked into
 * the executable itself: the preloaded library counts the calls that reach
 * a shared one (observe/inproc.h). */
void heap_probes__exe_only(struct mo_heap_probes *hp);

#endif

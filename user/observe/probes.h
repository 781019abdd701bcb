/* SPDX-License-Identifier: GPL-2.0 */
/* What an observation probes and when: the uprobe links (all in one set,
 * closed together), the allocator probes (--heap) and the phase markers;
 * attached up front, for a process held at its exec (by the seccomp gate
 * of a launched command, or stopped by the -p gate), at fork and exit. */
#ifndef MO_PROBES_H
#define MO_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "model/run.h"
#include "observe/execgate.h"

struct mo_probes;
struct mo_session;
struct mo_buildids;

/* run: where warnings go; buildids: executables seen are added (or NULL);
 * heap_lib: with heap, the in-process library the command preloads (its
 * probes are attached up front, and only allocators linked into an
 * executable get uprobes), or NULL. NULL with the reason in err. */
struct mo_probes *probes__new(struct mo_session *s, struct mo_run *run, struct mo_buildids *buildids, bool heap,
			      const char *heap_lib, char *err, size_t errlen);
/* The observation is over: every link is closed in the background, together
 * (one grace period), while the report is made. */
void probes__detach(struct mo_probes *p);

/* Close every link at once (one grace period) and wait, then free. NULL-safe. */
void probes__free(struct mo_probes *p);

/* Before the command runs: the allocator of the C library at libc (with
 * heap; NULL: none), and the markers of memobs's own files (this
 * executable, libmemobs, or NULL), system-wide. 0, or -errno with the
 * reason in err. */
int probes__attach_upfront(struct mo_probes *p, const char *libc, const char *libmemobs, char *err,
			   size_t errlen);

/* The exec gate's hook (execgate.h): ctx is the mo_probes. */
unsigned probes__on_exec_held(void *ctx, const struct mo_exec_held *held);

/* A process stopped right after its exec (the -p gate): probe what it runs
 * now (/proc/PID/exe). Returns true when that file needs a look at every
 * exec (markers: pid-scoped links). */
bool probes__on_exec_stopped(struct mo_probes *p, pid_t tgid);

/* -p: tgid exec'd and the gate did not hold it (a job-control shell's job,
 * memobs not ticking, a file needing no look): per process, its new
 * program's allocator files get links now, late rather than never. */
void probes__exec_unheld(struct mo_probes *p, pid_t tgid);

/* A running process joins (-p PID): its markers, and its allocator with heap. */
void probes__add_running(struct mo_probes *p, pid_t pid);

/* Allocator probes found at an exec for each process alone (attach_heap.h),
 * before any is attached: -p, and a launched command. The exec gates then
 * hold every exec of a program with an allocator (each process needs links
 * of its own). count_unlinked_forks: a child forked by a linked process
 * gets its links after it ran a while (nothing held it): counted as a drop
 * here (-p's gate counts its own in BPF). */
void probes__heap_per_process(struct mo_probes *p, bool count_unlinked_forks);

/* Process tree events: a child forked by a process with markers or (per
 * process) allocator links gets its own links (again: nothing more); an
 * exited process's links are closed in the background. */
void probes__fork(struct mo_probes *p, pid_t parent, pid_t child);
/* Does a fork need memobs at once (links for the child, which a fork does
 * not carry)? */
bool probes__forks_urgent(const struct mo_probes *p);
void probes__exit(struct mo_probes *p, pid_t tgid);

/* memobs's own files are watched: poll this fd, and call on_watch. */
int probes__watch_fd(struct mo_probes *p);
void probes__on_watch(struct mo_probes *p);

/* Links held now (tests, -v). */
size_t probes__links(const struct mo_probes *p);

/* The allocator probes attached, for the run document. */
const struct mo_heap_site *probes__heap_sites(const struct mo_probes *p, size_t *count);

#endif

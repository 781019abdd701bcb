/* SPDX-License-Identifier: GPL-2.0 */
/* The phase markers: the USDT probes of provider "memobs" in a file, as one
 * uprobe_multi link of the program mo_marker (usdt.h: a cookie per probe).
 *
 * memobs's own files (its executable, for `memobs mark`; libmemobs.so) are
 * attached system-wide once: a process outside the session that fires one
 * traps and is filtered out in BPF. They are watched (inotify): written in
 * place, they lose their links before they are attached again.
 *
 * Every other file is attached per process (pid-scoped links), while the
 * process is held at its exec: only that process gets breakpoints, placed
 * on the very content it runs (the file is opened once and the link made
 * through that descriptor). A child forked without exec inherits its
 * parent's breakpoints and gets links of its own when memobs sees the fork. */
#ifndef MO_ATTACH_USDT_H
#define MO_ATTACH_USDT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mo_usdt_probes;
struct memobs_bpf;
struct mo_links;

/* Make mo_marker loadable for uprobe_multi links: before the skeleton is
 * loaded. 0/-errno. */
int usdt_probes__prepare(struct memobs_bpf *skel);

/* Links go to links (the caller frees them, all at once). NULL+errno. */
struct mo_usdt_probes *usdt_probes__new(struct memobs_bpf *skel, struct mo_links *links);
void usdt_probes__free(struct mo_usdt_probes *up);

/* Attach one of memobs's own files system-wide, and watch it. Returns the
 * markers attached (0: none), or -errno with the reason in err. */
int usdt_probes__attach_own(struct mo_usdt_probes *up, const char *path, char *err, size_t errlen);

/* Is fd (an open file) one of memobs's own, attached system-wide? */
int usdt_probes__is_own(struct mo_usdt_probes *up, int fd);

/* Process tgid is held at the exec of the file open at fd: attach its
 * markers for tgid alone (a link made now covers the image it execs). A
 * link tgid had on an older content of that file is closed first. Returns
 * the file's markers (0: none; tgid may have had them already), or -errno
 * with the reason in err (-ESRCH: tgid is gone). A marker memobs cannot
 * read the argument of is left out, and said in err with a return >= 0. */
int usdt_probes__attach_pid(struct mo_usdt_probes *up, pid_t tgid, int fd, char *err, size_t errlen);

/* child was forked by parent (no exec): it carries parent's breakpoints;
 * give it links of its own (none again where it has them). 0, or -errno
 * with the reason in err. */
int usdt_probes__fork(struct mo_usdt_probes *up, pid_t parent, pid_t child, char *err, size_t errlen);

/* How many processes have links of their own: their forks need links
 * before the child runs far. */
size_t usdt_probes__pids(const struct mo_usdt_probes *up);

/* tgid exited: its links are forgotten here, true when it had some; the
 * caller releases them from the link set (links__release), once for every
 * module. */
bool usdt_probes__exit(struct mo_usdt_probes *up, pid_t tgid);

/* Stop watching the own files (the observation is over). Closing the
 * inotify descriptor waits until its watches are gone (an SRCU grace period);
 * removed now, they go in a kernel worker while the report is made, and the
 * close at the end finds none left. */
void usdt_probes__unwatch(struct mo_usdt_probes *up);

/* The inotify descriptor of the own files (poll it for POLLIN), -1 without. */
int usdt_probes__watch_fd(struct mo_usdt_probes *up);
/* Read the watch events: an own file written in place loses its links, and
 * is attached again once written. Warnings go to warn(ctx, text). */
void usdt_probes__on_watch(struct mo_usdt_probes *up, void (*warn)(void *ctx, const char *text), void *ctx);

#endif

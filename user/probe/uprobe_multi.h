/* SPDX-License-Identifier: GPL-2.0 */
/* uprobe_multi links (kernel 6.6+) made with the raw bpf() syscall, since
 * libbpf 1.1 has no API for them, and a set of links that is torn down
 * concurrently.
 *
 * Why: a perf-event uprobe is detached one at a time, each waiting for an RCU
 * tasks-trace grace period (~84 ms here, measured; worse under load), so
 * stopping memobs cost 0.1 s per probe. One uprobe_multi link carries many
 * offsets of a file; closing it also waits a grace period, but links closed
 * from several threads at once share one (20 links: ~60 ms concurrently,
 * ~1.1 s one after another). A link may be scoped to one process (pid): only
 * that process's mapping of the file gets breakpoints, before its exec too
 * (the image it execs next is covered). */
#ifndef MO_UPROBE_MULTI_H
#define MO_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct mo_handoff;

/* Make prog loadable for uprobe_multi links (program type kprobe, expected
 * attach type BPF_TRACE_UPROBE_MULTI): call before the object is loaded.
 * Its section name may be anything libbpf 1.1 does not know, such as
 * "uprobe.multi". 0/-errno. */
int uprobe_multi_prepare(struct bpf_program *prog);

struct mo_uprobe_multi {
	const char *path;		/* the file (a path memobs can open) */
	const uint64_t *offsets;	/* file offsets of the probed instructions */
	const uint64_t *ref_ctr_offsets;	/* USDT semaphores' file offsets, or NULL */
	const uint64_t *cookies;	/* bpf_get_attach_cookie() at each offset, or NULL */
	size_t count;			/* entries in each array */
	pid_t pid;			/* only this process (a tgid); 0: every process */
	bool retprobe;			/* at the return of the functions at offsets */
};

/* Create a link of the (prepared, loaded) program prog_fd at every offset of
 * the file. Returns the link's fd (O_CLOEXEC) or -errno: -ESRCH when pid is
 * gone, -EINVAL/-EOPNOTSUPP on a kernel without uprobe_multi. */
int uprobe_multi_attach(int prog_fd, const struct mo_uprobe_multi *spec);

/* A set of link fds, each with an owner (a tgid for pid-scoped links, 0 for
 * system-wide ones). Not thread-safe: one user at a time. */
struct mo_links;

/* Links released are handed to the kernel to detach (handoff, kept by the
 * caller until links__free) or, when it is NULL or refuses one, closed by
 * threads of the set. NULL+errno. */
struct mo_links *links__new(struct mo_handoff *handoff);

/* Adopt a link fd (closed by the set from now on, even when this fails).
 * 0/-ENOMEM. */
int links__add(struct mo_links *ls, int fd, pid_t owner);

/* Let go of the links of owner (a process exited or exec'd another program)
 * without waiting for their grace period: handed off, or closed in the
 * background. */
void links__release(struct mo_links *ls, pid_t owner);

/* Let go of every link (the observation is over) as links__release does:
 * whatever comes next (the report) does not wait for their grace period;
 * links__free waits for the background closes, not for handed-off links. */
void links__release_all(struct mo_links *ls);

/* Close one link now and wait until it is gone: breakpoints of a stale
 * program must be out before a process runs new code. */
void links__close_now(struct mo_links *ls, int fd);

/* Links held now (released ones not counted). */
size_t links__count(const struct mo_links *ls);

/* Let go of every link left and wait for the background closes (links
 * closed concurrently cost about one grace period; handed-off ones, none).
 * NULL-safe. */
void links__free(struct mo_links *ls);

#endif

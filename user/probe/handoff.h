/* SPDX-License-Identifier: GPL-2.0 */
/* BPF links handed to the kernel to detach, so that memobs does not wait.
 *
 * Why: closing a link's last fd detaches it in the closing thread
 * (bpf_link_release -> bpf_link_put_direct), which waits for RCU (tasks-trace)
 * grace periods, 20-100 ms here; and a process cannot finish exiting while one
 * of its threads waits. The last reference dropped by a bpffs pin's inode goes
 * through bpf_link_put instead, which detaches from a kworker (schedule_work;
 * kernel/bpf/syscall.c and inode.c bpf_any_put, 6.5+). So a link is pinned in
 * a private directory, its fd closed (the pin keeps it) and the pin unlinked:
 * three quick syscalls, and the kernel detaches it shortly after, whether or
 * not memobs still runs. A pin lives only between handoff__pin and
 * handoff__unpin; the directory is memobs's (root only, an unpredictable
 * name), removed by handoff__free, and a dead memobs's is removed at start. */
#ifndef MO_HANDOFF_H
#define MO_HANDOFF_H

#include <stddef.h>

struct mo_handoff;

/* The pin directory under bpffs (mounted at /sys/fs/bpf if it is not), after
 * removing those of memobs processes that are gone. NULL with why filled when
 * bpffs is not usable: links are then closed by their owner, waiting. */
struct mo_handoff *handoff__new(char *why, size_t whylen);

/* Pin the link fd (still open, still the caller's): a slot for handoff__unpin,
 * or -errno. NULL h: -ENOTSUP. */
int handoff__pin(struct mo_handoff *h, int fd);

/* Drop the pin of slot: if the link's fds are all closed, the kernel detaches
 * it in a worker. */
void handoff__unpin(struct mo_handoff *h, int slot);

/* Hand the link fd over: pinned, closed, unpinned. 0 (fd closed) or -errno
 * (fd still open, still the caller's to close). */
int handoff__link(struct mo_handoff *h, int fd);

/* Remove the directory. NULL-safe. */
void handoff__free(struct mo_handoff *h);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The processes the -p exec gates of a host stopped (SIGSTOP from BPF at
 * an exec), shared by every memobs -p running: a map pinned in bpffs
 * (/sys/fs/bpf/memobs/holds) records, per process, which instances stopped
 * it (a bit each, claimed in /sys/fs/bpf/memobs/gates under a lock file), and
 * the last one to let go continues it. So two instances never continue each
 * other's stopped processes early, and one that died is let go of by the
 * next (its watchdog first). Whatever cannot be pinned (no bpffs) falls back
 * to a map of this instance's own. */
#ifndef MO_HOLDS_H
#define MO_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mo_holds;

/* Claim a bit and open (or create and pin) the shared maps, before the BPF
 * object is loaded (it reuses holds__map_fd). NULL+errno with the reason
 * in err. */
struct mo_holds *holds__open(char *err, size_t errlen);

int holds__map_fd(const struct mo_holds *h);
int holds__gates_fd(const struct mo_holds *h);	/* the claimed bits (-1: not shared) */
unsigned holds__bit(const struct mo_holds *h);
bool holds__shared(const struct mo_holds *h);

/* The release program (mo_release, once loaded): after this, the bits of
 * instances that died without letting go are let go of. */
void holds__set_release(struct mo_holds *h, int prog_fd);

/* Let go of tgid: true when no instance holds it any more and the caller
 * is to continue it. Where the kernel can (6.13, mo_release_continue), the
 * release program continues it itself, in the same system call, and this
 * is false: a memobs killed at any moment never leaves one ownerless and
 * stopped. */
bool holds__release(struct mo_holds *h, pid_t tgid);

/* Let go of every process held with bit through map_fd (prog_fd: the
 * release program) and continue those no instance holds any more. Used by
 * memobs at every end and by its watchdog. */
void holds_drain(int map_fd, int prog_fd, unsigned bit);

/* Gate programs that passed their checks before the gate was disarmed or
 * its links went away have finished after an RCU grace period (tracepoint
 * programs run in an RCU read-side section): membarrier's global command
 * waits for one. */
void holds_wait_for_gates_in_flight(void);

/* Give the bit back, and remove the pinned maps when no instance is left.
 * The caller has drained the bit after disarming the gate and waiting out
 * gate programs in flight (stopgate__end): a drain before that could be
 * followed by new holds, one after it finds none. NULL-safe. */
void holds__close(struct mo_holds *h);

#endif

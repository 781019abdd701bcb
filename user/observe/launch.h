/* SPDX-License-Identifier: GPL-2.0 */
/* The observed command: forked parked (before exec) while the probes are
 * made, then released. Under sudo it runs as the invoking user, with
 * memobs's environment and working directory. If memobs ends before the
 * release, the child exits without running anything. */
#ifndef MO_LAUNCH_H
#define MO_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "lib/invoker.h"

struct mo_launch {
	pid_t pid;
	int release_fd;		/* write end: the release (its environment) lets the child exec */
	int status_fd;		/* read end: EOF on exec, errno when it failed */
	int listener;		/* the exec gate's (execgate.h), -1 without; the caller takes it */
	bool gateless;		/* asked for, but the command runs under another seccomp
				 * notifier (memobs inside memobs): no gate */
	bool in_cgroup;		/* born in the cgroup launch_start was given */
};

/* Fork the parked child. Call it while memobs has no thread (clone3).
 * stdio: the descriptors it gets as 0, 1 and 2 (-1: memobs's own), or
 * NULL. cgroup_fd: a cgroup v2 directory to start it in (l->in_cgroup when
 * the kernel did), or -1. gate: install the exec gate in it while it is root (before it
 * becomes the invoking user); its listener is in l->listener, and its first
 * notification (a priming execve of nothing) waits for an answer
 * (execgate__prime) before the child goes on; none, l->gateless, when the
 * kernel refuses a second listener in its filter chain. 0, or -errno with
 * the reason in err (the child is gone then). */
int launch_start(struct mo_launch *l, char *const argv[], const struct mo_invoker *inv, const int stdio[3],
		 bool gate, int cgroup_fd, char *err, size_t errlen);

/* Let the child exec, with env (extra NAME=VALUE strings, NULL-terminated,
 * or NULL) set, and learn whether it could; while waiting, on_wait(ctx)
 * is called whenever wait_fd (the gate's listener, or -1) is readable. 0
 * when it runs; otherwise it has exited and the return is 126 (cannot
 * execute) or 127 (not found), or 125 (memobs could not set it up), with
 * the reason in err. */
int launch_release(struct mo_launch *l, char *const env[], int wait_fd, void (*on_wait)(void *ctx), void *ctx,
		   char *err, size_t errlen);

/* Kill a child that was never released (nothing once it was). */
void launch_abort(struct mo_launch *l);

#endif

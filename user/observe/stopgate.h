/* SPDX-License-Identifier: GPL-2.0 */
/* The exec gate of -p, hardened. No filter can be put into a running
 * process, so BPF stops a process at an exec memobs has to look at
 * (SIGSTOP, bpf/tree.bpf.c) and memobs continues it once it has. To make
 * sure it never leaves one stopped:
 *   - BPF stops only while memobs has it armed and ticks a heartbeat into
 *     it (a dead-man switch: a memobs that hangs stops nothing more);
 *   - memobs disarms it, waits for BPF programs in flight (an RCU grace
 *     period), and continues every process it still holds, at every end:
 *     normal, --duration, a signal, an error after start;
 *   - its watchdog does the same if memobs is killed (watchdog.h);
 *   - a job of a job-control shell is not stopped (the shell would report
 *     it): counted and said;
 *   - stops are recorded host-wide (holds.h): the last memobs holding a
 *     process continues it, never one of two instances early. */
#ifndef MO_STOPGATE_H
#define MO_STOPGATE_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "model/run.h"

struct mo_stopgate;
struct mo_session;
struct mo_session_opts;
struct mo_holds;

/* Before the BPF object is loaded: claim this instance's bit and the shared
 * holds, into opts. NULL+errno with the reason in err. */
struct mo_stopgate *stopgate__new(struct mo_session_opts *opts, char *err, size_t errlen);

/* Once loaded: the release program; instances that died are let go of. */
void stopgate__attach(struct mo_stopgate *g, struct mo_session *s);

/* Arm it (from now on it may stop), and tick its heartbeat: now_ns is
 * CLOCK_MONOTONIC, as bpf_ktime_get_ns(). */
void stopgate__arm(struct mo_stopgate *g, __u64 now_ns);
void stopgate__tick(struct mo_stopgate *g, __u64 now_ns);

/* memobs has looked at tgid, which the gate stopped: continue it unless
 * another instance still holds it. */
void stopgate__release(struct mo_stopgate *g, pid_t tgid, struct mo_run *run);

/* Disarm, wait for BPF in flight, continue every process still held, and
 * say in run what the gate skipped. Idempotent; NULL-safe. */
void stopgate__end(struct mo_stopgate *g, struct mo_run *run);

/* The shared holds (for the watchdog). */
struct mo_holds *stopgate__holds(struct mo_stopgate *g);

/* stopgate__end, then give the bit back. NULL-safe. */
void stopgate__free(struct mo_stopgate *g);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The session's processes in user space: turns fork/exec/exit records from
 * BPF into run->procs, indexed by pid (the newest record of each pid, so a
 * reused pid starts a new record). No libbpf here. */
#ifndef MO_PROCTREE_H
#define MO_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "model/run.h"

#define MO_ARGV_MAX (32u << 10)	/* argv bytes kept of a process (the kernel allows 2 MiB and more) */

struct mo_proctree;

/* t0_ns: CLOCK_MONOTONIC of the run's start; times become seconds after it. */
struct mo_proctree *proctree__new(struct mo_run *run, __u64 t0_ns);
void proctree__free(struct mo_proctree *pt);

/* Each returns the record's index in run->procs, or -errno. */
long proctree__fork(struct mo_proctree *pt, pid_t pid, pid_t ppid, const char *comm, __u64 ts_ns);
/* args: the argv blob as BPF copied it at exec, args_len of args_total
 * bytes (SIZE_MAX: unknown, a process memobs attached to). A longer one is
 * read from /proc/PID/cmdline (up to MO_ARGV_MAX) while the process runs
 * the same command line; otherwise it stays cut. Either way a cut one is
 * flagged argv_truncated. */
long proctree__exec(struct mo_proctree *pt, pid_t pid, const char *comm, const char *filename,
		    const char *args, size_t args_len, size_t args_total);
/* The final BPF record of a process that exited (also for ones harvested
 * from the map when the ring buffer was full). */
long proctree__exit(struct mo_proctree *pt, pid_t pid, const struct mo_proc *final);
/* The figures so far of a process still running at the end. */
long proctree__running(struct mo_proctree *pt, pid_t pid, const struct mo_proc *cur);

/* Merge one (process, phase) record into the newest record of that pid. */
int proctree__add_pstat(struct mo_proctree *pt, pid_t pid, const struct mo_proc_phase *figures);

/* Index of the newest record of pid, or -1. */
long proctree__find(const struct mo_proctree *pt, pid_t pid);

/* Pids that exited since the last call, for sweeping their BPF state.
 * Returns the count; *pids valid until the next call. */
size_t proctree__take_exited(struct mo_proctree *pt, const pid_t **pids);

/* Split a NUL-separated argv blob into a NULL-terminated vector (caller
 * frees each string and the vector); NULL on ENOMEM or empty input. */
char **proctree_split_args(const char *args, size_t len);

#endif

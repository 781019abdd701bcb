/* SPDX-License-Identifier: GPL-2.0 */
/* In-process heap counting, memobs's side (README, "Heap"): the abstract
 * unix socket the preloaded library (emitters/heap/) shakes hands on, a
 * slot (a one-page BPF map) made for each process of the session that asks,
 * and the slots' counts read into the run when their program ends (exit,
 * exec) and at the end. */
#ifndef MO_INPROC_H
#define MO_INPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "model/run.h"
#include "observe/execgate.h"

struct mo_inproc;
struct mo_session;
struct mo_proctree;

/* Listen (an abstract socket of a random name, nonblocking). NULL+errno. */
struct mo_inproc *inproc__new(struct mo_session *sess, const char *heap_lib);
void inproc__free(struct mo_inproc *ip);

/* The environment the command needs: "MEMOBS_HEAP_SOCK=NAME". */
const char *inproc__env(const struct mo_inproc *ip);

/* Readable when processes wait for their handshake. */
int inproc__fd(const struct mo_inproc *ip);

/* The exec gate holds a process of the command at an exec (execgate.h):
 * what the file is, and whether the library will count the process there.
 * Returns what the hook asks of the gate for that file: MO_EXEC_ENV, every
 * exec with its environment. */
unsigned inproc__held(struct mo_inproc *ip, const struct mo_exec_held *held);

/* pid exec'd the executable (kdev: the kernel's dev_t, as BPF reads it;
 * ino), its record made: note why its heap will not be counted, if it will
 * not, and the heap it cannot see. */
void inproc__exec(struct mo_inproc *ip, pid_t pid, __u64 kdev, __u64 ino);

/* child was forked by parent: it runs the same program, with the same
 * heap the library cannot see. */
void inproc__fork(struct mo_inproc *ip, pid_t parent, pid_t child);

/* Where slots' counts go; before the first inproc__accept. */
void inproc__start(struct mo_inproc *ip, struct mo_run *run, struct mo_proctree *tree);

/* Answer every process waiting: a slot for each of the session's. */
void inproc__accept(struct mo_inproc *ip);

/* Stop listening: later processes are refused by the kernel at once. */
void inproc__stop(struct mo_inproc *ip);

/* pid exited (flags: its final mo_proc's): its slot's counts into its
 * record. */
void inproc__exited(struct mo_inproc *ip, pid_t pid, __u32 flags);

/* Once a second: slots whose program ended (an exec BPF saw) into their
 * records. */
void inproc__sweep(struct mo_inproc *ip);

/* At the end, after readout__final: every slot left into its record, the
 * slots' counts into the phases' and the run's totals, their drops. */
void inproc__final(struct mo_inproc *ip);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The pool of in-process heap slots (observe/inproc.h): one-page mmapable
 * maps made ahead, in batches, and reused.
 *
 * Why a pool: putting a map into a map of maps from user space waits for an
 * RCU grace period (the kernel makes sure no BPF program still sees the old
 * value; 10-20 ms here), and so does taking it out: a slot made and put in
 * per process held every process of a build ~30 ms at its start. Here the
 * outer map (mo_heap_slots) is an array of maps filled 64 slots at a time
 * with one batch (one grace period for 64 processes) and never emptied, and
 * a process finds its slot through a plain hash, tgid -> index
 * (mo_heap_slot_of), whose updates do not wait. A slot whose program ended
 * is reused two ticks later: no BPF program still writes into it by then. */
#ifndef MO_HEAPSLOTS_H
#define MO_HEAPSLOTS_H

#include <stddef.h>
#include <sys/types.h>
#include "memobs_abi.h"

struct mo_heap_slots;

/* outer_fd: the array of slot maps (capacity entries); index_fd: the hash
 * tgid -> index. NULL+errno. */
struct mo_heap_slots *heapslots__new(int outer_fd, int index_fd, size_t capacity);
void heapslots__free(struct mo_heap_slots *hs);

/* A slot for tgid, its page zeroed; BPF finds it by tgid from now on.
 * Returns its index, or -errno (-ENOSPC: capacity reached). */
int heapslots__take(struct mo_heap_slots *hs, pid_t tgid);

/* Slot idx's page (memobs's own mapping) and its map's fd (the pool's: dup
 * it or send it, do not close it). */
struct mo_heap_slot *heapslots__page(struct mo_heap_slots *hs, int idx);
int heapslots__fd(struct mo_heap_slots *hs, int idx);

/* tgid's slot idx was read for the last time: BPF stops finding it by
 * tgid (unless tgid has another one now), and it is reused later. */
void heapslots__put(struct mo_heap_slots *hs, int idx, pid_t tgid);

/* Once a second: slots put two ticks ago become free. */
void heapslots__tick(struct mo_heap_slots *hs);

#endif

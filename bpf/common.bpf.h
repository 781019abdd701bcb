/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the BPF programs: session membership, lock-free
 * accounting (tracing programs may not take bpf_spin_lock), drop counting. */
#ifndef MO_COMMON_BPF_H
#define MO_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define MO_DROP(field) __sync_fetch_and_add(&mo_sess.drops.field, 1)

#define MO_MAX_TRIES 32

/* bpf_ringbuf_submit's flags for an event. Something waits on an urgent one
 * (a stopped process, a table a walk needs, a marker's name to read while
 * the process runs it): it wakes memobs even behind events that did not
 * (the default wakes only a consumer that has read all before it). Others
 * wake memobs as usual, or not at all under lazy_events unless the buffer
 * fills: memobs reads them within MO_LAZY_EVENTS_MS, in order. */
static __always_inline __u64 wake_flags(bool urgent)
{
	if (!mo_sess.lazy_events)
		return 0;
	if (urgent || bpf_ringbuf_query(&mo_events, BPF_RB_AVAIL_DATA) > MO_RINGBUF_BYTES / 4)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* *p = max(*p, v), lock-free. A failed compare-and-swap means another CPU
 * changed *p meanwhile (raised it, but maybe not to v): try again, up to
 * MO_MAX_TRIES times, then count it. */
static __always_inline void atomic_max(__s64 *p, __s64 v)
{
	for (int i = 0; i < MO_MAX_TRIES; i++) {
		__s64 old = *(volatile __s64 *)p;

		if (old >= v || __sync_val_compare_and_swap(p, old, v) == old)
			return;
	}
	MO_DROP(contended);
}

/* The session's record of this process, or NULL when it is not observed. */
static __always_inline struct mo_proc *session_proc(__u32 tgid)
{
	return bpf_map_lookup_elem(&mo_procs, &tgid);
}

/* A program run's identity: unique in the session, never 0. */
static __always_inline __u64 new_program_id(void)
{
	return __sync_fetch_and_add(&mo_sess.last_program_id, 1) + 1;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline struct mo_phase *phase_at(__u32 id)
{
	return bpf_map_lookup_elem(&mo_phases, &id);
}

/* bpf_loop step: from a closed phase (*ctx) to its parent, until an open
 * one or the root. */
static long walk_out(__u32 i, void *ctx)
{
	__u32 *id = ctx;
	struct mo_phase *ph = phase_at(*id);

	if (!ph) {
		*id = MO_PHASE_ROOT;
		return 1;
	}
	if (ph->flags & MO_PHASE_OPEN)
		return 1;
	*id = ph->parent;
	return *id == MO_PHASE_ROOT;
}

/* The process's innermost open phase: its own, or, when that was closed
 * since (by another process of its tree, or with an enclosing phase), the
 * nearest open phase it was nested in. Remembered for the next event. */
static __always_inline __u32 proc_phase(struct mo_proc *p)
{
	__u32 id = p->phase;
	struct mo_phase *ph;

	if (id == MO_PHASE_ROOT)
		return id;
	ph = phase_at(id);
	if (ph && (ph->flags & MO_PHASE_OPEN))
		return id;
	bpf_loop(MO_PHASE_DEPTH, walk_out, &id, 0);
	p->phase = id;
	return id;
}

/* The in-process heap slot of a process, NULL when it has none. */
static __always_inline struct mo_heap_slot *heap_slot(__u32 tgid)
{
	__u32 zero = 0, *idx = bpf_map_lookup_elem(&mo_heap_slot_of, &tgid);
	void *inner = idx ? bpf_map_lookup_elem(&mo_heap_slots, idx) : NULL;

	return inner ? bpf_map_lookup_elem(inner, &zero) : NULL;
}

/* The session's live heap changed by delta: its peaks, the phase
 * segment's included. */
static __always_inline void session_heap_add(__s64 delta)
{
	__s64 sess = __sync_fetch_and_add(&mo_heap.live, delta) + delta;

	if (delta <= 0)
		return;
	atomic_max(&mo_heap.peak, sess);
	atomic_max(&mo_heap.seg_peak, sess);
}

/* A program's heap leaves the session (exit, exec): its slot's live bytes
 * with it, once. */
static __always_inline void heap_slot_end(__u32 tgid)
{
	struct mo_heap_slot *s = heap_slot(tgid);

	if (s && !(__sync_fetch_and_or(&s->flags, MO_HEAP_SLOT_ENDED) & MO_HEAP_SLOT_ENDED))
		__sync_fetch_and_sub(&mo_heap.live, s->live);
}

/* This process's counters in the innermost open phase, created on first use
 * with the given RSS peak seed. NULL (counted) when the map is full. */
static __always_inline struct mo_pstat *pstat_get(__u32 tgid, __u32 phase, __s64 rss_seed)
{
	struct mo_pstat_key key = { .tgid = tgid, .phase = phase };
	struct mo_pstat *ps = bpf_map_lookup_elem(&mo_pstats, &key);
	struct mo_pstat zero = { .rss_peak = rss_seed };

	if (ps)
		return ps;
	if (bpf_map_update_elem(&mo_pstats, &key, &zero, BPF_NOEXIST) && !bpf_map_lookup_elem(&mo_pstats, &key)) {
		MO_DROP(pstats);
		return NULL;
	}
	return bpf_map_lookup_elem(&mo_pstats, &key);
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* Phases from the USDT markers of provider "memobs". Phases belong to the
 * session: a stack of open phases shared by all its processes. Opening one
 * sets its baseline and resets its peak here, in the kernel, so that a phase's
 * peak is the peak while it was open and nothing else. */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

#define LOCK_TRIES 64

static __always_inline bool phase_lock(void)
{
#pragma unroll
	for (int i = 0; i < LOCK_TRIES; i++)
		if (__sync_val_compare_and_swap(&mo_sess.phase_lock, 0, 1) == 0)
			return true;
	MO_DROP(phase_lock);
	return false;
}

static __always_inline void phase_unlock(void)
{
	__sync_lock_test_and_set(&mo_sess.phase_lock, 0);
}

/* FNV-1a 64 of a NUL-terminated name: phases match on it (a collision
 * among the few open phases is not a practical concern). 0 is kept for
 * "name not read". */
static __always_inline __u64 name_hash(const char *name)
{
	__u64 h = 14695981039346656037ull;

#pragma unroll
	for (int i = 0; i < MO_NAME_LEN; i++) {
		if (!name[i])
			break;
		h = (h ^ (__u8)name[i]) * 1099511628211ull;
	}
	return h ?: 1;
}

/* Read a marker string. On failure (page not present) the name stays empty
 * and the address goes to user space, which reads it from /proc/PID/mem. */
static __always_inline bool read_name(char *dst, const char *src, __u32 *flags)
{
	long n = bpf_probe_read_user_str(dst, MO_NAME_LEN, src);

	if (n < 0) {
		dst[0] = 0;
		MO_DROP(marker_reads);
		*flags |= MO_PHASE_NAME_PENDING;
		return false;
	}
	if (n == MO_NAME_LEN) {
		char next = 0;

		/* One byte past the buffer tells whether the name was cut. */
		if (!bpf_probe_read_user(&next, 1, src + MO_NAME_LEN - 1) && next)
			*flags |= MO_PHASE_NAME_TRUNCATED;
	}
	return true;
}

static __always_inline void emit(__u32 type, __u32 tgid, __u32 phase, __u32 flags, const char *name,
				 __u64 name_addr)
{
	struct mo_proc *p = session_proc(tgid);
	struct mo_ev_phase *ev = bpf_ringbuf_reserve(&mo_events, sizeof(*ev), 0);

	if (!ev) {
		MO_DROP(events);
		return;
	}
	ev->hdr.type = type;
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->phase = phase;
	ev->flags = flags;
	ev->name_addr = (flags & MO_PHASE_NAME_PENDING) ? name_addr : 0;
	ev->program_id = p ? p->program_id : 0;
	__builtin_memcpy(ev->name, name, MO_NAME_LEN);
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline bool in_session(__u32 tgid)
{
	struct mo_proc *p = session_proc(tgid);

	return p && !(p->flags & MO_PROC_PENDING_EXEC);
}

/* phase_begin(name) fired in tgid: push a new phase under the innermost one. */
static __always_inline int marker_phase_begin(__u32 tgid, const char *uname)
{
	__u32 flags = MO_PHASE_OPEN, id, depth;
	char name[MO_NAME_LEN];
	struct mo_phase *ph;

	if (!in_session(tgid))
		return 0;
	read_name(name, uname, &flags);
	if (!phase_lock())
		return 0;
	depth = mo_sess.depth;
	id = mo_sess.next_phase;
	if (depth >= MO_PHASE_DEPTH || id >= MO_MAX_PHASES || !(ph = phase_at(id))) {
		MO_DROP(phases);
		phase_unlock();
		return 0;
	}
	mo_sess.next_phase = id + 1;
	__builtin_memcpy(ph->name, name, MO_NAME_LEN);
	ph->parent = mo_sess.cur_phase;
	ph->depth = depth + 1;
	ph->flags = flags;
	ph->opener_tgid = tgid;
	ph->start_ns = bpf_ktime_get_ns();
	ph->rss_baseline = ph->rss_peak = mo_sess.rss_sum;
	ph->heap_baseline = ph->heap_peak = mo_sess.heap_live;
	mo_sess.stack[depth & (MO_PHASE_DEPTH - 1)].id = id;
	mo_sess.stack[depth & (MO_PHASE_DEPTH - 1)].name_hash = (flags & MO_PHASE_NAME_PENDING) ? 0 : name_hash(name);
	mo_sess.depth = depth + 1;
	mo_sess.cur_phase = id;
	phase_unlock();
	emit(MO_EV_PHASE_BEGIN, tgid, id, flags, name, (__u64)uname);
	return 0;
}

/* Close one phase: its end values, and its peaks carried into its parent,
 * whose window contains it. */
static __always_inline void close_phase(__u32 id, __u32 extra_flags, __u64 now)
{
	struct mo_phase *ph = phase_at(id), *parent;

	if (!ph)
		return;
	ph->end_ns = now;
	ph->rss_end = mo_sess.rss_sum;
	ph->heap_end = mo_sess.heap_live;
	ph->flags = (ph->flags & ~MO_PHASE_OPEN) | MO_PHASE_ENDED | extra_flags;
	parent = phase_at(ph->parent);
	if (parent) {
		atomic_max(&parent->rss_peak, ph->rss_peak);
		atomic_max(&parent->heap_peak, ph->heap_peak);
	}
}

/* One allocation site's outstanding bytes, copied for the phase that just
 * ended (ctx): at the end of the run they would have moved on. */
static long copy_live_site(struct bpf_map *map, const struct mo_site_key *key, const struct mo_site *site,
			   const __u32 *phase)
{
	struct mo_phase_site_key k = { .stack = key->stack, .phase = *phase, .prog = key->prog };
	__s64 live = site->live;

	if (key->kind != MO_SITE_ALLOC || live <= 0)
		return 0;
	if (bpf_map_update_elem(&mo_phase_sites, &k, &live, BPF_ANY))
		MO_DROP(phase_sites);
	return 0;
}

/* phase_end(name) fired in tgid: close the innermost open phase of that
 * name, and any phase opened inside it and left open. A phase whose name BPF
 * could not read matches any name. */
static __always_inline int marker_phase_end(__u32 tgid, const char *uname)
{
	__u32 flags = 0, depth, found = MO_PHASE_DEPTH, id = MO_PHASE_NONE;
	__u64 hash;
	char name[MO_NAME_LEN];
	__u64 now = bpf_ktime_get_ns();

	if (!in_session(tgid))
		return 0;
	read_name(name, uname, &flags);
	hash = (flags & MO_PHASE_NAME_PENDING) ? 0 : name_hash(name);
	if (!phase_lock())
		return 0;
	depth = mo_sess.depth;
#pragma unroll
	for (int i = MO_PHASE_DEPTH - 1; i >= 0; i--) {
		struct mo_phase_slot *slot = &mo_sess.stack[i];

		if (i >= depth || found != MO_PHASE_DEPTH)
			continue;
		if (hash && slot->name_hash && slot->name_hash != hash)
			continue;
		found = i;
		id = slot->id;
	}
	if (found == MO_PHASE_DEPTH) {
		phase_unlock();
		MO_DROP(unmatched_ends);
		emit(MO_EV_PHASE_UNMATCHED, tgid, MO_PHASE_NONE, flags, name, (__u64)uname);
		return 0;
	}
#pragma unroll
	for (int i = MO_PHASE_DEPTH - 1; i >= 0; i--) {
		if (i >= depth || i < found)
			continue;
		close_phase(mo_sess.stack[i].id, i > found ? MO_PHASE_IMPLICIT_END : 0, now);
	}
	mo_sess.depth = found;
	mo_sess.cur_phase = found ? mo_sess.stack[(found - 1) & (MO_PHASE_DEPTH - 1)].id : MO_PHASE_ROOT;
	phase_unlock();
	/* Phases closed implicitly end at this same instant: user space gives
	 * them this copy. */
	if (mo_cfg.alloc_sample_bytes)
		bpf_for_each_map_elem(&mo_sites, copy_live_site, &id, 0);
	emit(MO_EV_PHASE_END, tgid, id, flags, name, (__u64)uname);
	return 0;
}

/* items(count) fired in tgid: work done in the innermost phase. A count that
 * would take it past MO_ITEMS_MAX is counted instead: two (uint64)-1 would wrap. */
static __always_inline int marker_items(__u32 tgid, __u64 count)
{
	struct mo_phase *ph;

	if (!in_session(tgid))
		return 0;
	ph = phase_at(mo_sess.cur_phase);
	if (!ph)
		return 0;
	if (count > MO_ITEMS_MAX || __sync_fetch_and_add(&ph->items, count) + count > MO_ITEMS_MAX)
		__sync_fetch_and_add(&ph->items_overflows, 1);
	return 0;
}

/* mark(label) fired in tgid: an instant on the timeline. */
static __always_inline int marker_mark(__u32 tgid, const char *ulabel)
{
	__u32 flags = 0;
	char label[MO_NAME_LEN];

	if (!in_session(tgid))
		return 0;
	read_name(label, ulabel, &flags);
	emit(MO_EV_MARK, tgid, mo_sess.cur_phase, flags, label, (__u64)ulabel);
	return 0;
}

/* The entry points only fetch the USDT argument: the logic above does not
 * depend on how the probe was attached. */
SEC("usdt")
int BPF_USDT(mo_phase_begin, const char *name)
{
	return marker_phase_begin(current_tgid(), name);
}

SEC("usdt")
int BPF_USDT(mo_phase_end, const char *name)
{
	return marker_phase_end(current_tgid(), name);
}

SEC("usdt")
int BPF_USDT(mo_items, __u64 count)
{
	return marker_items(current_tgid(), count);
}

SEC("usdt")
int BPF_USDT(mo_mark, const char *label)
{
	return marker_mark(current_tgid(), label);
}

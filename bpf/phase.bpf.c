// SPDX-License-Identifier: GPL-2.0
/* Phases from the USDT markers of provider "memobs".
 *
 * A phase is a window of the session, opened and closed by name. Each process
 * has an innermost phase (mo_proc.phase), inherited at fork and set by the
 * markers it fires: phases nest along a process tree, a stack per emitting
 * tree, so parallel jobs of a build open phases that overlap without closing
 * each other's. A phase's window lies within its parent's: closing one
 * closes what is still open inside it.
 *
 * A phase's peaks are the session's highest RSS and live heap while it was
 * open. The hot paths raise only the current segment's peaks (mo_sess.seg_*);
 * each phase boundary folds the segment into every open phase, so that no
 * lock is taken and the marker's thread does bounded work: at most
 * MO_MAX_OPEN_PHASES + MO_PHASE_DEPTH lookups, nothing per allocation site. */
#include "common.bpf.h"
#include "usdt.bpf.h"

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
	bpf_ringbuf_submit(ev, wake_flags(true));
}

/* Whose phases a marker acts on. `memobs mark` (memobs's own executable)
 * acts for its parent, the shell or make that runs it and whose later
 * children are the phase's work. NULL: not a marker of the session. Under
 * -a, markers come only from the processes the filters observe (the only
 * ones in the session) and, of them, from root's and the --marker-uid's. */
static __always_inline struct mo_proc *emitter(__u32 tgid, __u32 *etgid)
{
	struct mo_proc *p = session_proc(tgid), *parent;

	if (!p || (p->flags & MO_PROC_PENDING_EXEC))
		return NULL;
	if (mo_cfg.mode == MO_MODE_HOST && p->uid && p->uid != mo_cfg.marker_uid) {
		MO_DROP(markers_refused);
		return NULL;
	}
	*etgid = tgid;
	if (!(p->flags & MO_PROC_OBSERVER))
		return p;
	parent = session_proc(p->ppid);
	if (!parent || (parent->flags & (MO_PROC_PENDING_EXEC | MO_PROC_EXITED)))
		return p;
	*etgid = p->ppid;
	return parent;
}

/* The emitter works in phase id from now on; so do its in-process heap
 * counts, from its next allocation on (no polling: its slot says so). */
static __always_inline void set_phase(struct mo_proc *e, __u32 etgid, __u32 id)
{
	struct mo_heap_slot *slot = heap_slot(etgid);

	e->phase = id;
	if (slot)
		slot->phase = id;
}

/* The in-process libraries learn which phases are open from the header:
 * a process whose phase closed asks BPF for its nearest open one. */
static __always_inline void heap_phase_open(__u32 id, bool open)
{
	__u64 bit = 1ull << (id % 64);

	if (open)
		__sync_fetch_and_or(&mo_heap.open[(id / 64) & (MO_MAX_PHASES / 64 - 1)], bit);
	else
		__sync_fetch_and_and(&mo_heap.open[(id / 64) & (MO_MAX_PHASES / 64 - 1)], ~bit);
}

/* The loops over open phases run as bpf_loop callbacks: verified once,
 * whatever the number of slots. */

/* The open phase in slot i (a free slot or one being opened: NULL). */
static __always_inline struct mo_phase *open_phase(__u32 i, __u32 *id)
{
	*id = mo_sess.open[i & (MO_MAX_OPEN_PHASES - 1)];
	return *id ? phase_at(*id) : NULL;
}

struct segment {
	__s64 rss;
	__s64 heap;
};

static long fold_into(__u32 i, void *ctx)
{
	struct segment *seg = ctx;
	__u32 id;
	struct mo_phase *ph = open_phase(i, &id);

	if (ph) {
		atomic_max(&ph->rss_peak, seg->rss);
		atomic_max(&ph->heap_peak, seg->heap);
	}
	return 0;
}

/* A phase boundary: the segment ending here was inside every open phase;
 * the next one starts at the current values. */
static __always_inline void fold_segment(void)
{
	struct segment seg = {
		.rss = __sync_lock_test_and_set(&mo_sess.seg_rss_peak, mo_sess.rss_sum),
		.heap = __sync_lock_test_and_set(&mo_heap.seg_peak, mo_heap.live),
	};

	bpf_loop(MO_MAX_OPEN_PHASES, fold_into, &seg, 0);
}

static long reserve_one(__u32 i, void *ctx)
{
	__u32 *slot = ctx, k = i & (MO_MAX_OPEN_PHASES - 1);

	if (mo_sess.open[k] || __sync_val_compare_and_swap(&mo_sess.open[k], 0, MO_PHASE_NONE))
		return 0;
	*slot = k;
	return 1;
}

/* A free slot of mo_sess.open, reserved (MO_PHASE_NONE) for a phase being
 * opened; MO_MAX_OPEN_PHASES when all are taken. */
static __always_inline __u32 reserve_slot(void)
{
	__u32 slot = MO_MAX_OPEN_PHASES;

	bpf_loop(MO_MAX_OPEN_PHASES, reserve_one, &slot, 0);
	return slot;
}

/* Is phase y the phase id (of depth d) or nested in it? */
static __always_inline bool within(const struct mo_phase *y, __u32 d, __u32 id)
{
	return d && y->depth >= d && y->ancestors[(d - 1) & (MO_PHASE_DEPTH - 1)] == id;
}

/* phase_begin(name) fired in tgid: a new phase inside the emitter's
 * innermost one; the emitter and the children it forks from now on work in
 * it. */
static __always_inline int marker_phase_begin(__u32 tgid, const char *uname)
{
	__u32 flags = MO_PHASE_OPEN, parent_id, depth = 0, slot, id, etgid = tgid;
	struct mo_proc *e = emitter(tgid, &etgid);
	struct mo_phase *ph, *parent;
	char name[MO_NAME_LEN];

	if (!e)
		return 0;
	read_name(name, uname, &flags);
	parent_id = proc_phase(e);
	parent = parent_id == MO_PHASE_ROOT ? NULL : phase_at(parent_id);
	if (parent)
		depth = parent->depth;
	if (depth >= MO_PHASE_DEPTH || (slot = reserve_slot()) >= MO_MAX_OPEN_PHASES) {
		MO_DROP(phases);
		return 0;
	}
	id = __sync_fetch_and_add(&mo_sess.next_phase, 1);
	ph = phase_at(id);
	if (!ph) {
		mo_sess.open[slot & (MO_MAX_OPEN_PHASES - 1)] = 0;
		MO_DROP(phases);
		return 0;
	}
	__builtin_memcpy(ph->name, name, MO_NAME_LEN);
	ph->name_hash = (flags & MO_PHASE_NAME_PENDING) ? 0 : name_hash(name);
	ph->parent = parent_id;
	ph->depth = depth + 1;
	ph->opener_tgid = tgid;
	if (parent)
		__builtin_memcpy(ph->ancestors, parent->ancestors, sizeof(ph->ancestors));
	ph->ancestors[depth & (MO_PHASE_DEPTH - 1)] = id;
	/* The segment so far belongs to the phases already open, not to this one. */
	fold_segment();
	ph->start_ns = bpf_ktime_get_ns();
	ph->rss_baseline = ph->rss_peak = mo_sess.rss_sum;
	ph->heap_baseline = ph->heap_peak = mo_heap.live;
	ph->begin_epoch = __sync_fetch_and_add(&mo_sess.site_epoch, 1) + 1;
	ph->flags = flags;
	mo_sess.open[slot & (MO_MAX_OPEN_PHASES - 1)] = id;
	heap_phase_open(id, true);
	set_phase(e, etgid, id);
	emit(MO_EV_PHASE_BEGIN, tgid, id, flags, name, (__u64)uname);
	return 0;
}

struct search {
	__u64 hash;
	__u32 id;		/* where the walk is */
	__u32 found;		/* MO_PHASE_NONE: not yet */
};

static bool open_named(const struct mo_phase *ph, __u64 hash)
{
	return (ph->flags & MO_PHASE_OPEN) && ph->name_hash == hash;
}

static long search_tree(__u32 i, void *ctx)
{
	struct search *s = ctx;
	struct mo_phase *ph = s->id == MO_PHASE_ROOT ? NULL : phase_at(s->id);

	if (!ph)
		return 1;
	if (open_named(ph, s->hash)) {
		s->found = s->id;
		return 1;
	}
	s->id = ph->parent;
	return 0;
}

static long search_open(__u32 i, void *ctx)
{
	struct search *s = ctx;
	__u32 id;
	struct mo_phase *ph = open_phase(i, &id);

	if (ph && open_named(ph, s->hash) && (s->found == MO_PHASE_NONE || id > s->found))
		s->found = id;
	return 0;
}

/* The innermost open phase of that name in the emitter's tree, else the
 * newest open one of that name in the session (a phase_end from another
 * branch of the tree than its phase_begin). MO_PHASE_NONE: none. */
static __always_inline __u32 find_open(struct mo_proc *e, __u64 hash)
{
	struct search s = { .hash = hash, .id = e->phase, .found = MO_PHASE_NONE };

	bpf_loop(MO_PHASE_DEPTH, search_tree, &s, 0);
	if (s.found == MO_PHASE_NONE)
		bpf_loop(MO_MAX_OPEN_PHASES, search_open, &s, 0);
	return s.found;
}

/* Close one phase at now; false when another end closed it first. */
static __always_inline bool close_phase(struct mo_phase *ph, __u32 id, __u32 extra_flags, __u64 now, __u32 epoch)
{
	if (!(__sync_fetch_and_and(&ph->flags, ~MO_PHASE_OPEN) & MO_PHASE_OPEN))
		return false;
	heap_phase_open(id, false);
	ph->end_ns = now;
	ph->rss_end = mo_sess.rss_sum;
	ph->heap_end = mo_heap.live;
	ph->end_epoch = epoch;
	__sync_fetch_and_or(&ph->flags, MO_PHASE_ENDED | extra_flags);
	return true;
}

struct closing {
	__u32 id;		/* the phase phase_end named */
	__u32 depth;		/* its depth */
	__u32 epoch;
	bool closed;		/* by this end, not by a concurrent one */
	__u64 now;
};

static long close_one(__u32 i, void *ctx)
{
	struct closing *c = ctx;
	__u32 id;
	struct mo_phase *y = open_phase(i, &id);

	if (!y || !within(y, c->depth, c->id))
		return 0;
	if (id == c->id)
		c->closed = close_phase(y, id, 0, c->now, c->epoch);
	else
		close_phase(y, id, MO_PHASE_IMPLICIT_END, c->now, c->epoch);
	__sync_val_compare_and_swap(&mo_sess.open[i & (MO_MAX_OPEN_PHASES - 1)], id, 0);
	return 0;
}

/* Close phase id and every open phase nested in it, whichever process
 * opened them; free their slots. False when a concurrent end closed it. */
static __always_inline bool close_within(const struct mo_phase *ph, __u32 id, __u64 now, __u32 epoch)
{
	struct closing c = { .id = id, .depth = ph->depth, .epoch = epoch, .now = now };

	bpf_loop(MO_MAX_OPEN_PHASES, close_one, &c, 0);
	return c.closed;
}

/* A phase_end that closed nothing: counted; the first few are reported (a
 * warning each), the rest would only cost memobs's time. */
static __always_inline void unmatched(__u32 tgid, __u32 flags, const char *name, const char *uname)
{
	if (__sync_fetch_and_add(&mo_sess.drops.unmatched_ends, 1) < MO_UNMATCHED_REPORTED)
		emit(MO_EV_PHASE_UNMATCHED, tgid, MO_PHASE_NONE, flags, name, (__u64)uname);
}

/* phase_end(name) fired in tgid: close the innermost open phase of that
 * name in the emitter's tree (else the newest of that name), and what is
 * still open inside it. A name BPF could not read matches nothing. */
static __always_inline int marker_phase_end(__u32 tgid, const char *uname)
{
	__u32 flags = 0, id = MO_PHASE_NONE, epoch, etgid = tgid;
	struct mo_proc *e = emitter(tgid, &etgid);
	char name[MO_NAME_LEN];
	struct mo_phase *ph;
	__u64 now;

	if (!e)
		return 0;
	if (read_name(name, uname, &flags))
		id = find_open(e, name_hash(name));
	ph = phase_at(id);
	if (!ph) {
		unmatched(tgid, flags, name, uname);
		return 0;
	}
	fold_segment();
	now = bpf_ktime_get_ns();
	epoch = __sync_fetch_and_add(&mo_sess.site_epoch, 1) + 1;
	if (!close_within(ph, id, now, epoch)) {
		/* Another end of the same phase won. */
		unmatched(tgid, flags, name, uname);
		return 0;
	}
	set_phase(e, etgid, ph->parent);
	/* Other processes in the closed phases find out at their next call. */
	__sync_fetch_and_add(&mo_heap.closes, 1);
	emit(MO_EV_PHASE_END, tgid, id, flags, name, (__u64)uname);
	return 0;
}

/* items(count) fired in tgid: work done in the emitter's innermost phase. A
 * count that would take it past MO_ITEMS_MAX is counted instead: two
 * (uint64)-1 would wrap. */
static __always_inline int marker_items(__u32 tgid, __u64 count)
{
	__u32 etgid;
	struct mo_proc *e = emitter(tgid, &etgid);
	struct mo_phase *ph;

	if (!e)
		return 0;
	ph = phase_at(proc_phase(e));
	if (!ph)
		return 0;
	if (count > MO_ITEMS_MAX || __sync_fetch_and_add(&ph->items, count) + count > MO_ITEMS_MAX)
		__sync_fetch_and_add(&ph->items_overflows, 1);
	return 0;
}

/* May one more mark be kept: at most max_mark_rate in this second (a flood
 * must not take every mark of the run), max_marks in all? Counted if not. */
static __always_inline bool take_mark(void)
{
	__u64 second = bpf_ktime_get_ns() / 1000000000ull, seen = mo_sess.mark_second;

	if (seen != second && __sync_val_compare_and_swap(&mo_sess.mark_second, seen, second) == seen)
		__sync_lock_test_and_set(&mo_sess.marks_this_second, 0);
	if (__sync_fetch_and_add(&mo_sess.marks_this_second, 1) >= mo_cfg.max_mark_rate ||
	    __sync_fetch_and_add(&mo_sess.marks, 1) >= mo_cfg.max_marks) {
		MO_DROP(marks);
		return false;
	}
	return true;
}

/* mark(label) fired in tgid: an instant on the timeline, in the emitter's
 * innermost phase. */
static __always_inline int marker_mark(__u32 tgid, const char *ulabel)
{
	__u32 etgid;
	struct mo_proc *e = emitter(tgid, &etgid);
	char label[MO_NAME_LEN];
	__u32 flags = 0;

	if (!e || !take_mark())
		return 0;
	read_name(label, ulabel, &flags);
	emit(MO_EV_MARK, tgid, proc_phase(e), flags, label, (__u64)ulabel);
	return 0;
}

/* The argument of a marker, or fallback when it cannot be fetched. */
static __always_inline __u64 marker_arg(struct pt_regs *ctx, __u64 cookie, __u64 fallback)
{
	__u64 arg;

	return usdt_arg(ctx, cookie, &arg) ? fallback : arg;
}

/* Each marker in a frame of its own, which fetches its argument: inlined
 * together, their buffers pass the 512-byte stack. A name that cannot be
 * fetched is a name not read; items that cannot, items unknown (past
 * MO_ITEMS_MAX). */
static __noinline int call_phase_begin(struct pt_regs *ctx, __u64 cookie)
{
	return marker_phase_begin(current_tgid(), (const char *)marker_arg(ctx, cookie, 0));
}

static __noinline int call_phase_end(struct pt_regs *ctx, __u64 cookie)
{
	return marker_phase_end(current_tgid(), (const char *)marker_arg(ctx, cookie, 0));
}

static __noinline int call_items(struct pt_regs *ctx, __u64 cookie)
{
	return marker_items(current_tgid(), marker_arg(ctx, cookie, ~0ull));
}

static __noinline int call_mark(struct pt_regs *ctx, __u64 cookie)
{
	return marker_mark(current_tgid(), (const char *)marker_arg(ctx, cookie, 0));
}

/* Every marker of a file is one uprobe_multi link of this program; the
 * cookie of each probe says which marker it is and where its argument is
 * (usdt.bpf.h). The logic above does not depend on how it was attached. */
SEC("uprobe.multi")
int mo_marker(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	switch (MO_USDT_MARKER(cookie)) {
	case MO_MARKER_PHASE_BEGIN:
		return call_phase_begin(ctx, cookie);
	case MO_MARKER_PHASE_END:
		return call_phase_end(ctx, cookie);
	case MO_MARKER_ITEMS:
		return call_items(ctx, cookie);
	default:
		return call_mark(ctx, cookie);
	}
}

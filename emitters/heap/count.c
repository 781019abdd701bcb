// SPDX-License-Identifier: GPL-2.0
/* Counting a call: into the calling thread's row of the slot (its own,
 * written by single instructions: no lock, no atomic), and its live bytes
 * into the process's and the session's counters once they reach
 * MO_HEAP_BATCH (atomics, rarely). Sampled calls go to BPF through USDT
 * probes, for their stacks. */
#include <stdint.h>
#include <sys/sdt.h>
#include "heap.h"

_Static_assert(sizeof(struct mo_heap_row) == 64, "a row is one cache line");
_Static_assert(sizeof(struct mo_heap_slot) == MO_HEAP_PAGE, "a slot is one page");
_Static_assert(sizeof(struct mo_heap_shared) == MO_HEAP_PAGE, "the header is one page");
_Static_assert(sizeof(struct proc_state) == 128, "the process state is two lines");
/* BPF reads them as its struct user_regs (bpf/heapsample.bpf.c). */
_Static_assert(offsetof(struct mo_heap_sample, sp) == offsetof(struct mo_heap_sample, ip) + 8 &&
	       offsetof(struct mo_heap_sample, bp) == offsetof(struct mo_heap_sample, ip) + 16, "ip, sp, bp in order");

struct thread_state {
	__u64 epoch;			/* proc->epoch when row was chosen */
	struct mo_heap_row *row;	/* NULL: not counting */
	const volatile __u32 *phase_src;	/* where the phase is read (the slot) */
	const volatile __u32 *closes_src;	/* and the session's phase ends */
	__u32 phase, closes;		/* as they were then */
	__s64 pending;			/* live bytes not yet flushed */
	__s64 sample_left;		/* bytes to the next sample point */
	__u64 rng;
	__u32 token;			/* owner of its private rows */
	bool shared;			/* row is a shared one (atomics) */
	bool ended;			/* the thread is exiting: shared rows only */
	bool sampling;			/* sample_left was started */
	bool watched;			/* count_thread_end will run at its exit */
};

static const __u32 constant_zero;
/* A new thread looks first: its epoch matches no process's. */
static __thread struct thread_state ts __attribute__((tls_model("initial-exec"))) = {
	.epoch = ~0ull,
	.phase_src = &constant_zero,
	.closes_src = &constant_zero,
};
static __u32 next_token;

/* *p += v: one instruction, so a signal handler on this thread cannot
 * interleave; atomic when other threads write the row too. */
static inline void add(__u64 *p, __u64 v, bool shared)
{
#if defined(__x86_64__)
	if (!shared) {
		asm volatile("addq %1, %0" : "+m"(*p) : "er"(v));
		return;
	}
#endif
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static inline void raise_to(__s64 *p, __s64 v)
{
	__s64 old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Is the phase still open? The root always is. */
static bool phase_open(const struct mo_heap_shared *hdr, __u32 phase)
{
	if (phase == MO_PHASE_ROOT)
		return true;
	if (phase >= MO_MAX_PHASES)
		return false;
	return (__atomic_load_n(&hdr->open[phase / 64], __ATOMIC_RELAXED) >> (phase % 64)) & 1;
}

/* The thread's pending live bytes into the process's and the session's
 * counters, raising their peaks and the row's. */
static void flush_into(struct thread_state *t, struct mo_heap_row *row)
{
	struct proc_state *ps = proc;
	__s64 d = __atomic_exchange_n(&t->pending, 0, __ATOMIC_RELAXED), live, sess;

	if (!d || !ps || ps->mode != MODE_ACTIVE) {
		if (d)
			__atomic_fetch_add(&t->pending, d, __ATOMIC_RELAXED);
		return;
	}
	live = __atomic_add_fetch(&ps->slot->live, d, __ATOMIC_RELAXED);
	sess = __atomic_add_fetch(&ps->hdr->live, d, __ATOMIC_RELAXED);
	if (d < 0)
		return;
	raise_to(&ps->slot->peak_live, live);
	raise_to(&ps->hdr->peak, sess);
	raise_to(&ps->hdr->seg_peak, sess);
	if (row)
		raise_to(&row->peak_live, live);
}

void count_flush(void)
{
	flush_into(&ts, ts.row);
}

__s64 count_take_pending(void)
{
	return __atomic_exchange_n(&ts.pending, 0, __ATOMIC_RELAXED);
}

/* Take a row of the slot for phase: a free one of that phase (a thread that
 * ended left it), else a never used one, else a shared one. NULL: all
 * taken (the call is counted in slot->lost). */
static struct mo_heap_row *claim(struct mo_heap_slot *s, __u32 phase, __u32 token, bool private, bool *shared)
{
	for (int pass = 0; private && pass < 2; pass++)
		for (int i = 0; i < MO_HEAP_ROWS - MO_HEAP_SHARED_ROWS; i++) {
			struct mo_heap_row *r = &s->rows[i];
			__u32 free_owner = MO_HEAP_ROW_FREE, none = MO_PHASE_NONE;
			__u32 want = pass ? MO_PHASE_NONE : phase;

			if (__atomic_load_n(&r->phase, __ATOMIC_RELAXED) != want ||
			    __atomic_load_n(&r->owner, __ATOMIC_RELAXED) != MO_HEAP_ROW_FREE ||
			    !__atomic_compare_exchange_n(&r->owner, &free_owner, token, false, __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED))
				continue;
			if (r->phase == phase || (r->phase == MO_PHASE_NONE &&
			    __atomic_compare_exchange_n(&r->phase, &none, phase, false, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))) {
				*shared = false;
				return r;
			}
			__atomic_store_n(&r->owner, MO_HEAP_ROW_FREE, __ATOMIC_RELEASE);
		}
	for (int i = MO_HEAP_ROWS - MO_HEAP_SHARED_ROWS; i < MO_HEAP_ROWS; i++) {
		struct mo_heap_row *r = &s->rows[i];
		__u32 none = MO_PHASE_NONE;

		if (r->phase == phase || __atomic_compare_exchange_n(&r->phase, &none, phase, false, __ATOMIC_RELAXED,
								     __ATOMIC_RELAXED) || r->phase == phase) {
			*shared = true;
			return r;
		}
	}
	return NULL;
}

/* The thread's row is no longer its own: another thread may take it. */
static void release(struct thread_state *t)
{
	struct proc_state *ps = proc;

	if (t->row && !t->shared && ps && t->epoch == ps->epoch && ps->mode == MODE_ACTIVE)
		__atomic_store_n(&t->row->owner, MO_HEAP_ROW_FREE, __ATOMIC_RELEASE);
	t->row = NULL;
}

void count_thread_end(void)
{
	struct thread_state *t = &ts;

	flush_into(t, t->row);
	release(t);
	t->ended = true;
}

static void use_constant(struct thread_state *t, struct mo_heap_row *row, bool shared)
{
	t->row = row;
	t->shared = shared;
	t->phase_src = t->closes_src = &constant_zero;
	t->phase = t->closes = 0;
}

/* The slow path: the process forked, exec'd nothing yet, shook hands, or
 * its phase changed. Returns the row to count in, NULL for none. */
static struct mo_heap_row *refresh(struct thread_state *t)
{
	struct proc_state *ps = proc ? proc : proc_page();
	struct mo_heap_slot *s;
	__u32 phase, closes;
	bool shared = false;

	if (!ps)
		return NULL;
	if (ps->mode == MODE_NONE)
		slot_start();
	if (ps->epoch != t->epoch) {
		/* A row of another epoch is the parent's (after fork) or the
		 * pre-handshake one: not this thread's to give back. Looked at
		 * after slot_start, which starts a new epoch. */
		t->row = NULL;
		t->epoch = ps->epoch;
	}
	switch (__atomic_load_n(&ps->mode, __ATOMIC_ACQUIRE)) {
	case MODE_ACTIVE:
		break;
	case MODE_INERT:
		use_constant(t, NULL, false);
		return NULL;
	default:
		/* Before the handshake: counted, and moved into the slot then. */
		use_constant(t, &ps->pre, true);
		t->epoch = 0;	/* look again at the next call */
		return t->row;
	}
	s = ps->slot;
	closes = __atomic_load_n(&ps->hdr->closes, __ATOMIC_RELAXED);
	phase = __atomic_load_n(&s->phase, __ATOMIC_RELAXED);
	if (closes != t->closes && !phase_open(ps->hdr, phase)) {
		/* Closed by another process: BPF knows the nearest open phase. */
		slot_sync();
		phase = __atomic_load_n(&s->phase, __ATOMIC_RELAXED);
	}
	if (!t->row || phase != t->phase) {
		flush_into(t, t->row);
		release(t);
		if (!t->token)
			t->token = __atomic_add_fetch(&next_token, 1, __ATOMIC_RELAXED) % (MO_HEAP_ROW_SHARED - 1) + 1;
		t->row = claim(s, phase, t->token, !t->ended, &shared);
		t->shared = shared;
		if (!t->row) {
			__atomic_fetch_add(&s->lost, 1, __ATOMIC_RELAXED);
			return NULL;
		}
	}
	t->phase_src = &s->phase;
	t->closes_src = &ps->hdr->closes;
	t->phase = phase;
	t->closes = closes;
	/* Last: it may allocate (glibc, for a key past the first 32). */
	if (!t->shared && !t->watched) {
		t->watched = true;
		slot_watch_thread();
	}
	return t->row;
}

static inline struct mo_heap_row *current_row(struct thread_state *t)
{
	struct proc_state *ps = proc;

	if (likely(ps && t->epoch == ps->epoch && *t->phase_src == t->phase && *t->closes_src == t->closes))
		return t->row;
	return refresh(t);
}

static inline void live_change(struct thread_state *t, struct mo_heap_row *row, __s64 bytes)
{
	add((__u64 *)&row->live, bytes, t->shared);
	add((__u64 *)&t->pending, bytes, false);
	if (unlikely(t->pending >= MO_HEAP_BATCH || t->pending <= -MO_HEAP_BATCH))
		flush_into(t, row);
}

static __u64 next_random(struct thread_state *t)
{
	__u64 x = t->rng;

	if (!x) {
		x = (__u64)(uintptr_t)t * 0x9e3779b97f4a7c15ull;
#if defined(__x86_64__)
		x ^= __builtin_ia32_rdtsc();
#endif
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return t->rng = x ?: 1;
}

/* Past a sample point (sample_left <= 0 after the call's bytes): the
 * weight of the call, as BPF's sample_weight() gives it for the uprobe
 * path — one point per period bytes from a random start, each point worth
 * period bytes — and the next point. */
static __u64 sample_weight(struct thread_state *t, __u64 bytes, __u64 period)
{
	__s64 l;
	__u64 k;

	if (!period) {
		t->sample_left = INT64_MAX / 2;
		return 0;
	}
	if (!t->sampling) {
		t->sampling = true;
		t->sample_left = next_random(t) % period + 1 - bytes;
		if (t->sample_left > 0)
			return 0;
	}
	l = t->sample_left;
	k = 1 + (__u64)(-l) / period;
	t->sample_left = l + (__s64)(k * period);
	return k * period;
}

static void sample(struct thread_state *t, void *p, size_t size, struct caller c)
{
	struct proc_state *ps = proc;
	struct mo_heap_sample s;
	__u64 weight;

	if (!ps || ps->mode != MODE_ACTIVE || !(weight = sample_weight(t, size, ps->sample_bytes)))
		return;
	s = (struct mo_heap_sample){
		.ptr = (uintptr_t)p,
		.size = size,
		.weight = weight,
		.ip = (uintptr_t)c.ip,
		/* The caller's sp and rbp once the interposed function returned. */
		.sp = (uintptr_t)c.frame + 16,
		.bp = *(__u64 *)c.frame,
	};
	if (sampled_add(p))
		s.flags = MO_HEAP_SAMPLE_TRACKED;
	else
		__atomic_fetch_add(&ps->slot->untracked, 1, __ATOMIC_RELAXED);
	STAP_PROBE1(memobs_heap, alloc, &s);
}

void count_alloc(void *p, size_t size, struct caller c)
{
	struct thread_state *t = &ts;
	struct mo_heap_row *row;
	__u64 usable;

	if ((unlikely(in_real) && boot_from_allocator(c.ip)) || !(row = current_row(t)))
		return;
	usable = real.usable ? real.usable(p) : 0;
	add(&row->alloc_bytes, size, t->shared);
	add(&row->alloc_count, 1, t->shared);
	live_change(t, row, usable);
	t->sample_left -= size;
	if (unlikely(t->sample_left <= 0))
		sample(t, p, size, c);
}

void count_free(void *p, const void *ip)
{
	struct thread_state *t = &ts;
	struct mo_heap_row *row;
	__u64 usable;

	if ((unlikely(in_real) && boot_from_allocator(ip)) || !(row = current_row(t)))
		return;
	/* Reported before the allocator may hand p out again. */
	if (sampled_take(p))
		STAP_PROBE1(memobs_heap, free, p);
	usable = real.usable ? real.usable(p) : 0;
	add(&row->free_bytes, usable, t->shared);
	add(&row->free_count, 1, t->shared);
	live_change(t, row, -(__s64)usable);
}

void count_adopt(struct mo_heap_row *pre, __s64 inherited)
{
	struct thread_state *t = &ts;
	struct mo_heap_row *row = current_row(t);

	if (row) {
		add(&row->alloc_bytes, __atomic_exchange_n(&pre->alloc_bytes, 0, __ATOMIC_RELAXED), t->shared);
		add(&row->alloc_count, __atomic_exchange_n(&pre->alloc_count, 0, __ATOMIC_RELAXED), t->shared);
		add(&row->free_bytes, __atomic_exchange_n(&pre->free_bytes, 0, __ATOMIC_RELAXED), t->shared);
		add(&row->free_count, __atomic_exchange_n(&pre->free_count, 0, __ATOMIC_RELAXED), t->shared);
		add((__u64 *)&row->live, __atomic_exchange_n(&pre->live, 0, __ATOMIC_RELAXED), t->shared);
	}
	/* Not a row's: memobs adds it to the rows' sum (slot->inherited). */
	__atomic_fetch_add(&t->pending, inherited, __ATOMIC_RELAXED);
	flush_into(t, row);
}

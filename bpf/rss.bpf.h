/* SPDX-License-Identifier: GPL-2.0 */
/* RSS accounting shared by rss.bpf.c (raw tracepoint rss_stat) and tree.bpf.c (seeding
 * a process at fork/exec, zeroing it at exit). */
#ifndef MO_RSS_BPF_H
#define MO_RSS_BPF_H

#include "common.bpf.h"
#include "core_fixes.bpf.h"

/* A member's value once its process left the session's sums (proc_end): no
 * event still in flight may change it, nor the sums through it. */
#define MO_RSS_ENDED (-1)

/* A new session peak: when, and of what (the headline of the report). Two
 * raising it at once may leave the time and members of the other, a change
 * apart. */
static __always_inline void session_peak(__s64 sess)
{
	atomic_max(&mo_sess.rss_peak, sess);
	mo_sess.rss_peak_ns = bpf_ktime_get_ns();
#pragma unroll
	for (int m = 0; m < MO_RSS_NR; m++)
		mo_sess.rss_at_peak[m] = mo_sess.rss[m];
}

/* Set one member of a process to an absolute value and carry the change into
 * the process sum, the session sum, their peaks, and the process's phase.
 * Compare-and-swap makes each change count exactly once however the updates
 * interleave, and none after the process left the sums. Returns the change
 * in bytes. */
__weak __noinline __s64 rss_set(struct mo_proc *p, __u32 tgid, int member, __s64 bytes)
{
	__s64 old, delta, sum, sess;
	struct mo_pstat *ps;
	bool set = false;

	if (!p)
		return 0;
	member &= MO_RSS_NR - 1;
	old = *(volatile __s64 *)&p->rss[member];
	for (int i = 0; i < MO_MAX_TRIES && !set; i++) {
		__s64 seen;

		if (old == MO_RSS_ENDED)
			return 0;
		seen = __sync_val_compare_and_swap(&p->rss[member], old, bytes);
		set = seen == old;
		old = seen;
	}
	if (!set) {
		MO_DROP(contended);
		return 0;
	}
	delta = bytes - old;
	if (!delta)
		return 0;
	atomic_max(&p->rss_peak[member], bytes);
	__sync_fetch_and_add(&mo_sess.rss[member], delta);
	if (member == MO_RSS_SWAP)
		return delta;

	sum = __sync_fetch_and_add(&p->rss_sum, delta) + delta;
	atomic_max(&p->rss_peak_sum, sum);
	sess = __sync_fetch_and_add(&mo_sess.rss_sum, delta) + delta;
	if (sess > mo_sess.rss_peak)
		session_peak(sess);

	/* Folded into every open phase at the next boundary. */
	atomic_max(&mo_sess.seg_rss_peak, sess);
	/* The value before this change also held inside the phase. */
	ps = pstat_get(tgid, proc_phase(p), sum - delta);
	if (ps)
		atomic_max(&ps->rss_peak, sum);
	return delta;
}

/* The process leaves the session's sums: each member is taken (set to
 * MO_RSS_ENDED) and subtracted. Returns file + anon + shmem taken. */
static __always_inline __s64 rss_leave(struct mo_proc *p)
{
	__s64 sum = 0;

#pragma unroll
	for (int m = 0; m < MO_RSS_NR; m++) {
		__s64 last = __sync_lock_test_and_set(&p->rss[m], MO_RSS_ENDED);

		if (last == MO_RSS_ENDED)
			continue;
		__sync_fetch_and_sub(&mo_sess.rss[m], last);
		if (m != MO_RSS_SWAP)
			sum += last;
	}
	__sync_fetch_and_sub(&mo_sess.rss_sum, sum);
	return sum;
}

/* Seed every member from the mm's own counters (fork, exec). */
static __always_inline void rss_seed(struct mo_proc *p, __u32 tgid, struct mm_struct *mm)
{
	__s64 page = mo_cfg.page_size;

#pragma unroll
	for (int m = 0; m < MO_RSS_NR; m++)
		rss_set(p, tgid, m, mm ? mm_counter_approx(mm, m) * page : 0);
}

#endif

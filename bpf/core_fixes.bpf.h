/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel-version differences, isolated here with the commit each covers. */
#ifndef MO_CORE_FIXES_BPF_H
#define MO_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* Before 6.2 (f1a7941243c1 "mm: convert mm's rss stats into percpu_counter")
 * mm->rss_stat was a struct of atomic_long_t. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};

/* Before 6.2 an mm's counters are atomics: each read is exact. */
static __always_inline bool mm_counters_atomic(void)
{
	return bpf_core_field_exists(struct mm_struct___old, rss_stat.count);
}

/* An mm's counter for one member, in pages. After 6.2 this is the percpu
 * counter's shared part: off by at most batch x CPUs pages. Used only to seed
 * a process at fork/exec; mo_rss_stat then sums each change exactly. */
static __always_inline __s64 mm_counter_approx(struct mm_struct *mm, int member)
{
	__s64 pages;

	if (!mm_counters_atomic()) {
		pages = BPF_CORE_READ(mm, rss_stat[member & 3].count);
	} else {
		struct mm_struct___old *old = (void *)mm;

		pages = BPF_CORE_READ(old, rss_stat.count[member & 3].counter);
	}
	return pages > 0 ? pages : 0;
}

/* The process an mm belongs to (mm is current's): mm->owner (CONFIG_MEMCG)
 * also names the parent for a vfork child that borrows its mm until exec.
 * Direct reads: both pointers come from the kernel's BTF (tp_btf). */
static __always_inline __u32 mm_owner_tgid(struct mm_struct *mm, struct task_struct *task)
{
	if (bpf_core_field_exists(mm->owner)) {
		struct task_struct *owner = mm->owner;

		if (owner)
			return owner->tgid;
	}
	return task->tgid;
}

/* 6.11 (3aa63a569c64 "fs: switch timespec64 fields in inode to discrete
 * integers") split inode->__i_ctime into i_ctime_sec/nsec; 6.6 renamed
 * i_ctime to __i_ctime. */
struct inode___ctime_ts {
	struct timespec64 __i_ctime;
};

struct inode___ctime_old {
	struct timespec64 i_ctime;
};

/* An inode's change time in ns: it moves with every write of the file. */
static __always_inline __s64 inode_ctime_ns(struct inode *inode)
{
	struct inode___ctime_ts *ts = (void *)inode;
	struct inode___ctime_old *old = (void *)inode;

	if (bpf_core_field_exists(inode->i_ctime_sec))
		return BPF_CORE_READ(inode, i_ctime_sec) * 1000000000ll + BPF_CORE_READ(inode, i_ctime_nsec);
	if (bpf_core_field_exists(ts->__i_ctime))
		return BPF_CORE_READ(ts, __i_ctime.tv_sec) * 1000000000ll + BPF_CORE_READ(ts, __i_ctime.tv_nsec);
	return BPF_CORE_READ(old, i_ctime.tv_sec) * 1000000000ll + BPF_CORE_READ(old, i_ctime.tv_nsec);
}

#endif

// SPDX-License-Identifier: GPL-2.0
#include "rss.bpf.h"
#include "stacks.bpf.h"

/* Bytes to the next RSS growth sample, per CPU (stacks.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} mo_rss_sample SEC(".maps");

/* Sample the stack of the code that made RSS grow (a page fault, or a
 * syscall populating memory), by bytes of growth. */
static __always_inline void sample_growth(__s64 delta)
{
	__u32 zero = 0;
	__s64 *left = bpf_map_lookup_elem(&mo_rss_sample, &zero);
	struct user_regs regs;
	__u64 weight;
	__u32 prog;

	if (!left)
		return;
	weight = sample_weight(left, delta, mo_cfg.rss_sample_bytes);
	if (!weight)
		return;
	task_user_regs(&regs);
	site_add(&regs, MO_SITE_RSS, weight, weight / mo_cfg.page_size, false, &prog);
}

/* The kernel's per-CPU area offsets: per_cpu_ptr(p, cpu) is p + mo_cpu_off[cpu].
 * Sized to the possible CPUs at load, filled once by mo_cpu_offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mo_cpu_off SEC(".maps");

/* A per-CPU value of our own, whose per-CPU addresses show the offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mo_cpu_anchor SEC(".maps");

/* Run once at start (BPF_PROG_TEST_RUN). The kernel's BTF here may carry no
 * percpu tags and kallsyms no per-CPU symbols, so bpf_per_cpu_ptr cannot
 * take a percpu_counter's counters: the offsets come from our own per-CPU
 * map instead, its base pointer (bpf_array.pptrs[0]) against each CPU's copy
 * (bpf_map_lookup_percpu_elem). Writing a pointer into a map value and reading
 * it back turns it into a number (root: pointer leaks are allowed). Before 6.2
 * the mm's counters were atomics: nothing to find. Returns 0, or -1. */
SEC("syscall")
int mo_cpu_offsets(void *ctx)
{
	__u32 zero = 0;
	__u64 *own = bpf_map_lookup_elem(&mo_cpu_anchor, &zero);
	__u64 map, base;

	if (mm_counters_atomic())
		return 0;
	if (!own)
		return -1;
	*(volatile __u64 *)own = (__u64)(void *)&mo_cpu_anchor;
	map = *(volatile __u64 *)own;
	if (bpf_probe_read_kernel(&base, sizeof(base), (void *)(map + bpf_core_field_offset(struct bpf_array, pptrs))))
		return -1;
	for (__u32 cpu = 0; cpu < mo_cfg.nr_cpus && cpu < MO_MAX_CPUS; cpu++) {
		__u32 key = cpu;	/* the loop's counter stays in a register */
		__u64 *copy = bpf_map_lookup_percpu_elem(&mo_cpu_anchor, &zero, cpu);
		__u64 *off = bpf_map_lookup_elem(&mo_cpu_off, &key);

		if (!copy || !off)
			return -1;
		*(volatile __u64 *)copy = (__u64)copy;
		*off = *(volatile __u64 *)copy - base;
	}
	return 0;
}

static __always_inline struct percpu_counter *mm_rss_counter(struct mm_struct *mm, int member)
{
	/* Constant offsets: the verifier takes no variable one into a BTF pointer. */
	switch (member) {
	case MO_RSS_FILE:
		return &mm->rss_stat[MO_RSS_FILE];
	case MO_RSS_ANON:
		return &mm->rss_stat[MO_RSS_ANON];
	case MO_RSS_SWAP:
		return &mm->rss_stat[MO_RSS_SWAP];
	default:
		return &mm->rss_stat[MO_RSS_SHMEM];
	}
}

/* An mm counter's exact value in pages, as the kernel's
 * percpu_counter_sum_positive() but without its lock (which every thread of
 * the mm shares). A fold (lib/percpu_counter.c, percpu_counter_add_batch)
 * adds a CPU's part c (|c| < batch) to count, then subtracts it from that
 * CPU's counter: reading count before the fold and the counter after it
 * misses c, reading both between the two stores counts c twice. Neither
 * order alone errs one way only (count first over-counts when the folded
 * part was negative), so count is read before the CPUs' counters and again
 * after, and the smaller taken: a read spanning a fold then errs only
 * downwards (by c, until the next change), and an over-count needs both
 * reads to fall between the fold's two adjacent stores (the folding CPU
 * stopped there, interrupts off: an NMI, a preempted vCPU). The kernel's
 * locked sum races with the lock-free fast path as much as this one. */
static __always_inline __s64 mm_counter_exact(struct mm_struct *mm, int member)
{
	struct percpu_counter *fbc;
	__s64 count, again, pages = 0;
	__u64 counters;

	if (mm_counters_atomic())
		return mm_counter_approx(mm, member);	/* exact there */
	fbc = mm_rss_counter(mm, member);
	count = *(volatile __s64 *)&fbc->count;
	counters = (__u64)fbc->counters;
	for (__u32 cpu = 0; cpu < mo_cfg.nr_cpus && cpu < MO_MAX_CPUS; cpu++) {
		__u32 key = cpu;
		__u64 *off = bpf_map_lookup_elem(&mo_cpu_off, &key);
		__s32 part = 0;

		if (!off)
			break;
		bpf_probe_read_kernel(&part, sizeof(part), (void *)(counters + *off));
		pages += part;
	}
	again = *(volatile __s64 *)&fbc->count;
	pages += again < count ? again : count;
	return pages > 0 ? pages : 0;
}

/* Every change of an mm counter (kernel mm_trace_rss_stat), as a raw
 * tracepoint: the classic event's work (the locked sum over every CPU, a
 * perf buffer) would be paid by every process of the host; here a process
 * not observed costs an early return, and only an observed one's counter is
 * summed. mm == current's mm means current's user stack is what made it
 * grow; otherwise (reclaim, fork copy, teardown) the mm is known only as
 * the one we saw its process use (mo_mm_owner). */
SEC("tp_btf/rss_stat")
int BPF_PROG(mo_rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *task = bpf_get_current_task_btf();
	bool curr = task->mm == mm;
	__u64 mm_key = (__u64)mm;
	__u32 tgid;
	struct mo_proc *p;
	__s64 delta;

	if (member < 0 || member >= MO_RSS_NR)
		return 0;
	if (curr) {
		tgid = mm_owner_tgid(mm, task);
	} else {
		__u32 *owner = bpf_map_lookup_elem(&mo_mm_owner, &mm_key);

		if (!owner)
			return 0;
		tgid = *owner;
		/* not one load shared with owner->tgid's (a BTF pointer) */
		barrier_var(tgid);
	}
	p = session_proc(tgid);
	if (!p || (p->flags & (MO_PROC_PENDING_EXEC | MO_PROC_EXITED | MO_PROC_OBSERVER)))
		return 0;
	if (!curr && p->mm != mm_key)
		return 0;	/* its process left this mm (exec) */
	if (curr && p->mm != mm_key) {
		/* A new mm (exec): at most one mapping per process, so that no
		 * address outlives its mm there. */
		if (p->mm)
			bpf_map_delete_elem(&mo_mm_owner, &p->mm);
		if (bpf_map_update_elem(&mo_mm_owner, &mm_key, &tgid, BPF_ANY))
			MO_DROP(mm_ids);
		else
			p->mm = mm_key;
	}
	delta = rss_set(p, tgid, member, mm_counter_exact(mm, member) * mo_cfg.page_size);
	if (curr && delta > 0 && member != MO_RSS_SWAP)
		sample_growth(delta);
	return 0;
}

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

/* kmem:rss_stat fires on every change of an mm counter with the exact new
 * value (the kernel sums the percpu counter for the event). curr=1 means the
 * mm is current's (and current's user stack is what made it grow);
 * otherwise (reclaim, fork copy, teardown) the mm is named only by its hash,
 * which we learned from an earlier curr=1 event. */
SEC("tracepoint/kmem/rss_stat")
int mo_rss_stat(struct trace_event_raw_rss_stat *ctx)
{
	__u32 mm_id = ctx->mm_id, tgid;
	struct mo_proc *p;
	__s64 delta;

	if (ctx->member < 0 || ctx->member >= MO_RSS_NR)
		return 0;
	if (ctx->curr) {
		tgid = mm_owner_tgid(bpf_get_current_task_btf());
	} else {
		__u32 *owner = bpf_map_lookup_elem(&mo_mm_owner, &mm_id);

		if (!owner)
			return 0;
		tgid = *owner;
	}
	p = session_proc(tgid);
	if (!p) {
		/* An mm of another process now has this id: the mm we knew by it
		 * was freed and its address reused. Forget the stale mapping. */
		if (ctx->curr && bpf_map_lookup_elem(&mo_mm_owner, &mm_id))
			bpf_map_delete_elem(&mo_mm_owner, &mm_id);
		return 0;
	}
	if (p->flags & (MO_PROC_PENDING_EXEC | MO_PROC_EXITED | MO_PROC_OBSERVER))
		return 0;
	if (ctx->curr && p->mm_id != mm_id) {
		/* A new mm (exec): at most one mapping per process, so that no id
		 * outlives its mm. */
		if (p->mm_id)
			bpf_map_delete_elem(&mo_mm_owner, &p->mm_id);
		if (bpf_map_update_elem(&mo_mm_owner, &mm_id, &tgid, BPF_ANY))
			MO_DROP(mm_ids);
		else
			p->mm_id = mm_id;
	}
	delta = rss_set(p, tgid, ctx->member, ctx->size);
	if (ctx->curr && delta > 0 && ctx->member != MO_RSS_SWAP)
		sample_growth(delta);
	return 0;
}

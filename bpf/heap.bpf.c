// SPDX-License-Identifier: GPL-2.0
/* Allocator probes (--heap): requested bytes, counts, live and peak live bytes
 * per process and phase. The loader attaches them to the allocator each
 * process really maps; these programs only count. */
#include "stacks.bpf.h"

enum heap_kind {
	HEAP_MALLOC,
	HEAP_REALLOC,
	HEAP_POSIX_MEMALIGN,
};

/* The allocator call a thread is in. Nested calls (realloc(NULL, n) calling
 * malloc, reallocarray calling realloc) are counted once, by the outer one. */
struct heap_call {
	__u32 depth;
	__u32 kind;
	__u64 size;
	__u64 old_ptr;		/* realloc: the block it replaces; posix_memalign: memptr */
	__u64 sp;		/* stack pointer at the outer entry */
	__s64 sample_left;	/* bytes to the next stack sample (stacks.bpf.h) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct heap_call);
} mo_heap_calls SEC(".maps");

static __always_inline struct mo_proc *heap_proc(__u32 tgid)
{
	struct mo_proc *p = session_proc(tgid);

	if (!p || (p->flags & (MO_PROC_PENDING_EXEC | MO_PROC_EXITED | MO_PROC_OBSERVER)))
		return NULL;
	if (!(p->flags & MO_PROC_HEAP_SEEN))
		__sync_fetch_and_or(&p->flags, MO_PROC_HEAP_SEEN);
	return p;
}

static __always_inline int heap_enter(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 old_ptr)
{
	struct heap_call *call;
	__u64 sp = PT_REGS_SP(ctx);

	if (!heap_proc(current_tgid()))
		return 0;
	call = bpf_task_storage_get(&mo_heap_calls, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call) {
		MO_DROP(allocs);
		return 0;
	}
	/* At or above the outer frame: that call returned unseen (a lost
	 * uretprobe); start afresh rather than ignore this thread for good. */
	if (call->depth && sp >= call->sp)
		call->depth = 0;
	if (call->depth++ == 0) {
		call->kind = kind;
		call->size = size;
		call->old_ptr = old_ptr;
		call->sp = sp;
	}
	return 0;
}

/* A process that also counts in process (its executable's own prefixed
 * allocator probed beside the preloaded library) keeps one live figure, its
 * slot's: the probed calls add to it too. */
static __always_inline void heap_live_add(struct mo_proc *p, __u32 tgid, struct mo_pstat *ps, __s64 delta)
{
	struct mo_heap_slot *slot = (p->flags & MO_PROC_HEAP_INPROC) ? heap_slot(tgid) : NULL;
	__s64 *live_p = slot ? &slot->live : &p->heap_live, *peak_p = slot ? &slot->peak_live : &p->heap_peak_live;
	__s64 live = __sync_fetch_and_add(live_p, delta) + delta;

	if (slot)
		__sync_fetch_and_add(&slot->probed_live, delta);
	session_heap_add(delta);
	if (delta <= 0)
		return;
	atomic_max(peak_p, live);
	if (ps)
		atomic_max(&ps->heap_peak_live, live);
}

/* The block at ptr is freed. A global function, verified once on its own:
 * mo_alloc_ret frees at two places (a realloc's old block, a block whose
 * free was not seen), each inlined copy followed again in every state the
 * stack walk beside it left (mo_alloc_ret: 69,798 verified instructions,
 * 23,058 with it apart). */
__noinline int heap_free(struct mo_proc *p, __u32 tgid, __u64 ptr)
{
	struct mo_alloc_key key = { .tgid = tgid, .addr = ptr };
	struct mo_alloc *a, block;
	struct mo_pstat *ps;
	struct mo_phase *ph;
	__u32 phase;
	__u64 size;

	if (!p)
		return 0;
	key.program = p->program_id;
	phase = proc_phase(p);
	ps = pstat_get(tgid, phase, p->rss_sum);
	a = bpf_map_lookup_elem(&mo_allocs, &key);
	if (!a) {
		if (ps)
			__sync_fetch_and_add(&ps->free_unknown_count, 1);
		return 0;
	}
	block = *a;
	/* Only the free whose delete wins accounts for the block: a concurrent
	 * free of the same block may have passed the lookup too. */
	if (bpf_map_delete_elem(&mo_allocs, &key)) {
		if (ps)
			__sync_fetch_and_add(&ps->free_unknown_count, 1);
		return 0;
	}
	size = block.size;
	if (block.stack)
		site_release(block.stack, block.prog, block.weight);
	if (ps) {
		__sync_fetch_and_add(&ps->free_bytes, size);
		__sync_fetch_and_add(&ps->free_count, 1);
	}
	ph = phase_at(phase);
	if (ph) {
		__sync_fetch_and_add(&ph->free_bytes, size);
		__sync_fetch_and_add(&ph->free_count, 1);
	}
	__sync_fetch_and_add(&mo_sess.free_bytes, size);
	__sync_fetch_and_add(&mo_sess.free_count, 1);
	heap_live_add(p, tgid, ps, -(__s64)size);
	return 0;
}

/* Sample the allocating stack by bytes: its site is credited with the
 * weight, and the block remembers it to take it back when freed. */
static __always_inline void sample_site(struct pt_regs *ctx, struct heap_call *call, struct mo_alloc *rec)
{
	struct user_regs regs;
	__u64 weight = sample_weight(&call->sample_left, rec->size, mo_cfg.alloc_sample_bytes);
	__u64 count;

	if (!weight)
		return;
	count = rec->size ? weight / rec->size : 1;
	/* At the allocator's return: the caller's registers. */
	regs.ip = PT_REGS_IP(ctx);
	regs.sp = PT_REGS_SP(ctx);
	regs.bp = PT_REGS_FP(ctx);
	rec->stack = site_add(&regs, MO_SITE_ALLOC, weight, count ?: 1, true, &rec->prog);
	if (rec->stack)
		rec->weight = weight;
}

static __always_inline void heap_alloc(struct pt_regs *ctx, struct heap_call *call, struct mo_proc *p, __u32 tgid,
				       __u64 ptr, __u64 size)
{
	struct mo_alloc_key key = { .tgid = tgid, .program = p->program_id, .addr = ptr };
	__u32 phase = proc_phase(p);
	struct mo_alloc rec = { .size = size, .phase = phase };
	struct mo_pstat *ps;
	struct mo_phase *ph;
	bool tracked = true;
	long err;

	sample_site(ctx, call, &rec);
	err = bpf_map_update_elem(&mo_allocs, &key, &rec, BPF_NOEXIST);
	if (err == -17 /* EEXIST */) {
		/* The block was freed by a path we do not see; it is not live. */
		MO_DROP(missed_frees);
		heap_free(p, tgid, ptr);
		err = bpf_map_update_elem(&mo_allocs, &key, &rec, BPF_ANY);
	}
	if (err) {
		MO_DROP(allocs);
		tracked = false;
		if (rec.stack)
			site_release(rec.stack, rec.prog, rec.weight);
	}
	ps = pstat_get(tgid, phase, p->rss_sum);
	if (ps) {
		__sync_fetch_and_add(&ps->alloc_bytes, size);
		__sync_fetch_and_add(&ps->alloc_count, 1);
	}
	ph = phase_at(phase);
	if (ph) {
		__sync_fetch_and_add(&ph->alloc_bytes, size);
		__sync_fetch_and_add(&ph->alloc_count, 1);
	}
	__sync_fetch_and_add(&mo_sess.alloc_bytes, size);
	__sync_fetch_and_add(&mo_sess.alloc_count, 1);
	if (tracked)
		heap_live_add(p, tgid, ps, size);
}

/* Return of any allocating call above: the block's address is known now. */
SEC("uprobe.multi")
int BPF_KRETPROBE(mo_alloc_ret, __u64 ret)
{
	__u32 tgid = current_tgid();
	struct mo_proc *p = heap_proc(tgid);
	struct heap_call *call;
	__u64 ptr = ret;

	if (!p)
		return 0;
	call = bpf_task_storage_get(&mo_heap_calls, bpf_get_current_task_btf(), 0, 0);
	if (!call || !call->depth || --call->depth)
		return 0;
	switch (call->kind) {
	case HEAP_REALLOC:
		/* realloc(p, 0) frees p and returns NULL; a failed realloc keeps p. */
		if (call->old_ptr && (ptr || !call->size))
			heap_free(p, tgid, call->old_ptr);
		break;
	case HEAP_POSIX_MEMALIGN:
		if ((int)ret != 0 || bpf_probe_read_user(&ptr, sizeof(ptr), (void *)call->old_ptr))
			ptr = 0;
		break;
	}
	if (ptr)
		heap_alloc(ctx, call, p, tgid, ptr, call->size);
	return 0;
}

/* free(ptr). The loader may attach this past the entry instruction (to the
 * first one the kernel emulates), as long as ptr is still in the register. */
static __always_inline int heap_free_entry(struct pt_regs *ctx, __u64 ptr)
{
	__u32 tgid = current_tgid();
	struct mo_proc *p;
	struct heap_call *call;

	if (!ptr)
		return 0;
	p = heap_proc(tgid);
	if (!p)
		return 0;
	call = bpf_task_storage_get(&mo_heap_calls, bpf_get_current_task_btf(), 0, 0);
	/* Inside realloc: the outer call accounts for this block. */
	if (call && call->depth && PT_REGS_SP(ctx) < call->sp)
		return 0;
	heap_free(p, tgid, ptr);
	return 0;
}

/* Every entry probe of the family in a file: one link, whose cookie says
 * which function (enum mo_heap_fn) and so which arguments are read. */
SEC("uprobe.multi")
int BPF_KPROBE(mo_alloc_entry, __u64 a1, __u64 a2, __u64 a3)
{
	switch (bpf_get_attach_cookie(ctx)) {
	case MO_HEAP_FN_MALLOC:
	case MO_HEAP_FN_VALLOC:
		return heap_enter(ctx, HEAP_MALLOC, a1, 0);
	case MO_HEAP_FN_CALLOC:
		return heap_enter(ctx, HEAP_MALLOC, a1 * a2, 0);
	case MO_HEAP_FN_REALLOC:
		return heap_enter(ctx, HEAP_REALLOC, a2, a1);
	case MO_HEAP_FN_REALLOCARRAY:
		return heap_enter(ctx, HEAP_REALLOC, a2 * a3, a1);
	case MO_HEAP_FN_MEMALIGN:
		return heap_enter(ctx, HEAP_MALLOC, a2, 0);
	case MO_HEAP_FN_POSIX_MEMALIGN:
		return heap_enter(ctx, HEAP_POSIX_MEMALIGN, a3, a1);
	case MO_HEAP_FN_FREE:
		return heap_free_entry(ctx, a1);
	}
	return 0;
}

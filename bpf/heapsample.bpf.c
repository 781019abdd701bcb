// SPDX-License-Identifier: GPL-2.0
/* In-process heap counting, BPF's part (emitters/heap/): the preloaded
 * library counts every call itself; only its USDT probes (provider
 * memobs_heap) trap, attached to the library's file: a sampled allocation
 * (its stack, for sites), the free of a sampled block, and a request for
 * the process's phase (at the handshake, and when another process closed
 * it). */
#include "stacks.bpf.h"
#include "usdt.bpf.h"

/* The session's record of the calling process, when it counts. */
static __always_inline struct mo_proc *sampler(__u32 tgid)
{
	struct mo_proc *p = session_proc(tgid);

	if (!p || (p->flags & (MO_PROC_PENDING_EXEC | MO_PROC_EXITED | MO_PROC_OBSERVER)))
		return NULL;
	return p;
}

/* memobs_heap:alloc(struct mo_heap_sample *): credit the caller's stack
 * with the sample's weight; a tracked block is remembered until its free.
 * Inlined: the unwinder's callbacks are two calls deep already, within
 * BPF's 512 bytes of stack only from the program's own frame. */
static __always_inline int sample_alloc(const struct mo_heap_sample *us)
{
	__u32 tgid = current_tgid(), flags;
	struct mo_proc *p = sampler(tgid);
	struct mo_alloc_key key = { .tgid = tgid };
	struct mo_alloc rec = {}, *old;
	struct user_regs regs;
	__u64 count;

	/* Field by field: the whole record on the stack would pass BPF's 512
	 * bytes with the unwinder's frames. ip, sp, bp follow each other as in
	 * struct user_regs (asserted in emitters/heap/count.c). */
	if (!p)
		return 0;
	key.program = p->program_id;
	if (bpf_probe_read_user(&regs, sizeof(regs), &us->ip) ||
	    bpf_probe_read_user(&rec.size, sizeof(rec.size), &us->size) ||
	    bpf_probe_read_user(&rec.weight, sizeof(rec.weight), &us->weight) ||
	    bpf_probe_read_user(&key.addr, sizeof(key.addr), &us->ptr) ||
	    bpf_probe_read_user(&flags, sizeof(flags), &us->flags)) {
		MO_DROP(stacks);	/* the sample unread: its weight reaches no site */
		return 0;
	}
	if (!rec.weight)
		return 0;
	count = rec.size ? rec.weight / rec.size : 1;
	rec.stack = site_add(&regs, MO_SITE_ALLOC, rec.weight, count ?: 1, flags & MO_HEAP_SAMPLE_TRACKED, &rec.prog);
	if (!rec.stack || !(flags & MO_HEAP_SAMPLE_TRACKED))
		return 0;
	rec.phase = proc_phase(p);
	old = bpf_map_lookup_elem(&mo_allocs, &key);
	if (old && !bpf_map_delete_elem(&mo_allocs, &key)) {
		/* Its free was not reported (a failed realloc, say). */
		MO_DROP(missed_frees);
		site_release(old->stack, old->prog, old->weight);
	}
	if (bpf_map_update_elem(&mo_allocs, &key, &rec, BPF_NOEXIST)) {
		MO_DROP(allocs);
		site_release(rec.stack, rec.prog, rec.weight);
	}
	return 0;
}

/* memobs_heap:free(ptr): a sampled block goes; its site's live bytes too. */
static __noinline int sample_free(__u64 ptr)
{
	__u32 tgid = current_tgid();
	struct mo_proc *p = session_proc(tgid);
	struct mo_alloc_key key = { .tgid = tgid, .program = p ? p->program_id : 0, .addr = ptr };
	struct mo_alloc *a = bpf_map_lookup_elem(&mo_allocs, &key), block;

	if (!a)
		return 0;
	block = *a;
	/* Only the delete that wins releases the site. */
	if (!bpf_map_delete_elem(&mo_allocs, &key))
		site_release(block.stack, block.prog, block.weight);
	return 0;
}

/* memobs_heap:sync: write the process's innermost open phase into its slot. */
static __noinline int sync_phase(void)
{
	__u32 tgid = current_tgid();
	struct mo_proc *p = sampler(tgid);
	struct mo_heap_slot *slot = heap_slot(tgid);

	if (!p || !slot)
		return 0;
	slot->phase = proc_phase(p);
	__sync_fetch_and_or(&slot->flags, MO_HEAP_SLOT_SYNCED);
	if (!(p->flags & MO_PROC_HEAP_INPROC))
		__sync_fetch_and_or(&p->flags, MO_PROC_HEAP_INPROC);
	return 0;
}

/* The library's probes are one uprobe_multi link of this program; the
 * cookie of each says which probe it is and where its argument is
 * (usdt.bpf.h, enum mo_heap_probe). */
SEC("uprobe.multi")
int mo_heap_usdt(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), arg = 0;

	if (MO_USDT_MARKER(cookie) == MO_HEAP_PROBE_SYNC)
		return sync_phase();
	if (usdt_arg(ctx, cookie, &arg)) {
		/* Its argument unread: a sample no site gets, or a free not seen. */
		if (MO_USDT_MARKER(cookie) == MO_HEAP_PROBE_ALLOC)
			MO_DROP(stacks);
		else
			MO_DROP(missed_frees);
		return 0;
	}
	if (MO_USDT_MARKER(cookie) == MO_HEAP_PROBE_ALLOC)
		return sample_alloc((const struct mo_heap_sample *)arg);
	return sample_free(arg);
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Stack sites sampled by bytes: shared by heap.bpf.c (allocation sites) and
 * rss.bpf.c (where RSS grew). */
#ifndef MO_STACKS_BPF_H
#define MO_STACKS_BPF_H

#include "common.bpf.h"
#include "unwind.bpf.h"

/* Systematic sampling of a byte stream: a sample point every `period`
 * bytes, starting at a random offset. An event of `bytes` that holds k points
 * is sampled with weight k * period, so each byte is counted 1/period of the
 * time with weight period: unbiased totals per site. *left: bytes to the next
 * point (0: not started). Returns the weight, 0 when not sampled. */
static __always_inline __u64 sample_weight(__s64 *left, __u64 bytes, __u64 period)
{
	__s64 l;
	__u64 k;

	if (!period)
		return 0;
	if (*left <= 0)
		*left = bpf_get_prandom_u32() % period + 1;
	l = *left - (__s64)bytes;
	if (l > 0) {
		*left = l;
		return 0;
	}
	k = 1 + (__u64)(-l) / period;
	*left = l + (__s64)(k * period);
	return k * period;
}

/* Is the stored stack the one just taken (its first n bytes, then its end)? */
static __always_inline bool same_stack(const struct mo_stack *stored, const struct mo_stack *taken, __u32 n)
{
	const __u64 *a = (const __u64 *)stored->frames, *b = (const __u64 *)taken->frames;
	__u32 end = n / sizeof(struct mo_stack_frame);

	for (__u32 i = 0; i < sizeof(struct mo_stack) / 8; i++) {
		if (i >= n / 8)
			break;
		if (a[i] != b[i])
			return false;
	}
	/* Keep the mask: clang drops it where it can prove it redundant, the
	 * verifier cannot. */
	asm volatile("" : "+r"(end));
	return n >= sizeof(stored->frames) || !stored->frames[end & (MO_STACK_DEPTH - 1)].status;
}

/* The current user stack, walked from r (unwind.bpf.h), stored once in
 * mo_stacks: returns its key, 0 when it cannot be taken or stored, or when
 * another stack holds its key (a hash collision): counted, never merged. */
static __always_inline __u64 stack_key(const struct user_regs *r, __u32 kind)
{
	__u32 zero = 0, words;
	struct mo_stack *buf = bpf_map_lookup_elem(&mo_stack_buf, &zero), *stored;
	__u64 *w, h = 14695981039346656037ull;
	long n;

	if (!buf)
		return 0;
	n = unwind_user(buf, r);
	/* No frame, RSS growing under the task's own map lock (a program being
	 * loaded: holds_own_map): bpf_find_vma could not take that map. */
	if (n <= 0 && kind == MO_SITE_RSS && holds_own_map()) {
		exec_frame(&buf->frames[0]);
		n = sizeof(buf->frames[0]);
	}
	if (n <= 0) {
		MO_DROP(stacks);
		return 0;
	}
	/* FNV-1a over the frames taken, a 64-bit word at a time. */
	words = (__u32)n / sizeof(__u64);
	w = (__u64 *)buf->frames;
	for (__u32 i = 0; i < sizeof(struct mo_stack) / 8; i++) {
		if (i >= words)
			break;
		h = (h ^ w[i]) * 1099511628211ull;
	}
	h = h ?: 1;
	/* Frames past the ones taken hold an older stack: end it here. */
	if ((__u32)n < sizeof(buf->frames))
		buf->frames[((__u32)n / sizeof(struct mo_stack_frame)) & (MO_STACK_DEPTH - 1)].status = 0;
	stored = bpf_map_lookup_elem(&mo_stacks, &h);
	if (!stored) {
		if (!bpf_map_update_elem(&mo_stacks, &h, buf, BPF_NOEXIST))
			return h;
		stored = bpf_map_lookup_elem(&mo_stacks, &h);	/* another CPU stored it, or full */
	}
	if (!stored || !same_stack(stored, buf, n)) {
		MO_DROP(stacks);
		return 0;
	}
	return h;
}

/* The program the current task runs: a hash of its executable's (dev,
 * inode), named once in mo_progs (by the comm of its process). 0 when the
 * task has no executable (a kernel thread). */
static __always_inline __u32 current_prog(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct mo_prog rec = {};
	__u32 id;

	if (!exe)
		return 0;
	rec.dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
	rec.ino = BPF_CORE_READ(exe, f_inode, i_ino);
	id = (__u32)(((rec.ino * 0x9e3779b97f4a7c15ull) ^ rec.dev) >> 16) ?: 1;
	if (bpf_map_lookup_elem(&mo_progs, &id))
		return id;
	BPF_CORE_READ_STR_INTO(&rec.comm, task, group_leader, comm);
	if (bpf_map_update_elem(&mo_progs, &id, &rec, BPF_NOEXIST) && !bpf_map_lookup_elem(&mo_progs, &id))
		MO_DROP(programs);
	return id;
}

/* An allocation site's outstanding bytes changed: kept by phase epoch, so
 * that each phase's growth per site can be summed later (mo_site_delta_key).
 * The marker's thread does nothing per site. */
static __always_inline void site_delta(__u64 stack, __u32 prog, __s64 bytes)
{
	struct mo_site_delta_key key = { .stack = stack, .epoch = mo_sess.site_epoch, .prog = prog };
	__s64 zero = 0, *v = bpf_map_lookup_elem(&mo_site_deltas, &key);

	if (!v) {
		bpf_map_update_elem(&mo_site_deltas, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&mo_site_deltas, &key);
		if (!v) {
			MO_DROP(phase_sites);
			return;
		}
	}
	__sync_fetch_and_add(v, bytes);
}

/* Credit the current user stack with a sampled event. Returns its stack
 * key and sets *prog, 0 (counted) when the stack or the site cannot be
 * recorded. */
static __always_inline __u64 site_add(const struct user_regs *r, __u32 kind, __u64 weight, __u64 count, bool live,
				      __u32 *prog)
{
	struct mo_site_key key = { .kind = kind };
	struct mo_site zero = {}, *site;

	key.stack = stack_key(r, kind);
	if (!key.stack)
		return 0;
	key.prog = *prog = current_prog();
	site = bpf_map_lookup_elem(&mo_sites, &key);
	if (!site) {
		bpf_map_update_elem(&mo_sites, &key, &zero, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&mo_sites, &key);
		if (!site) {
			MO_DROP(sites);
			return 0;
		}
	}
	__sync_fetch_and_add(&site->bytes, weight);
	__sync_fetch_and_add(&site->count, count);
	if (live) {
		__sync_fetch_and_add(&site->live, weight);
		site_delta(key.stack, key.prog, weight);
	}
	return key.stack;
}

/* A sampled block is freed: its site's outstanding bytes go down. */
static __always_inline void site_release(__u64 stack, __u32 prog, __u64 weight)
{
	struct mo_site_key key = { .stack = stack, .kind = MO_SITE_ALLOC, .prog = prog };
	struct mo_site *site = bpf_map_lookup_elem(&mo_sites, &key);

	if (!site)
		return;
	__sync_fetch_and_sub(&site->live, weight);
	site_delta(stack, prog, -(__s64)weight);
}

#endif

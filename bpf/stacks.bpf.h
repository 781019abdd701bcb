/* SPDX-License-Identifier: GPL-2.0 */
/* Stack sites sampled by bytes: shared by heap.bpf.c (allocation sites) and
 * rss.bpf.c (where RSS grew). */
#ifndef MO_STACKS_BPF_H
#define MO_STACKS_BPF_H

#include "common.bpf.h"

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

/* Credit the current user stack with a sampled event. Returns its stack id,
 * or -1 (counted) when the stack or the site cannot be recorded: a hash
 * collision in mo_stacks fails rather than merge two stacks (no REUSE flag). */
static __always_inline __s32 site_add(void *ctx, __u32 kind, __u64 weight, __u64 count, bool live)
{
	struct mo_site_key key = { .kind = kind };
	struct mo_site zero = {}, *site;

	key.stack_id = bpf_get_stackid(ctx, &mo_stacks, BPF_F_USER_STACK);
	if (key.stack_id < 0) {
		MO_DROP(stacks);
		return -1;
	}
	site = bpf_map_lookup_elem(&mo_sites, &key);
	if (!site) {
		bpf_map_update_elem(&mo_sites, &key, &zero, BPF_NOEXIST);
		site = bpf_map_lookup_elem(&mo_sites, &key);
		if (!site) {
			MO_DROP(sites);
			return -1;
		}
	}
	__sync_fetch_and_add(&site->bytes, weight);
	__sync_fetch_and_add(&site->count, count);
	if (live)
		__sync_fetch_and_add(&site->live, weight);
	return key.stack_id;
}

/* A sampled block is freed: its site's outstanding bytes go down. */
static __always_inline void site_release(__s32 stack_id, __u64 weight)
{
	struct mo_site_key key = { .stack_id = stack_id, .kind = MO_SITE_ALLOC };
	struct mo_site *site = bpf_map_lookup_elem(&mo_sites, &key);

	if (site)
		__sync_fetch_and_sub(&site->live, weight);
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* A USDT probe's argument, fetched as its uprobe_multi cookie says
 * (memobs_abi.h: MO_USDT_COOKIE; user/probe/usdt.c writes it). */
#ifndef MO_USDT_BPF_H
#define MO_USDT_BPF_H

#include "common.bpf.h"

/* Fetch the argument into *out, sign- or zero-extended to 64 bits.
 * 0, or -1 when a register slot is bad or memory cannot be read. */
static __always_inline int usdt_arg(struct pt_regs *ctx, __u64 cookie, __u64 *out)
{
	__u32 kind = MO_USDT_KIND(cookie), slot = MO_USDT_REG(cookie);
	__u32 bits = 8u << MO_USDT_SIZE_LOG2(cookie), shift = 64 - bits;
	__s64 val = MO_USDT_VAL(cookie);
	__u64 v = 0, addr;

	if (kind == MO_USDT_ARG_CONST) {
		*out = val;
		return 0;
	}
	if (slot >= MO_USDT_REG_SLOTS || bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + slot * sizeof(__u64)))
		return -1;
	if (kind == MO_USDT_ARG_DEREF) {
		addr = v + val;
		v = 0;
		/* Exactly the argument's bytes: the next ones may be unmapped. */
		switch (bits) {
		case 8:
			if (bpf_probe_read_user(&v, 1, (void *)addr))
				return -1;
			break;
		case 16:
			if (bpf_probe_read_user(&v, 2, (void *)addr))
				return -1;
			break;
		case 32:
			if (bpf_probe_read_user(&v, 4, (void *)addr))
				return -1;
			break;
		default:
			if (bpf_probe_read_user(&v, 8, (void *)addr))
				return -1;
		}
	}
	/* Little endian: the argument is the low bits of v. */
	if (shift) {
		v <<= shift;
		v = MO_USDT_SIGNED(cookie) ? (__u64)((__s64)v >> shift) : v >> shift;
	}
	*out = v;
	return 0;
}

#endif

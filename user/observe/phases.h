/* SPDX-License-Identifier: GPL-2.0 */
/* Phase records from the BPF phase table to run->phases, in user units. No
 * libbpf here. */
#ifndef MO_PHASES_H
#define MO_PHASES_H

#include <stddef.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "model/run.h"

/* A phase name BPF could not read, recovered from /proc/PID/mem. */
struct mo_phase_name_fix {
	__u32 id;
	char name[MO_NAME_LEN];
};

struct mo_phase_end_state {
	__u64 t0_ns;		/* start of the run */
	__u64 end_ns;		/* end of the session */
	__s64 rss;		/* session RSS at the end */
	__s64 heap_live;	/* session live heap at the end */
};

/* Append table[0..n) (index = phase id; [0] is the root; records as
 * session__read_phase gives them, peaks whole) to run->phases. Phases still
 * open at the end are closed there and flagged unclosed. 0/-ENOMEM. */
int phases_from_bpf(struct mo_run *run, struct mo_phase *table, size_t n, const struct mo_phase_name_fix *fixes,
		    size_t nfixes, const struct mo_phase_end_state *end);

#endif

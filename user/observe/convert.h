/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel ABI's figures (memobs_abi.h) in the model's own types
 * (model/run.h): the one place where the two meet, so that the model, the
 * reports and the history never depend on the BPF side's layout. */
#ifndef MO_CONVERT_H
#define MO_CONVERT_H

#include <stdint.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "model/run.h"

/* BPF's drop counters, by enum mo_drop. */
void convert_drops(const volatile struct mo_drops *d, uint64_t out[MO_DROP_KINDS]);
/* RSS by enum mo_rss_member into RSS by enum mo_mem_kind. */
void convert_mem(const volatile __s64 in[MO_RSS_NR], int64_t out[MO_MEM_KINDS]);
/* A (process, phase) record of mo_pstats. */
void convert_pstat(const struct mo_pstat *stat, __u32 phase, struct mo_proc_phase *out);
/* An enum mo_site_kind. */
enum mo_site_of convert_site_of(__u32 kind);

#endif

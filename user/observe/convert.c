// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "lib/procfs.h"
#include "observe/convert.h"

_Static_assert(MO_RUN_COMM_LEN == MO_COMM_LEN && MO_RUN_NAME_LEN == MO_NAME_LEN, "model and ABI lengths");
_Static_assert(MO_RUN_ROOT == MO_PHASE_ROOT && MO_RUN_DEPTH == MO_PHASE_DEPTH, "model and ABI phases");
_Static_assert(MO_RUN_ITEMS_MAX == MO_ITEMS_MAX, "model and ABI items");
/* /proc's figures go to BPF as they are read (session__add_proc). */
_Static_assert(PROCFS_COMM_LEN == MO_COMM_LEN && (int)PROCFS_RSS_FILE == (int)MO_RSS_FILE &&
	       (int)PROCFS_RSS_ANON == (int)MO_RSS_ANON && (int)PROCFS_RSS_SWAP == (int)MO_RSS_SWAP &&
	       (int)PROCFS_RSS_SHMEM == (int)MO_RSS_SHMEM && (int)PROCFS_RSS_NR == (int)MO_RSS_NR, "procfs and ABI RSS");
_Static_assert((int)MO_MEM_KINDS == (int)MO_RSS_NR, "a kind of RSS was added to the ABI: convert it in convert_mem");

/* Where each of the model's drop counters is in the ABI's struct. */
static const size_t drop_offsets[MO_DROP_KINDS] = {
	[MO_DROP_EVENTS] = offsetof(struct mo_drops, events),
	[MO_DROP_PROCESSES] = offsetof(struct mo_drops, processes),
	[MO_DROP_PROC_PHASES] = offsetof(struct mo_drops, pstats),
	[MO_DROP_HEAP_BLOCKS] = offsetof(struct mo_drops, allocs),
	[MO_DROP_STACKS] = offsetof(struct mo_drops, stacks),
	[MO_DROP_SITES] = offsetof(struct mo_drops, sites),
	[MO_DROP_PHASE_SITES] = offsetof(struct mo_drops, phase_sites),
	[MO_DROP_PHASES] = offsetof(struct mo_drops, phases),
	[MO_DROP_MM_IDS] = offsetof(struct mo_drops, mm_ids),
	[MO_DROP_MISSED_FREES] = offsetof(struct mo_drops, missed_frees),
	[MO_DROP_UNMATCHED_ENDS] = offsetof(struct mo_drops, unmatched_ends),
	[MO_DROP_MARKER_READS] = offsetof(struct mo_drops, marker_reads),
	[MO_DROP_MARKER_NAMES_UNREAD] = offsetof(struct mo_drops, marker_names_unread),
	[MO_DROP_CONTENDED] = offsetof(struct mo_drops, contended),
	[MO_DROP_PROGRAMS] = offsetof(struct mo_drops, programs),
	[MO_DROP_MARKS] = offsetof(struct mo_drops, marks),
	[MO_DROP_MARKERS_REFUSED] = offsetof(struct mo_drops, markers_refused),
	[MO_DROP_PYCODES] = offsetof(struct mo_drops, pycodes),
	[MO_DROP_STACKS_CUT] = offsetof(struct mo_drops, stacks_cut),
	[MO_DROP_HEAP_CALLS] = offsetof(struct mo_drops, heap_calls),
	[MO_DROP_HEAP_UNTRACKED] = offsetof(struct mo_drops, heap_untracked),
	[MO_DROP_HEAP_UNHELD] = offsetof(struct mo_drops, heap_unheld),
};

_Static_assert(MO_DROP_KINDS * sizeof(__u64) == sizeof(struct mo_drops),
	       "a counter was added to struct mo_drops: add it to enum mo_drop and drop_offsets");

void convert_drops(const volatile struct mo_drops *d, uint64_t out[MO_DROP_KINDS])
{
	for (size_t i = 0; i < MO_DROP_KINDS; i++)
		out[i] = *(const volatile __u64 *)((const volatile char *)d + drop_offsets[i]);
}

void convert_mem(const volatile __s64 in[MO_RSS_NR], int64_t out[MO_MEM_KINDS])
{
	out[MO_MEM_FILE] = in[MO_RSS_FILE];
	out[MO_MEM_ANON] = in[MO_RSS_ANON];
	out[MO_MEM_SWAP] = in[MO_RSS_SWAP];
	out[MO_MEM_SHMEM] = in[MO_RSS_SHMEM];
}

void convert_pstat(const struct mo_pstat *stat, __u32 phase, struct mo_proc_phase *out)
{
	*out = (struct mo_proc_phase){
		.phase = phase,
		.rss_peak = stat->rss_peak,
		.heap_peak_live = stat->heap_peak_live,
		.heap = {
			.alloc_bytes = stat->alloc_bytes,
			.alloc_count = stat->alloc_count,
			.free_bytes = stat->free_bytes,
			.free_count = stat->free_count,
			.free_unknown_count = stat->free_unknown_count,
		},
	};
}

enum mo_site_of convert_site_of(__u32 kind)
{
	return kind == MO_SITE_ALLOC ? MO_SITE_OF_ALLOC : MO_SITE_OF_RSS;
}

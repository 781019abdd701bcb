// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include "observe/phases.h"

static double secs(__u64 ns, __u64 t0)
{
	return ns > t0 ? (double)(ns - t0) / 1e9 : 0.0;
}

/* Close what is still open at the end. Their peaks are whole already:
 * every open phase had every segment of the session folded into it. */
static void close_open(struct mo_phase *table, size_t n, const struct mo_phase_end_state *end, bool *unclosed)
{
	for (size_t i = 0; i < n; i++) {
		struct mo_phase *ph = &table[i];

		if (!(ph->flags & MO_PHASE_OPEN))
			continue;
		ph->flags = (ph->flags & ~MO_PHASE_OPEN) | MO_PHASE_ENDED;
		ph->end_ns = end->end_ns;
		ph->rss_end = end->rss;
		ph->heap_end = end->heap_live;
		unclosed[i] = i != MO_PHASE_ROOT;
	}
}

int phases_from_bpf(struct mo_run *run, struct mo_phase *table, size_t n, const struct mo_phase_name_fix *fixes,
		    size_t nfixes, const struct mo_phase_end_state *end)
{
	bool unclosed[MO_MAX_PHASES] = { false };

	if (n > MO_MAX_PHASES)
		n = MO_MAX_PHASES;
	close_open(table, n, end, unclosed);
	for (size_t i = 0; i < n; i++) {
		const struct mo_phase *ph = &table[i];
		struct mo_phase_rec *rec = run_add_phase(run);

		if (!rec)
			return -ENOMEM;
		memcpy(rec->name, ph->name, sizeof(rec->name));
		for (size_t f = 0; f < nfixes; f++)
			if (fixes[f].id == i) {
				memcpy(rec->name, fixes[f].name, sizeof(rec->name));
				rec->name_from_proc_mem = true;
			}
		rec->name[MO_NAME_LEN - 1] = 0;
		rec->name_unread = (ph->flags & MO_PHASE_NAME_PENDING) && !rec->name_from_proc_mem;
		if (rec->name_unread)
			rec->name[0] = 0;
		rec->parent = i == MO_PHASE_ROOT || ph->parent >= n ? MO_PHASE_ROOT : ph->parent;
		rec->depth = ph->depth;
		rec->start_s = secs(ph->start_ns, end->t0_ns);
		rec->end_s = secs(ph->end_ns, end->t0_ns);
		rec->unclosed = unclosed[i];
		rec->implicit_end = ph->flags & MO_PHASE_IMPLICIT_END;
		rec->name_truncated = ph->flags & MO_PHASE_NAME_TRUNCATED;
		rec->items_overflow = ph->items_overflows || ph->items > MO_ITEMS_MAX;
		rec->items = rec->items_overflow ? 0 : ph->items;
		if (rec->items_overflow)
			run_add_warning(run, "phase '%s': an items marker counted past 2^53 (a negative count cast to "
					"uint64?): its items are unknown", rec->name);
		rec->rss_baseline = ph->rss_baseline;
		rec->rss_peak = ph->rss_peak > ph->rss_baseline ? ph->rss_peak : ph->rss_baseline;
		rec->rss_end = ph->rss_end;
		rec->heap_baseline = ph->heap_baseline;
		rec->heap_peak = ph->heap_peak > ph->heap_baseline ? ph->heap_peak : ph->heap_baseline;
		rec->heap_end = ph->heap_end;
		rec->alloc_bytes = ph->alloc_bytes;
		rec->alloc_count = ph->alloc_count;
		rec->free_bytes = ph->free_bytes;
		rec->free_count = ph->free_count;
	}
	return 0;
}

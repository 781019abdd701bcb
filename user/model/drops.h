/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MO_DROPS_H
#define MO_DROPS_H

#include <stdbool.h>
#include <stdint.h>

/* What memobs could not record, counted: one table (run_drop_kinds, in
 * report order) for the run document, the reports, the live view and
 * Prometheus. */
enum mo_drop {
	MO_DROP_EVENTS,
	MO_DROP_PROCESSES,
	MO_DROP_PROC_PHASES,
	MO_DROP_HEAP_BLOCKS,
	MO_DROP_STACKS,
	MO_DROP_SITES,
	MO_DROP_PHASE_SITES,
	MO_DROP_PHASES,
	MO_DROP_MM_IDS,
	MO_DROP_MISSED_FREES,
	MO_DROP_UNMATCHED_ENDS,
	MO_DROP_MARKER_READS,
	MO_DROP_MARKER_NAMES_UNREAD,
	MO_DROP_CONTENDED,
	MO_DROP_PROGRAMS,
	MO_DROP_MARKS,
	MO_DROP_MARKERS_REFUSED,
	MO_DROP_PYCODES,
	MO_DROP_STACKS_CUT,
	MO_DROP_HEAP_CALLS,
	MO_DROP_HEAP_UNTRACKED,
	MO_DROP_HEAP_UNHELD,
	MO_DROP_KINDS,
};

struct mo_drop_kind {
	const char *key;	/* under "drops" in the run document; Prometheus's kind label */
	const char *what;	/* what the reports call it */
	bool lost;		/* something was not recorded (else it was noted: recovered, ignored) */
};
extern const struct mo_drop_kind run_drop_kinds[MO_DROP_KINDS];

/* The counters of what was lost (run_drop_kinds[].lost), summed. */
uint64_t run_drops_lost(const uint64_t drops[MO_DROP_KINDS]);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "model/drops.h"

const struct mo_drop_kind run_drop_kinds[MO_DROP_KINDS] = {
	[MO_DROP_EVENTS] = { "events", "events (ring buffer full)", true },
	[MO_DROP_PROCESSES] = { "processes", "processes (table full)", true },
	[MO_DROP_PROC_PHASES] = { "process_phase_records", "process-phase records", true },
	[MO_DROP_HEAP_BLOCKS] = { "heap_blocks", "heap blocks not tracked", true },
	[MO_DROP_STACKS] = { "stacks", "stacks", true },
	[MO_DROP_SITES] = { "sites", "sites", true },
	[MO_DROP_PHASE_SITES] = { "phase_sites", "allocation-site changes by phase", true },
	[MO_DROP_PHASES] = { "phases", "phases (table full, too many open, or nested too deep)", true },
	[MO_DROP_MM_IDS] = { "mm_ids", "mm ids", true },
	[MO_DROP_MISSED_FREES] = { "missed_frees", "missed frees", true },
	[MO_DROP_UNMATCHED_ENDS] = { "unmatched_phase_ends", "unmatched phase ends", false },
	[MO_DROP_MARKER_READS] = { "marker_reads_in_bpf", "marker names BPF could not read (read from /proc)", false },
	[MO_DROP_MARKER_NAMES_UNREAD] = { "marker_names_unread",
					  "marker names unread (the process exec'd or exited first)", true },
	[MO_DROP_CONTENDED] = { "contended_updates", "updates given up (a compare-and-swap lost 32 times in a row)", true },
	[MO_DROP_PROGRAMS] = { "programs", "programs of sites (table full: unnamed)", true },
	[MO_DROP_MARKS] = { "marks", "marks (past --max-marks or --max-mark-rate)", true },
	[MO_DROP_HEAP_CALLS] = { "uncounted_calls", "allocator calls not counted (every row of a process's slot taken)",
				 true },
	[MO_DROP_HEAP_UNTRACKED] = { "untracked_samples",
				     "sampled blocks whose free was not followed (no room to remember them)", true },
	[MO_DROP_HEAP_UNHELD] = { "unheld_forks", "processes forked before their allocator probes were in place "
				  "(--heap, not held at fork): their calls until then not counted", true },
	[MO_DROP_MARKERS_REFUSED] = { "markers_refused", "markers of other users (-a: root's and --marker-uid's only)",
				      false },
	[MO_DROP_PYCODES] = { "python_code", "Python code objects (table full: unnamed)", true },
	[MO_DROP_STACKS_CUT] = { "stacks_cut", "stacks cut short (the memory map was locked)", true },
};

uint64_t run_drops_lost(const uint64_t drops[MO_DROP_KINDS])
{
	uint64_t sum = 0;

	for (size_t i = 0; i < MO_DROP_KINDS; i++)
		if (run_drop_kinds[i].lost)
			sum += drops[i];
	return sum;
}

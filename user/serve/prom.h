/* SPDX-License-Identifier: GPL-2.0 */
/* The Prometheus text exposition format 0.0.4 of one snapshot of a running
 * observation (--serve): pure data and formatting, no sockets; serve.c
 * answers /metrics with it.
 *
 * Metric names are stable (sizes in bytes, times in seconds; counters end
 * in _total). RSS is file + anon + shmem, as VmRSS: the `kind` label of
 * *_rss_bytes takes those three values, so that sum() is the RSS; swap has
 * its own *_swap_bytes.
 *
 *   memobs_build_info{version}                       gauge, 1
 *   memobs_elapsed_seconds                           gauge
 *   memobs_session_rss_bytes{kind}                   gauge, session sum now
 *   memobs_session_swap_bytes                        gauge
 *   memobs_session_rss_peak_bytes                    gauge, concurrent peak so far
 *   memobs_session_processes                         gauge, live processes
 *   memobs_session_heap_live_bytes                   gauge  } --heap only
 *   memobs_session_heap_peak_live_bytes              gauge  }
 *   memobs_heap_allocated_bytes_total, memobs_heap_allocations_total,
 *   memobs_heap_freed_bytes_total, memobs_heap_frees_total     counters, --heap only
 *   memobs_drops_total{kind}                         counter, one kind per drop counter (run_drop_kinds)
 *   memobs_phase_current{phase}                      gauge, 1 for the newest open phase
 *   memobs_phase_open{phase}                         gauge, 1 open / 0 closed
 *   memobs_phase_duration_seconds{phase}             gauge, so far while open
 *   memobs_phase_rss_peak_over_baseline_bytes{phase} gauge
 *   memobs_phase_heap_peak_live_bytes{phase}         gauge, --heap only
 *   memobs_phases_other                              gauge, phase names not listed
 *   memobs_process_rss_bytes{pid,comm,kind}          gauge
 *   memobs_process_swap_bytes{pid,comm}              gauge
 *   memobs_process_rss_peak_bytes{pid,comm}          gauge, peak of the process's RSS
 *   memobs_process_heap_live_bytes{pid,comm}         gauge, processes with heap probes
 *   memobs_processes_other                           gauge, processes not listed
 *   memobs_processes_other_rss_bytes{kind}           gauge, their RSS summed
 *   memobs_cgroup_rss_bytes{cgroup,kind}             gauge, sum over its live processes
 *   memobs_cgroup_rss_peak_bytes{cgroup}             gauge, highest sum seen at a snapshot
 *   memobs_cgroup_processes{cgroup}                  gauge
 *   memobs_cgroups_other, memobs_cgroups_other_rss_bytes{kind}   as for processes
 *
 * Bounded cardinality: at most limits.procs processes (the largest by RSS
 * now, ties to the lower pid), limits.cgroups cgroups (largest by RSS now)
 * and limits.phases phase names (open phases first, then the most recently
 * begun) are listed, so that a scrape holds at most about
 * 6 * procs + 5 * cgroups + 5 * phases + 40 series (under 1000 with the
 * defaults) whatever the host runs. A phase name that occurs several times
 * is listed once, with its latest instance. Label values are valid UTF-8
 * (invalid bytes become U+FFFD), with \ " and newline escaped. */
#ifndef MO_PROM_H
#define MO_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "model/run.h"
#include "model/drops.h"

#define MO_PROM_MAX_PROCS 64
#define MO_PROM_MAX_CGROUPS 64
#define MO_PROM_MAX_PHASES 32
#define MO_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct mo_prom_proc {
	pid_t pid;
	char comm[MO_RUN_COMM_LEN];
	int64_t rss[MO_MEM_KINDS];	/* now, by kind (enum mo_mem_kind), swap included */
	int64_t rss_peak;		/* peak of file + anon + shmem (mo_proc.rss_peak_sum) */
	int64_t heap_live;		/* -1: heap not traced, or no probes in it */
	const char *cgroup;		/* its cgroup (v2 path), NULL or "": unknown */
};

struct mo_prom_phase {
	const char *name;
	bool open;
	double duration_s;		/* so far while open */
	int64_t rss_peak_over_baseline;	/* session RSS peak while open, minus the baseline */
	int64_t heap_peak_live;		/* -1 without --heap */
};

struct mo_prom_snapshot {
	double elapsed_s;
	int64_t rss[MO_MEM_KINDS];	/* the session's sum now, by kind */
	int64_t rss_peak;		/* its concurrent peak of file + anon + shmem */
	int64_t processes;		/* live processes of the session */
	int64_t heap_live, heap_peak;	/* -1 without --heap: the heap families are left out */
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
	uint64_t drops[MO_DROP_KINDS];	/* by enum mo_drop */
	const char *phase;		/* the newest open phase, NULL: none */
	const struct mo_prom_phase *phases;	/* in the order they began */
	size_t nphases;
	const struct mo_prom_proc *procs;	/* live processes, any order */
	size_t nprocs;
};

struct mo_prom_limits {
	size_t procs, cgroups, phases;
};

/* The defaults above. */
struct mo_prom_limits prom_default_limits(void);

/* Cgroup peaks carried from one snapshot to the next: the session tracks
 * no per-cgroup peak, so this one is the highest sum seen at a snapshot
 * (as often as the run loop makes one). Remembers at most max cgroups,
 * forgetting the ones no longer seen when full. */
struct mo_prom_peaks;

/* NULL+errno (ENOMEM). Free with prom_peaks__free (NULL-safe). */
struct mo_prom_peaks *prom_peaks__new(size_t max);
void prom_peaks__free(struct mo_prom_peaks *peaks);

/* Fold snap's cgroup sums into peaks. 0 or -ENOMEM. */
int prom_peaks__update(struct mo_prom_peaks *peaks, const struct mo_prom_snapshot *snap);

/* Write snap to out as the text exposition. lim NULL: the defaults;
 * peaks NULL: a cgroup's peak is its sum now; otherwise peaks is updated
 * with snap first. 0, -ENOMEM, or -EIO when out failed. */
int prom_write(FILE *out, const struct mo_prom_snapshot *snap, const struct mo_prom_limits *lim,
	       struct mo_prom_peaks *peaks);

/* Write s (at most len bytes, stopping at a NUL) as the inside of a label
 * value: valid UTF-8, \ " and newline escaped. */
void prom_write_label_value(FILE *out, const char *s, size_t len);

#endif

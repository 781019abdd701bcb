/* SPDX-License-Identifier: GPL-2.0 */
/* A run's summary: the figures `history`, `compare` and `check` read,
 * typed. Read from a run document (memobs -o, an old history line) or from
 * a summary (a history line: a subset of the document's shape,
 * docs/run-document.md); built from a struct mo_run through its document,
 * so that both paths read the same way.
 *
 * Every figure is a double (sizes fit exactly below 2^53), NAN when the run
 * does not have it. Phases are merged by name as the metrics see them (a
 * phase that ran several times counts once: peaks are the highest window's,
 * additive figures the sum, baselines the first window's, ends the last's).
 * The field tables say, in one place per figure, its name, where it is in
 * the document, its unit and how windows merge. */
#ifndef MO_SUMMARY_H
#define MO_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "lib/units.h"
#include "model/run.h"

#define SUMMARY_MAX_PHASES 64		/* phase names kept, in order of first appearance */
#define SUMMARY_MAX_COMMANDS 32		/* by_command groups kept, the highest peaks */

enum mo_total {
	MO_TOTAL_PEAK_RSS,
	MO_TOTAL_PEAK_PHYSICAL,
	MO_TOTAL_PEAK_HEAP,
	MO_TOTAL_ALLOC_BYTES,
	MO_TOTAL_ALLOC_COUNT,
	MO_TOTAL_DURATION,
	MO_TOTALS,
};

enum mo_phase_fig {
	MO_PHASE_DURATION,
	MO_PHASE_ITEMS,
	MO_PHASE_RSS_BASELINE,
	MO_PHASE_RSS_PEAK,
	MO_PHASE_RSS_END,
	MO_PHASE_RSS_DELTA,
	MO_PHASE_RSS_PEAK_OVER_BASELINE,
	MO_PHASE_HEAP_BASELINE,
	MO_PHASE_HEAP_PEAK,
	MO_PHASE_HEAP_END,
	MO_PHASE_HEAP_PEAK_OVER_BASELINE,
	MO_PHASE_ALLOC_BYTES,
	MO_PHASE_ALLOC_COUNT,
	MO_PHASE_FREE_BYTES,
	MO_PHASE_FREE_COUNT,
	MO_PHASE_FIGS,
};

enum mo_command_fig {
	MO_COMMAND_PROCESSES,
	MO_COMMAND_RSS_PEAK_MAX,
	MO_COMMAND_RSS_PEAK_SUM,
	MO_COMMAND_HEAP_ALLOC_BYTES,
	MO_COMMAND_FIGS,
};

/* The largest process of the run by one figure. */
enum mo_max_fig {
	MO_MAX_PEAK_RSS,
	MO_MAX_PEAK_HEAP,
	MO_MAX_FIGS,
};

/* How the windows of one phase name merge. */
enum mo_merge {
	MO_MERGE_MAX,
	MO_MERGE_SUM,
	MO_MERGE_FIRST,
	MO_MERGE_LAST,
};

struct mo_summary_field {
	const char *name;	/* in metric names: "peak_rss", "rss.peak", "rss_peak_max" */
	const char *path;	/* in the document, relative to its object: "totals.rss.peak" */
	enum mo_unit unit;
	enum mo_merge merge;	/* phases only */
	bool heap;		/* a heap figure: not measured without --heap */
};

extern const struct mo_summary_field summary_totals[MO_TOTALS];
extern const struct mo_summary_field summary_phase_figs[MO_PHASE_FIGS];
extern const struct mo_summary_field summary_command_figs[MO_COMMAND_FIGS];
extern const struct mo_summary_field summary_max_figs[MO_MAX_FIGS];

struct mo_summary_phase {
	char name[MO_RUN_NAME_LEN];
	size_t windows;			/* phase windows of this name merged */
	double fig[MO_PHASE_FIGS];
};

struct mo_summary_command {
	char comm[MO_RUN_COMM_LEN];
	double fig[MO_COMMAND_FIGS];
};

/* The largest process by one figure (its peak RSS, or its peak live heap). */
struct mo_summary_max {
	bool present;
	pid_t pid;
	char comm[MO_RUN_COMM_LEN];
	double value;
};

struct mo_summary {
	char time_utc[32];
	char host[256];
	char memobs_version[32];
	char *label;			/* NULL: none */
	char *document;			/* a history line's: where the whole document is, NULL: nowhere */
	bool from_line;			/* read from a summary line ("summary": true), not a document */
	char **command;			/* NULL-terminated; NULL with -p and -a */
	int exit_status;		/* the command's, shell style; -1 unknown (-p, -a) */
	struct mo_git git;
	bool heap_traced;		/* false: heap figures were not measured (no --heap) */
	double total[MO_TOTALS];
	struct mo_summary_phase *phases;	/* [0] is the root, "main" */
	size_t nphases;
	size_t phases_left_out;		/* names past SUMMARY_MAX_PHASES */
	struct mo_summary_command *commands;	/* by descending rss_peak_max */
	size_t ncommands;
	size_t commands_left_out;
	struct mo_summary_max max[MO_MAX_FIGS];	/* the processes of the highest peaks */
};

void summary_init(struct mo_summary *s);
void summary_free(struct mo_summary *s);

/* The summary of a run document or of a summary line (already known to be
 * one: an object with schema and totals). 0 or -ENOMEM. */
int summary_from_json(const cJSON *doc, struct mo_summary *s);

/* The summary of a run, as its document would read back. 0 or -ENOMEM. */
int summary_from_run(const struct mo_run *run, struct mo_summary *s);

/* The summary as a history line: a subset of the document's members (and
 * "summary": true, "document" when set; docs/run-summary.schema.json).
 * Caller deletes / frees; NULL on ENOMEM. */
cJSON *summary_json_build(const struct mo_summary *s);
char *summary_json_render(const struct mo_summary *s);

/* A deep copy. 0 or -ENOMEM (then *dst is empty). */
int summary_copy(struct mo_summary *dst, const struct mo_summary *src);

/* The same run, read twice (from the history and from its -o file)? */
bool summary_same_run(const struct mo_summary *a, const struct mo_summary *b);

/* The same command line (both NULL: the same -p/-a observation)? */
bool summary_same_command(const struct mo_summary *a, const struct mo_summary *b);

/* The phase of that name, NULL when the run has none. */
const struct mo_summary_phase *summary_phase(const struct mo_summary *s, const char *name);

/* The by_command group of that comm, NULL when the summary has none. */
const struct mo_summary_command *summary_command(const struct mo_summary *s, const char *comm);

#endif

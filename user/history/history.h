/* SPDX-License-Identifier: GPL-2.0 */
/* The run history: JSON Lines, one run per line, append-only: its summary
 * (record.h), or in files written before summaries its whole document.
 * Appends are one locked write; reading skips what is not a whole run
 * (corrupt, truncated, blank, oversized lines) with a warning naming the
 * line, and never rewrites the file. */
#ifndef MO_HISTORY_H
#define MO_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "lib/invoker.h"
#include "model/summary.h"

#define HISTORY_DEFAULT_PATH ".memobs/history.jsonl"
#define HISTORY_RUNS_DIR "runs"		/* --history-full: documents beside the history file */
#define HISTORY_SCHEMA 1		/* the run document schema this reader knows */
#define HISTORY_MAX_LINE (64u << 20)	/* longer lines are skipped unread */
#define HISTORY_MAX_FILE (256u << 20)	/* a run document file (pretty-printed) */
#define HISTORY_MAX_WARNINGS 20		/* then one line counts the rest */

struct mo_history_run {
	struct mo_summary sum;
	size_t line;		/* 1-based line number in the file */
};

struct mo_history {
	struct mo_history_run *runs;	/* file order: oldest first */
	size_t nruns, runs_alloc;
	char **warnings;		/* "PATH:LINE: what (skipped)", one per bad line */
	size_t nwarnings, warnings_alloc;
};

/* Append json_doc (a run document printed unformatted, so without newlines)
 * to the history at path as one line, created as the invoking user with its
 * directory. When the file's last line lacks its newline (an interrupted
 * append), a newline is written first so that this run lands whole on its own
 * line. 0, or -errno with the reason in err; -EINVAL when json_doc is empty
 * or holds a newline. */
int history_append(const struct mo_invoker *inv, const char *path, const char *json_doc, char *err, size_t errlen);

/* Read every run of the history at path into *h (initialised here; free it
 * with history_free even on error). Each run keeps its summary (summary.h):
 * memory stays bounded whatever the lines hold. Lines that are not a run
 * document or summary of this schema are skipped and described in
 * h->warnings. An empty file gives zero runs.
 * Returns 0; -ENOENT when there is no such file (err says so); other -errno
 * when it cannot be read. */
int history_load(const char *path, struct mo_history *h, char *err, size_t errlen);

void history_free(struct mo_history *h);

/* Read a run document file (memobs -o) without its per-process, timeline
 * and stack arrays. Caller frees with cJSON_Delete. 0 or -errno with the
 * reason in err (-EINVAL: not a run document). */
int history_read_file(const char *path, cJSON **doc, char *err, size_t errlen);

/* The summary of a run document file (memobs -o) into *s (caller frees with
 * summary_free). 0 or -errno with the reason in err. */
int history_read_summary(const char *path, struct mo_summary *s, char *err, size_t errlen);

/* Resolve a reference to one run, trying in this order:
 *   @-1, @-2, ...   the newest run, the one before, ...
 *   an existing file: a run document file
 *   4 to 40 hex digits: the newest run whose git.commit starts with them
 *                   (an error when they match several commits)
 *   a label:        the newest run with that label
 *   a ref with a '/' or ending in .json: a run document file (the error)
 * *run is a copy the caller frees with summary_free; *line is its line in
 * the history, 0 for a file. 0, or -ENOENT / -EINVAL / -ENOMEM with the
 * reason in err. */
int history_resolve(const struct mo_history *h, const char *ref, struct mo_summary *run, size_t *line, char *err,
		    size_t errlen);

/* One-line description of a run: "2024-05-01 12:34:56 UTC, commit
 * abc1234567 (dirty), label 'x', command 'make -j8', exit 0" (what is
 * known of it). Returns buf. */
const char *history_describe(const struct mo_summary *run, char *buf, size_t len);

/* The run's command line, its arguments joined by spaces ("" with -p and
 * -a), cut to fit len. Returns buf. */
const char *history_command(const struct mo_summary *run, char *buf, size_t len);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* The options of a run (memobs [OPTIONS] -- COMMAND | -p PID | -a): their
 * table, help and checks. */
#ifndef MO_RUN_ARGS_H
#define MO_RUN_ARGS_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include "observe/filters.h"
#include "observe/tracer.h"

struct run_opts {
	struct mo_tracer_opts tracer;
	const char *output;
	const char *history;
	bool history_full;		/* and its whole document beside it */
	const char *label;
	pid_t *pids;
	size_t npids;
	struct mo_filters filters;
	char *filters_text;		/* as given, for the run document */
	bool all;
	bool quiet;
	bool heap_uprobes;		/* --heap=uprobes: a launched command's heap by uprobes too */
	char **command;
	bool command_first;		/* memobs's first argument: where a subcommand would be */
	char live_log[PATH_MAX];	/* --live: where the command's output goes, or "" */
	int stdio[3];			/* the command's standard streams (-1: memobs's) */
};

/* Parse argv into *o (zeroed by the caller, stdio -1; free with
 * run_args_free in any case). CLI_GO_ON, or the exit code to leave with (--help, --version, a
 * usage error said, an unknown user or cgroup). */
int run_args_parse(int argc, char **argv, struct run_opts *o);

void run_args_free(struct run_opts *o);

#endif

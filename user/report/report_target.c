// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include "report/report_target.h"
#include "lib/termesc.h"
#include "lib/textfit.h"

/* Enough for what fits in any headline; longer ones are cut anyway. */
#define TARGET_MAX 4096

static void describe(const struct mo_run *run, char *buf, size_t len)
{
	char arg[TARGET_MAX];
	size_t n = 0;

	buf[0] = 0;
	if (run->command) {
		for (char **c = run->command; *c && n < len; c++)
			n += snprintf(buf + n, len - n, "%s%s", c == run->command ? "" : " ", termesc(*c, arg, sizeof(arg)));
	} else if (run->host_wide) {
		n = snprintf(buf, len, "%s%s", run->filters ? "processes matching " : "all processes",
			     run->filters ? termesc(run->filters, arg, sizeof(arg)) : "");
	} else if (run->ntarget_pids > 1) {
		n = snprintf(buf, len, "pids");
		for (size_t i = 0; i < run->ntarget_pids && n < len; i++)
			n += snprintf(buf + n, len - n, "%s%d", i ? ", " : " ", run->target_pids[i]);
	} else {
		n = snprintf(buf, len, "pid %d", run->target_pid);
	}
}

const char *report_target(const struct mo_run *run, size_t cols, char *buf, size_t len)
{
	char *full = malloc(TARGET_MAX);

	if (!full) {
		snprintf(buf, len, "?");
		return buf;
	}
	describe(run, full, TARGET_MAX);
	textfit_cut(full, cols, false, buf, len);
	free(full);
	return buf;
}

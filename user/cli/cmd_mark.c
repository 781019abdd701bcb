// SPDX-License-Identifier: GPL-2.0
/* memobs mark begin NAME | end NAME | items N | mark LABEL: fire a marker from
 * this process, which belongs to the observed session when a script of it
 * runs us. Without an observer it does nothing and succeeds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <memobs/markers.h>
#include "cli/commands.h"
#include "lib/exitcodes.h"
#include "lib/log.h"

static void mark_usage(FILE *out)
{
	fprintf(out, "usage: memobs mark begin NAME | end NAME | items N | mark LABEL\n");
}

int cmd_mark(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "", *arg = argc > 2 ? argv[2] : NULL;

	if (argc == 2 && (!strcmp(verb, "--help") || !strcmp(verb, "-h"))) {
		mark_usage(stdout);
		return MO_EXIT_OK;
	}
	if (argc != 3 || !*arg) {
		mark_usage(stderr);
		return MO_EXIT_USAGE;
	}
	if (!strcmp(verb, "begin")) {
		MEMOBS_PHASE_BEGIN(arg);
	} else if (!strcmp(verb, "end")) {
		MEMOBS_PHASE_END(arg);
	} else if (!strcmp(verb, "mark")) {
		MEMOBS_MARK(arg);
	} else if (!strcmp(verb, "items")) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(arg, &end, 10);
		if (errno || *end || *arg == '-') {
			log_err("mark items: '%s' is not a count (a non-negative integer)", arg);
			return MO_EXIT_USAGE;
		}
		MEMOBS_ITEMS(n);
	} else {
		log_err("mark: unknown marker '%s' (begin, end, items or mark)", verb);
		return MO_EXIT_USAGE;
	}
	return MO_EXIT_OK;
}

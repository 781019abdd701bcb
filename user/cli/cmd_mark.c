// SPDX-License-Identifier: GPL-2.0
/* memobs mark begin NAME | end NAME | items N | mark LABEL: fire a marker from
 * this process, which belongs to the observed session when a script of it
 * runs us. Without an observer it does nothing and succeeds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <memobs/markers.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/exitcodes.h"
#include "lib/log.h"

static const struct cli_opt mark_opts[] = {
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd mark_cmd = {
	.name = "mark",
	.usage = "begin NAME\nend NAME\nitems N\nmark LABEL",
	.about = "Fire a phase marker (USDT provider memobs) from a shell script or a Makefile: the process running "
		 "it belongs to the observed session, so the session's phase opens or closes, its items count "
		 "goes up, or a mark is set on the timeline. Without an observer it does nothing and succeeds.\n\n"
		 "  begin NAME   open phase NAME inside the innermost open one (names: at most 63 bytes)\n"
		 "  end NAME     close the innermost open phase of that name\n"
		 "  items N      N work items done in the current phase (pages, files): figures per item\n"
		 "  mark LABEL   an instant mark on the timeline\n\n"
		 "In a Makefile:  site: ; memobs mark begin render && $(MAKE) pages; memobs mark end render",
	.opts = mark_opts,
	.after = "exit status: 0 (also without an observer); 2 on a usage error.",
	.stop_at_operand = true,
};

/* Fire the marker verb names with arg. 0 or the exit code. */
static int fire(const char *verb, const char *arg)
{
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
		if (errno || *end || *arg == '-' || !*arg)
			return cli_usage_error(&mark_cmd, "items: '%s' is not a count (a non-negative integer)", arg);
		MEMOBS_ITEMS(n);
	} else {
		return cli_usage_error(&mark_cmd, "unknown marker '%s' (begin, end, items or mark)", verb);
	}
	return MO_EXIT_OK;
}

int cmd_mark(int argc, char **argv)
{
	struct cli_parser p;
	int key;

	cli_start(&p, &mark_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1) {
		if (key != 'h')
			return MO_EXIT_USAGE;
		cli_help(&mark_cmd, stdout);
		return MO_EXIT_OK;
	}
	if (argc - optind != 2 || !*argv[optind + 1])
		return cli_usage_error(&mark_cmd, "give a marker and its argument: begin NAME, end NAME, items N or "
				       "mark LABEL");
	return fire(argv[optind], argv[optind + 1]);
}

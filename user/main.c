// SPDX-License-Identifier: GPL-2.0
/* memobs: dispatch to a subcommand; anything else is a run. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "lib/exitcodes.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "mark", cmd_mark, "fire a phase marker from a shell (begin NAME | end NAME | items N | mark LABEL)" },
	{ "history", cmd_history, "trend table of past runs" },
	{ "compare", cmd_compare, "two runs side by side, per phase" },
	{ "check", cmd_check, "CI gate: exit 1 when a metric grew past its bound" },
	{ "report", cmd_report, "a saved run again: summary, JSON, exports, SVG timeline, HTML page" },
	{ "scale", cmd_scale, "scaling sweep: run at several sizes, fit how memory grows, predict a size" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memobs [OPTIONS] -- COMMAND [ARGS...]   observe a command and its descendants\n"
		"       memobs [OPTIONS] -p PID                 observe a running process\n"
		"       memobs [OPTIONS] -a                     observe every process on the host\n"
		"       memobs SUBCOMMAND [ARGS...]\n\n"
		"subcommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nrun `memobs --help` for run options, `memobs SUBCOMMAND --help` for the others.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return MO_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("memobs %s\n", MEMOBS_VERSION);
		return MO_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		usage(stdout);
		return MO_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}

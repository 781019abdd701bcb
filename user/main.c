// SPDX-License-Identifier: GPL-2.0
/* memobs: dispatch to a subcommand; anything else is a run. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "lib/exitcodes.h"

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "version")) {
		printf("memobs %s\n", MEMOBS_VERSION);
		return MO_EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "help"))
		argv[1] = "--help";
	for (const struct cli_subcommand *c = cli_subcommands; argc >= 2 && c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}

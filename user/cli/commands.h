/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands. Each takes its own argv (argv[0] is the subcommand name) and
 * returns memobs's exit code (exitcodes.h). Only cmd_* may print results. */
#ifndef MO_COMMANDS_H
#define MO_COMMANDS_H

#include <stdio.h>

int cmd_run(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_scale(int argc, char **argv);

/* memobs SUBCOMMAND, for main's dispatch and the run's --help. */
struct cli_subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

extern const struct cli_subcommand cli_subcommands[];	/* ends with an entry without a name */

/* The subcommand (help and version included) within 2 edits of name (a
 * letter added, removed, changed, or two swapped), the nearest; NULL when
 * none is: what a command not found was probably meant to be. */
const char *cli_subcommand_near(const char *name);

#endif

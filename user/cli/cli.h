/* SPDX-License-Identifier: GPL-2.0 */
/* The command line of every subcommand, one way: an option table per
 * command, parsed with getopt_long (for a run, scale and mark with '+':
 * options end at the first operand, so that `memobs --heap make -j2` leaves
 * -j2 to make; elsewhere options may follow operands), its --help
 * generated from the table (fitting 100 columns), and one format for
 * mistakes, two lines on stderr and exit 2:
 *
 *   memobs check: unrecognized option '--max-grwth'
 *   Try 'memobs check --help' for more information.
 *
 * Other messages of a subcommand read `memobs check: what: why` (log.h, once
 * cli_start named the command). Functions that parse return CLI_GO_ON to go
 * on, or the exit code to leave with (exitcodes.h). */
#ifndef MO_CLI_H
#define MO_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#define CLI_GO_ON (-1)
#define CLI_WIDTH 100		/* columns of the help */
#define CLI_MAX_OPTS 48

struct cli_opt {
	const char *name;	/* long name, without "--" */
	int key;		/* its short letter, or an id >= 256 when it has none */
	int arg;		/* no_argument, required_argument or optional_argument */
	const char *value;	/* the argument in the help ("FILE"); NULL without one */
	const char *help;	/* what it does; '\n' starts a new line */
};

struct cli_cmd {
	const char *name;	/* "check"; NULL for a run (memobs [OPTIONS] -- COMMAND) */
	const char *usage;	/* the synopsis, one form a line, without "memobs NAME" */
	const char *about;	/* what the command does, a paragraph ('\n': a new one) */
	const struct cli_opt *opts;	/* ends with an entry without a name */
	const char *after;	/* after the options (operands, exit status), or NULL */
	bool stop_at_operand;	/* the operands are a command or free text: options end there */
};

/* The option every command has. */
#define CLI_OPT_HELP { "help", 'h', no_argument, NULL, "this help" }

struct cli_parser {
	const struct cli_cmd *cmd;
	struct option longopts[CLI_MAX_OPTS + 1];
	char shortopts[3 * CLI_MAX_OPTS + 3];
};

/* Start parsing argv for cmd (from argv[1]) and name the command in
 * messages (log.h). */
void cli_start(struct cli_parser *p, const struct cli_cmd *cmd);

/* The next option: its key, with its argument in optarg; -1 when the
 * options end (optind indexes the first operand); or '?' when argv[optind-1]
 * is a mistake, already said in the two-line format. */
int cli_next(struct cli_parser *p, int argc, char **argv);

/* The help of cmd: synopsis, about, the options, after; at most CLI_WIDTH
 * columns. */
void cli_help(const struct cli_cmd *cmd, FILE *out);

/* Say a usage mistake, "memobs NAME: " + fmt and the "Try ... --help" line.
 * Returns MO_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Is argv[from..] only options of cmd (with their values) up to a "--"? */
bool cli_options_then_dashdash(const struct cli_cmd *cmd, int argc, char **argv, int from);

/* Print text wrapped at CLI_WIDTH, each line after the first indented by
 * `indent` spaces, the first starting at column `col`. */
void cli_wrap(FILE *out, const char *text, int col, int indent);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* What the subcommands reading the history share: loading it with its
 * warnings and errors said once, on stderr (log.h names the subcommand). */
#ifndef MO_HISTORY_CLI_H
#define MO_HISTORY_CLI_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "history/history.h"

/* The --history option of the subcommands that read the history (cli_opt). */
#define HISTORY_CLI_OPT(key) \
	{ "history", (key), required_argument, "PATH", "the history file (default " HISTORY_DEFAULT_PATH ")" }

/* Load the history at path into *h (free with history_free in any case),
 * printing a warning per skipped line. A missing file is an error said
 * with what to do when `required`, and silent otherwise (the caller may
 * not need a history: run document files). Returns 0 or -errno. */
int history_cli_load(const char *path, struct mo_history *h, bool required);

/* Say that path holds no history, and how to record one. */
void history_cli_missing(const char *path);

/* Add to o what a JSON output says of a run's command: "command" (its
 * arguments, or null with -p and -a) and "exit_status" (null: unknown).
 * false on ENOMEM. */
bool history_cli_run_json(cJSON *o, const struct mo_summary *run);

#endif

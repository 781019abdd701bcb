/* SPDX-License-Identifier: GPL-2.0 */
/* One-line messages on stderr, prefixed "memobs: ", or "memobs NAME: " once
 * a subcommand set its name. Called where the context is (cmd_* and the run
 * loop), once per failure. */
#ifndef MO_LOG_H
#define MO_LOG_H

#include <stdbool.h>

void log_set_verbose(bool verbose);
void log_set_command(const char *name);	/* NULL: a run */
bool log_verbose(void);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* only with -v */
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* always: not an error */

#endif

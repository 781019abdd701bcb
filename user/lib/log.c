// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib/log.h"
#include "lib/termesc.h"

static bool verbose;
static const char *command;

void log_set_command(const char *name)
{
	command = name;
}

void log_set_verbose(bool on)
{
	verbose = on;
}

bool log_verbose(void)
{
	return verbose;
}

/* Messages quote commands, names and paths from outside: one line, and no
 * escape sequence reaches the terminal. */
static void vlog(const char *kind, const char *fmt, va_list ap)
{
	char *msg = NULL, *clean = NULL;
	int n = vasprintf(&msg, fmt, ap);

	if (n >= 0)
		clean = malloc(4 * (size_t)n + 1);
	if (clean)
		fprintf(stderr, "memobs%s%s: %s%s\n", command ? " " : "", command ? command : "", kind,
			termesc(msg, clean, 4 * (size_t)n + 1));
	else
		fprintf(stderr, "memobs%s%s: %s(out of memory)\n", command ? " " : "", command ? command : "", kind);
	free(clean);
	free(msg);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/exitcodes.h"
#include "lib/log.h"
#include "lib/termesc.h"
#include "lib/textfit.h"

#define OPT_COLUMN 28	/* where the options' help starts */

static size_t count_opts(const struct cli_cmd *cmd)
{
	size_t n = 0;

	while (cmd->opts[n].name)
		n++;
	return n;
}

void cli_start(struct cli_parser *p, const struct cli_cmd *cmd)
{
	size_t n = count_opts(cmd), k = 0;
	char *s = p->shortopts;

	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	/* '+': stop at the first operand; ':': a missing argument is ':' */
	if (cmd->stop_at_operand)
		*s++ = '+';
	*s++ = ':';
	for (size_t i = 0; i < n && k < CLI_MAX_OPTS; i++, k++) {
		const struct cli_opt *o = &cmd->opts[i];

		p->longopts[k] = (struct option){ o->name, o->arg, NULL, o->key };
		if (o->key > 0 && o->key < 256) {
			*s++ = (char)o->key;
			if (o->arg != no_argument)
				*s++ = ':';
			if (o->arg == optional_argument)
				*s++ = ':';
		}
	}
	*s = 0;
	optind = 0;	/* 0: getopt starts over (and reads the ordering again) */
	opterr = 0;
	log_set_command(cmd->name);
}

/* The options whose long name starts with the `len` bytes at name. */
static size_t matching(const struct cli_cmd *cmd, const char *name, size_t len, const struct cli_opt **match)
{
	size_t n = 0;

	for (const struct cli_opt *o = cmd->opts; o->name; o++) {
		if (strncmp(o->name, name, len))
			continue;
		if (strlen(o->name) == len) {
			*match = o;
			return 1;
		}
		*match = o;
		n++;
	}
	return n;
}

/* Say what was wrong with argv[optind - 1] (getopt_long said '?' or ':'). */
static void say_mistake(const struct cli_parser *p, char **argv, int ret)
{
	const char *arg = argv[optind - 1];
	const struct cli_opt *o = NULL;

	if (strncmp(arg, "--", 2)) {
		if (ret == ':')
			cli_usage_error(p->cmd, "option requires an argument -- '%c'", optopt);
		else
			cli_usage_error(p->cmd, "invalid option -- '%c'", optopt);
		return;
	}
	if (ret == ':') {
		cli_usage_error(p->cmd, "option '%s' requires an argument", arg);
		return;
	}
	switch (matching(p->cmd, arg + 2, strcspn(arg + 2, "="), &o)) {
	case 0:
		cli_usage_error(p->cmd, "unrecognized option '%.*s'", (int)strcspn(arg, "="), arg);
		break;
	case 1:
		cli_usage_error(p->cmd, "option '--%s' doesn't allow an argument", o->name);
		break;
	default:
		cli_usage_error(p->cmd, "option '%.*s' is ambiguous", (int)strcspn(arg, "="), arg);
	}
}

int cli_next(struct cli_parser *p, int argc, char **argv)
{
	int ret = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);

	if (ret == '?' || ret == ':') {
		say_mistake(p, argv, ret);
		return '?';
	}
	return ret;
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	const char *sp = cmd->name ? " " : "", *name = cmd->name ? cmd->name : "";
	char what[1024], shown[4 * sizeof(what)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* What argv held, shown without control characters. */
	fprintf(stderr, "memobs%s%s: %s\nTry 'memobs%s%s --help' for more information.\n", sp, name,
		termesc(what, shown, sizeof(shown)), sp, name);
	return MO_EXIT_USAGE;
}

bool cli_options_then_dashdash(const struct cli_cmd *cmd, int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o = NULL;

		if (!strcmp(a, "--"))
			return true;
		if (a[0] != '-' || !a[1])
			return false;
		if (a[1] == '-') {
			if (matching(cmd, a + 2, strcspn(a + 2, "="), &o) != 1)
				return false;
			if (o->arg == required_argument && !strchr(a, '='))
				i++;
			continue;
		}
		for (o = cmd->opts; o->name && o->key != a[1]; o++)
			;
		if (!o->name)
			return false;
		if (o->arg == required_argument && !a[2])
			i++;
	}
	return false;
}

void cli_wrap(FILE *out, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		size_t room = CLI_WIDTH - col, len = strcspn(p, "\n");

		if (len > room) {
			size_t cut = room;

			while (cut > 0 && p[cut] != ' ')
				cut--;
			len = cut ? cut : len;
		}
		fprintf(out, "%.*s\n", (int)len, p);
		p += len;
		while (*p == ' ')
			p++;
		if (*p == '\n')
			p++;
		if (*p)
			fprintf(out, "%*s", indent, "");
		col = indent;
	}
}

static void option_help(const struct cli_opt *o, FILE *out)
{
	char left[96];
	int n;

	if (o->key > 0 && o->key < 256)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->key, o->name);
	else
		n = snprintf(left, sizeof(left), "      --%s", o->name);
	if (o->value && o->arg == optional_argument)
		textfit_appendf(left, sizeof(left), n, "[=%s]", o->value);
	else if (o->value)
		textfit_appendf(left, sizeof(left), n, " %s", o->value);
	n = strlen(left);
	if (n + 2 > OPT_COLUMN) {
		fprintf(out, "%s\n%*s", left, OPT_COLUMN, "");
	} else {
		fprintf(out, "%-*s", OPT_COLUMN, left);
	}
	cli_wrap(out, o->help, OPT_COLUMN, OPT_COLUMN);
}

void cli_help(const struct cli_cmd *cmd, FILE *out)
{
	const char *u = cmd->usage, *prefix = "usage: ";

	while (*u) {
		size_t len = strcspn(u, "\n");

		fprintf(out, "%smemobs%s%s %.*s\n", prefix, cmd->name ? " " : "", cmd->name ? cmd->name : "",
			(int)len, u);
		prefix = "       ";
		u += len + (u[len] == '\n');
	}
	fputc('\n', out);
	cli_wrap(out, cmd->about, 0, 0);
	fprintf(out, "\noptions:\n");
	for (const struct cli_opt *o = cmd->opts; o->name; o++)
		option_help(o, out);
	if (cmd->after) {
		fputc('\n', out);
		cli_wrap(out, cmd->after, 0, 0);
	}
}

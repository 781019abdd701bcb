// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <string.h>
#include "cli/commands.h"

const struct cli_subcommand cli_subcommands[] = {
	{ "mark", cmd_mark, "fire a phase marker from a shell (begin NAME | end NAME | items N | mark LABEL)" },
	{ "history", cmd_history, "trend table of past runs" },
	{ "compare", cmd_compare, "two runs side by side, per phase" },
	{ "check", cmd_check, "CI gate: exit 1 when a metric grew past its bound" },
	{ "report", cmd_report, "a saved run again: summary, JSON, exports, SVG timeline, HTML page" },
	{ "scale", cmd_scale, "scaling sweep: run at several sizes, fit how memory grows, predict a size" },
	{},
};

#define NEAR_EDITS 2
#define NEAR_LEN 16	/* longer names are no subcommand's misspelling */

/* Edits from a to b (optimal string alignment: insert, delete, substitute,
 * swap two neighbours); a and b shorter than NEAR_LEN. */
static size_t edits(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[NEAR_LEN + 1][NEAR_LEN + 1];

	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			size_t best;

			if (!i || !j) {
				d[i][j] = i + j;
				continue;
			}
			best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *cli_subcommand_near(const char *name)
{
	static const char *const main_words[] = { "help", "version" };	/* main's own */
	const char *near = NULL;
	size_t best = NEAR_EDITS + 1;

	if (strlen(name) >= NEAR_LEN)
		return NULL;
	for (const struct cli_subcommand *c = cli_subcommands; c->name; c++)
		if (edits(name, c->name) < best)
			best = edits(name, c->name), near = c->name;
	for (size_t i = 0; i < sizeof(main_words) / sizeof(main_words[0]); i++)
		if (edits(name, main_words[i]) < best)
			best = edits(name, main_words[i]), near = main_words[i];
	return near;
}

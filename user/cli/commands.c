// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
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

// SPDX-License-Identifier: GPL-2.0
/* memobs compare A B: two runs side by side, totals then phase by phase. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "history/compare.h"
#include "lib/exitcodes.h"
#include "cli/history_cli.h"
#include "lib/json_util.h"
#include "lib/log.h"
#include "lib/termesc.h"
#include "lib/textfit.h"
#include "lib/units.h"

struct side {
	const char *ref;
	struct mo_summary run;
	size_t line;
};

enum { OPT_HISTORY = 256, OPT_FORMAT };

static const struct cli_opt compare_opts[] = {
	HISTORY_CLI_OPT(OPT_HISTORY),
	{ "format", OPT_FORMAT, required_argument, "FORMAT", "table (default) or json" },
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd compare_cmd = {
	.name = "compare",
	.usage = "[--history PATH] [--format table|json] A B",
	.about = "Two runs side by side: the totals, then phase by phase (matched by name). A and B: @-1 (the "
		 "newest run of the history), @-2, ..., a commit prefix, a label, or a run document file "
		 "(memobs -o).",
	.opts = compare_opts,
	.after = "exit status: 0; 2 on a usage error or when a run cannot be found or read.",
};

static void print_side(const char *which, const struct side *s)
{
	char desc[1024], esc[4096], ref[1024], line[5200], lead[8];

	history_describe(&s->run, desc, sizeof(desc));
	termesc(desc, esc, sizeof(esc));
	termesc(s->ref, ref, sizeof(ref));
	if (s->line)
		snprintf(line, sizeof(line), "%s (history line %zu): %s", ref, s->line, esc);
	else
		snprintf(line, sizeof(line), "%s: %s", ref, esc);
	snprintf(lead, sizeof(lead), "%s  ", which);
	textfit_wrap(stdout, line, TEXTFIT_WIDTH, lead, "   ");
}

/* The figures after a row's metric: " %12s %12s %12s %10s". */
#define FIGURES_COLS 50
#define METRIC_MIN_COLS 24
#define NAME_BUF (4 * 512)	/* a metric name escaped (termesc: 4 bytes a byte at most) */

/* A row: its metric, then A, B and the change in columns. A metric longer
 * than its column (a phase's name in full) has a line of its own, so that
 * the figures stay under their headers and the name stays whole. */
static void print_row(const struct mo_compare_row *r, int width, const char *indent)
{
	char a[48] = "-", b[48] = "-", d[48] = "-", pct[48], buf[NAME_BUF];
	const char *name = termesc(r->metric, buf, sizeof(buf));

	if (r->has_a)
		units_fmt(r->a, r->unit, a, sizeof(a));
	if (r->has_b)
		units_fmt(r->b, r->unit, b, sizeof(b));
	if (r->has_a && r->has_b) {
		units_fmt_delta(r->b - r->a, r->unit, d, sizeof(d));
		units_fmt_pct(units_change_pct(r->a, r->b), pct, sizeof(pct));
	} else {
		snprintf(pct, sizeof(pct), "only in %s", r->has_a ? "A" : "B");
	}
	if (textfit_cols(name) > (size_t)width) {
		printf("%s%s\n", indent, name);
		name = "";
	}
	printf("%s%-*s %12s %12s %12s %10s\n", indent, textfit_pad(name, width), name, a, b, d, pct);
}

static void print_rows(const char *title, const struct mo_compare_row *rows, size_t n, int width)
{
	if (!n)
		return;
	printf("%s\n", title);
	for (size_t i = 0; i < n; i++)
		print_row(&rows[i], width - 2, "  ");
}

/* Grow *width to the rows' longest metric (indent columns in), within
 * what TEXTFIT_WIDTH leaves beside the figures. */
static void fit_metrics(const struct mo_compare_row *rows, size_t n, size_t indent, int *width)
{
	char buf[NAME_BUF];

	for (size_t i = 0; i < n; i++) {
		size_t cols = indent + textfit_cols(termesc(rows[i].metric, buf, sizeof(buf)));

		if (cols > (size_t)*width)
			*width = cols < TEXTFIT_WIDTH - FIGURES_COLS ? (int)cols : TEXTFIT_WIDTH - FIGURES_COLS;
	}
}

static void print_table(const struct mo_compare *c, const struct side *a, const struct side *b)
{
	int width = METRIC_MIN_COLS;
	char title[96];

	fit_metrics(c->largest, c->nlargest, 2, &width);
	fit_metrics(c->totals, c->ntotals, 0, &width);
	fit_metrics(c->commands, c->ncommands, 2, &width);
	for (size_t i = 0; i < c->nphases; i++)
		fit_metrics(c->phases[i].rows, c->phases[i].nrows, 2, &width);
	print_side("A", a);
	print_side("B", b);
	printf("\n%-*s %12s %12s %12s %10s\n", width, "metric", "A", "B", "change", "change %");
	print_rows("largest changes (commands and phases)", c->largest, c->nlargest, width);
	for (size_t i = 0; i < c->ntotals; i++)
		print_row(&c->totals[i], width, "");
	snprintf(title, sizeof(title), "commands: peak RSS of the largest process of each%s",
		 c->commands_left_out ? " (those that changed most)" : "");
	print_rows(title, c->commands, c->ncommands, width);
	for (size_t i = 0; i < c->nphases; i++) {
		const struct mo_compare_phase *p = &c->phases[i];

		char name[4 * 64];

		printf("phase %s%s\n", termesc_name(p->name, name, sizeof(name)),
		       p->in_a && p->in_b ? "" : p->in_a ? " (only in A)" : " (only in B)");
		for (size_t j = 0; j < p->nrows; j++)
			print_row(&p->rows[j], width - 2, "  ");
	}
}

static cJSON *add_value(cJSON *o, const char *name, bool has, double v, enum mo_unit unit)
{
	if (!has)
		return cJSON_AddNullToObject(o, name);
	if (unit == MO_UNIT_SECONDS)
		return json_add_num(o, name, v, 3);
	return json_add_int(o, name, (int64_t)v);
}

static cJSON *row_json(const struct mo_compare_row *r)
{
	static const char *const unit_names[] = { [MO_UNIT_BYTES] = "bytes", [MO_UNIT_SECONDS] = "s",
						  [MO_UNIT_COUNT] = "count" };
	cJSON *o = cJSON_CreateObject();
	bool both = r->has_a && r->has_b;

	if (!o || !json_add_str(o, "metric", r->metric) || !json_add_str(o, "unit", unit_names[r->unit]) ||
	    !add_value(o, "a", r->has_a, r->a, r->unit) || !add_value(o, "b", r->has_b, r->b, r->unit) ||
	    !add_value(o, "change", both, r->b - r->a, r->unit) ||
	    !json_add_num(o, "change_pct", both ? units_change_pct(r->a, r->b) : NAN, 2)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *side_json(const struct side *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !json_add_str(o, "ref", s->ref) || !(s->line ? json_add_int(o, "line", s->line) :
						       cJSON_AddNullToObject(o, "line")) ||
	    !json_add_str(o, "time_utc", s->run.time_utc[0] ? s->run.time_utc : NULL) ||
	    !json_add_str(o, "commit", s->run.git.present ? s->run.git.commit : NULL) ||
	    !json_add_str(o, "label", s->run.label) || !history_cli_run_json(o, &s->run)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool add_rows(cJSON *arr, const struct mo_compare_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cJSON *row = row_json(&rows[i]);

		if (!row || !cJSON_AddItemToArray(arr, row)) {
			cJSON_Delete(row);
			return false;
		}
	}
	return true;
}

static cJSON *compare_json(const struct mo_compare *c, const struct side *a, const struct side *b)
{
	cJSON *root = cJSON_CreateObject(), *totals, *phases, *side;
	bool ok = root != NULL;

	ok = ok && (side = side_json(a)) && cJSON_AddItemToObject(root, "a", side);
	ok = ok && (side = side_json(b)) && cJSON_AddItemToObject(root, "b", side);
	ok = ok && cJSON_AddBoolToObject(root, "same_command", summary_same_command(&a->run, &b->run));
	ok = ok && (totals = cJSON_AddArrayToObject(root, "totals")) && add_rows(totals, c->totals, c->ntotals);
	ok = ok && (totals = cJSON_AddArrayToObject(root, "commands")) && add_rows(totals, c->commands, c->ncommands);
	ok = ok && (totals = cJSON_AddArrayToObject(root, "largest_changes")) &&
	     add_rows(totals, c->largest, c->nlargest);
	ok = ok && (phases = cJSON_AddArrayToObject(root, "phases"));
	for (size_t i = 0; ok && i < c->nphases; i++) {
		cJSON *p = cJSON_CreateObject(), *rows;

		if (!p || !cJSON_AddItemToArray(phases, p)) {
			cJSON_Delete(p);
			ok = false;
			break;
		}
		ok = json_add_str(p, "name", c->phases[i].name) &&
		     cJSON_AddBoolToObject(p, "in_a", c->phases[i].in_a) &&
		     cJSON_AddBoolToObject(p, "in_b", c->phases[i].in_b) &&
		     (rows = cJSON_AddArrayToObject(p, "metrics")) && add_rows(rows, c->phases[i].rows, c->phases[i].nrows);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int print_json(const struct mo_compare *c, const struct side *a, const struct side *b)
{
	cJSON *root = compare_json(c, a, b);
	char *text = root ? cJSON_Print(root) : NULL;

	cJSON_Delete(root);
	if (!text) {
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return MO_EXIT_OK;
}

static int resolve(const struct mo_history *h, bool have_history, const char *path, struct side *s)
{
	char err[512];
	int ret = history_resolve(h, s->ref, &s->run, &s->line, err, sizeof(err));

	if (!ret)
		return 0;
	if (ret == -ENOMEM)
		log_err("out of memory");
	else if (!have_history && s->ref[0] == '@')
		history_cli_missing(path);
	else
		log_err("%s%s%s", err, have_history ? "" : "; and there is no history at ", have_history ? "" : path);
	return ret;
}

/* CLI_GO_ON, or the exit code to leave with. */
static int parse_args(int argc, char **argv, const char **path, const char **format)
{
	struct cli_parser p;
	int key;

	cli_start(&p, &compare_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1) {
		switch (key) {
		case OPT_HISTORY:
			*path = optarg;
			break;
		case OPT_FORMAT:
			*format = optarg;
			break;
		case 'h':
			cli_help(&compare_cmd, stdout);
			return MO_EXIT_OK;
		default:
			return MO_EXIT_USAGE;
		}
	}
	if (strcmp(*format, "table") && strcmp(*format, "json"))
		return cli_usage_error(&compare_cmd, "unknown format '%s' (table or json)", *format);
	if (argc - optind != 2)
		return cli_usage_error(&compare_cmd, "give two runs, A and B (%d given)", argc - optind);
	return CLI_GO_ON;
}

int cmd_compare(int argc, char **argv)
{
	const char *path = HISTORY_DEFAULT_PATH, *format = "table";
	struct side a = {}, b = {};
	struct mo_history h;
	struct mo_compare c = {};
	bool have_history;
	int ret, rc = parse_args(argc, argv, &path, &format);

	if (rc != CLI_GO_ON)
		return rc;
	rc = MO_EXIT_USAGE;
	a.ref = argv[optind];
	b.ref = argv[optind + 1];
	ret = history_cli_load(path, &h, false);
	if (ret && ret != -ENOENT)
		goto out;
	have_history = !ret;
	if (resolve(&h, have_history, path, &a) || resolve(&h, have_history, path, &b))
		goto out;
	if (compare_runs(&a.run, &b.run, &c)) {
		log_err("out of memory");
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	/* Figures of two different commands compare poorly: said, not refused. */
	if (!summary_same_command(&a.run, &b.run))
		log_warn("A and B ran different commands: their figures may not be comparable");
	if (!strcmp(format, "json")) {
		rc = print_json(&c, &a, &b);
	} else {
		print_table(&c, &a, &b);
		rc = MO_EXIT_OK;
	}
out:
	compare_free(&c);
	summary_free(&a.run);
	summary_free(&b.run);
	history_free(&h);
	return rc;
}

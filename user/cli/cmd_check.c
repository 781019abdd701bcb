// SPDX-License-Identifier: GPL-2.0
/* memobs check: the CI gate. Exit 0 when every metric stays within its
 * bound, 1 when one grew past it, 2 on bad input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/exitcodes.h"
#include "history/gate.h"
#include "cli/history_cli.h"
#include "lib/log.h"
#include "lib/termesc.h"
#include "lib/textfit.h"
#include "lib/units.h"

/* The metric column: TEXTFIT_WIDTH less the 54 of the others' titles. */
#define METRIC_COLS 46

struct check_opts {
	const char *path;
	const char *run_file;
	const char *baseline_ref;
	const char *label;
	struct mo_threshold *thresholds;
	size_t nthresholds, thresholds_alloc;
};

/* The runs compared: the run checked and its baseline. */
struct check_runs {
	struct mo_summary current;	/* owned */
	size_t current_line;		/* 0: from --run FILE */
	const struct mo_summary **baseline;	/* borrowed from the history, or baseline_own */
	size_t *baseline_lines;
	size_t nbaseline;
	struct mo_summary baseline_own;	/* --baseline REF */
};

enum { OPT_HISTORY = 256, OPT_RUN, OPT_BASELINE, OPT_LABEL, OPT_MAX_GROWTH };

static const struct cli_opt check_opts[] = {
	HISTORY_CLI_OPT(OPT_HISTORY),
	{ "run", OPT_RUN, required_argument, "FILE", "check this run document (memobs -o) instead" },
	{ "baseline", OPT_BASELINE, required_argument, "REF", "compare with one run: @-2, a commit prefix, a label or a "
	  "file" },
	{ "label", OPT_LABEL, required_argument, "L", "the run series: check the newest run labelled L" },
	{ "max-growth", OPT_MAX_GROWTH, required_argument, "METRIC=PCT", "allowed growth, e.g. peak_rss=10% or "
	  "phase.render.heap.peak_live=5%; repeatable. Metrics: peak_rss, peak_heap, alloc_bytes, alloc_count, "
	  "duration, phase.NAME.FIELD (FIELD: duration_s, items, rss.peak, rss.peak_over_baseline, heap.peak_live, "
	  "...)" },
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd check_cmd = {
	.name = "check",
	.usage = "[--history PATH] [--run FILE] [--baseline REF] [--label L]\n"
		 "      --max-growth METRIC=PCT [--max-growth METRIC=PCT ...]",
	.about = "The CI gate: compare a run (default: the newest in the history) with a baseline (default: per "
		 "metric, the median of the 5 runs before it with the same label, or without a label the same "
		 "command), metric by metric.",
	.opts = check_opts,
	.after = "exit status: 0 every metric is within its bound; 1 one grew past it; 2 bad input (a usage "
		 "error, an unknown metric, a run that lacks it, no baseline).",
};

static int add_threshold(struct check_opts *o, const char *arg)
{
	char err[768];

	if (GROW(o->thresholds, o->nthresholds + 1, o->thresholds_alloc)) {
		log_err("out of memory");
		return -ENOMEM;
	}
	if (metrics_parse_threshold(arg, &o->thresholds[o->nthresholds], err, sizeof(err))) {
		cli_usage_error(&check_cmd, "--max-growth %s", err);
		return -EINVAL;
	}
	o->nthresholds++;
	return 0;
}

/* CLI_GO_ON, or the exit code to leave with (--help, bad usage). */
static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	struct cli_parser p;
	int key;

	o->path = HISTORY_DEFAULT_PATH;
	cli_start(&p, &check_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1) {
		switch (key) {
		case OPT_HISTORY:
			o->path = optarg;
			break;
		case OPT_RUN:
			o->run_file = optarg;
			break;
		case OPT_BASELINE:
			o->baseline_ref = optarg;
			break;
		case OPT_LABEL:
			o->label = optarg;
			break;
		case OPT_MAX_GROWTH:
			if (add_threshold(o, optarg))
				return MO_EXIT_USAGE;
			break;
		case 'h':
			cli_help(&check_cmd, stdout);
			return MO_EXIT_OK;
		default:
			return MO_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(&check_cmd, "unexpected argument '%s'", argv[optind]);
	if (!o->nthresholds)
		return cli_usage_error(&check_cmd, "no --max-growth given: name the metrics to gate, e.g. --max-growth "
				       "peak_rss=10%%");
	return CLI_GO_ON;
}

/* The run checked: --run FILE, or the newest of the series in history. */
static int pick_current(const struct check_opts *o, const struct mo_history *h, bool have_history,
			struct check_runs *r, long *index)
{
	char err[512];

	*index = h->nruns;
	if (o->run_file) {
		if (history_read_summary(o->run_file, &r->current, err, sizeof(err))) {
			log_err("--run: %s", err);
			return -EINVAL;
		}
		return 0;
	}
	if (!have_history) {
		history_cli_missing(o->path);
		return -ENOENT;
	}
	*index = gate_newest(h, o->label);
	if (*index < 0) {
		if (o->label)
			log_err("no run labelled '%s' in %s: record one with `memobs --history=%s --label %s -- COMMAND`",
				o->label, o->path, o->path, o->label);
		else
			log_err("%s holds no run: record one with `memobs --history=%s -- COMMAND`", o->path,
				o->path);
		return -ENOENT;
	}
	r->current_line = h->runs[*index].line;
	if (summary_copy(&r->current, &h->runs[*index].sum)) {
		log_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void say_no_baseline(const struct check_opts *o, const struct mo_summary *current)
{
	const char *label = o->label ? o->label : current->label;

	if (label)
		log_err("no baseline: no earlier run labelled '%s' in %s: record one first, or pass --baseline REF",
			label, o->path);
	else
		log_err("no baseline: no earlier run of the same command without a label in %s: record one "
			"first, label runs (--label), or pass --baseline REF", o->path);
}

static int pick_baseline(const struct check_opts *o, const struct mo_history *h, bool have_history, long index,
			 struct check_runs *r)
{
	size_t idx[GATE_BASELINE_RUNS];
	char err[512];

	r->baseline = calloc(GATE_BASELINE_RUNS, sizeof(*r->baseline));
	r->baseline_lines = calloc(GATE_BASELINE_RUNS, sizeof(*r->baseline_lines));
	if (!r->baseline || !r->baseline_lines) {
		log_err("out of memory");
		return -ENOMEM;
	}
	if (o->baseline_ref) {
		int ret = history_resolve(h, o->baseline_ref, &r->baseline_own, &r->baseline_lines[0], err,
					  sizeof(err));

		if (ret && !have_history && o->baseline_ref[0] == '@')
			history_cli_missing(o->path);
		else if (ret)
			log_err("--baseline: %s", err);
		if (ret)
			return ret;
		r->baseline[0] = &r->baseline_own;
		r->nbaseline = 1;
		return 0;
	}
	if (!have_history) {
		history_cli_missing(o->path);
		return -ENOENT;
	}
	r->nbaseline = gate_pick_baseline(h, index, &r->current, o->label, idx, GATE_BASELINE_RUNS);
	if (!r->nbaseline) {
		say_no_baseline(o, &r->current);
		return -ENOENT;
	}
	for (size_t i = 0; i < r->nbaseline; i++) {
		r->baseline[i] = &h->runs[idx[i]].sum;
		r->baseline_lines[i] = h->runs[idx[i]].line;
	}
	return 0;
}

static void print_runs(const struct check_opts *o, const struct check_runs *r)
{
	char desc[256], esc[1024], ref[1024], line[2200];

	termesc(history_describe(&r->current, desc, sizeof(desc)), esc, sizeof(esc));
	if (r->current_line)
		snprintf(line, sizeof(line), "history line %zu: %s", r->current_line, esc);
	else
		snprintf(line, sizeof(line), "%s: %s", termesc(o->run_file, ref, sizeof(ref)), esc);
	textfit_wrap(stdout, line, TEXTFIT_WIDTH, "run:      ", "          ");
	if (o->baseline_ref) {
		termesc(history_describe(r->baseline[0], desc, sizeof(desc)), esc, sizeof(esc));
		snprintf(line, sizeof(line), "%s: %s", termesc(o->baseline_ref, ref, sizeof(ref)), esc);
		textfit_wrap(stdout, line, TEXTFIT_WIDTH, "baseline: ", "          ");
		return;
	}
	printf("baseline: median of %zu run%s (history line%s", r->nbaseline, r->nbaseline == 1 ? "" : "s",
	       r->nbaseline == 1 ? "" : "s");
	for (size_t i = r->nbaseline; i-- > 0;)
		printf(" %zu%s", r->baseline_lines[i], i ? "," : ")\n");
}

/* Which process a max_process row is, under it. */
static void print_who(const struct mo_gate_row *row)
{
	char who[4 * sizeof(row->who)], base[4 * sizeof(row->base_who)], line[512];

	if (!row->who[0])
		return;
	termesc(row->who, who, sizeof(who));
	termesc(row->base_who, base, sizeof(base));
	if (row->base_who[0] && strncmp(row->who, row->base_who, strcspn(row->who, " ")))
		snprintf(line, sizeof(line), "%s (in the newest baseline run: %s)", who, base);
	else
		snprintf(line, sizeof(line), "%s", who);
	textfit_wrap(stdout, line, TEXTFIT_WIDTH, "  process: ", "           ");
}

static void print_gate(const struct mo_gate *g)
{
	const struct mo_gate_row *worst = NULL;
	char base[48], cur[48], pct[32], bound[32], metric[1024], line[1400];
	int width = 20;
	size_t failed = 0;

	/* As wide as the names, up to what keeps a row in TEXTFIT_WIDTH; a
	 * longer name gets a line of its own. */
	for (size_t i = 0; i < g->nrows; i++)
		if ((int)textfit_cols(termesc(g->rows[i].metric, metric, sizeof(metric))) > width)
			width = textfit_cols(metric);
	width = width > METRIC_COLS ? METRIC_COLS : width;
	printf("\n%-*s %12s %12s %9s %8s  %s\n", width, "metric", "baseline", "current", "change", "bound", "verdict");
	for (size_t i = 0; i < g->nrows; i++) {
		const struct mo_gate_row *row = &g->rows[i];

		snprintf(bound, sizeof(bound), "+%g%%", row->bound_pct);
		termesc(row->metric, metric, sizeof(metric));
		if ((int)textfit_cols(metric) > width) {
			printf("%s\n", metric);
			metric[0] = 0;
		}
		printf("%-*s %12s %12s %9s %8s  %s\n", textfit_pad(metric, width), metric,
		       units_fmt(row->baseline, row->unit, base, sizeof(base)),
		       units_fmt(row->current, row->unit, cur, sizeof(cur)),
		       units_fmt_pct(row->change_pct, pct, sizeof(pct)), bound, row->pass ? "PASS" : "FAIL");
		print_who(row);
		if (!row->pass && (!worst || row->change_pct - row->bound_pct > worst->change_pct - worst->bound_pct))
			worst = row;
		failed += !row->pass;
	}
	if (!failed) {
		/* Within bounds, yet no pass when the command failed (said next). */
		printf("\n%s%zu metric%s within bounds\n", g->pass ? "PASS: " : "", g->nrows, g->nrows == 1 ? "" : "s");
		return;
	}
	snprintf(line, sizeof(line), "%zu of %zu metric%s grew past the bound (worst: %s %s, bound +%g%%)", failed,
		 g->nrows, g->nrows == 1 ? "" : "s", termesc(worst->metric, metric, sizeof(metric)),
		 units_fmt_pct(worst->change_pct, pct, sizeof(pct)), worst->bound_pct);
	printf("\n");
	textfit_wrap(stdout, line, TEXTFIT_WIDTH, "FAIL: ", "      ");
}

static void free_runs(struct check_runs *r)
{
	summary_free(&r->current);
	summary_free(&r->baseline_own);
	free(r->baseline);
	free(r->baseline_lines);
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = {};
	struct check_runs r = {};
	struct mo_history h = {};
	struct mo_gate g = {};
	bool have_history;
	char err[768];
	long index;
	int rc = parse_opts(argc, argv, &o), ret;

	if (rc != CLI_GO_ON)
		goto out_opts;
	rc = MO_EXIT_USAGE;
	/* Without a history, --run FILE --baseline FILE still make a gate. */
	ret = history_cli_load(o.path, &h, false);
	if (ret && ret != -ENOENT)
		goto out;
	have_history = !ret;
	if (pick_current(&o, &h, have_history, &r, &index) || pick_baseline(&o, &h, have_history, index, &r))
		goto out;
	ret = gate_evaluate(&r.current, r.baseline, r.nbaseline, o.thresholds, o.nthresholds, &g, err, sizeof(err));
	/* A failed run may well lack a figure (it stopped before the phase):
	 * its failure is the verdict then. */
	if (ret && !(ret == -ENOENT && gate_failed(&r.current))) {
		log_err("%s", err);
		rc = ret == -ENOMEM ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
		goto out;
	}
	print_runs(&o, &r);
	if (!ret)
		print_gate(&g);
	if (gate_failed(&r.current)) {
		char how[96];

		snprintf(err, sizeof(err), "the command of the run checked %s: its figures are not those of a whole "
			 "run", gate_failure(&r.current, how, sizeof(how)));
		printf("\n");
		textfit_wrap(stdout, err, TEXTFIT_WIDTH, "FAIL: ", "      ");
	}
	rc = !ret && g.pass ? MO_EXIT_OK : MO_EXIT_REGRESSION;
out:
	gate_free(&g);
	free_runs(&r);
	history_free(&h);
out_opts:
	free(o.thresholds);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/* memobs history: the last runs as a trend table (or a JSON array). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/exitcodes.h"
#include "cli/history_cli.h"
#include "lib/json_util.h"
#include "lib/log.h"
#include "lib/termesc.h"
#include "lib/textfit.h"
#include "model/metrics.h"
#include "lib/units.h"

#define DEFAULT_RUNS 20
#define STR(x) #x
#define XSTR(x) STR(x)
#define ROOT_PHASE "main"
/* Up to this many phases of short names get a column each; more are listed
 * as name=peak in one column. */
#define MAX_PHASE_COLUMNS 4
#define MAX_PHASE_COLUMN_WIDTH 11
#define LABEL_COLS 16		/* a longer label is cut */

struct phase_names {
	const char **names;	/* borrowed from the summaries */
	size_t n, alloc;
};

enum { OPT_HISTORY = 256, OPT_LABEL, OPT_FORMAT };

static const struct cli_opt history_opts[] = {
	HISTORY_CLI_OPT(OPT_HISTORY),
	{ "runs", 'n', required_argument, "N", "the last N runs (default " XSTR(DEFAULT_RUNS) ")" },
	{ "label", OPT_LABEL, required_argument, "L", "only runs labelled L" },
	{ "format", OPT_FORMAT, required_argument, "FORMAT", "table (default) or json" },
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd history_cmd = {
	.name = "history",
	.usage = "[--history PATH] [-n N] [--label L] [--format table|json]",
	.about = "The last runs of the history (memobs --history), oldest first: when, which commit and label, how "
		 "long, the session peak RSS and heap, and each phase's RSS peak; then the trend from the first "
		 "run shown to the last.",
	.opts = history_opts,
	.after = "exit status: 0; 2 on a usage error or when there is no history.",
};

/* The phases of the runs shown, in order of first appearance, but the root. */
static int collect_phases(const struct mo_history_run *const *runs, size_t n, struct phase_names *pn)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < runs[i]->sum.nphases; j++) {
			const char *name = runs[i]->sum.phases[j].name;
			size_t k;

			if (!strcmp(name, ROOT_PHASE))
				continue;
			for (k = 0; k < pn->n && strcmp(pn->names[k], name); k++)
				;
			if (k < pn->n)
				continue;
			if (GROW(pn->names, pn->n + 1, pn->alloc))
				return -ENOMEM;
			pn->names[pn->n++] = name;
		}
	}
	return 0;
}

static bool phase_columns(const struct phase_names *pn)
{
	if (pn->n > MAX_PHASE_COLUMNS)
		return false;
	for (size_t i = 0; i < pn->n; i++)
		if (strlen(pn->names[i]) > MAX_PHASE_COLUMN_WIDTH)
			return false;
	return true;
}

static const char *metric_str(const struct mo_summary *run, const char *metric, char *buf, size_t len)
{
	char err[256];
	double v;

	if (metrics_get(run, metric, &v, err, sizeof(err)))
		return "-";
	return units_fmt(v, metrics_unit(metric), buf, len);
}

static void short_time(const struct mo_summary *run, char *buf, size_t len)
{
	snprintf(buf, len, "%.19s", run->time_utc[0] ? run->time_utc : "-");
	if (buf[0] && strlen(buf) > 10 && buf[10] == 'T')
		buf[10] = ' ';
}

static void short_commit(const struct mo_summary *run, char *buf, size_t len)
{
	snprintf(buf, len, "%.7s%s", run->git.present ? run->git.commit : "-", run->git.dirty ? "+" : "");
}

/* The phases' RSS peaks of a run, "name 18.7 MiB, ...", wrapped under it. */
static void print_phase_list(const struct mo_summary *run, const struct phase_names *pn)
{
	char text[4096], buf[48], name[4 * 64];
	size_t len = 0;

	for (size_t k = 0; k < pn->n; k++) {
		double v;

		if (metrics_phase(run, pn->names[k], MO_PHASE_RSS_PEAK, &v))
			continue;
		len = textfit_appendf(text, sizeof(text), len, "%s%s %s", len ? ", " : "",
				termesc_name(pn->names[k], name, sizeof(name)), units_fmt_size(v, buf, sizeof(buf)));
	}
	if (len)
		textfit_wrap(stdout, text, TEXTFIT_WIDTH, "      phase peaks: ", "                   ");
}

/* Do the runs shown all have one command line (NULL for -p/-a)? */
static bool one_command(const struct mo_history_run *const *runs, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (!summary_same_command(&runs[0]->sum, &runs[i]->sum))
			return false;
	return true;
}

/* A run's command: above the table when the runs shown share it (lead ""),
 * else under each run. */
static void print_command(const struct mo_summary *run, const char *lead)
{
	char cmd[2048], esc[4 * sizeof(cmd)], first[32], next[32];

	if (!run->command)
		return;
	snprintf(first, sizeof(first), "%scommand: ", lead);
	snprintf(next, sizeof(next), "%*s", (int)strlen(first), "");
	textfit_wrap(stdout, termesc(history_command(run, cmd, sizeof(cmd)), esc, sizeof(esc)), TEXTFIT_WIDTH, first,
		     next);
}

/* The exit status column: "-" when unknown (-p, -a). */
static const char *exit_str(const struct mo_summary *run, char *buf, size_t len)
{
	if (run->exit_status < 0)
		return "-";
	snprintf(buf, len, "%d", run->exit_status);
	return buf;
}

static void print_trend(const struct mo_history_run *const *runs, size_t n)
{
	static const char *const metrics[] = { "peak_rss", "peak_heap" };
	char err[256], pct[32];
	const char *sep = ": ";

	if (n < 2)
		return;
	printf("\ntrend over %zu runs (first -> last)", n);
	for (size_t i = 0; i < 2; i++) {
		double first, last;

		if (metrics_get(&runs[0]->sum, metrics[i], &first, err, sizeof(err)) ||
		    metrics_get(&runs[n - 1]->sum, metrics[i], &last, err, sizeof(err)))
			continue;
		printf("%s%s %s", sep, metrics[i], units_fmt_pct(units_change_pct(first, last), pct, sizeof(pct)));
		sep = ", ";
	}
	printf("\n");
}

/* Does any run shown have the metric? */
static bool any_has(const struct mo_history_run *const *runs, size_t n, const char *metric)
{
	char err[256];
	double v;

	for (size_t i = 0; i < n; i++)
		if (!metrics_get(&runs[i]->sum, metric, &v, err, sizeof(err)))
			return true;
	return false;
}

/* One row per run in TEXTFIT_WIDTH columns: the phases' peaks in columns
 * when they fit, else on a line of their own under the run; no heap column
 * when no run traced it. */
static void print_table(const struct mo_history_run *const *runs, size_t n, const struct phase_names *pn)
{
	bool heap = any_has(runs, n, "peak_heap"), columns, same = one_command(runs, n);
	int label_w = 5, width;
	char a[48], b[48], c[48], t[32], commit[16], label[4 * LABEL_COLS], cut[4 * LABEL_COLS], ex[16];

	for (size_t i = 0; i < n; i++) {
		const char *l = runs[i]->sum.label;

		if (l && (int)textfit_cols(termesc(l, label, sizeof(label))) > label_w)
			label_w = textfit_cols(label);
	}
	label_w = label_w > LABEL_COLS ? LABEL_COLS : label_w;
	width = 5 + 1 + 19 + 1 + 8 + 1 + label_w + 1 + 4 + 1 + 10 + 1 + 11 + (heap ? 12 : 0);
	columns = phase_columns(pn) && width + 12 * (int)pn->n <= TEXTFIT_WIDTH;
	if (same)
		print_command(&runs[0]->sum, "");
	printf("%-5s %-19s %-8s %-*s %4s %10s %11s", "line", "time (UTC)", "commit", label_w, "label", "exit",
	       "duration", "peak RSS");
	if (heap)
		printf(" %11s", "peak heap");
	for (size_t k = 0; columns && k < pn->n; k++)
		printf(" %11s", termesc_name(pn->names[k], a, sizeof(a)));
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		const struct mo_summary *run = &runs[i]->sum;

		short_time(run, t, sizeof(t));
		short_commit(run, commit, sizeof(commit));
		textfit_cut(termesc(run->label ? run->label : "-", label, sizeof(label)), label_w, false, cut, sizeof(cut));
		printf("%-5zu %-19s %-8s %-*s %4s %10s %11s", runs[i]->line, t, commit, textfit_pad(cut, label_w), cut,
		       exit_str(run, ex, sizeof(ex)), metric_str(run, "duration", a, sizeof(a)),
		       metric_str(run, "peak_rss", b, sizeof(b)));
		if (heap)
			printf(" %11s", metric_str(run, "peak_heap", c, sizeof(c)));
		for (size_t k = 0; columns && k < pn->n; k++) {
			double v;

			printf(" %11s", metrics_phase(run, pn->names[k], MO_PHASE_RSS_PEAK, &v) ? "-" :
			       units_fmt_size(v, a, sizeof(a)));
		}
		printf("\n");
		if (!same)
			print_command(run, "      ");
		if (!columns)
			print_phase_list(run, pn);
	}
	print_trend(runs, n);
}

static cJSON *metric_json(const struct mo_summary *run, cJSON *o, const char *name, const char *metric)
{
	char err[256];
	double v;

	if (metrics_get(run, metric, &v, err, sizeof(err)))
		return cJSON_AddNullToObject(o, name);
	if (metrics_unit(metric) == MO_UNIT_SECONDS)
		return json_add_num(o, name, v, 3);
	return json_add_int(o, name, (int64_t)v);
}

static bool phases_json(const struct mo_summary *run, cJSON *o, const struct phase_names *pn)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "phases");

	for (size_t k = 0; arr && k < pn->n; k++) {
		cJSON *p;
		double v;

		if (metrics_phase(run, pn->names[k], MO_PHASE_RSS_PEAK, &v))
			continue;
		p = cJSON_CreateObject();
		if (!p || !cJSON_AddItemToArray(arr, p) || !json_add_str(p, "name", pn->names[k]) ||
		    !json_add_int(p, "rss_peak", (int64_t)v))
			return false;
		if (!metrics_phase(run, pn->names[k], MO_PHASE_HEAP_PEAK, &v) &&
		    !json_add_int(p, "heap_peak_live", (int64_t)v))
			return false;
	}
	return arr != NULL;
}

static cJSON *run_json(const struct mo_history_run *r, const struct phase_names *pn)
{
	const struct mo_summary *run = &r->sum;
	cJSON *o = cJSON_CreateObject();

	if (!o || !json_add_int(o, "line", r->line) ||
	    !json_add_str(o, "time_utc", run->time_utc[0] ? run->time_utc : NULL) ||
	    !json_add_str(o, "commit", run->git.present ? run->git.commit : NULL) ||
	    !cJSON_AddBoolToObject(o, "dirty", run->git.dirty) ||
	    !json_add_str(o, "label", run->label) || !history_cli_run_json(o, run) ||
	    !metric_json(run, o, "duration_s", "duration") ||
	    !metric_json(run, o, "peak_rss", "peak_rss") || !metric_json(run, o, "peak_heap", "peak_heap") ||
	    !phases_json(run, o, pn)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct mo_history_run *const *runs, size_t n, const struct phase_names *pn)
{
	cJSON *arr = cJSON_CreateArray();
	char *text = NULL;

	for (size_t i = 0; arr && i < n; i++) {
		cJSON *o = run_json(runs[i], pn);

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto out;
		}
	}
	text = arr ? cJSON_Print(arr) : NULL;
out:
	cJSON_Delete(arr);
	if (!text) {
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return MO_EXIT_OK;
}

static bool parse_count(const char *s, size_t *n)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !v)
		return false;
	*n = v;
	return true;
}

/* The last n runs (labelled `label` when not NULL), oldest first. */
static size_t select_runs(const struct mo_history *h, const char *label, size_t n,
			  const struct mo_history_run **out)
{
	size_t k = 0;

	for (size_t i = h->nruns; i-- > 0 && k < n;) {
		const char *own = h->runs[i].sum.label;

		if (!label || (own && !strcmp(own, label)))
			out[k++] = &h->runs[i];
	}
	for (size_t i = 0; i < k / 2; i++) {
		const struct mo_history_run *tmp = out[i];

		out[i] = out[k - 1 - i];
		out[k - 1 - i] = tmp;
	}
	return k;
}

/* CLI_GO_ON, or the exit code to leave with. */
static int parse_args(int argc, char **argv, const char **path, const char **format, const char **label,
		      size_t *count)
{
	struct cli_parser p;
	int key;

	cli_start(&p, &history_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1) {
		switch (key) {
		case OPT_HISTORY:
			*path = optarg;
			break;
		case OPT_LABEL:
			*label = optarg;
			break;
		case OPT_FORMAT:
			*format = optarg;
			break;
		case 'n':
			if (!parse_count(optarg, count))
				return cli_usage_error(&history_cmd, "-n '%s': give a number of runs (1 or more)", optarg);
			break;
		case 'h':
			cli_help(&history_cmd, stdout);
			return MO_EXIT_OK;
		default:
			return MO_EXIT_USAGE;
		}
	}
	if (strcmp(*format, "table") && strcmp(*format, "json"))
		return cli_usage_error(&history_cmd, "unknown format '%s' (table or json)", *format);
	if (optind != argc)
		return cli_usage_error(&history_cmd, "unexpected argument '%s'", argv[optind]);
	return CLI_GO_ON;
}

int cmd_history(int argc, char **argv)
{
	const char *path = HISTORY_DEFAULT_PATH, *format = "table", *label = NULL;
	const struct mo_history_run **runs = NULL;
	struct phase_names pn = {};
	size_t count = DEFAULT_RUNS, n;
	struct mo_history h;
	int rc = parse_args(argc, argv, &path, &format, &label, &count);

	if (rc != CLI_GO_ON)
		return rc;
	rc = MO_EXIT_USAGE;
	if (history_cli_load(path, &h, true))
		goto out;
	runs = calloc(h.nruns ? h.nruns : 1, sizeof(*runs));
	if (!runs || (n = select_runs(&h, label, count, runs), collect_phases(runs, n, &pn))) {
		log_err("out of memory");
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	if (!strcmp(format, "json")) {
		rc = print_json(runs, n, &pn);
	} else if (!n) {
		printf("no runs%s%s%s in %s\n", label ? " labelled '" : "", label ? label : "", label ? "'" : "", path);
		rc = MO_EXIT_OK;
	} else {
		print_table(runs, n, &pn);
		rc = MO_EXIT_OK;
	}
out:
	free(pn.names);
	free(runs);
	history_free(&h);
	return rc;
}

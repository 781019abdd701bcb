// SPDX-License-Identifier: GPL-2.0
/* memobs report RUN: a saved run again, as the human summary, its JSON,
 * benchmark-tracker exports, and pictures (an SVG timeline, an HTML page). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "lib/exitcodes.h"
#include "cli/history_cli.h"
#include "lib/invoker.h"
#include "lib/log.h"
#include "lib/outfile.h"
#include "report/report_bench.h"
#include "report/report_folded.h"
#include "report/report_pprof.h"
#include "report/report_html.h"
#include "report/report_svg.h"
#include "report/report_text.h"
#include "model/run_json.h"
#include "history/run_load.h"

struct report_args {
	const char *history;
	const char *format;	/* NULL: text, unless pictures are all that is asked */
	const char *svg;
	const char *html;
	const char *ref;
	size_t processes;
	bool processes_given;
	bool folded;
	enum mo_fold_weight weight;
	bool weight_given;
	bool lines;		/* --folded --lines */
};

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: memobs report RUN [--format FORMAT] [--svg FILE] [--html FILE] [--processes N] [--history=PATH]\n"
		"       memobs report RUN --folded [--weight alloc|live|rss] [--lines]\n"
		"RUN: a run document file (memobs -o), or from the history @-1 (the newest run), @-2, ...,\n"
		"a commit prefix or a label.\n"
		"  --format FORMAT  on standard output: text (the summary, the default without --svg/--html),\n"
		"                   json (the run document), gh-benchmark (github-action-benchmark,\n"
		"                   customSmallerIsBetter), bencher (Bencher Metric Format) or pprof (the\n"
		"                   allocation and RSS growth sites as a gzipped pprof profile, with\n"
		"                   file:line and the program as the root frame: redirect it to a file)\n"
		"  --svg FILE       write the timeline chart: RSS by kind, live heap, phases, marks\n"
		"  --html FILE      write one self-contained page: the chart and every table\n"
		"  --processes N    also chart the N processes of highest peak RSS (at most %d), each as a\n"
		"                   bar over its lifetime in lanes under the plot, named with its peak\n"
		"  --folded         folded stacks on standard output (flamegraph.pl, inferno, speedscope)\n"
		"  --weight W       what the folded stacks weigh: alloc (allocated bytes, the default with\n"
		"                   --heap), live (bytes never freed), rss (RSS growth, the default without)\n"
		"  --lines          folded frames followed by their (file.c:42) where DWARF gave one\n"
		"  --history=PATH   the history file (default " HISTORY_DEFAULT_PATH ")\n",
		REPORT_SVG_MAX_PROCESSES);
}

static bool known_format(const char *f)
{
	return !strcmp(f, "text") || !strcmp(f, "json") || !strcmp(f, "gh-benchmark") || !strcmp(f, "bencher") ||
	       !strcmp(f, "pprof");
}

static int parse_processes(const char *s, size_t *n)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > REPORT_SVG_MAX_PROCESSES)
		return -EINVAL;
	*n = v;
	return 0;
}

/* 0, or memobs's exit code for a usage error (or --help). */
static int parse_args(int argc, char **argv, struct report_args *a, int *rc)
{
	static const struct option opts[] = {
		{ "history", required_argument, NULL, 'H' },
		{ "format", required_argument, NULL, 'f' },
		{ "svg", required_argument, NULL, 's' },
		{ "html", required_argument, NULL, 'w' },
		{ "processes", required_argument, NULL, 'p' },
		{ "folded", no_argument, NULL, 'F' },
		{ "weight", required_argument, NULL, 'W' },
		{ "lines", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int opt;

	*a = (struct report_args){ .history = HISTORY_DEFAULT_PATH };
	*rc = MO_EXIT_USAGE;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			a->history = optarg;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 's':
			a->svg = optarg;
			break;
		case 'w':
			a->html = optarg;
			break;
		case 'p':
			if (parse_processes(optarg, &a->processes)) {
				log_err("report: --processes '%s': a number from 0 to %d", optarg,
					REPORT_SVG_MAX_PROCESSES);
				return -EINVAL;
			}
			a->processes_given = true;
			break;
		case 'F':
			a->folded = true;
			break;
		case 'L':
			a->lines = true;
			break;
		case 'W':
			if (report_folded_weight(optarg, &a->weight)) {
				log_err("report: --weight '%s': alloc, live or rss", optarg);
				return -EINVAL;
			}
			a->weight_given = true;
			break;
		case 'h':
			report_usage(stdout);
			*rc = MO_EXIT_OK;
			return -EINVAL;
		default:
			report_usage(stderr);
			return -EINVAL;
		}
	}
	if (a->format && !known_format(a->format)) {
		log_err("report: unknown format '%s' (text, json, gh-benchmark, bencher or pprof)", a->format);
		return -EINVAL;
	}
	if ((a->weight_given || a->lines) && !a->folded) {
		log_err("report: --%s is for --folded", a->weight_given ? "weight" : "lines");
		return -EINVAL;
	}
	if (a->folded && a->format) {
		log_err("report: --folded prints folded stacks on standard output: leave out --format");
		return -EINVAL;
	}
	if (a->processes_given && !a->svg && !a->html) {
		log_err("report: --processes is for the chart: add --svg FILE or --html FILE");
		return -EINVAL;
	}
	if (argc - optind != 1) {
		log_err("report: give one run: a run document file or a history reference such as @-1 "
			"(memobs report --help)");
		return -EINVAL;
	}
	a->ref = argv[optind];
	if (!a->format && !a->svg && !a->html && !a->folded)
		a->format = "text";
	return 0;
}

/* Read the run RUN names, whole: 0 or memobs's exit code. */
static int load(const struct report_args *a, cJSON **doc)
{
	struct mo_history h;
	char err[512];
	int ret = history_cli_load("report", a->history, &h, false);
	bool have_history = !ret;

	if (ret && ret != -ENOENT) {
		history_free(&h);
		return ret == -ENOMEM ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
	}
	ret = run_load(&h, a->history, a->ref, doc, err, sizeof(err));
	if (ret == -ENOMEM)
		log_err("report: out of memory");
	else if (ret && !have_history && a->ref[0] == '@')
		history_cli_missing("report", a->history);
	else if (ret)
		log_err("report: %s", err);
	history_free(&h);
	return !ret ? 0 : ret == -ENOMEM ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
}

/* Render a picture of the run and write it to path: 0 or -errno, said. */
static int write_picture(const struct mo_invoker *inv, const char *path, bool html, const struct mo_run *run,
			 const cJSON *doc, size_t processes)
{
	struct mo_svg_opts svg = { .processes = processes };
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ret;

	if (!mem) {
		log_err("report: cannot render %s: out of memory", path);
		return -ENOMEM;
	}
	ret = html ? report_html(mem, run, doc, processes) : report_svg(mem, run, &svg);
	if (fclose(mem) && !ret)
		ret = -ENOMEM;
	if (ret) {
		log_err("report: cannot render %s: %s", path, strerror(-ret));
	} else {
		ret = outfile_write(inv, path, buf, len, err, sizeof(err));
		if (ret)
			log_err("report: %s", err);
	}
	free(buf);
	return ret;
}

/* The gzipped profile on standard output, never onto a terminal. */
static int print_pprof(const struct mo_run *run)
{
	unsigned char *data;
	size_t len;
	int err;

	if (isatty(STDOUT_FILENO)) {
		log_err("report: --format pprof writes a binary profile: redirect it to a file");
		return MO_EXIT_USAGE;
	}
	err = report_pprof(run, &data, &len);
	if (err == -ENOENT) {
		log_err("report: the run has no stack sites (it was recorded with --rss-sample-bytes 0 and without --heap)");
		return MO_EXIT_USAGE;
	}
	if (err) {
		log_err("report: out of memory");
		return MO_EXIT_FAILURE;
	}
	fwrite(data, 1, len, stdout);
	free(data);
	return 0;
}

/* The run on standard output in format: 0 or memobs's exit code. */
static int print_format(const char *format, const struct mo_run *run, const cJSON *doc)
{
	char *text = NULL;
	int ret = 0;

	if (!strcmp(format, "text")) {
		report_text(stdout, run);
		return 0;
	}
	if (!strcmp(format, "pprof"))
		return print_pprof(run);
	if (!strcmp(format, "json")) {
		ret = (text = cJSON_Print(doc)) ? 0 : -ENOMEM;
	} else {
		struct mo_summary sum;

		ret = summary_from_json(doc, &sum);
		if (!ret && !strcmp(format, "gh-benchmark"))
			ret = report_bench_gh(&sum, &text);
		else if (!ret)
			ret = report_bench_bencher(&sum, &text);
		summary_free(&sum);
	}
	if (ret) {
		log_err("report: out of memory");
		return MO_EXIT_FAILURE;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a;
	struct mo_invoker inv;
	struct mo_run run;
	cJSON *doc = NULL;
	char err[256];
	int rc;

	if (parse_args(argc, argv, &a, &rc))
		return rc;
	rc = load(&a, &doc);
	if (rc)
		return rc;
	run_init(&run);
	if (run_json_parse(doc, &run, err, sizeof(err))) {
		log_err("report: %s: %s", a.ref, err);
		rc = MO_EXIT_USAGE;
		goto out;
	}
	invoker_get(&inv);
	rc = MO_EXIT_FAILURE;
	if (a.svg && write_picture(&inv, a.svg, false, &run, doc, a.processes))
		goto out;
	if (a.html && write_picture(&inv, a.html, true, &run, doc, a.processes))
		goto out;
	if (a.format && (rc = print_format(a.format, &run, doc)))
		goto out;
	if (a.folded) {
		if (!a.weight_given)
			a.weight = run.heap ? MO_FOLD_ALLOC : MO_FOLD_RSS;
		if ((a.weight != MO_FOLD_RSS && !run.heap) || !report_folded(stdout, &run, a.weight, a.lines))
			log_warn("report: %s has no %s stacks%s", a.ref, a.weight == MO_FOLD_RSS ? "RSS growth" : "allocation",
				 a.weight != MO_FOLD_RSS && !run.heap ? " (it was recorded without --heap)" : "");
	}
	if (fflush(stdout) || ferror(stdout)) {
		log_err("report: cannot write to standard output: %s", strerror(errno));
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	rc = MO_EXIT_OK;
out:
	run_free(&run);
	cJSON_Delete(doc);
	return rc;
}

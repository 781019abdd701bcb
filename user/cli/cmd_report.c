// SPDX-License-Identifier: GPL-2.0
/* memobs report RUN: a saved run again, as the human summary, its JSON,
 * benchmark-tracker exports, and pictures (an SVG timeline, an HTML page). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
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
	const char *output;	/* -o: what goes to standard output goes there */
	const char *ref;
	size_t processes;
	bool processes_given;
	bool folded;
	enum mo_fold_weight weight;
	bool weight_given;
	bool lines;		/* --folded --lines */
};

enum { OPT_HISTORY = 256, OPT_FORMAT, OPT_SVG, OPT_HTML, OPT_PROCESSES, OPT_FOLDED, OPT_WEIGHT, OPT_LINES };

_Static_assert(REPORT_SVG_MAX_PROCESSES == 8, "the help of --processes says 8");

static const struct cli_opt report_opts[] = {
	{ "format", OPT_FORMAT, required_argument, "FORMAT", "on standard output: text (the summary, the default "
	  "without --svg/--html), json (the run document), gh-benchmark (github-action-benchmark, "
	  "customSmallerIsBetter), bencher (Bencher Metric Format) or pprof (the allocation and RSS growth sites as "
	  "a gzipped pprof profile, with file:line and the program as the root frame: redirect it to a file)" },
	{ "output", 'o', required_argument, "FILE", "write what would go to standard output (--format, --folded) to "
	  "FILE instead, created as the invoking user and replaced whole" },
	{ "svg", OPT_SVG, required_argument, "FILE", "write the timeline chart: RSS by kind, live heap, phases, marks" },
	{ "html", OPT_HTML, required_argument, "FILE", "write one self-contained page: the chart and every table" },
	{ "processes", OPT_PROCESSES, required_argument, "N", "also chart the N processes of highest peak RSS (at "
	  "most 8), each as a bar over its lifetime in lanes under the plot, named with its peak" },
	{ "folded", OPT_FOLDED, no_argument, NULL, "folded stacks on standard output (flamegraph.pl, inferno, "
	  "speedscope)" },
	{ "weight", OPT_WEIGHT, required_argument, "W", "what the folded stacks weigh: alloc (allocated bytes, the "
	  "default with --heap), live (bytes never freed), rss (RSS growth, the default without)" },
	{ "lines", OPT_LINES, no_argument, NULL, "folded frames followed by their (file.c:42) where DWARF gave one" },
	HISTORY_CLI_OPT(OPT_HISTORY),
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd report_cmd = {
	.name = "report",
	.usage = "RUN [--format FORMAT] [-o FILE] [--history PATH]\n"
		 "RUN [--svg FILE] [--html FILE] [--processes N] [--history PATH]\n"
		 "RUN --folded [--weight alloc|live|rss] [--lines] [-o FILE] [--history PATH]",
	.about = "A saved run again: its summary, its JSON, exports for benchmark trackers and profilers, an SVG "
		 "timeline, an HTML page. RUN: a run document file (memobs -o), or from the history @-1 (the "
		 "newest run), @-2, ..., a commit prefix or a label.",
	.opts = report_opts,
	.after = "exit status: 0; 2 on a usage error or a run that cannot be found or read; 125 when an output "
		 "cannot be written.",
};

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

/* One option into a: CLI_GO_ON, or the exit code to leave with. */
static int take_option(int key, struct report_args *a)
{
	switch (key) {
	case OPT_HISTORY:
		a->history = optarg;
		break;
	case OPT_FORMAT:
		a->format = optarg;
		break;
	case OPT_SVG:
		a->svg = optarg;
		break;
	case OPT_HTML:
		a->html = optarg;
		break;
	case OPT_PROCESSES:
		if (parse_processes(optarg, &a->processes))
			return cli_usage_error(&report_cmd, "--processes '%s': a number from 0 to %d", optarg,
					       REPORT_SVG_MAX_PROCESSES);
		a->processes_given = true;
		break;
	case OPT_FOLDED:
		a->folded = true;
		break;
	case OPT_LINES:
		a->lines = true;
		break;
	case OPT_WEIGHT:
		if (report_folded_weight(optarg, &a->weight))
			return cli_usage_error(&report_cmd, "--weight '%s': alloc, live or rss", optarg);
		a->weight_given = true;
		break;
	case 'o':
		a->output = optarg;
		break;
	case 'h':
		cli_help(&report_cmd, stdout);
		return MO_EXIT_OK;
	default:
		return MO_EXIT_USAGE;
	}
	return CLI_GO_ON;
}

/* CLI_GO_ON, or the exit code to leave with (--help, a usage error). */
static int parse_args(int argc, char **argv, struct report_args *a)
{
	struct cli_parser p;
	int key, rc;

	*a = (struct report_args){ .history = HISTORY_DEFAULT_PATH };
	cli_start(&p, &report_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1)
		if ((rc = take_option(key, a)) != CLI_GO_ON)
			return rc;
	if (a->format && !known_format(a->format))
		return cli_usage_error(&report_cmd, "unknown format '%s' (text, json, gh-benchmark, bencher or pprof)",
				       a->format);
	if ((a->weight_given || a->lines) && !a->folded)
		return cli_usage_error(&report_cmd, "--%s is for --folded", a->weight_given ? "weight" : "lines");
	if (a->folded && a->format)
		return cli_usage_error(&report_cmd, "--folded prints folded stacks on standard output: leave out "
				       "--format");
	if (a->processes_given && !a->svg && !a->html)
		return cli_usage_error(&report_cmd, "--processes is for the chart: add --svg FILE or --html FILE");
	if (argc - optind != 1)
		return cli_usage_error(&report_cmd, "give one run: a run document file or a history reference such as "
				       "@-1");
	a->ref = argv[optind];
	if (a->output && !a->format && !a->folded && (a->svg || a->html))
		return cli_usage_error(&report_cmd, "-o is for what goes to standard output (--format, --folded): the "
				       "pictures have their files");
	if (!a->format && !a->svg && !a->html && !a->folded)
		a->format = "text";
	return CLI_GO_ON;
}

/* Read the run RUN names, whole: 0 or memobs's exit code. */
static int load(const struct report_args *a, cJSON **doc)
{
	struct mo_history h;
	char err[512];
	int ret = history_cli_load(a->history, &h, false);
	bool have_history = !ret;

	if (ret && ret != -ENOENT) {
		history_free(&h);
		return ret == -ENOMEM ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
	}
	ret = run_load(&h, a->history, a->ref, doc, err, sizeof(err));
	if (ret == -ENOMEM)
		log_err("out of memory");
	else if (ret && !have_history && a->ref[0] == '@')
		history_cli_missing(a->history);
	else if (ret)
		log_err("%s", err);
	history_free(&h);
	return !ret ? 0 : ret == -ENOMEM ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
}

/* Render a picture of the run and write it to path: 0 or -errno, said. */
static int write_picture(const struct mo_invoker *inv, const char *path, bool html, const struct mo_run *run,
			 size_t processes)
{
	struct mo_svg_opts svg = { .processes = processes };
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ret;

	if (!mem) {
		log_err("cannot render %s: out of memory", path);
		return -ENOMEM;
	}
	ret = html ? report_html(mem, run, processes) : report_svg(mem, run, &svg);
	if (fclose(mem) && !ret)
		ret = -ENOMEM;
	if (ret) {
		log_err("cannot render %s: %s", path, strerror(-ret));
	} else {
		ret = outfile_write(inv, path, buf, len, err, sizeof(err));
		if (ret)
			log_err("%s", err);
	}
	free(buf);
	return ret;
}

/* The gzipped profile, never onto a terminal. */
static int print_pprof(FILE *out, const struct mo_run *run)
{
	unsigned char *data;
	size_t len;
	int err;

	if (out == stdout && isatty(STDOUT_FILENO)) {
		log_err("--format pprof writes a binary profile: redirect it to a file or use -o FILE");
		return MO_EXIT_USAGE;
	}
	err = report_pprof(run, &data, &len);
	if (err == -ENOENT) {
		log_err("the run has no stack sites (it was recorded with --rss-sample-bytes 0 and without --heap)");
		return MO_EXIT_USAGE;
	}
	if (err) {
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	fwrite(data, 1, len, out);
	free(data);
	return 0;
}

/* The run in format to out: 0 or memobs's exit code. */
static int print_format(FILE *out, const char *format, const struct mo_run *run, const cJSON *doc)
{
	char *text = NULL;
	int ret = 0;

	if (!strcmp(format, "text")) {
		report_text(out, run);
		return 0;
	}
	if (!strcmp(format, "pprof"))
		return print_pprof(out, run);
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
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	fprintf(out, "%s\n", text);
	cJSON_free(text);
	return 0;
}

/* What goes to standard output (--format, --folded), or with -o into that
 * file. 0 or memobs's exit code. */
static int write_stream(struct report_args *a, const struct mo_run *run, const cJSON *doc,
			const struct mo_invoker *inv)
{
	char *buf = NULL, err[PATH_MAX + 128];
	size_t len = 0;
	FILE *out = a->output ? open_memstream(&buf, &len) : stdout;
	int rc = 0;

	if (!out) {
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	if (a->format)
		rc = print_format(out, a->format, run, doc);
	if (!rc && a->folded) {
		if (!a->weight_given)
			a->weight = run->heap ? MO_FOLD_ALLOC : MO_FOLD_RSS;
		if ((a->weight != MO_FOLD_RSS && !run->heap) || !report_folded(out, run, a->weight, a->lines))
			log_warn("%s has no %s stacks%s", a->ref, a->weight == MO_FOLD_RSS ? "RSS growth" : "allocation",
				 a->weight != MO_FOLD_RSS && !run->heap ? " (it was recorded without --heap)" : "");
	}
	if (a->output) {
		if (fclose(out) && !rc) {
			log_err("out of memory");
			rc = MO_EXIT_FAILURE;
		}
		if (!rc && outfile_write(inv, a->output, buf, len, err, sizeof(err))) {
			log_err("%s", err);
			rc = MO_EXIT_FAILURE;
		}
		free(buf);
		return rc;
	}
	if (!rc && (fflush(stdout) || ferror(stdout))) {
		log_err("cannot write to standard output: %s", strerror(errno));
		rc = MO_EXIT_FAILURE;
	}
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a;
	struct mo_invoker inv;
	struct mo_run run;
	cJSON *doc = NULL;
	char err[256];
	int rc = parse_args(argc, argv, &a);

	if (rc != CLI_GO_ON)
		return rc;
	rc = load(&a, &doc);
	if (rc)
		return rc;
	run_init(&run);
	if (run_json_parse(doc, &run, err, sizeof(err))) {
		log_err("%s: %s", a.ref, err);
		rc = MO_EXIT_USAGE;
		goto out;
	}
	invoker_get(&inv);
	rc = MO_EXIT_FAILURE;
	if (a.svg && write_picture(&inv, a.svg, false, &run, a.processes))
		goto out;
	if (a.html && write_picture(&inv, a.html, true, &run, a.processes))
		goto out;
	rc = write_stream(&a, &run, doc, &inv);
out:
	run_free(&run);
	cJSON_Delete(doc);
	return rc;
}

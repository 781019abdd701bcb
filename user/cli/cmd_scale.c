// SPDX-License-Identifier: GPL-2.0
/* memobs scale: run a command at several sizes, each under memobs, and fit
 * how each metric grows with the size. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/exitcodes.h"
#include "lib/invoker.h"
#include "lib/json_util.h"
#include "lib/log.h"
#include "lib/outfile.h"
#include "scale/scale.h"
#include "scale/scale_exec.h"
#include "scale/scale_json.h"
#include "scale/scale_svg.h"
#include "scale/scale_text.h"
#include "observe/tracer.h"
#include "lib/units.h"

#define MAX_REPEAT 99

/* A run of the command failed: the sweep stops and says at which size with
 * what status. Not the command's own status as in run mode: that would
 * collide with 2 (usage) and make "COMMAND exited 1" look like this. It
 * belongs in exitcodes.h with the others, which this file does not own. */

struct scale_opts {
	const char *output;
	const char *svg;
	bool quiet;
};

enum { OPT_SIZES = 256, OPT_REPEAT, OPT_ENV, OPT_HEAP, OPT_PREDICT, OPT_BUDGET, OPT_SVG };

static const struct cli_opt scale_opts[] = {
	{ "sizes", OPT_SIZES, required_argument, "LIST", "at least 3 distinct whole numbers, e.g. 100,1000,5000 "
	  "(run smallest first)" },
	{ "repeat", OPT_REPEAT, required_argument, "K", "runs per size, the median of each metric counts (default 1, "
	  "at most 99)" },
	{ "env", OPT_ENV, required_argument, "NAME", "also set the size in environment variable NAME (then {} is "
	  "optional)" },
	{ "heap", OPT_HEAP, no_argument, NULL, "trace the allocator too (memobs --heap)" },
	{ "predict", OPT_PREDICT, required_argument, "N", "extrapolate every metric to size N" },
	{ "budget", OPT_BUDGET, required_argument, "SIZE", "with --predict: does the session peak RSS at N fit in "
	  "SIZE (2GiB, 512MB)?" },
	{ "output", 'o', required_argument, "FILE", "write the run set (JSON: every run's summary and the fits; '-': "
	  "stdout)" },
	{ "svg", OPT_SVG, required_argument, "FILE", "plot each metric against the size on log-log axes with its "
	  "fitted curve ('-': stdout)" },
	{ "quiet", 'q', no_argument, NULL, "no progress lines on stderr" },
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd scale_cmd = {
	.name = "scale",
	.usage = "--sizes N1,N2,N3[,...] [--repeat K] [--env NAME] [--heap] [--predict N]\n"
		 "      [--budget SIZE] [-o FILE] [--svg FILE] [-q] -- COMMAND [ARGS...]",
	.about = "Run COMMAND once per size (K times: the median counts), each under memobs, with every {} in its "
		 "arguments replaced by the size (and/or $NAME set to it), and fit each metric - session peak RSS, "
		 "duration, each phase's RSS peak over its baseline, with --heap the heap peak and bytes allocated "
		 "- as a + b*N^k: the exponent k says whether it grows linearly, b what each unit costs. When the "
		 "runs count work items (items markers), a phase is fitted against its items instead of the size.",
	.opts = scale_opts,
	.after = "The table goes to stdout (to stderr when -o or --svg is '-'); COMMAND's output goes to stderr.\n"
		 "exit status: 0 done (whatever the budget answer: read it in the table or the run set); 1 COMMAND "
		 "failed at a size (the sweep stops there); 2 usage error; 125 memobs failed; 126/127 COMMAND cannot "
		 "be executed / was not found; 128+N signal N stopped the sweep.",
	.stop_at_operand = true,
};

_Static_assert(MAX_REPEAT == 99, "the help of --repeat says 99");

static bool valid_env_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int parse_count(const char *opt, const char *arg, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = isdigit((unsigned char)arg[0]) ? strtoull(arg, &end, 10) : 0;
	if (!isdigit((unsigned char)arg[0]) || errno || *end || *out < 1 || *out > max) {
		cli_usage_error(&scale_cmd, "%s '%s': expected a whole number from 1 to %llu", opt, arg,
				(unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

static int check_setup(const struct mo_scale_setup *su, bool sizes_given)
{
	if (!sizes_given) {
		cli_usage_error(&scale_cmd, "--sizes is required, e.g. --sizes 100,1000,5000");
		return -EINVAL;
	}
	if (!su->command) {
		cli_usage_error(&scale_cmd, "no command: memobs scale --sizes ... -- COMMAND {}");
		return -EINVAL;
	}
	if (!su->env && !scale_exec_has_placeholder(su->command)) {
		cli_usage_error(&scale_cmd, "the command has no %s and no --env NAME is given: say where the size "
				"goes, e.g. -- ./build --pages %s", SCALE_PLACEHOLDER, SCALE_PLACEHOLDER);
		return -EINVAL;
	}
	if (su->budget && !su->predict) {
		cli_usage_error(&scale_cmd, "--budget needs --predict N: the size whose peak RSS must fit");
		return -EINVAL;
	}
	return 0;
}

/* One option: CLI_GO_ON, or the exit code to leave with. */
static int take_option(int key, struct mo_scale_setup *su, struct scale_opts *o, bool *sizes_given)
{
	char err[256];
	uint64_t v;

	switch (key) {
	case OPT_SIZES:
		free(su->sizes);
		if (scale_parse_sizes(optarg, &su->sizes, &su->nsizes, err, sizeof(err)))
			return cli_usage_error(&scale_cmd, "--sizes: %s", err);
		*sizes_given = true;
		break;
	case OPT_REPEAT:
		if (parse_count("--repeat", optarg, MAX_REPEAT, &v))
			return MO_EXIT_USAGE;
		su->repeat = v;
		break;
	case OPT_ENV:
		if (!valid_env_name(optarg))
			return cli_usage_error(&scale_cmd, "--env '%s' is not a variable name (letters, digits, _)", optarg);
		su->env = optarg;
		break;
	case OPT_HEAP:
		su->heap = true;
		break;
	case OPT_PREDICT:
		if (parse_count("--predict", optarg, SCALE_MAX_SIZE, &su->predict))
			return MO_EXIT_USAGE;
		break;
	case OPT_BUDGET:
		if (units_parse_size(optarg, &su->budget, err, sizeof(err)))
			return cli_usage_error(&scale_cmd, "--budget: %s", err);
		if (!su->budget)
			return cli_usage_error(&scale_cmd, "--budget: the budget must be more than 0 bytes");
		break;
	case 'o':
		o->output = optarg;
		break;
	case OPT_SVG:
		o->svg = optarg;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'h':
		cli_help(&scale_cmd, stdout);
		return MO_EXIT_OK;
	default:
		return MO_EXIT_USAGE;
	}
	return CLI_GO_ON;
}

/* CLI_GO_ON, or the exit code to leave with (--help, a usage error). */
static int parse_args(int argc, char **argv, struct mo_scale_setup *su, struct scale_opts *o)
{
	struct cli_parser p;
	bool sizes_given = false;
	int key, rc;

	cli_start(&p, &scale_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1)
		if ((rc = take_option(key, su, o, &sizes_given)) != CLI_GO_ON)
			return rc;
	if (o->output && o->svg && !strcmp(o->output, "-") && !strcmp(o->svg, "-"))
		return cli_usage_error(&scale_cmd, "-o - and --svg - would both write to stdout: send one of them to a "
				       "file");
	if (optind < argc)
		su->command = argv + optind;
	return check_setup(su, sizes_given) ? MO_EXIT_USAGE : CLI_GO_ON;
}

static volatile sig_atomic_t stop_signal;
static volatile pid_t running;

/* A Ctrl-C reaches the whole foreground group: the command and its memobs,
 * which writes its document and exits. A signal sent to this process alone
 * (kill, timeout) is passed on to the memobs running, which passes it to the
 * command. Either way the sweep stops after that run and cleans up. */
static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	stop_signal = sig;
	if (running > 0 && (si->si_code == SI_USER || si->si_code == SI_QUEUE))
		kill(running, sig);
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_stop_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigset_t set;

	tracer_stop_signals(&set);
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) == 1)
			sigaction(sig, &sa, NULL);
}

static void progress(const struct mo_scale_setup *su, uint64_t size, unsigned rep, const cJSON *doc)
{
	char rss[32];

	fprintf(stderr, "memobs scale: size %llu", (unsigned long long)size);
	if (su->repeat > 1)
		fprintf(stderr, " (run %u of %u)", rep, su->repeat);
	fprintf(stderr, ": peak RSS %s, %.2f s\n", units_fmt_size(json_num(doc, "totals.rss.peak", 0), rss, sizeof(rss)),
		json_num(doc, "duration_s", 0));
}

static int stopped(const char *what)
{
	log_err("%s: stopped by signal %d (%s); the sweep is incomplete", what, stop_signal,
		strsignal(stop_signal));
	return 128 + stop_signal;
}

/* One run at size: 0 with the run added, else the exit code, said. */
static int run_one(struct mo_scale *s, const struct scale_opts *o, const char *dir, uint64_t size, unsigned rep)
{
	char err[512], what[64];
	cJSON *doc;
	int ret, status, exit_status;

	snprintf(what, sizeof(what), "size %llu", (unsigned long long)size);
	if (s->setup.repeat > 1)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " (run %u of %u)", rep, s->setup.repeat);
	if (stop_signal)
		return stopped(what);
	ret = scale_exec_run(&s->setup, size, rep, dir, &running, &doc, &status, err, sizeof(err));
	if (stop_signal) {
		cJSON_Delete(doc);
		return stopped(what);
	}
	if (ret == -ECHILD && (status == MO_EXIT_CANNOT_RUN || status == MO_EXIT_NOT_FOUND)) {
		log_err("%s: the command %s; stopping", what,
			status == MO_EXIT_NOT_FOUND ? "was not found" : "cannot be executed");
		return status;
	}
	if (ret) {
		log_err("%s: %s; stopping", what, err);
		return MO_EXIT_FAILURE;
	}
	exit_status = json_num(doc, "exit_status", -1);
	if (exit_status) {
		if (exit_status > 128)
			log_err("%s: the command was killed by signal %d (exit status %d); stopping", what,
				exit_status - 128, exit_status);
		else
			log_err("%s: the command exited with status %d; stopping", what, exit_status);
		cJSON_Delete(doc);
		return MO_EXIT_SCALE_RUN_FAILED;
	}
	if (!o->quiet)
		progress(&s->setup, size, rep, doc);
	if (scale_add_run(s, size, rep, doc)) {
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	return 0;
}

static int run_sweep(struct mo_scale *s, const struct scale_opts *o, const struct mo_invoker *inv)
{
	char dir[PATH_MAX], err[512];
	int rc = 0;

	if (scale_exec_mkdir(inv, dir, sizeof(dir), err, sizeof(err))) {
		log_err("%s", err);
		return MO_EXIT_FAILURE;
	}
	for (size_t i = 0; i < s->setup.nsizes && !rc; i++)
		for (unsigned rep = 1; rep <= s->setup.repeat && !rc; rep++)
			rc = run_one(s, o, dir, s->setup.sizes[i], rep);
	scale_exec_rmdir(dir);
	return rc;
}

/* Say now, not after the sweep, that a result cannot be kept. */
static int check_outputs(const struct scale_opts *o, const struct mo_invoker *inv)
{
	const char *paths[] = { o->output, o->svg };
	char err[512];

	for (size_t i = 0; i < 2; i++)
		if (paths[i] && strcmp(paths[i], "-") && outfile_check(inv, paths[i], err, sizeof(err))) {
			log_err("%s", err);
			return MO_EXIT_FAILURE;
		}
	return 0;
}

/* Write data (len bytes) to path, '-' meaning stdout. 0 or the exit code. */
static int write_out(const struct mo_invoker *inv, const char *path, const char *data, size_t len)
{
	char err[512];

	if (!strcmp(path, "-")) {
		fwrite(data, 1, len, stdout);
		return 0;
	}
	if (outfile_write(inv, path, data, len, err, sizeof(err))) {
		log_err("%s", err);
		return MO_EXIT_FAILURE;
	}
	return 0;
}

static int write_svg(const struct mo_invoker *inv, const char *path, const struct mo_scale *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ret = mem ? scale_svg(mem, s) : -ENOMEM;

	if (mem && fclose(mem) && !ret)
		ret = -ENOMEM;
	if (ret)
		log_err("cannot render %s: %s", path, strerror(-ret));
	else
		ret = write_out(inv, path, buf, len);
	free(buf);
	return ret ? MO_EXIT_FAILURE : 0;
}

static int write_outputs(const struct mo_scale *s, const struct scale_opts *o, const struct mo_invoker *inv)
{
	bool json_stdout = o->output && !strcmp(o->output, "-"), svg_stdout = o->svg && !strcmp(o->svg, "-");
	char *text;
	int rc = 0;

	scale_text(json_stdout || svg_stdout ? stderr : stdout, s);
	if (o->output) {
		text = scale_json_render(s);
		if (!text) {
			log_err("cannot render the run set: out of memory");
			return MO_EXIT_FAILURE;
		}
		rc = write_out(inv, o->output, text, strlen(text));
		if (!rc && json_stdout)
			fputc('\n', stdout);
		cJSON_free(text);
	}
	if (o->svg && !rc)
		rc = write_svg(inv, o->svg, s);
	if (fflush(stdout) || ferror(stdout)) {
		log_err("cannot write to standard output: %s", strerror(errno));
		rc = MO_EXIT_FAILURE;
	}
	return rc;
}

int cmd_scale(int argc, char **argv)
{
	struct scale_opts o = {};
	struct mo_invoker inv;
	struct mo_scale s;
	int rc;

	scale_init(&s);
	rc = parse_args(argc, argv, &s.setup, &o);
	if (rc != CLI_GO_ON)
		goto out;
	invoker_get(&inv);
	rc = check_outputs(&o, &inv);
	if (rc)
		goto out;
	catch_stop_signals();
	rc = run_sweep(&s, &o, &inv);
	if (rc)
		goto out;
	if (scale_fit(&s)) {
		log_err("out of memory");
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	rc = write_outputs(&s, &o, &inv);
out:
	scale_free(&s);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/run_args.h"
#include "history/history.h"
#include "lib/exitcodes.h"
#include "lib/log.h"
#include "lib/units.h"
#include "lib/users.h"
#include "observe/cgroups.h"
#include "serve/serve.h"

enum {
	OPT_HEAP = 256, OPT_HISTORY, OPT_LABEL, OPT_INTERVAL, OPT_DURATION, OPT_MAX_PROCS, OPT_MAX_ALLOCS,
	OPT_MAX_STACKS, OPT_SAMPLE, OPT_RSS_SAMPLE, OPT_LIVE, OPT_SERVE, OPT_COMM, OPT_UID, OPT_CGROUP, OPT_PHYSICAL,
	OPT_MARKER_UID, OPT_MAX_MARKS, OPT_MAX_MARK_RATE, OPT_VERSION, OPT_HISTORY_FULL,
};

#define STR(x) #x
#define XSTR(x) STR(x)

static const struct cli_opt run_opt_table[] = {
	{ "output", 'o', required_argument, "FILE", "write the run document (JSON) to FILE ('-': stdout)" },
	{ "heap", OPT_HEAP, optional_argument, "uprobes", "also trace the allocator (malloc family): heap live/peak, "
	  "counts; a command's processes count in process (a preloaded library), -p's and -a's by uprobes; "
	  "=uprobes: the command's by uprobes too" },
	{ "pid", 'p', required_argument, "PID[,PID...]", "attach to running processes and what they start from then "
	  "on (until all have exited; repeatable)" },
	{ "all", 'a', no_argument, NULL, "every process on the host (until Ctrl-C or --duration)" },
	{ "comm", OPT_COMM, required_argument, "NAME[,NAME...]", "with -a: only processes of these names (as ps "
	  "shows them, at most 15 bytes); checked at fork and at exec; repeatable" },
	{ "uid", OPT_UID, required_argument, "UID|USER", "with -a: only processes running as this (effective) user" },
	{ "cgroup", OPT_CGROUP, required_argument, "PATH", "with -a: only processes in this cgroup v2 or below it "
	  "(/system.slice/foo.service, or under /sys/fs/cgroup)" },
	{ "marker-uid", OPT_MARKER_UID, required_argument, "UID|USER", "with -a: phases and marks also from this "
	  "user's processes (root's always; others' are counted in drops.markers_refused)" },
	{ "max-marks", OPT_MAX_MARKS, required_argument, "N", "marks kept in the run (default " XSTR(MO_MAX_MARKS) ")" },
	{ "max-mark-rate", OPT_MAX_MARK_RATE, required_argument, "N", "marks kept in one second (default "
	  XSTR(MO_MAX_MARK_RATE) "); the rest: drops.marks" },
	{ "duration", OPT_DURATION, required_argument, "SEC", "stop observing after SEC seconds (-p, -a)" },
	{ "history", OPT_HISTORY, optional_argument, "PATH", "append the run's summary to the history at PATH "
	  "(default " HISTORY_DEFAULT_PATH "). --history PATH with a space takes PATH only when the command comes "
	  "after --; without --, `memobs --history make` runs make" },
	{ "history-full", OPT_HISTORY_FULL, optional_argument, "PATH", "the same, and keep the whole run document "
	  "beside the history (in " HISTORY_RUNS_DIR "/ next to it) for report to read again" },
	{ "label", OPT_LABEL, required_argument, "LABEL", "label the run (history, check)" },
	{ "interval", OPT_INTERVAL, required_argument, "MS", "timeline sampling interval (default 100)" },
	{ "max-procs", OPT_MAX_PROCS, required_argument, "N", "processes observed at once (default "
	  XSTR(MO_MAX_PROCS) ")" },
	{ "max-allocs", OPT_MAX_ALLOCS, required_argument, "N", "live heap blocks tracked (default " XSTR(MO_MAX_ALLOCS)
	  "; 16 bytes of kernel memory each at load, ~100 more per block tracked)" },
	{ "max-stacks", OPT_MAX_STACKS, required_argument, "N", "distinct stacks kept (default " XSTR(MO_MAX_STACKS)
	  "; each takes 1 KiB of kernel memory)" },
	{ "sample-bytes", OPT_SAMPLE, required_argument, "SIZE", "allocation stacks (--heap): one sample per SIZE "
	  "allocated (default 512KiB; 1: every allocation; 0: none)" },
	{ "rss-sample-bytes", OPT_RSS_SAMPLE, required_argument, "SIZE", "stacks of the code that made RSS grow: one "
	  "per SIZE (default 512KiB; 0: none)" },
	{ "serve", OPT_SERVE, required_argument, "ADDR:PORT", "Prometheus metrics on http://ADDR:PORT/metrics while "
	  "observing (PORT or :PORT: loopback; another address must be written out)" },
	{ "physical", OPT_PHYSICAL, required_argument, "MODE", "the tree's physical memory beside the RSS sum: auto "
	  "(default: the kernel's charge to a memory cgroup of the command's own, else PSS sampled; none with -a), "
	  "cgroup (that or fail), pss, off" },
	{ "live", OPT_LIVE, no_argument, NULL, "full-screen view of the processes by RSS, refreshed each second (q "
	  "leaves it; without a command it also ends the run; g groups the rows by comm, user, cgroup); the "
	  "command's output to the terminal goes to a log file shown in a pane below" },
	{ "quiet", 'q', no_argument, NULL, "no summary on stderr" },
	{ "verbose", 'v', no_argument, NULL, "say what memobs does (probes, libbpf)" },
	{ "version", OPT_VERSION, no_argument, NULL, "print memobs's version" },
	CLI_OPT_HELP,
	{},
};

static const struct cli_cmd run_cmd = {
	.usage = "[OPTIONS] -- COMMAND [ARGS...]\n[OPTIONS] -p PID[,PID...]\n[OPTIONS] -a\nSUBCOMMAND [ARGS...]",
	.about = "Observe memory (RSS by kind, the process tree, phases; the heap with --heap) of a command and every "
		 "process it starts, of running processes, or of the whole host.",
	.opts = run_opt_table,
	.after = "exit status: COMMAND's own (128+N if signal N killed it); 0 for -p and -a; 125 memobs failed "
		 "(also: unknown pid, user or cgroup); 126 COMMAND cannot be executed; 127 COMMAND not found; 2 "
		 "usage error.\n\nmemobs SUBCOMMAND --help says more of each subcommand.",
	.stop_at_operand = true,
};

static void run_help(FILE *out)
{
	cli_help(&run_cmd, out);
	fprintf(out, "\nsubcommands:\n");
	for (const struct cli_subcommand *c = cli_subcommands; c->name; c++) {
		fprintf(out, "  %-10s", c->name);
		cli_wrap(out, c->summary, 12, 12);
	}
}

static bool parse_number(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return s != end && !*end && !errno && *out >= min && *out <= max;
}

/* Keep the filters as given ("--comm cc1 --uid 1000"), for the run document. */
static void note_filter(struct run_opts *o, const char *opt, const char *value)
{
	char *text;

	if (asprintf(&text, "%s%s%s %s", o->filters_text ? o->filters_text : "", o->filters_text ? " " : "", opt,
		     value) < 0)
		return;
	free(o->filters_text);
	o->filters_text = text;
}

/* A user named by --uid or --marker-uid: CLI_GO_ON, or the exit code (an
 * unknown user is memobs's failure, a malformed one a usage error). */
static int take_user(const char *opt, const char *arg, uid_t *uid)
{
	int ret = users_parse(arg, uid);

	if (ret == -ENOENT) {
		log_err("%s: '%s' is no such user", opt, arg);
		return MO_EXIT_FAILURE;
	}
	if (ret)
		return cli_usage_error(&run_cmd, "%s: '%s' is not a uid or a user name", opt, arg);
	return CLI_GO_ON;
}

static int take_cgroup(struct run_opts *o, const char *arg)
{
	char root[PATH_MAX], err[256];
	int ret = cgroups_find_mount(root, sizeof(root));

	if (ret) {
		log_err("--cgroup: no cgroup v2 hierarchy is mounted (/proc/self/mountinfo): %s", strerror(-ret));
		return MO_EXIT_FAILURE;
	}
	ret = filters_set_cgroup(&o->filters, arg, root, err, sizeof(err));
	if (ret == -ENOENT) {
		log_err("--cgroup: %s", err);
		return MO_EXIT_FAILURE;
	}
	if (ret)
		return cli_usage_error(&run_cmd, "--cgroup: %s", err);
	note_filter(o, "--cgroup", o->filters.cgroup);
	return CLI_GO_ON;
}

/* -p, -a and what chooses among processes or their markers. */
static int take_target(int key, const char *arg, struct run_opts *o)
{
	struct mo_marker_limits *m = &o->tracer.markers;
	char err[256];
	double v;
	int rc;

	switch (key) {
	case 'p':
		if (filters_parse_pids(arg, &o->pids, &o->npids, err, sizeof(err)))
			return cli_usage_error(&run_cmd, "-p: %s", err);
		break;
	case 'a':
		o->all = true;
		break;
	case OPT_COMM:
		if (filters_add_comms(&o->filters, arg, err, sizeof(err)))
			return cli_usage_error(&run_cmd, "--comm: %s", err);
		note_filter(o, "--comm", arg);
		break;
	case OPT_UID:
		if ((rc = take_user("--uid", arg, &o->filters.uid)) != CLI_GO_ON)
			return rc;
		o->filters.has_uid = true;
		note_filter(o, "--uid", arg);
		break;
	case OPT_CGROUP:
		return take_cgroup(o, arg);
	case OPT_MARKER_UID:
		return take_user("--marker-uid", arg, &m->uid);
	case OPT_MAX_MARKS:
	case OPT_MAX_MARK_RATE:
		if (!parse_number(arg, key == OPT_MAX_MARKS ? 0 : 1, 1e9, &v) || v != (uint64_t)v)
			return cli_usage_error(&run_cmd, "--%s: '%s' is not a count%s",
					       key == OPT_MAX_MARKS ? "max-marks" : "max-mark-rate", arg,
					       key == OPT_MAX_MARKS ? "" : " (1 or more)");
		*(key == OPT_MAX_MARKS ? &m->max_marks : &m->max_mark_rate) = v;
		break;
	}
	return CLI_GO_ON;
}

/* Sizes of tables, sampling, timing. */
static int take_limit(int key, const char *arg, struct mo_tracer_opts *t)
{
	char err[256];
	uint64_t size;
	double v, max;

	switch (key) {
	case OPT_DURATION:
		if (!parse_number(arg, 0.001, 1e9, &t->duration_s))
			return cli_usage_error(&run_cmd, "--duration: '%s' is not a number of seconds", arg);
		break;
	case OPT_INTERVAL:
		if (!parse_number(arg, 1, 3600000, &v))
			return cli_usage_error(&run_cmd, "--interval: '%s' is not a number of milliseconds (1 or more)",
					       arg);
		t->interval_s = v / 1000;
		break;
	case OPT_MAX_PROCS:
	case OPT_MAX_ALLOCS:
	case OPT_MAX_STACKS:
		/* A stack takes 1 KiB of kernel memory, allocated at load. */
		max = key == OPT_MAX_STACKS ? 1 << 20 : 1 << 26;
		if (!parse_number(arg, 16, max, &v))
			return cli_usage_error(&run_cmd, "--max-%s: '%s' is not a count between 16 and %.0f",
					       key == OPT_MAX_PROCS ? "procs" : key == OPT_MAX_ALLOCS ? "allocs" : "stacks",
					       arg, max);
		*(key == OPT_MAX_PROCS ? &t->max_procs : key == OPT_MAX_ALLOCS ? &t->max_allocs : &t->max_stacks) = v;
		break;
	case OPT_SAMPLE:
	case OPT_RSS_SAMPLE:
		if (units_parse_size(arg, &size, err, sizeof(err)))
			return cli_usage_error(&run_cmd, "--%s: %s", key == OPT_SAMPLE ? "sample-bytes" : "rss-sample-bytes",
					       err);
		*(key == OPT_SAMPLE ? &t->alloc_sample_bytes : &t->rss_sample_bytes) = size;
		break;
	}
	return CLI_GO_ON;
}

/* --history, --history=PATH, or --history PATH when the command follows
 * after a --: only then can PATH not be the command. */
static int take_history(int argc, char **argv, struct run_opts *o)
{
	const char *next = optind < argc ? argv[optind] : NULL;
	size_t len = next ? strlen(next) : 0;

	o->history = optarg ? optarg : o->history ? o->history : HISTORY_DEFAULT_PATH;
	if (optarg || !next || next[0] == '-')
		return CLI_GO_ON;
	if (cli_options_then_dashdash(&run_cmd, argc, argv, optind + 1)) {
		o->history = argv[optind++];
		return CLI_GO_ON;
	}
	if (len > 6 && !strcmp(next + len - 6, ".jsonl"))
		return cli_usage_error(&run_cmd, "%s '%s': write %s=%s, or put the command after --", argv[optind - 1],
				       next, argv[optind - 1], next);
	return CLI_GO_ON;
}

static int take_other(int key, const char *arg, struct run_opts *o)
{
	static const char *const physical_modes[] = {
		[MO_PHYS_MODE_AUTO] = "auto", [MO_PHYS_MODE_CGROUP] = "cgroup", [MO_PHYS_MODE_PSS] = "pss",
		[MO_PHYS_MODE_OFF] = "off",
	};
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[256];
	size_t m = 0;

	switch (key) {
	case OPT_PHYSICAL:
		while (m < 4 && strcmp(arg, physical_modes[m]))
			m++;
		if (m == 4)
			return cli_usage_error(&run_cmd, "--physical: '%s' is not auto, cgroup, pss or off", arg);
		o->tracer.physical = m;
		break;
	case OPT_SERVE:
		if (serve_parse_addr(arg, &ss, &sslen, err, sizeof(err)))
			return cli_usage_error(&run_cmd, "--serve: %s", err);
		o->tracer.serve_addr = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	case OPT_HEAP:
		if (arg && strcmp(arg, "uprobes"))
			return cli_usage_error(&run_cmd, "--heap=%s: the only choice is --heap=uprobes", arg);
		o->tracer.heap = true;
		o->heap_uprobes = arg;
		break;
	case OPT_LABEL:
		o->label = arg;
		break;
	case OPT_LIVE:
		o->tracer.live = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'v':
		log_set_verbose(true);
		break;
	}
	return CLI_GO_ON;
}

static int take_option(int key, int argc, char **argv, struct run_opts *o)
{
	switch (key) {
	case 'h':
		run_help(stdout);
		return MO_EXIT_OK;
	case OPT_VERSION:
		printf("memobs %s\n", MEMOBS_VERSION);
		return MO_EXIT_OK;
	case OPT_HISTORY_FULL:
		o->history_full = true;
		/* fall through */
	case OPT_HISTORY:
		return take_history(argc, argv, o);
	case 'p': case 'a': case OPT_COMM: case OPT_UID: case OPT_CGROUP:
	case OPT_MARKER_UID: case OPT_MAX_MARKS: case OPT_MAX_MARK_RATE:
		return take_target(key, optarg, o);
	case OPT_DURATION: case OPT_INTERVAL: case OPT_MAX_PROCS: case OPT_MAX_ALLOCS: case OPT_MAX_STACKS:
	case OPT_SAMPLE: case OPT_RSS_SAMPLE:
		return take_limit(key, optarg, &o->tracer);
	case '?':
		return MO_EXIT_USAGE;
	default:
		return take_other(key, optarg, o);
	}
}

/* Is there a controlling terminal for the live view (live.h)? */
static bool has_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The options together make sense. */
static int check_combination(const struct run_opts *o)
{
	if (!!o->command + !!o->npids + o->all != 1)
		return cli_usage_error(&run_cmd, "say what to observe: -- COMMAND, -p PID or -a (one of them)");
	if (filters_any(&o->filters) && !o->all)
		return cli_usage_error(&run_cmd, "--comm, --uid and --cgroup choose among all processes: use them with -a");
	if (o->tracer.markers.uid != MO_NO_UID && !o->all)
		return cli_usage_error(&run_cmd, "--marker-uid applies to -a; the processes of a command or of -p may all "
				       "fire markers");
	if (o->tracer.live && !has_tty())
		return cli_usage_error(&run_cmd, "--live needs a terminal to draw on: memobs has no controlling terminal");
	if (o->tracer.physical == MO_PHYS_MODE_CGROUP && !o->command)
		return cli_usage_error(&run_cmd, "--physical cgroup: only a command memobs starts gets a cgroup of its own");
	if (o->tracer.duration_s && o->command)
		return cli_usage_error(&run_cmd, "--duration applies to -p and -a; a command is observed until it exits");
	return CLI_GO_ON;
}

int run_args_parse(int argc, char **argv, struct run_opts *o)
{
	struct cli_parser p;
	int key, rc;

	o->tracer.interval_s = 0.1;
	o->tracer.alloc_sample_bytes = MO_SAMPLE_BYTES;
	o->tracer.rss_sample_bytes = MO_SAMPLE_BYTES;
	o->tracer.markers = (struct mo_marker_limits){ MO_NO_UID, MO_MAX_MARKS, MO_MAX_MARK_RATE };
	cli_start(&p, &run_cmd);
	while ((key = cli_next(&p, argc, argv)) != -1)
		if ((rc = take_option(key, argc, argv, o)) != CLI_GO_ON)
			return rc;
	if (optind < argc) {
		o->command = argv + optind;
		o->command_first = optind == 1;
	}
	return check_combination(o);
}

void run_args_free(struct run_opts *o)
{
	filters_free(&o->filters);
	free(o->pids);
	free(o->filters_text);
}

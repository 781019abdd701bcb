// SPDX-License-Identifier: GPL-2.0
/* memobs [OPTIONS] -- CMD | -p PID | -a: observe, then report. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/commands.h"
#include "observe/cgroups.h"
#include "lib/exitcodes.h"
#include "observe/filters.h"
#include "history/history.h"
#include "lib/invoker.h"
#include "observe/launch.h"
#include "lib/log.h"
#include "history/meta.h"
#include "lib/outfile.h"
#include "report/report_text.h"
#include "model/run.h"
#include "model/run_json.h"
#include "serve/serve.h"
#include "observe/tracer.h"
#include "lib/units.h"
#include "lib/users.h"

#define MAX_TIMELINE_SAMPLES 4096

struct run_opts {
	struct mo_tracer_opts tracer;
	const char *output;
	const char *history;
	const char *label;
	pid_t *pids;
	size_t npids;
	struct mo_filters filters;
	char *filters_text;		/* as given, for the run document */
	bool all;
	bool quiet;
	char **command;
	char live_log[PATH_MAX];	/* --live: where the command's output goes, or "" */
	int stdio[3];			/* the command's standard streams (-1: memobs's) */
};

/* Is there a controlling terminal for the live view (live.h)? */
static bool has_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: memobs [OPTIONS] -- COMMAND [ARGS...]\n"
		"       memobs [OPTIONS] -p PID[,PID...]\n"
		"       memobs [OPTIONS] -a\n\n"
		"Observe memory (RSS by kind, the process tree, phases; the heap with --heap) of a\n"
		"command and every process it starts, of a running process, or of the whole host.\n\n"
		"  -o, --output FILE     write the run document (JSON) to FILE ('-': stdout)\n"
		"      --heap            also trace the allocator (malloc family): heap live/peak, counts\n"
		"  -p, --pid PID[,PID...]  attach to running processes and what they start from then on\n"
		"                        (until all have exited; repeatable)\n"
		"  -a, --all             every process on the host (until Ctrl-C or --duration)\n"
		"      --comm NAME[,NAME...]  with -a: only processes of these names (as ps shows them,\n"
		"                        at most 15 bytes); checked at fork and at exec; repeatable\n"
		"      --uid UID|USER    with -a: only processes running as this (effective) user\n"
		"      --cgroup PATH     with -a: only processes in this cgroup v2 or below it\n"
		"                        (/system.slice/foo.service, or under /sys/fs/cgroup)\n"
		"      --marker-uid UID|USER  with -a: phases and marks also from this user's processes\n"
		"                        (root's always; others' are counted in drops.markers_refused)\n"
		"      --max-marks N     marks kept in the run (default %u)\n"
		"      --max-mark-rate N marks kept in one second (default %u); the rest: drops.marks\n"
		"      --duration SEC    stop observing after SEC seconds (-p, -a)\n"
		"      --history[=PATH]  append the run to PATH (default %s)\n"
		"      --label LABEL     label the run (history, check)\n"
		"      --interval MS     timeline sampling interval (default 100)\n"
		"      --max-procs N     processes observed at once (default %u)\n"
		"      --max-allocs N    live heap blocks tracked (default %u; 16 bytes of kernel memory\n"
		"                        each at load, ~100 more per block tracked)\n"
		"      --max-stacks N    distinct stacks kept (default %u; each takes 1 KiB of kernel memory)\n"
		"      --sample-bytes SIZE      allocation stacks (--heap): one sample per SIZE allocated\n"
		"                               (default 512KiB; 1: every allocation; 0: none)\n"
		"      --rss-sample-bytes SIZE  stacks of the code that made RSS grow: one per SIZE\n"
		"                               (default 512KiB; 0: none)\n"
		"      --serve ADDR:PORT Prometheus metrics on http://ADDR:PORT/metrics while observing\n"
		"                        (PORT or :PORT: loopback; another address must be written out)\n"
		"      --physical MODE   the tree's physical memory beside the RSS sum: auto (default: the\n"
		"                        kernel's charge to a memory cgroup of the command's own, else PSS\n"
		"                        sampled; none with -a), cgroup (that or fail), pss, off\n"
		"      --live            full-screen view of the processes by RSS, refreshed each second\n"
		"                        (q leaves it; without a command it also ends the run;\n"
		"                        g groups the rows by comm, user, cgroup); the command's output\n"
		"                        to the terminal goes to a log file shown in a pane below\n"
		"  -q, --quiet           no summary on stderr\n"
		"  -v, --verbose         say what memobs does (probes, libbpf)\n"
		"  -h, --help            this help\n\n"
		"exit status: COMMAND's own (128+N if signal N killed it); 125 memobs failed (also:\n"
		"unknown pid, user or cgroup);\n"
		"126 COMMAND cannot be executed; 127 COMMAND not found; 2 usage error.\n",
		MO_MAX_MARKS, MO_MAX_MARK_RATE, HISTORY_DEFAULT_PATH, MO_MAX_PROCS, MO_MAX_ALLOCS, MO_MAX_STACKS);
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

enum { OPT_HEAP = 256, OPT_HISTORY, OPT_LABEL, OPT_INTERVAL, OPT_DURATION, OPT_MAX_PROCS, OPT_MAX_ALLOCS,
       OPT_MAX_STACKS, OPT_SAMPLE, OPT_RSS_SAMPLE, OPT_LIVE, OPT_SERVE, OPT_COMM, OPT_UID, OPT_CGROUP, OPT_PHYSICAL,
       OPT_MARKER_UID, OPT_MAX_MARKS, OPT_MAX_MARK_RATE };

/* --marker-uid, --max-marks, --max-mark-rate. 0 to go on, else the exit code. */
static int parse_marker_opt(int c, const char *arg, struct mo_marker_limits *m)
{
	uid_t uid;
	double v;
	int ret;

	if (c == OPT_MARKER_UID) {
		ret = users_parse(arg, &uid);
		if (ret) {
			log_err("--marker-uid: '%s' is %s", arg, ret == -ENOENT ? "no such user" : "not a uid or a user name");
			return ret == -ENOENT ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
		}
		m->uid = uid;
		return 0;
	}
	if (!parse_number(arg, c == OPT_MAX_MARKS ? 0 : 1, 1e9, &v) || v != (uint64_t)v) {
		log_err("--%s: '%s' is not a count%s", c == OPT_MAX_MARKS ? "max-marks" : "max-mark-rate", arg,
			c == OPT_MAX_MARKS ? "" : " (1 or more)");
		return MO_EXIT_USAGE;
	}
	*(c == OPT_MAX_MARKS ? &m->max_marks : &m->max_mark_rate) = v;
	return 0;
}

/* 0 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const char *const physical_modes[] = {
		[MO_PHYS_MODE_AUTO] = "auto", [MO_PHYS_MODE_CGROUP] = "cgroup", [MO_PHYS_MODE_PSS] = "pss",
		[MO_PHYS_MODE_OFF] = "off",
	};
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "heap", no_argument, NULL, OPT_HEAP },
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "history", optional_argument, NULL, OPT_HISTORY },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
		{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
		{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
		{ "sample-bytes", required_argument, NULL, OPT_SAMPLE },
		{ "rss-sample-bytes", required_argument, NULL, OPT_RSS_SAMPLE },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "serve", required_argument, NULL, OPT_SERVE },
		{ "comm", required_argument, NULL, OPT_COMM },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "physical", required_argument, NULL, OPT_PHYSICAL },
		{ "marker-uid", required_argument, NULL, OPT_MARKER_UID },
		{ "max-marks", required_argument, NULL, OPT_MAX_MARKS },
		{ "max-mark-rate", required_argument, NULL, OPT_MAX_MARK_RATE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char err[256];
	uint64_t size;
	double v, max;
	int c;

	o->tracer.interval_s = 0.1;
	o->tracer.alloc_sample_bytes = MO_SAMPLE_BYTES;
	o->tracer.rss_sample_bytes = MO_SAMPLE_BYTES;
	o->tracer.markers = (struct mo_marker_limits){ MO_NO_UID, MO_MAX_MARKS, MO_MAX_MARK_RATE };
	/* '+': stop at the first non-option, so that `memobs make -j2` keeps -j2. */
	while ((c = getopt_long(argc, argv, "+o:p:aqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case OPT_HEAP:
			o->tracer.heap = true;
			break;
		case 'p':
			if (filters_parse_pids(optarg, &o->pids, &o->npids, err, sizeof(err))) {
				log_err("-p: %s", err);
				return MO_EXIT_USAGE;
			}
			break;
		case OPT_COMM:
			if (filters_add_comms(&o->filters, optarg, err, sizeof(err))) {
				log_err("--comm: %s", err);
				return MO_EXIT_USAGE;
			}
			note_filter(o, "--comm", optarg);
			break;
		case OPT_UID: {
			int ret = users_parse(optarg, &o->filters.uid);

			if (ret) {
				log_err("--uid: '%s' is %s", optarg, ret == -ENOENT ? "no such user" : "not a uid or a user name");
				return ret == -ENOENT ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
			}
			o->filters.has_uid = true;
			note_filter(o, "--uid", optarg);
			break;
		}
		case OPT_CGROUP: {
			char root[PATH_MAX];
			int ret = cgroups_find_mount(root, sizeof(root));

			if (ret) {
				log_err("--cgroup: no cgroup v2 hierarchy is mounted (/proc/self/mountinfo): %s",
					strerror(-ret));
				return MO_EXIT_FAILURE;
			}
			ret = filters_set_cgroup(&o->filters, optarg, root, err, sizeof(err));
			if (ret) {
				log_err("--cgroup: %s", err);
				return ret == -ENOENT ? MO_EXIT_FAILURE : MO_EXIT_USAGE;
			}
			note_filter(o, "--cgroup", o->filters.cgroup);
			break;
		}
		case 'a':
			o->all = true;
			break;
		case OPT_MARKER_UID:
		case OPT_MAX_MARKS:
		case OPT_MAX_MARK_RATE: {
			int ret = parse_marker_opt(c, optarg, &o->tracer.markers);

			if (ret)
				return ret;
			break;
		}
		case OPT_PHYSICAL: {
			size_t m = 0;

			while (m < 4 && strcmp(optarg, physical_modes[m]))
				m++;
			if (m == 4) {
				log_err("--physical: '%s' is not auto, cgroup, pss or off", optarg);
				return MO_EXIT_USAGE;
			}
			o->tracer.physical = m;
			break;
		}
		case OPT_DURATION:
			if (!parse_number(optarg, 0.001, 1e9, &o->tracer.duration_s)) {
				log_err("--duration: '%s' is not a number of seconds", optarg);
				return MO_EXIT_USAGE;
			}
			break;
		case OPT_HISTORY:
			o->history = optarg ? optarg : HISTORY_DEFAULT_PATH;
			break;
		case OPT_LABEL:
			o->label = optarg;
			break;
		case OPT_INTERVAL:
			if (!parse_number(optarg, 1, 3600000, &v)) {
				log_err("--interval: '%s' is not a number of milliseconds (1 or more)", optarg);
				return MO_EXIT_USAGE;
			}
			o->tracer.interval_s = v / 1000;
			break;
		case OPT_MAX_PROCS:
		case OPT_MAX_ALLOCS:
		case OPT_MAX_STACKS:
			/* A stack takes 1 KiB of kernel memory, allocated at load. */
			max = c == OPT_MAX_STACKS ? 1 << 20 : 1 << 26;
			if (!parse_number(optarg, 16, max, &v)) {
				log_err("--max-%s: '%s' is not a count between 16 and %.0f",
					c == OPT_MAX_PROCS ? "procs" : c == OPT_MAX_ALLOCS ? "allocs" : "stacks", optarg, max);
				return MO_EXIT_USAGE;
			}
			*(c == OPT_MAX_PROCS ? &o->tracer.max_procs : c == OPT_MAX_ALLOCS ? &o->tracer.max_allocs
											   : &o->tracer.max_stacks) = v;
			break;
		case OPT_SAMPLE:
		case OPT_RSS_SAMPLE:
			if (units_parse_size(optarg, &size, err, sizeof(err))) {
				log_err("--%s: %s", c == OPT_SAMPLE ? "sample-bytes" : "rss-sample-bytes", err);
				return MO_EXIT_USAGE;
			}
			*(c == OPT_SAMPLE ? &o->tracer.alloc_sample_bytes : &o->tracer.rss_sample_bytes) = size;
			break;
		case OPT_LIVE:
			o->tracer.live = true;
			break;
		case OPT_SERVE: {
			struct sockaddr_storage ss;
			socklen_t len;

			if (serve_parse_addr(optarg, &ss, &len, err, sizeof(err))) {
				log_err("--serve: %s", err);
				return MO_EXIT_USAGE;
			}
			o->tracer.serve_addr = optarg;
			break;
		}
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		case 'h':
			run_usage(stdout);
			return -1;
		default:
			run_usage(stderr);
			return MO_EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->command = argv + optind;
	if (!!o->command + !!o->npids + o->all != 1) {
		log_err("say what to observe: -- COMMAND, -p PID or -a (one of them)");
		return MO_EXIT_USAGE;
	}
	if (filters_any(&o->filters) && !o->all) {
		log_err("--comm, --uid and --cgroup choose among all processes: use them with -a");
		return MO_EXIT_USAGE;
	}
	if (o->tracer.markers.uid != MO_NO_UID && !o->all) {
		log_err("--marker-uid applies to -a; the processes of a command or of -p may all fire markers");
		return MO_EXIT_USAGE;
	}
	if (o->tracer.live && !has_tty()) {
		log_err("--live needs a terminal to draw on: memobs has no controlling terminal");
		return MO_EXIT_USAGE;
	}
	if (o->tracer.physical == MO_PHYS_MODE_CGROUP && !o->command) {
		log_err("--physical cgroup: only a command memobs starts gets a cgroup of its own");
		return MO_EXIT_USAGE;
	}
	if (o->tracer.duration_s && o->command) {
		log_err("--duration applies to -p and -a; a command is observed until it exits");
		return MO_EXIT_USAGE;
	}
	return 0;
}

/* What this kernel must offer, said before anything is loaded. 0 or -1. */
static int check_kernel(void)
{
	char mode[128] = "";
	FILE *f;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): memobs needs a kernel built with "
			"CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	f = fopen("/sys/kernel/security/lockdown", "re");
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	if (strstr(mode, "[confidentiality]")) {
		log_err("the kernel is locked down (confidentiality): BPF may not read memory; boot with "
			"lockdown=integrity or none to use memobs");
		return -1;
	}
	return 0;
}

/* The exec gate stops a new executable with a signal from BPF, which the
 * kernel lets through whoever owns the process; continuing it is memobs's
 * own SIGCONT, which needs the right to signal it (its uid, CAP_KILL, or
 * for SIGCONT the same session). Without that right a held process would
 * stay stopped: run those ungated. */
static bool may_continue(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], 0) && errno == EPERM && getsid(pids[i]) != getsid(0)) {
			log_warn("may not signal pid %d (CAP_KILL): its new executables are probed while they run, "
				 "so markers and allocations right after their start may be missed",
				 pids[i]);
			return false;
		}
	return true;
}

/* libbpf attaches classic tracepoints through tracefs: mount it if it is not. */
static void ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) || !stat("/sys/kernel/debug/tracing/events", &st))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		log_info("cannot mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
	else
		log_info("mounted tracefs on /sys/kernel/tracing");
}

/* libmemobs.so beside this binary (build/) or in ../lib (installed). */
static void find_libmemobs(char *path, size_t len)
{
	char self[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	path[0] = 0;
	if (n <= 0)
		return;
	self[n] = 0;
	dir = dirname(self);
	snprintf(path, len, "%s/libmemobs.so", dir);
	if (access(path, R_OK))
		snprintf(path, len, "%s/../lib/libmemobs.so", dir);
	if (access(path, R_OK))
		path[0] = 0;
}

static int copy_command(struct mo_run *run, char **command)
{
	size_t n = 0;

	while (command[n])
		n++;
	run->command = calloc(n + 1, sizeof(*run->command));
	if (!run->command)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(run->command[i] = strdup(command[i])))
			return -ENOMEM;
	return 0;
}

static int write_outputs(const struct run_opts *o, const struct mo_run *run, const struct mo_invoker *inv)
{
	char err[512];
	int rc = 0;

	if (!o->quiet)
		report_text(stderr, run);
	if (o->output) {
		char *doc = run_json_render(run, true);

		if (!doc) {
			log_err("cannot render the run document: out of memory");
			return MO_EXIT_FAILURE;
		}
		if (!strcmp(o->output, "-")) {
			fputs(doc, stdout);
			fputc('\n', stdout);
		} else if (outfile_write(inv, o->output, doc, strlen(doc), err, sizeof(err))) {
			log_err("%s; the summary above is all that was kept", err);
			rc = MO_EXIT_FAILURE;
		}
		free(doc);
	}
	if (o->history) {
		char *line = run_json_render(run, false);

		if (!line || history_append(inv, o->history, line, err, sizeof(err))) {
			log_err("%s", line ? err : "cannot render the run document: out of memory");
			rc = MO_EXIT_FAILURE;
		}
		free(line);
	}
	return rc;
}

static void block_stop_signals(void)
{
	sigset_t set;

	tracer_stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Under --live the terminal is the view's: the command's standard streams
 * that are a terminal go to a log file the view shows (output) or come from
 * /dev/null (input); redirected ones stay as they are. log gets the file's
 * name ("" when none is needed); stdio the descriptors (-1: as memobs's).
 * 0, or an exit code. */
static int live_stdio(const struct mo_invoker *inv, char *log, size_t len, int stdio[3])
{
	const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char err[PATH_MAX + 128];

	log[0] = 0;
	stdio[0] = stdio[1] = stdio[2] = -1;
	if (isatty(STDIN_FILENO) && (stdio[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		log_err("cannot open /dev/null: %s", strerror(errno));
		return MO_EXIT_FAILURE;
	}
	if (!isatty(STDOUT_FILENO) && !isatty(STDERR_FILENO))
		return 0;
	snprintf(log, len, "%s/memobs-live-XXXXXX.log", dir);
	stdio[1] = outfile_temp(inv, log, 4, err, sizeof(err));
	if (stdio[1] < 0) {
		log_err("--live: %s (for the command's output)", err);
		return MO_EXIT_FAILURE;
	}
	stdio[2] = isatty(STDERR_FILENO) ? stdio[1] : -1;
	if (!isatty(STDOUT_FILENO)) {
		stdio[2] = stdio[1];
		stdio[1] = -1;
	}
	return 0;
}

static void close_stdio(int stdio[3])
{
	for (int fd = 0; fd < 3; fd++)
		if (stdio[fd] >= 0 && (fd < 2 || stdio[fd] != stdio[fd - 1]))
			close(stdio[fd]);
	stdio[0] = stdio[1] = stdio[2] = -1;
}

/* Say where the command's output went under --live, last; an empty log
 * (nothing written, or the command never ran) is removed. */
static void live_log_done(const char *log)
{
	struct stat st;

	if (!log[0])
		return;
	if (!stat(log, &st) && !st.st_size)
		unlink(log);
	else
		log_note("the command's output is in %s", log);
}

/* Start the command held, attach, release it. Returns 0 or an exit code. */
static int start_command(struct mo_tracer *t, struct run_opts *o, const struct mo_invoker *inv,
			 struct mo_launch *l, const char *libmemobs)
{
	char env_lib[PATH_MAX + 16], err[512];
	char *env[] = { env_lib, NULL };
	int rc;

	snprintf(env_lib, sizeof(env_lib), "MEMOBS_LIB=%s", libmemobs);
	rc = launch_start(l, o->command, inv, libmemobs[0] ? env : NULL, o->stdio, err, sizeof(err));
	close_stdio(o->stdio);
	if (rc) {
		log_err("%s", err);
		return MO_EXIT_FAILURE;
	}
	if (tracer__add_root(t, l->pid, true, err, sizeof(err)) || tracer__start(t)) {
		log_err("%s", err);
		launch_abort(l);
		return MO_EXIT_FAILURE;
	}
	rc = launch_release(l, err, sizeof(err));
	if (rc)
		log_err("cannot run '%s': %s", o->command[0], err);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .stdio = { -1, -1, -1 } };
	struct mo_invoker inv;
	struct mo_launch launch = { .pid = -1 };
	struct mo_tracer *t = NULL;
	struct mo_run run;
	char libmemobs[PATH_MAX], err[512];
	int rc, status = 0;

	run_init(&run);
	rc = parse_args(argc, argv, &o);
	if (rc) {
		rc = rc < 0 ? MO_EXIT_OK : rc;
		goto out;
	}
	invoker_get(&inv);
	run.label = o.label ? strdup(o.label) : NULL;
	run.target_pid = o.npids ? o.pids[0] : 0;
	run.target_pids = o.pids;
	run.ntarget_pids = o.npids;
	o.pids = NULL;
	run.filters = o.filters_text;
	o.filters_text = NULL;
	run.host_wide = o.all;
	if ((o.command && copy_command(&run, o.command)) || meta_fill(&run, &inv, run.target_pid)) {
		log_err("out of memory");
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	/* Say now, not after an hour of build, that the report cannot be kept. */
	if (o.output && strcmp(o.output, "-") && outfile_check(&inv, o.output, err, sizeof(err))) {
		log_err("%s", err);
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	if (check_kernel()) {
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	block_stop_signals();
	ensure_tracefs();
	find_libmemobs(libmemobs, sizeof(libmemobs));
	o.tracer.mode = o.all ? MO_MODE_HOST : MO_MODE_TREE;
	o.tracer.command = o.command != NULL;
	o.tracer.max_samples = MAX_TIMELINE_SAMPLES;
	o.tracer.status_line = isatty(STDERR_FILENO) && !o.quiet;
	o.tracer.libmemobs = libmemobs;
	o.tracer.verifier_log_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	o.tracer.filters = filters_any(&o.filters) ? &o.filters : NULL;
	o.tracer.no_exec_gate = !may_continue(run.target_pids, run.ntarget_pids);
	if (o.command && o.tracer.live) {
		rc = live_stdio(&inv, o.live_log, sizeof(o.live_log), o.stdio);
		if (rc)
			goto out;
		o.tracer.live_log = o.live_log[0] ? o.live_log : NULL;
	}
	t = tracer__new(&o.tracer, &run, err, sizeof(err));
	if (!t) {
		if (errno == EPERM)
			log_err("%s: memobs needs root (or CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH): run it with sudo", err);
		else
			log_err("%s", err);
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	if (o.command) {
		rc = start_command(t, &o, &inv, &launch, libmemobs);
		if (rc)
			goto out;
	} else if (run.ntarget_pids) {
		for (size_t i = 0; i < run.ntarget_pids; i++)
			if (tracer__add_root(t, run.target_pids[i], false, err, sizeof(err))) {
				log_err("%s", err);
				rc = MO_EXIT_FAILURE;
				goto out;
			}
		if (tracer__start(t)) {
			log_err("cannot start observing: out of memory");
			rc = MO_EXIT_FAILURE;
			goto out;
		}
		log_info("observing %zu process%s and what %s start%s", run.ntarget_pids,
			 run.ntarget_pids == 1 ? "" : "es", run.ntarget_pids == 1 ? "it" : "they",
			 run.ntarget_pids == 1 ? "s" : "");
	} else {
		log_info("observing %d processes", tracer__add_all(t));
		tracer__start(t);
	}
	rc = tracer__follow(t, o.command != NULL, o.command != NULL, &status);
	if (!rc)
		rc = tracer__finish(t);
	if (rc) {
		log_err("observation failed: %s", strerror(-rc));
		rc = MO_EXIT_FAILURE;
		goto out;
	}
	if (o.command)
		run.exit_status = run_wait_status_to_exit(status);
	rc = write_outputs(&o, &run, &inv);
	if (!rc && o.command)
		rc = run.exit_status;
out:
	tracer__free(t);
	close_stdio(o.stdio);
	live_log_done(o.live_log);
	run_free(&run);
	filters_free(&o.filters);
	free(o.pids);
	free(o.filters_text);
	return rc;
}

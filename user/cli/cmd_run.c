// SPDX-License-Identifier: GPL-2.0
/* memobs [OPTIONS] -- CMD | -p PID | -a: observe, then report. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/run_args.h"
#include "observe/cgroups.h"
#include "lib/exitcodes.h"
#include "observe/filters.h"
#include "history/history.h"
#include "history/record.h"
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
#include "observe/watchdog.h"
#include "lib/units.h"
#include "lib/users.h"

#define MAX_TIMELINE_SAMPLES 4096

/* What this kernel must offer, said before anything is loaded. 0 or -1. */
static int check_kernel(void)
{
	char mode[128] = "";
	struct utsname uts;
	unsigned major, minor;
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
	/* Probes are uprobe_multi links, which came with 6.6. */
	if (!uname(&uts) && sscanf(uts.release, "%u.%u", &major, &minor) == 2 &&
	    (major < 6 || (major == 6 && minor < 6))) {
		log_err("this kernel is %s: memobs needs Linux 6.6 or later (uprobe_multi links)", uts.release);
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

/* tracefs says which tracepoints the kernel has (session.c): mount it if it is not. */
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

/* A library of memobs's beside this binary (build/) or in ../lib
 * (installed), "" when there is none. */
static void find_lib(const char *name, char *path, size_t len)
{
	char self[PATH_MAX], real[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	path[0] = 0;
	if (n <= 0)
		return;
	self[n] = 0;
	dir = dirname(self);
	snprintf(path, len, "%s/%s", dir, name);
	if (access(path, R_OK))
		snprintf(path, len, "%s/../lib/%s", dir, name);
	/* The dynamic loader splits LD_PRELOAD at spaces and colons. */
	if (access(path, R_OK) || !realpath(path, real) || strpbrk(real, " :\t\n"))
		path[0] = 0;
	else
		snprintf(path, len, "%s", real);
}

/* LD_PRELOAD for the command: the heap library first, so that its malloc is
 * the one every call finds (a preloaded allocator of the user's after it is
 * where the calls go on to), then the user's own. */
static char *heap_preload(const char *heap_lib)
{
	const char *user = getenv("LD_PRELOAD");
	char *env;

	if (asprintf(&env, "LD_PRELOAD=%s%s%s", heap_lib, user && *user ? " " : "", user ? user : "") < 0)
		return NULL;
	return env;
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
	if (o->history && history_record(inv, o->history, run, o->history_full, rc ? NULL : o->output, err,
					 sizeof(err))) {
		log_err("%s", err);
		rc = MO_EXIT_FAILURE;
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

/* Start the command held behind its exec gate, attach, release it.
 * Returns 0 or an exit code. */
/* Why the command did not run; a misspelt subcommand (memobs chekc) is
 * told what it was probably meant to be. */
static void say_cannot_run(const struct run_opts *o, int rc, const char *err)
{
	const char *name = o->command[0], *near = NULL;

	if (rc == MO_EXIT_NOT_FOUND && o->command_first && !strchr(name, '/'))
		near = cli_subcommand_near(name);
	if (near)
		log_err("%s: command not found; did you mean 'memobs %s'? (to run a program so named: memobs -- %s)",
			name, near, name);
	else
		log_err("cannot run '%s': %s", name, err);
}

/* Fork the command parked before its exec, with its exec gate (the
 * watchdog's to answer after memobs), while memobs has no thread yet (on
 * cgroup v2 it is born in its cgroup), so that it waits while the BPF side
 * loads, not after. 0, or -1 with the reason in err. */
static int park_command(struct run_opts *o, const struct mo_invoker *inv, struct mo_launch *l,
			struct mo_physical_obs *phys, struct mo_watchdog *watchdog, char *err, size_t errlen)
{
	int cgroup_fd = physical__cgroup_fd(phys), rc;

	rc = launch_start(l, o->command, inv, o->stdio, true, cgroup_fd, err, errlen);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	close_stdio(o->stdio);
	if (rc)
		return -1;
	if (!l->gateless && watchdog_give_listener(watchdog, l->listener)) {
		snprintf(err, errlen, "cannot hand the exec gate to the watchdog");
		return -1;
	}
	o->tracer.parked = l->pid;
	o->tracer.parked_in_cgroup = l->in_cgroup;
	return 0;
}

/* Serve the parked command's exec gate, attach, release it. Returns 0 or
 * an exit code. */
static int start_command(struct mo_tracer *t, struct run_opts *o, struct mo_launch *l, const char *libmemobs,
			 struct mo_watchdog *watchdog)
{
	char env_lib[PATH_MAX + 16], err[512];
	char *env[4] = { NULL }, *preload = NULL;
	int rc, listener;
	size_t n = 0;

	listener = l->listener;
	l->listener = -1;
	if (l->gateless)
		log_warn("the command runs under another seccomp notifier (memobs inside memobs's command?): "
			 "its execs are not held for this memobs, so the markers and stacks of a program's first "
			 "instants may be missed");
	if ((!l->gateless && tracer__set_gate(t, listener, watchdog, err, sizeof(err))) ||
	    tracer__add_root(t, l->pid, true, err, sizeof(err))) {
		log_err("%s", err);
		return MO_EXIT_FAILURE;
	}
	/* tracer__start says nothing in err: its own message. */
	rc = tracer__start(t);
	if (rc) {
		log_err("cannot start observing: %s", strerror(-rc));
		return MO_EXIT_FAILURE;
	}
	snprintf(env_lib, sizeof(env_lib), "MEMOBS_LIB=%s", libmemobs);
	if (libmemobs[0])
		env[n++] = env_lib;
	if (tracer__heap_env(t)) {
		preload = heap_preload(o->tracer.heap_lib);
		if (!preload) {
			log_err("out of memory");
			return MO_EXIT_FAILURE;
		}
		env[n++] = (char *)tracer__heap_env(t);
		env[n++] = preload;
	}
	rc = launch_release(l, env, tracer__gate_fd(t), tracer__serve_gate, t, err, sizeof(err));
	free(preload);
	if (rc)
		say_cannot_run(o, rc, err);
	return rc;
}

/* -p: the pids given; -a: every process now. 0 or the exit code, said. */
static int start_running(struct mo_tracer *t, const struct mo_run *run)
{
	char err[512];
	int n = 0, ret;

	for (size_t i = 0; i < run->ntarget_pids; i++)
		if (tracer__add_root(t, run->target_pids[i], false, err, sizeof(err))) {
			log_err("%s", err);
			return MO_EXIT_FAILURE;
		}
	if (!run->ntarget_pids)
		n = tracer__add_all(t);
	ret = tracer__start(t);
	if (ret) {
		log_err("cannot start observing: %s", strerror(-ret));
		return MO_EXIT_FAILURE;
	}
	if (run->ntarget_pids)
		log_info("observing %zu process%s and what %s start%s", run->ntarget_pids,
			 run->ntarget_pids == 1 ? "" : "es", run->ntarget_pids == 1 ? "it" : "they",
			 run->ntarget_pids == 1 ? "s" : "");
	else
		log_info("observing %d processes", n);
	return 0;
}

/* The run's metadata from the options (which give up their pids and
 * filters). 0 or the exit code, said. */
static int describe_run(struct run_opts *o, struct mo_run *run, const struct mo_invoker *inv,
			struct mo_git_look **git)
{
	run->label = o->label ? strdup(o->label) : NULL;
	run->target_pid = o->npids ? o->pids[0] : 0;
	run->target_pids = o->pids;
	run->ntarget_pids = o->npids;
	o->pids = NULL;
	run->filters = o->filters_text;
	o->filters_text = NULL;
	run->host_wide = o->all;
	if ((o->command && copy_command(run, o->command)) || meta_fill(run, inv, run->target_pid, git)) {
		log_err("out of memory");
		return MO_EXIT_FAILURE;
	}
	return 0;
}

/* Load the BPF side for the run: the tracer (phys is its), or NULL (said). */
static struct mo_tracer *new_tracer(struct run_opts *o, struct mo_run *run, struct mo_physical_obs *phys,
				    const char *libmemobs, const char *heap_lib)
{
	struct mo_tracer *t;
	char err[512];

	if (o->tracer.heap && o->all)
		log_warn("--heap with -a: the allocator probes are host-wide, every process on the host traps in "
			 "them (about 5 us a call) while memobs runs");
	/* A command's heap is counted in process, where the library is. */
	if (o->tracer.heap && o->command && !o->heap_uprobes) {
		if (heap_lib[0])
			o->tracer.heap_lib = heap_lib;
		else
			log_warn("--heap: libmemobs-heap.so is not beside memobs nor in ../lib: the allocator is traced "
				 "by uprobes, every process on the host traps in it");
	}
	o->tracer.mode = o->all ? MO_MODE_HOST : MO_MODE_TREE;
	o->tracer.command = o->command != NULL;
	o->tracer.max_samples = MAX_TIMELINE_SAMPLES;
	o->tracer.status_line = isatty(STDERR_FILENO) && !o->quiet;
	o->tracer.libmemobs = libmemobs;
	o->tracer.verifier_log_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	o->tracer.filters = filters_any(&o->filters) ? &o->filters : NULL;
	o->tracer.no_exec_gate = !may_continue(run->target_pids, run->ntarget_pids);
	t = tracer__new(&o->tracer, phys, run, err, sizeof(err));
	if (!t && errno == EPERM)
		log_err("%s: memobs needs root (or CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH): run it with sudo", err);
	else if (!t)
		log_err("%s", err);
	return t;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .stdio = { -1, -1, -1 } };
	struct mo_invoker inv;
	struct mo_launch launch = { .pid = -1 };
	struct mo_tracer *t = NULL;
	struct mo_physical_obs *phys;
	struct mo_watchdog *watchdog = NULL;
	struct mo_git_look *git = NULL;
	struct mo_run run;
	char libmemobs[PATH_MAX], heap_lib[PATH_MAX], err[512];
	int rc, status = 0;
	bool parked;

	run_init(&run);
	rc = run_args_parse(argc, argv, &o);
	if (rc != CLI_GO_ON)
		goto out;
	invoker_get(&inv);
	o.tracer.reader = &inv;
	rc = describe_run(&o, &run, &inv, &git);
	if (rc)
		goto out;
	/* Say now, not after an hour of build, that the report cannot be kept. */
	rc = MO_EXIT_FAILURE;
	if (o.output && strcmp(o.output, "-") && outfile_check(&inv, o.output, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	if (check_kernel())
		goto out;
	/* A reader of stderr gone (memobs ... 2>&1 | head) must not kill memobs
	 * before -o and the history are written: EPIPE is ignored like any
	 * failed write of the summary. The command gets the default back. */
	signal(SIGPIPE, SIG_IGN);
	block_stop_signals();
	ensure_tracefs();
	find_lib("libmemobs.so", libmemobs, sizeof(libmemobs));
	find_lib("libmemobs-heap.so", heap_lib, sizeof(heap_lib));
	if (o.command && o.tracer.live) {
		rc = live_stdio(&inv, o.live_log, sizeof(o.live_log), o.stdio);
		if (rc)
			goto out;
		o.tracer.live_log = o.live_log[0] ? o.live_log : NULL;
		rc = MO_EXIT_FAILURE;
	}
	/* Before any BPF object exists: the watchdog must hold none. A gated
	 * run has one (-a has no gate); with -p it keeps CAP_KILL. */
	if (!o.all && !(watchdog = watchdog_start(&inv, !o.command))) {
		log_err("cannot start the watchdog: %s", strerror(errno));
		goto out;
	}
	phys = physical__new(o.tracer.physical, o.command != NULL, o.all, err, sizeof(err));
	if (!phys) {
		log_err("%s", err);
		goto out;
	}
	parked = !o.command || !park_command(&o, &inv, &launch, phys, watchdog, err, sizeof(err));
	/* Its failure first: it says what memobs lacks (privileges). */
	t = new_tracer(&o, &run, phys, libmemobs, heap_lib);
	if (!t)
		goto out;
	if (!parked) {
		log_err("%s", err);
		goto out;
	}
	if (!o.command && tracer__give_watchdog(t, watchdog))
		log_warn("cannot hand the exec gate's holds to the watchdog: %s", strerror(errno));
	rc = o.command ? start_command(t, &o, &launch, libmemobs, watchdog) : start_running(t, &run);
	if (rc)
		goto out;
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
	meta_git_finish(git, &run);
	git = NULL;
	rc = write_outputs(&o, &run, &inv);
	if (!rc && o.command)
		rc = run.exit_status;
out:
	meta_git_finish(git, &run);
	/* A command memobs gave up on before releasing it never runs. */
	launch_abort(&launch);
	tracer__free(t);
	close_stdio(o.stdio);
	watchdog_free(watchdog);
	live_log_done(o.live_log);
	run_free(&run);
	run_args_free(&o);
	return rc;
}

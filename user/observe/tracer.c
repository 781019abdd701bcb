// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/grow.h"
#include "stacks/buildids.h"
#include "observe/convert.h"
#include "observe/unwind.h"
#include "probe/ldsearch.h"
#include "observe/cgroups.h"
#include "observe/filters.h"
#include "serve/live.h"
#include "lib/log.h"
#include "observe/phases.h"
#include "observe/probes.h"
#include "lib/procfs.h"
#include "observe/proctree.h"
#include "observe/readout.h"
#include "serve/serve.h"
#include "observe/session.h"
#include "observe/stacks.h"
#include "serve/status.h"
#include "lib/users.h"
#include "observe/views.h"
#include "observe/holds.h"
#include "observe/stopgate.h"
#include "observe/tracer.h"
#include "observe/watchdog.h"

/* A process given with -p (or the command): the run ends when all are gone. */
struct root {
	pid_t pid;
	int pidfd;		/* -1 once it exited */
	bool running;		/* it ran before we looked: named from /proc */
};

struct mo_tracer {
	struct mo_tracer_opts opts;
	struct mo_run *run;
	struct mo_session *sess;
	struct mo_probes *probes;
	struct mo_execgate *gate;	/* the command's exec gate, or NULL */
	struct mo_watchdog *watchdog;	/* answers the gate after memobs (not ours) */
	struct mo_stopgate *stopgate;	/* the -p gate, or NULL */
	struct mo_proctree *tree;
	struct mo_readout *readout;
	struct mo_buildids *buildids;	/* NULL: no stacks */
	struct mo_unwinder *unwinder;	/* the unwind tables BPF asks for; NULL: no stacks */
	struct mo_views *views;		/* the session now, for the next two */
	struct mo_live *live;		/* --live, or NULL */
	struct mo_serve *serve;		/* --serve, or NULL */
	struct mo_cgroups *cgroups;	/* cgroup ids to paths */
	struct mo_physical_obs *phys;	/* the tree's physical memory */
	struct root *roots;
	size_t nroots, roots_alloc;
	struct mo_procs_snap procs;	/* the process table as this tick read it */
	pid_t *added;		/* put in from /proc: checked once for an exit BPF missed */
	size_t nadded, added_alloc;
	int sigfd;
	__u64 t0_ns;
	__u64 end_ns;
	bool stop;		/* a stop signal in -p/-a mode */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A library memobs itself maps whose file name starts with one of the
 * prefixes (NULL-terminated): the C library and the dynamic loader are
 * the ones the targets use unless they live in another mount namespace or
 * bring their own. */
static int own_library(const char *const *prefixes, char *path, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/'), *base;

		if (!file)
			continue;
		file[strcspn(file, "\n")] = 0;
		base = strrchr(file, '/') + 1;
		for (const char *const *p = prefixes; *p && err; p++)
			if (!strncmp(base, *p, strlen(*p))) {
				snprintf(path, len, "%s", file);
				err = 0;
			}
	}
	fclose(f);
	return err;
}

static const char *const libc_names[] = { "libc.so", "libc-", NULL };

/* Every process maps the C library and the dynamic loader: their unwind
 * tables are loaded before the command runs. */
static void preload_unwind_tables(struct mo_tracer *t)
{
	static const char *const loader_names[] = { "ld-linux", "ld-musl", NULL };
	char path[4096];

	if (!own_library(libc_names, path, sizeof(path)))
		unwind__load_now(t->unwinder, path);
	if (!own_library(loader_names, path, sizeof(path)))
		unwind__load_now(t->unwinder, path);
}

/* The libraries the loader will map for an executable (DT_NEEDED and
 * rpaths with $ORIGIN; the environment is not read here), to the unwind
 * worker. */
static void queue_libraries(struct mo_tracer *t, const char *exe, const char *exe_path)
{
	struct mo_ld_query q = { .root = "", .exe = exe, .exe_path = exe_path };
	struct mo_ld_objects objs;
	char err[256];

	if (ldsearch_resolve(&q, &objs, err, sizeof(err)))
		return;
	for (size_t i = 0; i < objs.count; i++)
		if (!objs.objs[i].exe && !objs.objs[i].interp)
			unwind__queue_path(t->unwinder, objs.objs[i].path);
	ldsearch_free(&objs);
}

/* The -p gate stopped pid at its first exec of a file memobs had not seen:
 * probe what it runs, then let it go on. */
static void inspect_exe(struct mo_tracer *t, const struct mo_ev_exec *ev)
{
	char path[64], real[4096];
	ssize_t n;

	/* Its stacks walk through it from its first sample on, and through the
	 * libraries its loader is about to map soon after. */
	snprintf(path, sizeof(path), "/proc/%u/exe", ev->hdr.tgid);
	if (t->unwinder) {
		n = readlink(path, real, sizeof(real) - 1);
		real[n > 0 ? n : 0] = 0;
		unwind__load_now(t->unwinder, path);
		queue_libraries(t, path, n > 0 ? real : NULL);
	}
	session__exe_ready(t->sess, &ev->exe, probes__on_exec_stopped(t->probes, ev->hdr.tgid));
	stopgate__release(t->stopgate, ev->hdr.tgid, t->run);
}

/* The exec gate holds a process of the command at the exec of a file: its
 * unwind tables, then what probes need (execgate.h's hook). */
static unsigned on_exec_held(void *ctx, const struct mo_exec_held *held)
{
	struct mo_tracer *t = ctx;
	char self[64], real[4096];
	ssize_t n;

	if (held->first && t->unwinder) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", held->fd);
		n = readlink(self, real, sizeof(real) - 1);
		real[n > 0 ? n : 0] = 0;
		unwind__load_now(t->unwinder, held->path);
		queue_libraries(t, held->path, n > 0 ? real : NULL);
	}
	return probes__on_exec_held(t->probes, held);
}

/* Probes that must be in place before the command runs: the C library's
 * allocator (--heap), memobs's own markers. */
static int attach_upfront(struct mo_tracer *t, char *err, size_t errlen)
{
	char libc[4096];
	int ret;

	if (t->opts.heap) {
		ret = own_library(libc_names, libc, sizeof(libc));
		if (ret) {
			snprintf(err, errlen, "cannot find the C library to probe: %s", strerror(-ret));
			return ret;
		}
	}
	return probes__attach_upfront(t->probes, t->opts.heap ? libc : NULL, t->opts.libmemobs, err, errlen);
}

static int on_event(void *ctx, const void *data, size_t len)
{
	struct mo_tracer *t = ctx;
	const struct mo_ev_hdr *hdr = data;

	if (len < sizeof(*hdr) || !t->tree)
		return 0;
	switch (hdr->type) {
	case MO_EV_FORK: {
		const struct mo_ev_fork *ev = data;

		proctree__fork(t->tree, hdr->tgid, ev->ppid, ev->comm, hdr->ts_ns);
		probes__fork(t->probes, ev->ppid, hdr->tgid);
		break;
	}
	case MO_EV_EXEC: {
		const struct mo_ev_exec *ev = data;

		proctree__exec(t->tree, hdr->tgid, ev->comm, ev->filename, ev->args, ev->args_len, ev->args_total);
		if (ev->flags & MO_EXEC_STOPPED)
			inspect_exe(t, ev);
		break;
	}
	case MO_EV_EXIT: {
		const struct mo_proc *p = &((const struct mo_ev_exit *)data)->proc;

		proctree__exit(t->tree, hdr->tgid, p);
		probes__exit(t->probes, hdr->tgid);
		/* Learn its cgroup's path now: a container's goes away with it. */
		cgroups__path(t->cgroups, p->cgroup_id);
		break;
	}
	case MO_EV_UNWIND_FILE:
		if (t->unwinder && len >= sizeof(struct mo_ev_unwind_file))
			unwind__request(t->unwinder, data);
		break;
	default:
		readout__marker_event(t->readout, data, len);
	}
	return 0;
}

struct mo_tracer *tracer__new(const struct mo_tracer_opts *opts, struct mo_run *run, char *err, size_t errlen)
{
	struct mo_session_opts sopts = {
		.mode = opts->mode,
		.heap = opts->heap,
		/* A launched command has the seccomp gate (execgate.h) instead. */
		.gate_exec = opts->mode == MO_MODE_TREE && !opts->no_exec_gate && !opts->command,
		.max_procs = opts->max_procs,
		.max_allocs = opts->max_allocs,
		.max_stacks = opts->max_stacks,
		.alloc_sample_bytes = opts->alloc_sample_bytes,
		.rss_sample_bytes = opts->rss_sample_bytes,
		.verifier_log_dir = opts->verifier_log_dir,
		.filters = opts->filters,
		.markers = opts->markers,
		.holds_fd = -1,
	};
	struct mo_tracer *t = calloc(1, sizeof(*t));
	char cgroup_root[4096];

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->opts = *opts;
	t->run = run;
	t->sigfd = -1;
	t->cgroups = cgroups__new(cgroups_find_mount(cgroup_root, sizeof(cgroup_root)) ? NULL : cgroup_root);
	if (!t->cgroups) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}
	t->phys = physical__new(opts->physical, opts->command, opts->mode == MO_MODE_HOST, err, errlen);
	if (!t->phys)
		goto err_free;
	if (sopts.gate_exec && !(t->stopgate = stopgate__new(&sopts, err, errlen)))
		goto err_free;
	t->sess = session__open(&sopts, on_event, t, err, errlen);
	if (!t->sess)
		goto err_free;
	if (t->stopgate)
		stopgate__attach(t->stopgate, t->sess);
	if ((opts->heap && opts->alloc_sample_bytes) || opts->rss_sample_bytes) {
		t->buildids = buildids__new();
		t->unwinder = t->buildids ? unwind__new(t->sess) : NULL;
		if (!t->unwinder) {
			snprintf(err, errlen, "cannot start the unwind table worker: %s", strerror(errno));
			goto err_free;
		}
		preload_unwind_tables(t);
	}
	t->probes = probes__new(t->sess, run, t->buildids, opts->heap, err, errlen);
	if (!t->probes || attach_upfront(t, err, errlen))
		goto err_free;
	/* Listening before the command runs: a busy port fails the run now. */
	if (opts->serve_addr) {
		char why[200];

		t->serve = serve__new(opts->serve_addr, why, sizeof(why));
		if (!t->serve) {
			snprintf(err, errlen, "--serve: %s", why);
			goto err_free;
		}
		if (!serve__loopback(t->serve))
			log_warn("--serve: %s is not a loopback address: whoever reaches it sees the process names",
				 serve__addr(t->serve));
		log_info("metrics on http://%s/metrics", serve__addr(t->serve));
	}
	return t;

err_free:
	tracer__free(t);
	return NULL;
}

void tracer__free(struct mo_tracer *t)
{
	char why[600];

	if (!t)
		return;
	if (physical__free(t->phys, why, sizeof(why)))
		log_warn("%s", why);
	for (size_t i = 0; i < t->nroots; i++)
		if (t->roots[i].pidfd >= 0)
			close(t->roots[i].pidfd);
	free(t->roots);
	free(t->added);
	cgroups__free(t->cgroups);
	if (t->sigfd >= 0)
		close(t->sigfd);
	live__free(t->live);
	serve__free(t->serve);
	views__free(t->views);
	session_procs_snap_free(&t->procs);
	readout__free(t->readout);
	unwind__free(t->unwinder);
	buildids__free(t->buildids);
	proctree__free(t->tree);
	tracer__end_gate(t);
	stopgate__free(t->stopgate);
	/* Every uprobe at once: one grace period, not one per link. */
	probes__free(t->probes);
	session__free(t->sess);
	free(t);
}

/* A running process found in /proc joins the session: 0, or -errno (-EEXIST
 * is success: BPF saw it fork after the programs were attached). */
static int add_running(struct mo_tracer *t, pid_t pid, const struct mo_proc_status *st, __u32 flags,
		       const struct mo_proc_ident *ident)
{
	int ret;

	if (GROW(t->added, t->nadded + 1, t->added_alloc))
		return -ENOMEM;
	ret = session__add_proc(t->sess, pid, st->ppid, flags, mono_ns(), st->name, st->rss, ident);
	if (!ret)
		t->added[t->nadded++] = pid;
	return ret == -EEXIST ? 0 : ret;
}

/* A process read from /proc may have exited before its record was put in:
 * BPF saw no exit then, and its record would stay in the sums for good. A
 * second later, any of them gone or a zombie has passed its exit tracepoint:
 * those still unended were missed. */
static void end_unseen_exits(struct mo_tracer *t)
{
	for (size_t i = 0; i < t->nadded; i++) {
		struct mo_proc_status st;
		struct mo_proc final;

		if (!procfs_status(t->added[i], &st) && st.has_rss)
			continue;
		if (session__end_unseen_exit(t->sess, t->added[i], mono_ns(), &final))
			proctree__exit(t->tree, t->added[i], &final);
	}
	free(t->added);
	t->added = NULL;
	t->nadded = 0;
}

int tracer__set_gate(struct mo_tracer *t, int listener, struct mo_watchdog *watchdog, char *err, size_t errlen)
{
	int ret;

	t->watchdog = watchdog;
	t->gate = execgate__new(listener, watchdog ? watchdog_ids(watchdog) : NULL, on_exec_held, t);
	if (!t->gate) {
		ret = -errno;
		close(listener);
		snprintf(err, errlen, "cannot serve the exec gate: %s", strerror(-ret));
		return ret;
	}
	ret = execgate__prime(t->gate, 10000);
	if (ret)
		snprintf(err, errlen, "the exec gate did not start: %s", strerror(-ret));
	return ret;
}

int tracer__gate_fd(struct mo_tracer *t)
{
	return t->gate ? execgate__fd(t->gate) : -1;
}

void tracer__serve_gate(void *ctx)
{
	struct mo_tracer *t = ctx;
	int ret = execgate__serve(t->gate);

	if (ret < 0) {
		log_warn("the exec gate failed (%s): the watchdog answers it from now on", strerror(-ret));
		tracer__end_gate(t);
	}
}

void tracer__end_gate(struct mo_tracer *t)
{
	/* Nothing the -p gate stopped is left stopped, whatever the end. */
	stopgate__end(t->stopgate, t->run);
	if (!t->gate)
		return;
	watchdog_handover(t->watchdog);
	execgate__free(t->gate);
	t->gate = NULL;
}

int tracer__give_watchdog(struct mo_tracer *t, struct mo_watchdog *w)
{
	struct mo_holds *h = t->stopgate ? stopgate__holds(t->stopgate) : NULL;

	return h ? watchdog_give_holds(w, holds__map_fd(h), session__release_prog_fd(t->sess), holds__bit(h)) : 0;
}

/* uid and cgroup of a running process, from /proc (0: read; else unknown). */
static int read_ident(struct mo_tracer *t, pid_t pid, const struct mo_proc_status *st, struct mo_proc_ident *id,
		      char *cgroup, size_t len)
{
	uint64_t cgroup_id = 0;

	id->uid = st->euid;
	id->cgroup_id = 0;
	if (procfs_cgroup(pid, cgroup, len))
		return -1;
	if (!cgroups__id_of(t->cgroups, cgroup, &cgroup_id))
		id->cgroup_id = cgroup_id;
	return 0;
}

int tracer__add_root(struct mo_tracer *t, pid_t pid, bool pending_exec, char *err, size_t errlen)
{
	struct mo_proc_status st;
	struct mo_proc_ident ident;
	struct root *r;
	char cgroup[4096];
	int ret;

	if (GROW(t->roots, t->nroots + 1, t->roots_alloc)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = &t->roots[t->nroots];
	*r = (struct root){ .pid = pid, .pidfd = syscall(SYS_pidfd_open, pid, 0) };
	if (r->pidfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach to pid %d: %s", pid,
			 ret == -ESRCH ? "no such process" : strerror(-ret));
		return ret;
	}
	t->nroots++;
	if (pending_exec) {
		ret = physical__enter(t->phys, pid, err, errlen);
		return ret ?: session__add_proc(t->sess, pid, getpid(), MO_PROC_PENDING_EXEC | MO_PROC_ROOT, mono_ns(),
						NULL, NULL, NULL);
	}
	ret = procfs_status(pid, &st);
	if (ret) {
		snprintf(err, errlen, "cannot attach to pid %d: %s", pid,
			 ret == -ESRCH ? "no such process" : strerror(-ret));
		return ret;
	}
	read_ident(t, pid, &st, &ident, cgroup, sizeof(cgroup));
	ret = add_running(t, pid, &st, MO_PROC_ROOT, &ident);
	if (ret) {
		snprintf(err, errlen, "cannot attach to pid %d: %s", pid, strerror(-ret));
		return ret;
	}
	r->running = true;
	probes__add_running(t->probes, pid);
	return 0;
}

int tracer__add_all(struct mo_tracer *t)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct mo_proc_status st;
		struct mo_proc_ident ident;
		char *end, cgroup[4096];
		long pid = strtol(de->d_name, &end, 10);
		bool known;

		if (*end || pid <= 0 || pid == getpid() || procfs_status(pid, &st) || !st.has_rss)
			continue;
		known = !read_ident(t, pid, &st, &ident, cgroup, sizeof(cgroup));
		if (t->opts.filters && !filters_match(t->opts.filters, st.name, st.euid, known ? cgroup : NULL))
			continue;
		if (!add_running(t, pid, &st, 0, &ident))
			n++;
	}
	closedir(d);
	return n;
}

/* A process we attached to ran no exec we saw: its name, executable and
 * command line come from /proc. */
static void name_running_root(struct mo_tracer *t, pid_t pid)
{
	char path[64], exe[4096];
	struct mo_proc_status st;
	ssize_t n;

	if (procfs_status(pid, &st))
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (t->buildids && n > 0)
		buildids__add_file(t->buildids, exe);
	proctree__exec(t->tree, pid, st.name, exe, "", 0, SIZE_MAX);
}

int tracer__start(struct mo_tracer *t)
{
	int ret;

	t->t0_ns = mono_ns();
	t->tree = proctree__new(t->run, t->t0_ns);
	t->readout = readout__new(t->sess, t->run, t->tree, t->t0_ns);
	t->views = views__new(t->sess, t->readout, t->cgroups, t->opts.heap, t->t0_ns);
	if (!t->tree || !t->readout || !t->views)
		return -ENOMEM;
	for (size_t i = 0; i < t->nroots; i++)
		if (t->roots[i].running)
			name_running_root(t, t->roots[i].pid);
	ret = session__start_root_phase(t->sess, t->t0_ns);
	stopgate__arm(t->stopgate, mono_ns());
	return ret;
}

static void sample(struct mo_tracer *t, __u64 now)
{
	const volatile struct mo_state *st = session__state(t->sess);
	struct mo_sample s = {
		.t = (double)(now - t->t0_ns) / 1e9,
		.rss = st->rss_sum,
		.heap_live = st->heap_live,
		.nprocs = st->nprocs,
		.phase = session__current_phase(t->sess),
	};

	convert_mem(st->rss, s.rss_member);
	physical__sample(t->phys, now, session__each_proc, t->sess, &s.phys);
	run_add_sample(t->run, &s, t->opts.max_samples);
}

static void show_status(struct mo_tracer *t, __u64 now)
{
	const volatile struct mo_state *st = session__state(t->sess);
	char line[256];

	status_format(line, sizeof(line), (double)(now - t->t0_ns) / 1e9, st->nprocs, st->rss_sum, st->rss_peak,
		      t->opts.heap ? st->heap_live : -1, readout__phase_name(t->readout, session__current_phase(t->sess)));
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
}

/* A stop signal: in command mode it goes on to the command when sent to
 * memobs alone (kill), not when the terminal sent it to the whole group. */
static void on_signal(struct mo_tracer *t, bool forward)
{
	struct signalfd_siginfo si;

	while (read(t->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (!forward) {
			t->stop = true;
			continue;
		}
		if ((si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE) && t->nroots)
			kill(t->roots[0].pid, si.ssi_signo);
	}
}

void tracer_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

static int open_sigfd(struct mo_tracer *t)
{
	sigset_t set;

	tracer_stop_signals(&set);
	t->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return t->sigfd < 0 ? -errno : 0;
}

/* The run loop's descriptors: these, then the roots' pidfds. */
enum { FD_EVENTS, FD_SIGNALS, FD_LIVE, FD_SERVE, FD_WATCH, FD_GATE, NFIXED };

int tracer__follow(struct mo_tracer *t, bool own_child, bool forward, int *status)
{
	__u64 interval = t->opts.interval_s * 1e9, next_sample = t->t0_ns, next_tick = t->t0_ns + 1000000000ull;
	__u64 deadline = t->opts.duration_s > 0 ? t->t0_ns + (__u64)(t->opts.duration_s * 1e9) : 0;
	struct pollfd *fds = calloc(NFIXED + t->nroots, sizeof(*fds));
	size_t roots_left = t->nroots;
	bool root_done = false;
	int ret = 0;

	if (!interval)
		interval = 100000000ull;
	if (!fds)
		return -ENOMEM;
	ret = open_sigfd(t);
	if (!ret && t->opts.live && !(t->live = live__new(t->opts.live_log)))
		ret = -errno;
	while (!ret && !root_done && !t->stop) {
		__u64 now = mono_ns(), wake;

		stopgate__tick(t->stopgate, now);
		fds[FD_EVENTS] = (struct pollfd){ .fd = session__poll_fd(t->sess), .events = POLLIN };
		fds[FD_SIGNALS] = (struct pollfd){ .fd = t->sigfd, .events = POLLIN };
		fds[FD_LIVE] = (struct pollfd){ .fd = t->live ? live__fd(t->live) : -1, .events = POLLIN };
		fds[FD_SERVE] = (struct pollfd){ .fd = t->serve ? serve__fd(t->serve) : -1, .events = POLLIN };
		fds[FD_WATCH] = (struct pollfd){ .fd = probes__watch_fd(t->probes), .events = POLLIN };
		fds[FD_GATE] = (struct pollfd){ .fd = t->gate ? execgate__fd(t->gate) : -1, .events = POLLIN };
		for (size_t i = 0; i < t->nroots; i++)
			fds[NFIXED + i] = (struct pollfd){ .fd = t->roots[i].pidfd, .events = POLLIN };

		if (now >= next_sample) {
			sample(t, now);
			next_sample += interval * ((now - next_sample) / interval + 1);
		}
		if (now >= next_tick) {
			end_unseen_exits(t);
			/* One read of the process table a tick, for all that follows. */
			if (session__read_procs(t->sess, &t->procs))
				t->procs.n = 0;
			readout__harvest(t->readout, &t->procs);
			if (t->live)
				views__live(t->views, t->live, &t->procs, now);
			else if (t->opts.status_line)
				show_status(t, now);
			if (t->serve)
				views__serve(t->views, t->serve, &t->procs, now);
			next_tick += 1000000000ull;
		}
		/* q leaves the live view; without a command it also ends the run. */
		if (t->live && live__quit(t->live)) {
			live__free(t->live);
			t->live = NULL;
			if (!own_child)
				break;
		}
		if (deadline && now >= deadline)
			break;
		wake = next_sample < next_tick ? next_sample : next_tick;
		if (deadline && deadline < wake)
			wake = deadline;
		if (poll(fds, NFIXED + t->nroots, wake > now ? (wake - now) / 1000000 + 1 : 0) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (fds[FD_EVENTS].revents)
			session__poll(t->sess, 0);
		if (fds[FD_SIGNALS].revents)
			on_signal(t, forward);
		if (fds[FD_SERVE].revents)
			views__serve(t->views, t->serve, &t->procs, mono_ns());
		if (fds[FD_WATCH].revents)
			probes__on_watch(t->probes);
		if (fds[FD_GATE].revents)
			tracer__serve_gate(t);
		for (size_t i = 0; i < t->nroots; i++)
			if (fds[NFIXED + i].fd >= 0 && fds[NFIXED + i].revents) {
				close(t->roots[i].pidfd);
				t->roots[i].pidfd = -1;
				root_done = --roots_left == 0;
			}
	}
	free(fds);
	/* Whatever of the tree is left (daemons) execs past the watchdog. */
	tracer__end_gate(t);
	if (ret)
		return ret;
	t->end_ns = mono_ns();
	live__free(t->live);
	t->live = NULL;
	if (own_child && root_done)
		waitpid(t->roots[0].pid, status, 0);
	if (t->opts.status_line)
		fprintf(stderr, "\r\033[K");
	return 0;
}

/* Paths of cgroup ids and names of uids, once, at the end. */
static void name_identities(struct mo_tracer *t)
{
	struct {
		int64_t uid;
		char name[MO_USER_LEN];
	} seen[64];
	size_t nseen = 0;

	for (size_t i = 0; i < t->run->nprocs; i++) {
		struct mo_proc_rec *p = &t->run->procs[i];
		const char *path = p->cgroup || !p->cgroup_id ? NULL : cgroups__path(t->cgroups, p->cgroup_id);
		size_t k;

		if (path)
			p->cgroup = strdup(path);
		if (p->uid < 0)
			continue;
		for (k = 0; k < nseen && seen[k].uid != p->uid; k++)
			;
		if (k == nseen) {
			k = nseen < 64 ? nseen++ : 63;
			seen[k].uid = p->uid;
			users_name(p->uid, seen[k].name, sizeof(seen[k].name));
		}
		memcpy(p->user, seen[k].name, sizeof(p->user));
	}
}

int tracer__finish(struct mo_tracer *t)
{
	int ret;
	size_t nsites;
	const struct mo_heap_site *sites = probes__heap_sites(t->probes, &nsites);

	/* Whatever BPF submitted up to the root's exit is in the buffer. */
	session__poll(t->sess, 0);
	/* Nothing more to see: probes and tracepoints go while the report is made. */
	probes__detach(t->probes);
	session__detach(t->sess);
	end_unseen_exits(t);
	sample(t, t->end_ns);
	physical__finish(t->phys, t->run);
	t->run->duration_s = (double)(t->end_ns - t->t0_ns) / 1e9;
	t->run->heap = t->opts.heap;
	t->run->interval_s = t->opts.interval_s;
	t->run->alloc_sample_bytes = t->opts.heap ? t->opts.alloc_sample_bytes : 0;
	t->run->rss_sample_bytes = t->opts.rss_sample_bytes;
	for (size_t i = 0; i < nsites; i++)
		if (!sites[i].emulated)
			log_info("probe on %s in %s is single-stepped (%s): each call costs several times more",
				 sites[i].func, sites[i].file, sites[i].insn);
	if (nsites && (t->run->heap_probes = malloc(nsites * sizeof(*sites)))) {
		memcpy(t->run->heap_probes, sites, nsites * sizeof(*sites));
		t->run->nheap_probes = nsites;
	}
	ret = readout__final(t->readout, t->end_ns);
	if (!ret)
		name_identities(t);
	if (!ret && t->buildids) {
		size_t files, rows;
		double cpu_s;

		unwind__stop(t->unwinder);	/* its queue served first */
		unwind__learned(t->unwinder, t->buildids);
		unwind__stats(t->unwinder, &files, &rows, &cpu_s);
		t->run->unwind_files = files;
		t->run->unwind_rows = rows;
		t->run->unwind_cpu_s = cpu_s;
		ret = stacks_readout(t->sess, t->buildids, t->run);
	}
	return ret;
}

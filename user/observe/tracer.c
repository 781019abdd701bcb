// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "stacks/buildids.h"
#include "observe/convert.h"
#include "observe/unwind.h"
#include "observe/cgroups.h"
#include "observe/inproc.h"
#include "serve/live.h"
#include "lib/log.h"
#include "observe/phases.h"
#include "observe/probes.h"
#include "observe/proctree.h"
#include "observe/readout.h"
#include "serve/serve.h"
#include "observe/session.h"
#include "observe/stacks.h"
#include "serve/status.h"
#include "lib/users.h"
#include "observe/views.h"
#include "observe/stopgate.h"
#include "observe/tracer.h"
#include "observe/tracer_priv.h"
#include "observe/watchdog.h"

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
		if (t->inproc)
			inproc__fork(t->inproc, ev->ppid, hdr->tgid);
		break;
	}
	case MO_EV_FORK_HELD: {
		const struct mo_ev_fork *ev = data;

		/* Before or after its MO_EV_FORK: links made once either way. */
		probes__fork(t->probes, ev->ppid, hdr->tgid);
		stopgate__release(t->stopgate, hdr->tgid, t->run);
		break;
	}
	case MO_EV_EXEC: {
		const struct mo_ev_exec *ev = data;

		proctree__exec(t->tree, hdr->tgid, ev->comm, ev->filename, ev->args, ev->args_len, ev->args_total);
		if (ev->flags & MO_EXEC_STOPPED)
			tracer_inspect_exe(t, ev);
		else
			probes__exec_unheld(t->probes, hdr->tgid);
		if (t->inproc)
			inproc__exec(t->inproc, hdr->tgid, ev->exe.dev, ev->exe.ino);
		break;
	}
	case MO_EV_EXIT: {
		const struct mo_proc *p = &((const struct mo_ev_exit *)data)->proc;

		proctree__exit(t->tree, hdr->tgid, p);
		probes__exit(t->probes, hdr->tgid);
		if (t->inproc)
			inproc__exited(t->inproc, hdr->tgid, p->flags);
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

struct mo_tracer *tracer__new(const struct mo_tracer_opts *opts, struct mo_physical_obs *phys, struct mo_run *run,
			      char *err, size_t errlen)
{
	struct mo_session_opts sopts = {
		.mode = opts->mode,
		.heap = opts->heap,
		.heap_inproc = opts->heap && opts->heap_lib,
		/* A launched command has the seccomp gate (execgate.h) instead. */
		.gate_exec = opts->mode == MO_MODE_TREE && !opts->no_exec_gate && !opts->command,
		/* -p --heap: pid-scoped allocator probes, which a fork does not carry. */
		.heap_pid_links = opts->heap && opts->mode == MO_MODE_TREE && !opts->command,
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
	int saved_errno;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		physical__free(phys, NULL, 0);
		return NULL;
	}
	t->phys = phys;
	t->opts = *opts;
	t->run = run;
	t->sigfd = -1;
	t->cgroups = cgroups__new(cgroups_find_mount(cgroup_root, sizeof(cgroup_root)) ? NULL : cgroup_root);
	if (!t->cgroups) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}
	if (sopts.gate_exec && !(t->stopgate = stopgate__new(&sopts, err, errlen)))
		goto err_free;
	/* Stacks: their names are prepared while the BPF programs load. */
	if ((opts->heap && opts->alloc_sample_bytes) || opts->rss_sample_bytes) {
		t->buildids = buildids__new();
		if (!t->buildids || tracer_start_names(t)) {
			snprintf(err, errlen, "out of memory");
			goto err_free;
		}
	}
	t->sess = session__open(&sopts, on_event, t, err, errlen);
	if (!t->sess)
		goto err_free;
	/* The parked command's move into its cgroup waits for an RCU grace
	 * period, as the unwind tables' publication and the markers' links
	 * below do: at the same time, one wait. Not before: that it is in
	 * the cgroup tells that it is about to run. */
	if (opts->parked)
		physical__enter_begin(t->phys, opts->parked, opts->parked_in_cgroup);
	if (t->stopgate)
		stopgate__attach(t->stopgate, t->sess);
	if (t->buildids) {
		t->unwinder = unwind__new(t->sess);
		if (!t->unwinder) {
			snprintf(err, errlen, "cannot start the unwind table worker: %s", strerror(errno));
			goto err_free;
		}
		tracer_preload_unwind_tables(t);
	}
	if (sopts.heap_inproc && !(t->inproc = inproc__new(t->sess, opts->heap_lib))) {
		snprintf(err, errlen, "cannot listen for the heap library: %s", strerror(errno));
		goto err_free;
	}
	t->probes = probes__new(t->sess, run, t->buildids, opts->heap, t->inproc ? opts->heap_lib : NULL, err, errlen);
	/* Never a system-wide link on a file an exec found: a file written in
	 * place would crash whoever runs it beside the session. */
	if (t->probes && opts->heap && opts->mode == MO_MODE_TREE)
		probes__heap_per_process(t->probes, !sopts.heap_pid_links);
	if (!t->probes || tracer_attach_upfront(t, err, errlen))
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
	/* What failed says why in errno (EPERM: needs root), not what freeing did. */
	saved_errno = errno;
	tracer__free(t);
	errno = saved_errno;
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
	stack_names__free(t->names);
	buildids__free(t->buildids);
	proctree__free(t->tree);
	tracer__end_gate(t);
	stopgate__free(t->stopgate);
	/* Every uprobe at once: one grace period, not one per link. */
	probes__free(t->probes);
	inproc__free(t->inproc);
	session__free(t->sess);
	free(t);
}

const char *tracer__heap_env(const struct mo_tracer *t)
{
	return t->inproc ? inproc__env(t->inproc) : NULL;
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
	if (t->inproc)
		inproc__start(t->inproc, t->run, t->tree);
	for (size_t i = 0; i < t->nroots; i++)
		if (t->roots[i].running)
			tracer_name_running_root(t, t->roots[i].pid);
	ret = session__start_root_phase(t->sess, t->t0_ns);
	stopgate__arm(t->stopgate, mono_ns());
	stack_names__yield(t->names);
	return ret;
}

static void sample(struct mo_tracer *t, __u64 now)
{
	const volatile struct mo_state *st = session__state(t->sess);
	struct mo_sample s = {
		.t = (double)(now - t->t0_ns) / 1e9,
		.rss = st->rss_sum,
		.heap_live = session__heap(t->sess)->live,
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
		      t->opts.heap ? session__heap(t->sess)->live : -1,
		      readout__phase_name(t->readout, session__current_phase(t->sess)));
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

/* Once a second: what the process table says, read once for all that
 * follows. */
static void tick(struct mo_tracer *t, __u64 now)
{
	tracer_end_unseen_exits(t);
	if (session__read_procs(t->sess, &t->procs))
		t->procs.n = 0;
	readout__harvest(t->readout, &t->procs);
	if (t->inproc)
		inproc__sweep(t->inproc);
	if (t->live)
		views__live(t->views, t->live, &t->procs, now);
	else if (t->opts.status_line)
		show_status(t, now);
	if (t->serve)
		views__serve(t->views, t->serve, &t->procs, now);
}

/* Where no one waits for them, fork, exec and exit events need not wake
 * memobs. Someone does in -a mode (a container's cgroup path is learned at
 * the exits of its processes, before it goes), for in-process heap
 * counting, and for processes with links of their own (their forks). */
void tracer_lazy_events(struct mo_tracer *t)
{
	bool lazy = t->opts.mode == MO_MODE_TREE && !t->inproc && !probes__forks_urgent(t->probes);

	if (lazy != t->lazy_events) {
		session__lazy_events(t->sess, lazy);
		t->lazy_events = lazy;
	}
}

/* Wait for the run loop's descriptors without the tracer's lock: the
 * gate's thread answers execs meanwhile. 0 or -errno. */
static int poll_unlocked(struct mo_tracer *t, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int ret;

	pthread_mutex_unlock(&t->lock);
	ret = poll(fds, n, timeout_ms) < 0 && errno != EINTR ? -errno : 0;
	pthread_mutex_lock(&t->lock);
	return ret;
}

/* The run loop's descriptors: these, then the roots' pidfds. */
enum { FD_EVENTS, FD_SIGNALS, FD_LIVE, FD_SERVE, FD_WATCH, FD_GATE, FD_HEAP, NFIXED };

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
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_lock(&t->lock);
	ret = open_sigfd(t);
	if (!ret && tracer_gate_thread_start(t))
		log_info("the exec gate is served by the run loop: no thread for it");
	if (!ret && t->opts.live && !(t->live = live__new(t->opts.live_log)))
		ret = -errno;
	while (!ret && !root_done && !t->stop) {
		__u64 now = mono_ns(), wake;

		/* What BPF did not wake memobs for, before anything reads the maps. */
		session__consume(t->sess);
		tracer_lazy_events(t);
		stopgate__tick(t->stopgate, now);
		fds[FD_EVENTS] = (struct pollfd){ .fd = session__poll_fd(t->sess), .events = POLLIN };
		fds[FD_SIGNALS] = (struct pollfd){ .fd = t->sigfd, .events = POLLIN };
		fds[FD_LIVE] = (struct pollfd){ .fd = t->live ? live__fd(t->live) : -1, .events = POLLIN };
		fds[FD_SERVE] = (struct pollfd){ .fd = t->serve ? serve__fd(t->serve) : -1, .events = POLLIN };
		fds[FD_WATCH] = (struct pollfd){ .fd = probes__watch_fd(t->probes), .events = POLLIN };
		fds[FD_GATE] = (struct pollfd){ .fd = tracer_gate_poll_fd(t), .events = POLLIN };
		fds[FD_HEAP] = (struct pollfd){ .fd = t->inproc ? inproc__fd(t->inproc) : -1, .events = POLLIN };
		for (size_t i = 0; i < t->nroots; i++)
			fds[NFIXED + i] = (struct pollfd){ .fd = t->roots[i].exited ? -1 : t->roots[i].pidfd,
							    .events = POLLIN };

		if (now >= next_sample) {
			sample(t, now);
			next_sample += interval * ((now - next_sample) / interval + 1);
		}
		if (now >= next_tick) {
			tick(t, now);
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
		if (wake > now + MO_LAZY_EVENTS_MS * 1000000ull)
			wake = now + MO_LAZY_EVENTS_MS * 1000000ull;
		ret = poll_unlocked(t, fds, NFIXED + t->nroots, wake > now ? (wake - now) / 1000000 + 1 : 0);
		if (ret)
			break;
		session__consume(t->sess);
		if (fds[FD_SIGNALS].revents)
			on_signal(t, forward);
		if (fds[FD_SERVE].revents)
			views__serve(t->views, t->serve, &t->procs, mono_ns());
		if (fds[FD_WATCH].revents)
			probes__on_watch(t->probes);
		if (fds[FD_GATE].revents)
			tracer_gate_ready(t);
		if (fds[FD_HEAP].revents)
			inproc__accept(t->inproc);
		for (size_t i = 0; i < t->nroots; i++)
			if (fds[NFIXED + i].fd >= 0 && fds[NFIXED + i].revents) {
				t->roots[i].exited = true;
				root_done = --roots_left == 0;
			}
	}
	free(fds);
	/* Whatever of the tree is left (daemons) execs past the watchdog. */
	tracer__end_gate(t);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_destroy(&t->lock);
	/* A process starting from now on gets no answer: refused at once, it
	 * runs without counting rather than wait for one. */
	if (t->inproc)
		inproc__stop(t->inproc);
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
	tracer_end_unseen_exits(t);
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
	if (!ret && t->inproc)
		inproc__final(t->inproc);
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
		ret = stacks_readout(t->sess, t->buildids, t->names, t->run);
	}
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/* What an exec needs before the process runs on: the unwind tables of what
 * it maps, its probes; and the two gates that hold it meanwhile (the
 * command's exec gate, the -p stop gate). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "lib/log.h"
#include "observe/holds.h"
#include "observe/inproc.h"
#include "observe/probes.h"
#include "observe/stacks.h"
#include "observe/stopgate.h"
#include "observe/unwind.h"
#include "observe/watchdog.h"
#include "probe/ldsearch.h"
#include "observe/tracer_priv.h"

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

static const char *const loader_names[] = { "ld-linux", "ld-musl", NULL };

/* Every process maps the C library and the dynamic loader: memobs's own
 * (the targets' unless they live in another mount namespace), into paths;
 * how many were found. */
static size_t every_process_maps(char libc[4096], char loader[4096], const char *paths[2])
{
	size_t n = 0;

	if (!own_library(libc_names, libc, 4096))
		paths[n++] = libc;
	if (!own_library(loader_names, loader, 4096))
		paths[n++] = loader;
	return n;
}

/* Their unwind tables are loaded before the command runs. */
void tracer_preload_unwind_tables(struct mo_tracer *t)
{
	char libc[4096], loader[4096];
	const char *paths[2];

	unwind__load_now(t->unwinder, paths, every_process_maps(libc, loader, paths));
}

int tracer_start_names(struct mo_tracer *t)
{
	char libc[4096], loader[4096];
	const char *paths[2];

	t->names = stack_names__new(t->buildids, t->opts.reader, paths, every_process_maps(libc, loader, paths));
	return t->names ? 0 : -ENOMEM;
}

/* The unwind tables of a new executable and of the libraries the loader
 * will map for it (DT_NEEDED and rpaths with $ORIGIN; the environment is
 * not read here), loaded before it runs: its first samples walk through
 * them, and a short program (an interpreter's script, a compiler's small
 * unit) would be done before a table loaded beside it. */
static void load_exe_tables(struct mo_tracer *t, const char *exe, const char *exe_path)
{
	struct mo_ld_query q = { .root = "", .exe = exe, .exe_path = exe_path };
	struct mo_ld_objects objs = {};
	const char **paths;
	size_t n = 0;
	char err[256];
	bool resolved = !ldsearch_resolve(&q, &objs, err, sizeof(err));

	paths = calloc(objs.count + 1, sizeof(*paths));
	if (paths) {
		paths[n++] = exe;
		for (size_t i = 0; i < objs.count; i++)
			if (!objs.objs[i].exe && !objs.objs[i].interp)
				paths[n++] = objs.objs[i].path;
		unwind__load_now(t->unwinder, paths, n);
	}
	free(paths);
	if (resolved)
		ldsearch_free(&objs);
}

/* The -p gate stopped pid at its first exec of a file memobs had not seen:
 * probe what it runs, then let it go on. */
void tracer_inspect_exe(struct mo_tracer *t, const struct mo_ev_exec *ev)
{
	char path[64], real[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", ev->hdr.tgid);
	if (t->unwinder) {
		n = readlink(path, real, sizeof(real) - 1);
		real[n > 0 ? n : 0] = 0;
		load_exe_tables(t, path, n > 0 ? real : NULL);
	}
	session__exe_ready(t->sess, &ev->exe, probes__on_exec_stopped(t->probes, ev->hdr.tgid));
	tracer_lazy_events(t);
	stopgate__release(t->stopgate, ev->hdr.tgid, t->run);
}

/* The exec gate holds a process of the command at the exec of a file: its
 * unwind tables, then what probes need (execgate.h's hook). */
static unsigned on_exec_held(void *ctx, const struct mo_exec_held *held)
{
	struct mo_tracer *t = ctx;
	char self[64], real[4096];
	unsigned asked = 0;
	ssize_t n;

	/* What BPF told of this process (its fork) before looking at it. */
	session__consume(t->sess);
	if (held->first && t->unwinder) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", held->fd);
		n = readlink(self, real, sizeof(real) - 1);
		real[n > 0 ? n : 0] = 0;
		load_exe_tables(t, held->path, n > 0 ? real : NULL);
	}
	/* Probes for the file, or its process; whether the heap library will
	 * count the process, and if not, why (for every exec). */
	if (held->first || (held->asked & MO_EXEC_AGAIN))
		asked = probes__on_exec_held(t->probes, held);
	/* Links of its own: its forks wake memobs from before it runs. */
	tracer_lazy_events(t);
	return asked | (t->inproc ? inproc__held(t->inproc, held) : 0);
}

/* Probes that must be in place before the command runs: the C library's
 * allocator (--heap), memobs's own markers. */
int tracer_attach_upfront(struct mo_tracer *t, char *err, size_t errlen)
{
	/* In process: no probe on a shared allocator, every process would trap;
	 * -p: each process's own (attach_heap.h), none up front. */
	bool libc_up_front = t->opts.heap && !t->inproc && (t->opts.command || t->opts.mode == MO_MODE_HOST);
	char libc[4096];
	int ret;

	if (libc_up_front) {
		ret = own_library(libc_names, libc, sizeof(libc));
		if (ret) {
			snprintf(err, errlen, "cannot find the C library to probe: %s", strerror(-ret));
			return ret;
		}
	}
	return probes__attach_upfront(t->probes, libc_up_front ? libc : NULL, t->opts.libmemobs, err, errlen);
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

static void gate_failed(struct mo_tracer *t, int err)
{
	log_warn("the exec gate failed (%s): the watchdog answers it from now on", strerror(-err));
	tracer__end_gate(t);
}

void tracer__serve_gate(void *ctx)
{
	struct mo_tracer *t = ctx;
	int ret = execgate__serve(t->gate);

	if (ret < 0)
		gate_failed(t, ret);
}

/* The gate's thread: each exec is answered from here, so that the run loop
 * is not woken for it; what the hook does (execgate.h) runs under the
 * tracer's lock, as the run loop's work does. It ends when told
 * (gate_stop), when no task is left under the filter, or on an error of
 * the listener (gate_error). */
static void *serve_gate_thread(void *arg)
{
	struct mo_tracer *t = arg;

	for (;;) {
		struct pollfd p[2] = { { execgate__fd(t->gate), POLLIN, 0 }, { t->gate_stop, POLLIN, 0 } };
		int ret;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents || (p[0].revents && !(p[0].revents & POLLIN)))
			break;
		if (!p[0].revents)
			continue;
		pthread_mutex_lock(&t->lock);
		ret = execgate__serve(t->gate);
		t->gate_error = ret < 0 ? ret : 0;
		pthread_mutex_unlock(&t->lock);
		if (ret < 0)
			break;
	}
	eventfd_write(t->gate_ended, 1);
	return NULL;
}

static void close_gate_fds(struct mo_tracer *t)
{
	if (t->gate_stop >= 0)
		close(t->gate_stop);
	if (t->gate_ended >= 0)
		close(t->gate_ended);
}

int tracer_gate_thread_start(struct mo_tracer *t)
{
	sigset_t all, old;
	int err;

	if (!t->gate)
		return 0;
	t->gate_stop = eventfd(0, EFD_CLOEXEC);
	t->gate_ended = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->gate_stop < 0 || t->gate_ended < 0) {
		err = errno;
		close_gate_fds(t);
		return -err;
	}
	/* Signals are the run loop's (its signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t->gate_thread, NULL, serve_gate_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	t->gate_threaded = !err;
	if (err)
		close_gate_fds(t);
	return -err;
}

/* Tell the gate's thread to end, and wait for it: without the lock, which
 * it may be waiting for. */
static void join_gate_thread(struct mo_tracer *t)
{
	if (!t->gate_threaded)
		return;
	eventfd_write(t->gate_stop, 1);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->gate_thread, NULL);
	pthread_mutex_lock(&t->lock);
	t->gate_threaded = false;
	close_gate_fds(t);
}

int tracer_gate_poll_fd(struct mo_tracer *t)
{
	if (t->gate_threaded)
		return t->gate_ended;
	return t->gate ? execgate__fd(t->gate) : -1;
}

void tracer_gate_ready(struct mo_tracer *t)
{
	if (!t->gate_threaded) {
		tracer__serve_gate(t);
		return;
	}
	join_gate_thread(t);
	if (t->gate_error)
		gate_failed(t, t->gate_error);
}

void tracer__end_gate(struct mo_tracer *t)
{
	/* Nothing the -p gate stopped is left stopped, whatever the end. */
	stopgate__end(t->stopgate, t->run);
	join_gate_thread(t);
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

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "observe/probes.h"
#include "observe/session.h"
#include "probe/allocators.h"
#include "probe/attach_heap.h"
#include "probe/attach_inproc.h"
#include "probe/attach_usdt.h"
#include "probe/uprobe_multi.h"
#include "stacks/buildids.h"

struct mo_probes {
	struct mo_session *sess;
	const char *heap_lib;		/* in-process heap counting, or NULL */
	struct mo_links *links;
	struct mo_heap_probes *heap;	/* NULL without --heap */
	struct mo_usdt_probes *usdt;
	struct mo_run *run;
	struct mo_buildids *buildids;
	bool heap_per_process;
	bool count_unlinked_forks;	/* children linked after their fork: dropped calls */
};

struct mo_probes *probes__new(struct mo_session *s, struct mo_run *run, struct mo_buildids *buildids, bool heap,
			      const char *heap_lib, char *err, size_t errlen)
{
	struct mo_probes *p = calloc(1, sizeof(*p));

	if (!p || !(p->links = links__new(session__handoff(s))) ||
	    !(p->usdt = usdt_probes__new(session__skel(s), p->links)) ||
	    (heap && !(p->heap = heap_probes__new(session__skel(s), p->links)))) {
		snprintf(err, errlen, "out of memory");
		probes__free(p);
		return NULL;
	}
	p->run = run;
	p->buildids = buildids;
	p->sess = s;
	p->heap_lib = heap ? heap_lib : NULL;
	if (p->heap_lib)
		heap_probes__exe_only(p->heap);
	return p;
}

void probes__detach(struct mo_probes *p)
{
	links__release_all(p->links);
	usdt_probes__unwatch(p->usdt);
}

void probes__free(struct mo_probes *p)
{
	if (!p)
		return;
	links__free(p->links);
	heap_probes__free(p->heap);
	usdt_probes__free(p->usdt);
	free(p);
}

int probes__attach_upfront(struct mo_probes *p, const char *libc, const char *libmemobs, char *err, size_t errlen)
{
	int ret;

	if (p->heap && libc) {
		ret = heap_probes__attach_file(p->heap, libc, "", allocators_family(libc, "", false), 0, err, errlen);
		if (ret < 0)
			return ret;
	}
	if (p->heap_lib) {
		ret = inproc_probes__attach(session__skel(p->sess), p->links, p->heap_lib, err, errlen);
		if (ret < 0)
			return ret;
	}
	/* `memobs mark` runs this very binary; the FFI library is found by the
	 * Python module through MEMOBS_LIB. */
	ret = usdt_probes__attach_own(p->usdt, "/proc/self/exe", err, errlen);
	if (ret >= 0 && libmemobs && libmemobs[0] && !access(libmemobs, R_OK))
		ret = usdt_probes__attach_own(p->usdt, libmemobs, err, errlen);
	return ret < 0 ? ret : 0;
}

/* Markers of the file open at fd, for tgid alone: true when it has some. */
static bool attach_markers(struct mo_probes *p, pid_t tgid, int fd)
{
	char err[512] = "";
	int n;

	if (usdt_probes__is_own(p->usdt, fd))
		return false;	/* attached for every process already */
	n = usdt_probes__attach_pid(p->usdt, tgid, fd, err, sizeof(err));
	if (err[0] && n != -ESRCH)
		run_add_warning(p->run, "%s", err);
	return n > 0;
}

unsigned probes__on_exec_held(void *ctx, const struct mo_exec_held *held)
{
	struct mo_probes *p = ctx;
	char self[64], real[4096], err[512];
	bool again = false;
	ssize_t n;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", held->fd);
	n = readlink(self, real, sizeof(real) - 1);
	real[n > 0 ? n : 0] = 0;
	if (held->first && p->buildids && n > 0)
		buildids__add_file(p->buildids, real);
	/* System-wide per file: once per content; per process: each process's. */
	if (p->heap && (held->first || p->heap_per_process)) {
		struct mo_exec_image img = {
			.exe = held->path,
			.exe_path = n > 0 ? real : NULL,
			.env = held->ld_env,
			.envlen = held->ld_envlen,
			.secure = held->setid,
		};
		int probed = heap_probes__attach_exec(p->heap, held->tgid, &img, err, sizeof(err));

		if (probed < 0)
			run_add_warning(p->run, "%s", err);
		again = p->heap_per_process && probed > 0;
	}
	return attach_markers(p, held->tgid, held->fd) || again ? MO_EXEC_AGAIN : 0;
}

/* The allocator and the markers of what tgid runs now (/proc/PID/exe): true
 * when that file needs a look at every exec. */
static bool attach_exe(struct mo_probes *p, pid_t tgid, const char *exe)
{
	char err[512];
	bool again;
	int n, fd;

	n = p->heap ? heap_probes__attach_exe(p->heap, tgid, exe, err, sizeof(err)) : 0;
	if (n < 0)
		run_add_warning(p->run, "%s", err);
	/* Per process, every process that runs an allocator needs links of its own. */
	again = p->heap_per_process && n > 0;
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		again |= attach_markers(p, tgid, fd);
		close(fd);
	}
	return again;
}

bool probes__on_exec_stopped(struct mo_probes *p, pid_t tgid)
{
	char path[64], real[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", tgid);
	if (p->buildids && (n = readlink(path, real, sizeof(real) - 1)) > 0) {
		real[n] = 0;
		buildids__add_file(p->buildids, real);
	}
	return attach_exe(p, tgid, path);
}

void probes__add_running(struct mo_probes *p, pid_t pid)
{
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	/* Its allocator is whatever its loader chose back then; a link made
	 * now puts breakpoints into its mapping as it is. */
	attach_exe(p, pid, exe);
}

void probes__exec_unheld(struct mo_probes *p, pid_t tgid)
{
	char exe[64], why[512];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", tgid);
	if (p->heap_per_process && heap_probes__attach_exe(p->heap, tgid, exe, why, sizeof(why)) < 0)
		run_add_warning(p->run, "%s", why);
}

void probes__heap_per_process(struct mo_probes *p, bool count_unlinked_forks)
{
	if (p->heap) {
		heap_probes__per_process(p->heap);
		p->heap_per_process = true;
		p->count_unlinked_forks = count_unlinked_forks;
	}
}

void probes__fork(struct mo_probes *p, pid_t parent, pid_t child)
{
	char err[512];
	int linked;

	if (usdt_probes__fork(p->usdt, parent, child, err, sizeof(err)))
		run_add_warning(p->run, "%s", err);
	if (!p->heap_per_process)
		return;
	linked = heap_probes__fork(p->heap, parent, child, err, sizeof(err));
	if (linked < 0)
		run_add_warning(p->run, "%s", err);
	else if (linked && p->count_unlinked_forks)
		session__count_unlinked_fork(p->sess);
}

bool probes__forks_urgent(const struct mo_probes *p)
{
	return p->heap_per_process || usdt_probes__pids(p->usdt);
}

void probes__exit(struct mo_probes *p, pid_t tgid)
{
	bool had = usdt_probes__exit(p->usdt, tgid);

	if (p->heap_per_process)
		had |= heap_probes__exit(p->heap, tgid);
	/* Its markers' and allocator's links alike, in one go. */
	if (had)
		links__release(p->links, tgid);
}

int probes__watch_fd(struct mo_probes *p)
{
	return usdt_probes__watch_fd(p->usdt);
}

static void warn_run(void *run, const char *text)
{
	run_add_warning(run, "%s", text);
}

void probes__on_watch(struct mo_probes *p)
{
	usdt_probes__on_watch(p->usdt, warn_run, p->run);
}

size_t probes__links(const struct mo_probes *p)
{
	return links__count(p->links);
}

const struct mo_heap_site *probes__heap_sites(const struct mo_probes *p, size_t *count)
{
	if (!p->heap) {
		*count = 0;
		return NULL;
	}
	return heap_probes__sites(p->heap, count);
}

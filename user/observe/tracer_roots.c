// SPDX-License-Identifier: GPL-2.0
/* Who joins the session besides what BPF sees fork: the command, -p's
 * processes, and under -a every process running at the start. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/types.h>
#include "lib/grow.h"
#include "lib/procfs.h"
#include "observe/cgroups.h"
#include "observe/filters.h"
#include "observe/physical.h"
#include "observe/probes.h"
#include "observe/proctree.h"
#include "stacks/buildids.h"
#include "observe/tracer_priv.h"

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

/* Linux 6.15's PIDFD_GET_INFO (Debian 12's headers predate it): a pidfd
 * opened before its process was reaped tells its wait status after. */
struct pidfd_info {
	__u64 mask, cgroupid;
	__u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32 exit_code;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)
#define PIDFD_INFO_EXIT (1ull << 3)

/* The exit status of a root that exited before BPF knew it, from its pidfd
 * once its parent reaped it: true when *final has it. */
static bool root_exit_status(const struct mo_tracer *t, pid_t pid, struct mo_proc *final)
{
	struct pidfd_info info = { .mask = PIDFD_INFO_EXIT };

	for (size_t i = 0; i < t->nroots; i++)
		if (t->roots[i].pid == pid && t->roots[i].pidfd >= 0 &&
		    !ioctl(t->roots[i].pidfd, PIDFD_GET_INFO, &info) && (info.mask & PIDFD_INFO_EXIT)) {
			final->exit_code = info.exit_code;
			return true;
		}
	return false;
}

/* A process read from /proc may have exited before its record was put in:
 * BPF saw no exit then, and its record would stay in the sums for good. A
 * second later, any of them gone or a zombie has passed its exit tracepoint:
 * those still unended were missed. A root's status is known all the same
 * once it is reaped (its pidfd); another's is not. */
void tracer_end_unseen_exits(struct mo_tracer *t)
{
	for (size_t i = 0; i < t->nadded; i++) {
		struct mo_proc_status st;
		struct mo_proc final;

		if (!procfs_status(t->added[i], &st) && st.has_rss)
			continue;
		if (!session__end_unseen_exit(t->sess, t->added[i], mono_ns(), &final))
			continue;
		if (root_exit_status(t, t->added[i], &final))
			final.flags &= ~MO_PROC_EXIT_UNSEEN;
		proctree__exit(t->tree, t->added[i], &final);
	}
	free(t->added);
	t->added = NULL;
	t->nadded = 0;
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
void tracer_name_running_root(struct mo_tracer *t, pid_t pid)
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

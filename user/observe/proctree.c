// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "lib/procfs.h"
#include "observe/convert.h"
#include "observe/proctree.h"

/* Open addressing, pid -> index in run->procs; grows at 1/2 load. */
struct mo_proctree {
	struct mo_run *run;
	__u64 t0_ns;
	pid_t *keys;		/* 0 = empty */
	size_t *vals;
	size_t cap, used;
	pid_t *exited;
	size_t nexited, exited_cap;
	pid_t *taken;		/* what the last proctree__take_exited returned */
};

static size_t slot_of(const struct mo_proctree *pt, pid_t pid)
{
	size_t i = ((size_t)pid * 2654435761u) & (pt->cap - 1);

	while (pt->keys[i] && pt->keys[i] != pid)
		i = (i + 1) & (pt->cap - 1);
	return i;
}

static int grow_index(struct mo_proctree *pt)
{
	size_t old_cap = pt->cap, cap = old_cap ? old_cap * 2 : 1024;
	pid_t *old_keys = pt->keys;
	size_t *old_vals = pt->vals;

	pt->keys = calloc(cap, sizeof(*pt->keys));
	pt->vals = calloc(cap, sizeof(*pt->vals));
	if (!pt->keys || !pt->vals) {
		free(pt->keys);
		free(pt->vals);
		pt->keys = old_keys;
		pt->vals = old_vals;
		return -ENOMEM;
	}
	pt->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old_keys[i])
			continue;
		size_t s = slot_of(pt, old_keys[i]);

		pt->keys[s] = old_keys[i];
		pt->vals[s] = old_vals[i];
	}
	free(old_keys);
	free(old_vals);
	return 0;
}

struct mo_proctree *proctree__new(struct mo_run *run, __u64 t0_ns)
{
	struct mo_proctree *pt = calloc(1, sizeof(*pt));

	if (!pt)
		return NULL;
	pt->run = run;
	pt->t0_ns = t0_ns;
	if (grow_index(pt)) {
		free(pt);
		return NULL;
	}
	return pt;
}

void proctree__free(struct mo_proctree *pt)
{
	if (!pt)
		return;
	free(pt->keys);
	free(pt->vals);
	free(pt->exited);
	free(pt->taken);
	free(pt);
}

long proctree__find(const struct mo_proctree *pt, pid_t pid)
{
	size_t s = slot_of(pt, pid);

	return pt->keys[s] ? (long)pt->vals[s] : -1;
}

static double secs(const struct mo_proctree *pt, __u64 ns)
{
	return ns > pt->t0_ns ? (double)(ns - pt->t0_ns) / 1e9 : 0.0;
}

/* A new record for pid, which becomes the one the index names. */
static long new_record(struct mo_proctree *pt, pid_t pid)
{
	struct mo_proc_rec *rec;
	size_t s;

	if ((pt->used + 1) * 2 > pt->cap && grow_index(pt))
		return -ENOMEM;
	rec = run_add_proc(pt->run);
	if (!rec)
		return -ENOMEM;
	rec->pid = pid;
	s = slot_of(pt, pid);
	if (!pt->keys[s])
		pt->used++;
	pt->keys[s] = pid;
	pt->vals[s] = pt->run->nprocs - 1;
	return pt->run->nprocs - 1;
}

/* comm: a string, or a kernel comm of MO_COMM_LEN bytes without a NUL;
 * nothing past either is read. */
static void set_comm(struct mo_proc_rec *rec, const char *comm)
{
	size_t n = strnlen(comm, sizeof(rec->comm) - 1);

	memcpy(rec->comm, comm, n);
	rec->comm[n] = 0;
}

long proctree__fork(struct mo_proctree *pt, pid_t pid, pid_t ppid, const char *comm, __u64 ts_ns)
{
	long idx = new_record(pt, pid);
	struct mo_proc_rec *rec;

	if (idx < 0)
		return idx;
	rec = &pt->run->procs[idx];
	rec->ppid = ppid;
	rec->start_s = secs(pt, ts_ns);
	set_comm(rec, comm);
	return idx;
}

/* The live record of pid, created when its fork was not seen (host mode, a
 * dropped event, the -p target). */
static long live_record(struct mo_proctree *pt, pid_t pid)
{
	long idx = proctree__find(pt, pid);

	if (idx >= 0 && !pt->run->procs[idx].exited)
		return idx;
	return new_record(pt, pid);
}

char **proctree_split_args(const char *args, size_t len)
{
	size_t n = 0, k = 0;
	char **argv;

	for (size_t i = 0; i < len; i++)
		if (!args[i] || i + 1 == len)
			n++;
	if (!n)
		return NULL;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	for (size_t i = 0; i < len && k < n;) {
		size_t l = strnlen(args + i, len - i);

		argv[k] = strndup(args + i, l);
		if (!argv[k]) {
			while (k--)
				free(argv[k]);
			free(argv);
			return NULL;
		}
		k++;
		i += l + 1;
	}
	return argv;
}

/* The argv of pid from /proc when it begins with the bytes BPF copied (the
 * process may have exec'd again since, or be gone): a buffer the caller
 * frees, its length in *len, *cut when it fills MO_ARGV_MAX; NULL otherwise. */
static char *whole_args(pid_t pid, const char *args, size_t args_len, size_t *len, bool *cut)
{
	char *buf = malloc(MO_ARGV_MAX);
	ssize_t n;

	if (!buf)
		return NULL;
	n = procfs_cmdline(pid, buf, MO_ARGV_MAX);
	if (n <= (ssize_t)args_len || memcmp(buf, args, args_len)) {
		free(buf);
		return NULL;
	}
	*len = n;
	*cut = n == MO_ARGV_MAX;
	return buf;
}

long proctree__exec(struct mo_proctree *pt, pid_t pid, const char *comm, const char *filename,
		    const char *args, size_t args_len, size_t args_total)
{
	long idx = live_record(pt, pid);
	struct mo_proc_rec *rec;
	char *whole = NULL;
	size_t len = args_len;
	bool cut = args_total > args_len;

	if (idx < 0)
		return idx;
	if (cut && (whole = whole_args(pid, args, args_len, &len, &cut)))
		args = whole;
	rec = &pt->run->procs[idx];
	set_comm(rec, comm);
	free(rec->exe);
	rec->exe = filename && *filename ? strdup(filename) : NULL;
	if (rec->argv) {
		for (char **a = rec->argv; *a; a++)
			free(*a);
		free(rec->argv);
	}
	rec->argv = proctree_split_args(args, len);
	rec->argv_truncated = cut;
	free(whole);
	return idx;
}

static void take_figures(struct mo_proctree *pt, struct mo_proc_rec *rec, const struct mo_proc *p)
{
	if (!rec->comm[0])
		memcpy(rec->comm, p->comm, sizeof(rec->comm));
	rec->comm[sizeof(rec->comm) - 1] = 0;
	if (!rec->ppid)
		rec->ppid = p->ppid;
	if (p->start_ns && !rec->start_s)
		rec->start_s = secs(pt, p->start_ns);
	rec->rss_peak = p->rss_peak_sum;
	convert_mem(p->rss_peak, rec->rss_peak_member);
	rec->rss_pre_exec_peak = p->rss_pre_exec_peak;
	rec->rss_end = p->rss_sum;
	/* In process, its slot has them (observe/inproc.c). */
	if (!(p->flags & MO_PROC_HEAP_INPROC)) {
		rec->heap_live = p->heap_live;
		if (p->heap_peak_live > rec->heap_peak_live)
			rec->heap_peak_live = p->heap_peak_live;
	}
	if (p->flags & MO_PROC_HEAP_SEEN) {
		rec->heap_probed = true;
		rec->heap_paths |= MO_HEAP_PATH_UPROBES;
	}
	rec->observer = p->flags & MO_PROC_OBSERVER;
	rec->filtered_out = p->flags & MO_PROC_FILTERED_OUT;
	rec->rss_first = p->rss_first;
	rec->first_s = secs(pt, p->first_ns);
	/* A command held before its exec is still memobs's: its ids are not its own yet. */
	if (!(p->flags & MO_PROC_PENDING_EXEC)) {
		rec->uid = p->uid;
		rec->cgroup_id = p->cgroup_id;
	}
}

long proctree__exit(struct mo_proctree *pt, pid_t pid, const struct mo_proc *final)
{
	long idx = live_record(pt, pid);
	struct mo_proc_rec *rec;

	if (idx < 0)
		return idx;
	rec = &pt->run->procs[idx];
	take_figures(pt, rec, final);
	rec->exited = true;
	rec->end_s = secs(pt, final->end_ns);
	rec->exit_status = rec->filtered_out || (final->flags & MO_PROC_EXIT_UNSEEN)
				   ? -1 : run_wait_status_to_exit(final->exit_code);
	if (GROW(pt->exited, pt->nexited + 1, pt->exited_cap))
		return idx;	/* its BPF leftovers are swept at the end */
	pt->exited[pt->nexited++] = pid;
	return idx;
}

long proctree__running(struct mo_proctree *pt, pid_t pid, const struct mo_proc *cur)
{
	long idx = live_record(pt, pid);

	if (idx >= 0)
		take_figures(pt, &pt->run->procs[idx], cur);
	return idx;
}

int proctree__add_pstat(struct mo_proctree *pt, pid_t pid, const struct mo_proc_phase *figures)
{
	long idx = proctree__find(pt, pid);

	if (idx < 0)
		idx = new_record(pt, pid);
	if (idx < 0)
		return idx;
	pt->run->procs[idx].heap_probed_calls += figures->heap.alloc_count + figures->heap.free_count;
	return run_proc_add_phase(&pt->run->procs[idx], figures);
}

size_t proctree__take_exited(struct mo_proctree *pt, const pid_t **pids)
{
	size_t n = pt->nexited;

	free(pt->taken);
	pt->taken = pt->exited;
	pt->exited = NULL;
	pt->nexited = pt->exited_cap = 0;
	*pids = pt->taken;
	return n;
}

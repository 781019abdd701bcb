// SPDX-License-Identifier: GPL-2.0
/* The session's BPF maps from user space: the process table, per-program
 * figures, sites and their deltas, unwind tables, stacks and Python code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "lib/grow.h"
#include "lib/pool.h"
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "observe/map_walk.h"
#include "observe/session.h"
#include "observe/session_priv.h"

struct proc_visit {
	bool (*fn)(void *ctx, __u32 tgid, const struct mo_proc *p);
	void *ctx;
};

static bool visit_proc(void *ctx, const void *key, const void *value)
{
	struct proc_visit *v = ctx;

	return v->fn(v->ctx, *(const __u32 *)key, value);
}

void session__each_proc(struct mo_session *s, bool (*fn)(void *ctx, __u32 tgid, const struct mo_proc *p),
			void *ctx)
{
	struct proc_visit v = { fn, ctx };

	map_each_entry(bpf_map__fd(s->skel->maps.mo_procs), sizeof(__u32), sizeof(struct mo_proc), visit_proc, &v);
}

struct snap_fill {
	struct mo_procs_snap *snap;
	bool failed;
};

static bool take_snap(void *ctx, __u32 tgid, const struct mo_proc *p)
{
	struct snap_fill *f = ctx;
	struct mo_procs_snap *snap = f->snap;

	if (GROW(snap->tgids, snap->n + 1, snap->tgids_alloc) || GROW(snap->procs, snap->n + 1, snap->procs_alloc)) {
		f->failed = true;
		return false;
	}
	snap->tgids[snap->n] = tgid;
	snap->procs[snap->n++] = *p;
	return false;
}

int session__read_procs(struct mo_session *s, struct mo_procs_snap *snap)
{
	struct snap_fill f = { snap, false };

	snap->n = 0;
	session__each_proc(s, take_snap, &f);
	return f.failed ? -ENOMEM : 0;
}

void session_procs_snap_free(struct mo_procs_snap *snap)
{
	free(snap->tgids);
	free(snap->procs);
	*snap = (struct mo_procs_snap){};
}

void session__delete_procs(struct mo_session *s, const __u32 *tgids, size_t n)
{
	map_delete_keys(bpf_map__fd(s->skel->maps.mo_procs), (const char *)tgids, n, sizeof(*tgids));
}

struct pstat_visit {
	bool (*fn)(void *ctx, const struct mo_pstat_key *k, const struct mo_pstat *v);
	void *ctx;
};

static bool visit_pstat(void *ctx, const void *key, const void *value)
{
	struct pstat_visit *v = ctx;

	return v->fn(v->ctx, key, value);
}

void session__each_pstat(struct mo_session *s,
			 bool (*fn)(void *ctx, const struct mo_pstat_key *k, const struct mo_pstat *v), void *ctx)
{
	struct pstat_visit v = { fn, ctx };

	map_each_entry(bpf_map__fd(s->skel->maps.mo_pstats), sizeof(struct mo_pstat_key), sizeof(struct mo_pstat),
		   visit_pstat, &v);
}

struct site_visit {
	void (*fn)(void *ctx, const struct mo_site_key *k, const struct mo_site *v);
	void *ctx;
};

static bool visit_site(void *ctx, const void *key, const void *value)
{
	struct site_visit *v = ctx;

	v->fn(v->ctx, key, value);
	return false;
}

void session__each_site(struct mo_session *s,
			void (*fn)(void *ctx, const struct mo_site_key *k, const struct mo_site *v), void *ctx)
{
	struct site_visit v = { fn, ctx };

	map_each_entry(bpf_map__fd(s->skel->maps.mo_sites), sizeof(struct mo_site_key), sizeof(struct mo_site),
		   visit_site, &v);
}

struct site_delta_visit {
	void (*fn)(void *ctx, const struct mo_site_delta_key *k, __s64 bytes);
	void *ctx;
};

static bool visit_site_delta(void *ctx, const void *key, const void *value)
{
	struct site_delta_visit *v = ctx;

	v->fn(v->ctx, key, *(const __s64 *)value);
	return false;
}

void session__each_site_delta(struct mo_session *s,
			      void (*fn)(void *ctx, const struct mo_site_delta_key *k, __s64 bytes), void *ctx)
{
	struct site_delta_visit v = { fn, ctx };

	map_each_entry(bpf_map__fd(s->skel->maps.mo_site_deltas), sizeof(struct mo_site_delta_key), sizeof(__s64),
		   visit_site_delta, &v);
}

/* A file's rows in a new array map, written in place through mmap (a
 * compiler has 480,000 rows): its fd, or -errno. */
static int unwind_rows_map(const struct mo_unwind_row *rows, __u32 n)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t size = (size_t)n * sizeof(*rows);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mo_unwind_file", sizeof(__u32), sizeof(*rows), n, &opts), err;
	void *mem;

	if (fd < 0)
		return -errno;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	memcpy(mem, rows, size);
	munmap(mem, size);
	return fd;
}

/* One batch of arrays going into mo_unwind_tables. The kernel inserts them
 * (BPF sees each at once), then holds the updater in an RCU grace period
 * (maybe_wait_bpf_programs: 8-16 ms here, whatever the batch's size): a
 * thread of the session's pool waits it out, while the caller goes on as
 * soon as it sees them all in. Whoever is last frees it. */
struct table_batch {
	int outer;
	struct mo_file_key *keys;
	int *fds;
	__u32 n, count;		/* count: how many went in, once done */
	int err;
	int state;		/* BATCH_* (atomic) */
};

enum { BATCH_RUNNING, BATCH_DONE, BATCH_LEFT };

static void table_batch_free(struct table_batch *b)
{
	for (__u32 k = 0; k < b->n; k++)
		close(b->fds[k]);	/* mo_unwind_tables holds those that went in */
	free(b->keys);
	free(b->fds);
	free(b);
}

static void insert_tables(void *arg)
{
	struct table_batch *b = arg;

	b->count = b->n;
	if (bpf_map_update_batch(b->outer, b->keys, b->fds, &b->count, NULL))
		b->err = -errno;
	if (__atomic_exchange_n(&b->state, BATCH_DONE, __ATOMIC_ACQ_REL) == BATCH_LEFT)
		table_batch_free(b);
}

static bool all_in(const struct table_batch *b)
{
	__u32 id;

	for (__u32 k = 0; k < b->n; k++)
		if (bpf_map_lookup_elem(b->outer, &b->keys[k], &id))
			return false;
	return true;
}

/* Insert the batch: 0 once all are in; else the batch is done, and
 * b->count and b->err say what went in. */
static int insert_batch(struct mo_session *s, struct table_batch *b)
{
	struct timespec pause = { 0, 20000 };

	if (!s->inserters || pool__run(s->inserters, insert_tables, b)) {
		insert_tables(b);
		return -1;
	}
	while (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) == BATCH_RUNNING && !all_in(b))
		nanosleep(&pause, NULL);
	if (__atomic_exchange_n(&b->state, BATCH_LEFT, __ATOMIC_ACQ_REL) == BATCH_RUNNING)
		return 0;	/* the thread frees it */
	__atomic_store_n(&b->state, BATCH_DONE, __ATOMIC_RELAXED);
	return -1;
}

int session__load_unwind_tables(struct mo_session *s, struct mo_unwind_load *loads, size_t n)
{
	struct table_batch *b = calloc(1, sizeof(*b));
	int first = 0;

	if (b) {
		b->outer = bpf_map__fd(s->skel->maps.mo_unwind_tables);
		b->keys = calloc(n ?: 1, sizeof(*b->keys));
		b->fds = calloc(n ?: 1, sizeof(*b->fds));
	}
	if (!b || !b->keys || !b->fds) {
		if (b)
			table_batch_free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		loads[i].err = 0;
		if (!loads[i].info.nrows)
			continue;
		b->fds[b->n] = unwind_rows_map(loads[i].rows, loads[i].info.nrows);
		if (b->fds[b->n] < 0)
			loads[i].err = b->fds[b->n];
		else
			b->keys[b->n++] = loads[i].file;
	}
	if (b->n && insert_batch(s, b)) {
		/* Done, not all in: count says how many went in, in order. */
		for (size_t i = 0, k = 0; i < n; i++)
			if (loads[i].info.nrows && !loads[i].err && k++ >= b->count)
				loads[i].err = b->err ?: -EIO;
		table_batch_free(b);
	} else if (!b->n) {
		table_batch_free(b);
	}
	/* Ready only once the rows are there: BPF reads them from then on. */
	for (size_t i = 0; i < n; i++) {
		struct mo_unwind_file ready = loads[i].info;

		ready.ready = 1;
		if (!loads[i].err && bpf_map_update_elem(bpf_map__fd(s->skel->maps.mo_unwind_files), &loads[i].file,
							 &ready, BPF_ANY))
			loads[i].err = -errno;
		if (!loads[i].err)
			__atomic_add_fetch(&s->unwind_rows, loads[i].info.nrows, __ATOMIC_RELAXED);
		first = first ?: loads[i].err;
	}
	return first;
}

size_t session__unwind_bytes(const struct mo_session *s)
{
	return __atomic_load_n(&s->unwind_rows, __ATOMIC_RELAXED) * sizeof(struct mo_unwind_row);
}

int session__read_pycode(struct mo_session *s, const struct mo_pycode_key *key, struct mo_pycode *code)
{
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.mo_pycode), key, code))
		return -errno;
	return 0;
}

int session__read_prog(struct mo_session *s, __u32 key, struct mo_prog *prog)
{
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.mo_progs), &key, prog))
		return -errno;
	return 0;
}

int session__read_stack(struct mo_session *s, __u64 key, struct mo_stack *stack)
{
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.mo_stacks), &key, stack))
		return -errno;
	return 0;
}

struct alloc_visit {
	bool (*fn)(void *ctx, __u32 tgid);
	void *ctx;
};

static bool visit_alloc(void *ctx, const void *key, const void *value)
{
	struct alloc_visit *v = ctx;

	(void)value;
	return v->fn(v->ctx, ((const struct mo_alloc_key *)key)->tgid);
}

void session__drop_allocs(struct mo_session *s, bool (*fn)(void *ctx, __u32 tgid), void *ctx)
{
	struct alloc_visit v = { fn, ctx };

	map_each_entry(bpf_map__fd(s->skel->maps.mo_allocs), sizeof(struct mo_alloc_key), sizeof(struct mo_alloc),
		   visit_alloc, &v);
}

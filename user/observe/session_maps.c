// SPDX-License-Identifier: GPL-2.0
/* The session's BPF maps from user space: the process table, per-program
 * figures, sites and their deltas, unwind tables, stacks and Python code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "lib/grow.h"
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

int session__load_unwind_tables(struct mo_session *s, struct mo_unwind_load *loads, size_t n)
{
	struct mo_file_key *keys = calloc(n ?: 1, sizeof(*keys));
	int *fds = calloc(n ?: 1, sizeof(*fds)), first = 0;
	__u32 nfds = 0, count;

	if (!keys || !fds) {
		free(keys);
		free(fds);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		loads[i].err = 0;
		if (!loads[i].info.nrows)
			continue;
		fds[nfds] = unwind_rows_map(loads[i].rows, loads[i].info.nrows);
		if (fds[nfds] < 0)
			loads[i].err = fds[nfds];
		else
			keys[nfds++] = loads[i].file;
	}
	count = nfds;
	if (nfds && bpf_map_update_batch(bpf_map__fd(s->skel->maps.mo_unwind_tables), keys, fds, &count, NULL)) {
		int err = -errno;

		/* count says how many went in, in order. */
		for (size_t i = 0, k = 0; i < n; i++)
			if (loads[i].info.nrows && !loads[i].err && k++ >= count)
				loads[i].err = err;
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
	for (__u32 k = 0; k < nfds; k++)
		close(fds[k]);	/* mo_unwind_tables holds those that went in */
	free(keys);
	free(fds);
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

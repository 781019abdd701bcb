// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/grow.h"
#include "observe/phases.h"
#include "lib/procfs.h"
#include "observe/proctree.h"
#include "observe/convert.h"
#include "observe/readout.h"
#include "observe/session.h"

struct mo_readout {
	struct mo_session *sess;
	struct mo_run *run;
	struct mo_proctree *tree;
	__u64 t0_ns;
	struct mo_phase_name_fix *fixes;	/* names recovered from /proc/PID/mem */
	size_t nfixes, fixes_alloc;
	__u64 unread_names;			/* neither BPF nor read_late_name could */
	char (*names)[MO_NAME_LEN];		/* by phase id, for the status line */
	size_t nnames, names_alloc;
	const pid_t *sweep;			/* exited pids being swept, sorted */
	size_t nsweep;
};

struct mo_readout *readout__new(struct mo_session *sess, struct mo_run *run, struct mo_proctree *tree,
				__u64 t0_ns)
{
	struct mo_readout *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sess = sess;
	r->run = run;
	r->tree = tree;
	r->t0_ns = t0_ns;
	return r;
}

void readout__free(struct mo_readout *r)
{
	if (!r)
		return;
	free(r->fixes);
	free(r->names);
	free(r);
}

static void remember_name(struct mo_readout *r, __u32 id, const char *name)
{
	if (id >= MO_MAX_PHASES)
		return;
	if (id >= r->nnames) {
		if (GROW(r->names, id + 1, r->names_alloc))
			return;
		memset(r->names + r->nnames, 0, (r->names_alloc - r->nnames) * sizeof(*r->names));
		r->nnames = r->names_alloc;
	}
	memcpy(r->names[id], name, MO_NAME_LEN);
	r->names[id][MO_NAME_LEN - 1] = 0;
}

const char *readout__phase_name(struct mo_readout *r, __u32 id)
{
	if (id == MO_PHASE_ROOT)
		return "main";
	return id < r->nnames && r->names[id][0] ? r->names[id] : NULL;
}

/* Read a name BPF could not from the memory of the program that fired it,
 * never from what the process exec'd since (a setuid program's secrets at
 * that address): the descriptor opened first keeps the memory of that
 * moment, and the program is checked to be the same after the open. */
static int read_late_name(struct mo_readout *r, const struct mo_ev_phase *ev, char *buf)
{
	int fd = procfs_mem_open(ev->hdr.tgid), err;

	if (fd < 0)
		return fd;
	err = session__same_program(r->sess, ev->hdr.tgid, ev->program_id) ?
		      procfs_mem_string(fd, ev->name_addr, buf, MO_NAME_LEN) : -ESRCH;
	close(fd);
	return err ?: buf[0] ? 0 : -ENODATA;
}

/* The marker's string, from the record or, when BPF could not read it,
 * from the process's memory while it still runs that program. NULL when
 * it could not be read (counted; nothing is guessed). */
static const char *marker_name(struct mo_readout *r, const struct mo_ev_phase *ev, char *buf)
{
	memcpy(buf, ev->name, MO_NAME_LEN);
	buf[MO_NAME_LEN - 1] = 0;
	if (!(ev->flags & MO_PHASE_NAME_PENDING))
		return buf;
	if (read_late_name(r, ev, buf)) {
		buf[0] = 0;
		r->unread_names++;
		run_add_warning(r->run, "pid %u: a marker's name could not be read (page not present, and the "
				"process exec'd or exited before memobs could read it)", ev->hdr.tgid);
		return NULL;
	}
	r->run->marker_fallbacks++;
	return buf;
}

static void add_fix(struct mo_readout *r, __u32 id, const char *name)
{
	if (GROW(r->fixes, r->nfixes + 1, r->fixes_alloc))
		return;
	r->fixes[r->nfixes].id = id;
	memcpy(r->fixes[r->nfixes].name, name, MO_NAME_LEN);
	r->nfixes++;
}

void readout__marker_event(struct mo_readout *r, const void *data, size_t len)
{
	const struct mo_ev_phase *ev = data;
	char buf[MO_NAME_LEN];
	const char *name;
	struct mo_mark_rec *mark;

	if (len < sizeof(*ev))
		return;
	name = marker_name(r, ev, buf);
	switch (ev->hdr.type) {
	case MO_EV_PHASE_BEGIN:
		if (!name)
			break;
		remember_name(r, ev->phase, name);
		if (ev->flags & MO_PHASE_NAME_PENDING)
			add_fix(r, ev->phase, name);
		break;
	case MO_EV_PHASE_UNMATCHED:
		run_add_warning(r->run, "pid %u: phase_end(\"%s\") matched no open phase; ignored", ev->hdr.tgid,
				name ? name : "?");
		break;
	case MO_EV_MARK:
		mark = run_add_mark(r->run);
		if (!mark)
			break;
		mark->t = ev->hdr.ts_ns > r->t0_ns ? (double)(ev->hdr.ts_ns - r->t0_ns) / 1e9 : 0;
		mark->pid = ev->hdr.tgid;
		mark->phase = ev->phase < MO_MAX_PHASES ? ev->phase : MO_PHASE_ROOT;
		memcpy(mark->label, name ? name : "?", name ? MO_NAME_LEN : 2);
		mark->label[MO_NAME_LEN - 1] = 0;
		break;
	}
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Is tgid one that exited and whose pid no live process took since? */
static bool swept(struct mo_readout *r, __u32 tgid)
{
	pid_t pid = tgid;
	long idx;

	if (!r->nsweep || !bsearch(&pid, r->sweep, r->nsweep, sizeof(pid), cmp_pid))
		return false;
	idx = proctree__find(r->tree, pid);
	return idx >= 0 && r->run->procs[idx].exited;
}

static void add_pstat(struct mo_readout *r, const struct mo_pstat_key *k, const struct mo_pstat *v)
{
	struct mo_proc_phase figures;

	convert_pstat(v, k->phase, &figures);
	proctree__add_pstat(r->tree, k->tgid, &figures);
}

static bool take_swept_pstat(void *ctx, const struct mo_pstat_key *k, const struct mo_pstat *v)
{
	struct mo_readout *r = ctx;

	if (!swept(r, k->tgid))
		return false;
	add_pstat(r, k, v);
	return true;
}

static bool drop_swept_alloc(void *ctx, __u32 tgid)
{
	return swept(ctx, tgid);
}

/* Exited records left in the table (their event was lost: ring buffer
 * full) go to the tree and out of the table. */
static void take_exited_procs(struct mo_readout *r, const struct mo_procs_snap *snap)
{
	__u32 *gone = malloc((snap->n ?: 1) * sizeof(*gone));
	size_t ngone = 0;

	for (size_t i = 0; i < snap->n; i++) {
		if (!(snap->procs[i].flags & MO_PROC_EXITED))
			continue;
		proctree__exit(r->tree, snap->tgids[i], &snap->procs[i]);
		if (gone)
			gone[ngone++] = snap->tgids[i];
	}
	session__delete_procs(r->sess, gone, ngone);
	free(gone);
}

void readout__harvest(struct mo_readout *r, const struct mo_procs_snap *snap)
{
	pid_t *pids;

	take_exited_procs(r, snap);
	r->nsweep = proctree__take_exited(r->tree, (const pid_t **)&pids);
	if (!r->nsweep)
		return;
	qsort(pids, r->nsweep, sizeof(*pids), cmp_pid);
	r->sweep = pids;
	session__each_pstat(r->sess, take_swept_pstat, r);
	if (r->run->heap)
		session__drop_allocs(r->sess, drop_swept_alloc, r);
	r->nsweep = 0;
}

static bool take_any_proc(void *ctx, __u32 tgid, const struct mo_proc *p)
{
	struct mo_readout *r = ctx;

	if (p->flags & MO_PROC_EXITED)
		proctree__exit(r->tree, tgid, p);
	else
		proctree__running(r->tree, tgid, p);
	return false;
}

static bool take_any_pstat(void *ctx, const struct mo_pstat_key *k, const struct mo_pstat *v)
{
	add_pstat(ctx, k, v);
	return false;
}

static int read_phases(struct mo_readout *r, __u64 end_ns)
{
	const volatile struct mo_state *st = session__state(r->sess);
	struct mo_phase_end_state end = {
		.t0_ns = r->t0_ns, .end_ns = end_ns, .rss = st->rss_sum, .heap_live = session__heap(r->sess)->live,
	};
	size_t n = st->next_phase < MO_MAX_PHASES ? st->next_phase : MO_MAX_PHASES;
	struct mo_phase *table = calloc(n ? n : 1, sizeof(*table));
	int err;

	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		session__read_phase(r->sess, i, &table[i]);
	err = phases_from_bpf(r->run, table, n, r->fixes, r->nfixes, &end);
	free(table);
	return err;
}

int readout__final(struct mo_readout *r, __u64 end_ns)
{
	const volatile struct mo_state *st = session__state(r->sess);
	struct mo_run *run = r->run;

	session__each_proc(r->sess, take_any_proc, r);
	session__each_pstat(r->sess, take_any_pstat, r);
	run->rss_peak = st->rss_peak;
	if (st->rss_peak_ns) {
		run->rss_peak_s = st->rss_peak_ns > r->t0_ns ? (double)(st->rss_peak_ns - r->t0_ns) / 1e9 : 0;
		convert_mem(st->rss_at_peak, run->rss_at_peak);
	}
	run->heap_peak = session__heap(r->sess)->peak;
	run->alloc_bytes = st->alloc_bytes;
	run->alloc_count = st->alloc_count;
	run->free_bytes = st->free_bytes;
	run->free_count = st->free_count;
	for (size_t i = 0; i < run->nprocs; i++) {
		struct mo_heap_calls heap;

		run_proc_heap(&run->procs[i], &heap);
		run->free_unknown_count += heap.free_unknown_count;
	}
	convert_drops(&st->drops, run->drops);
	run->drops[MO_DROP_MARKER_NAMES_UNREAD] = r->unread_names;
	return read_phases(r, end_ns);
}

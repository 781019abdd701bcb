// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "observe/convert.h"
#include "observe/cgroups.h"
#include "serve/live.h"
#include "serve/prom.h"
#include "observe/readout.h"
#include "serve/serve.h"
#include "observe/session.h"
#include "observe/views.h"

struct running {
	__u32 tgid;
	struct mo_proc p;
};

struct mo_views {
	struct mo_session *sess;
	struct mo_readout *readout;
	struct mo_cgroups *cgroups;
	bool heap;
	__u64 t0_ns;
	struct running *procs;		/* the processes running now */
	size_t nprocs, cap;
	struct mo_live_proc *live;	/* the same, as each view wants them */
	struct mo_prom_proc *prom;
	size_t live_alloc, prom_alloc;
};

struct mo_views *views__new(struct mo_session *sess, struct mo_readout *readout, struct mo_cgroups *cgroups,
			    bool heap, __u64 t0_ns)
{
	struct mo_views *v = calloc(1, sizeof(*v));

	if (v) {
		v->sess = sess;
		v->readout = readout;
		v->cgroups = cgroups;
		v->heap = heap;
		v->t0_ns = t0_ns;
	}
	return v;
}

void views__free(struct mo_views *v)
{
	if (!v)
		return;
	free(v->procs);
	free(v->live);
	free(v->prom);
	free(v);
}

/* The running processes of the tick's read; room for them in each view's form. */
static bool read_running(struct mo_views *v, const struct mo_procs_snap *snap)
{
	v->nprocs = 0;
	for (size_t i = 0; i < snap->n; i++) {
		const struct mo_proc *p = &snap->procs[i];

		if (p->flags & (MO_PROC_EXITED | MO_PROC_PENDING_EXEC | MO_PROC_OBSERVER))
			continue;
		if (GROW(v->procs, v->nprocs + 1, v->cap))
			break;
		v->procs[v->nprocs].tgid = snap->tgids[i];
		v->procs[v->nprocs].p = *p;
		v->nprocs++;
	}
	return !GROW(v->live, v->nprocs, v->live_alloc) && !GROW(v->prom, v->nprocs, v->prom_alloc);
}

static int64_t heap_live(const struct mo_views *v, const struct mo_proc *p)
{
	return v->heap && (p->flags & MO_PROC_HEAP_SEEN) ? p->heap_live : -1;
}

void views__live(struct mo_views *v, struct mo_live *live, const struct mo_procs_snap *snap, __u64 now)
{
	const volatile struct mo_state *st = session__state(v->sess);
	struct mo_live_view view = {
		.elapsed_s = (double)(now - v->t0_ns) / 1e9,
		.rss = st->rss_sum,
		.rss_peak = st->rss_peak,
		.heap_live = v->heap ? session__heap(v->sess)->live : -1,
		.phase = readout__phase_name(v->readout, session__current_phase(v->sess)),
	};
	uint64_t drops[MO_DROP_KINDS];

	convert_drops(&st->drops, drops);
	view.drops = run_drops_lost(drops);
	if (!read_running(v, snap))
		return;
	for (size_t i = 0; i < v->nprocs; i++) {
		const struct mo_proc *p = &v->procs[i].p;
		struct mo_live_proc *lp = &v->live[i];

		lp->pid = v->procs[i].tgid;
		memcpy(lp->comm, p->comm, sizeof(lp->comm));
		lp->rss = p->rss_sum;
		lp->rss_peak = p->rss_peak_sum;
		lp->heap_live = heap_live(v, p);
		lp->uid = p->uid;
		lp->cgroup = cgroups__path(v->cgroups, p->cgroup_id);
	}
	view.procs = v->live;
	view.nprocs = v->nprocs;
	live__draw(live, &view);
}

/* The root phase and the latest ones (ids are given in the order phases
 * begin): at most max map lookups. */
static size_t read_phases(struct mo_views *v, __u64 now, __u32 next, struct mo_prom_phase *out, size_t max)
{
	size_t n = 0;

	for (__u32 id = 0; id < next && n < max; id = id ? id + 1 : (next > max ? next - max + 1 : 1)) {
		struct mo_phase ph;

		if (session__read_phase(v->sess, id, &ph))
			continue;
		out[n] = (struct mo_prom_phase){
			.name = readout__phase_name(v->readout, id),
			.open = ph.flags & MO_PHASE_OPEN,
			.duration_s = (double)((ph.flags & MO_PHASE_OPEN ? now : ph.end_ns) - ph.start_ns) / 1e9,
			.rss_peak_over_baseline = ph.rss_peak - ph.rss_baseline,
			.heap_peak_live = v->heap ? ph.heap_peak : -1,
		};
		n += out[n].name != NULL;
	}
	return n;
}

void views__serve(struct mo_views *v, struct mo_serve *serve, const struct mo_procs_snap *procs, __u64 now)
{
	const volatile struct mo_state *st = session__state(v->sess);
	struct mo_prom_phase phases[MO_PROM_MAX_PHASES];
	__u32 next = st->next_phase < MO_MAX_PHASES ? st->next_phase : MO_MAX_PHASES;
	struct mo_prom_snapshot snap = {
		.elapsed_s = (double)(now - v->t0_ns) / 1e9,
		.rss_peak = st->rss_peak,
		.processes = st->nprocs,
		.heap_live = v->heap ? session__heap(v->sess)->live : -1,
		.heap_peak = v->heap ? session__heap(v->sess)->peak : -1,
		.alloc_bytes = st->alloc_bytes,
		.alloc_count = st->alloc_count,
		.free_bytes = st->free_bytes,
		.free_count = st->free_count,
		.phase = readout__phase_name(v->readout, session__current_phase(v->sess)),
		.phases = phases,
	};

	convert_mem(st->rss, snap.rss);
	convert_drops(&st->drops, snap.drops);
	snap.nphases = read_phases(v, now, next, phases, MO_PROM_MAX_PHASES);
	if (read_running(v, procs)) {
		for (size_t i = 0; i < v->nprocs; i++) {
			const struct mo_proc *p = &v->procs[i].p;
			struct mo_prom_proc *pp = &v->prom[i];

			pp->pid = v->procs[i].tgid;
			memcpy(pp->comm, p->comm, sizeof(pp->comm));
			convert_mem(p->rss, pp->rss);
			pp->rss_peak = p->rss_peak_sum;
			pp->heap_live = heap_live(v, p);
			pp->cgroup = cgroups__path(v->cgroups, p->cgroup_id);
		}
		snap.procs = v->prom;
		snap.nprocs = v->nprocs;
	}
	serve__handle(serve, &snap);
}

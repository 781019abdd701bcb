// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve/prom_view.h"

static int by_rss_desc(const void *a, const void *b, void *ctx)
{
	const struct mo_prom_proc *procs = ctx, *pa = &procs[*(const size_t *)a], *pb = &procs[*(const size_t *)b];
	int64_t sa = prom_view_rss(pa->rss), sb = prom_view_rss(pb->rss);

	if (sa != sb)
		return sa > sb ? -1 : 1;
	return pa->pid < pb->pid ? -1 : pa->pid > pb->pid;
}

static int select_procs(struct mo_prom_view *v, size_t max)
{
	const struct mo_prom_snapshot *s = v->snap;

	v->procs = malloc((s->nprocs ? s->nprocs : 1) * sizeof(*v->procs));
	if (!v->procs)
		return -ENOMEM;
	for (size_t i = 0; i < s->nprocs; i++)
		v->procs[i] = i;
	qsort_r(v->procs, s->nprocs, sizeof(*v->procs), by_rss_desc, (void *)s->procs);
	v->nprocs = s->nprocs < max ? s->nprocs : max;
	v->other_procs = s->nprocs - v->nprocs;
	v->pids = malloc((v->nprocs ? v->nprocs : 1) * sizeof(*v->pids));
	if (!v->pids)
		return -ENOMEM;
	for (size_t i = 0; i < v->nprocs; i++)
		snprintf(v->pids[i], sizeof(v->pids[i]), "%d", (int)s->procs[v->procs[i]].pid);
	for (size_t i = v->nprocs; i < s->nprocs; i++)
		for (int m = 0; m < MO_MEM_KINDS; m++)
			v->other_rss[m] += s->procs[v->procs[i]].rss[m];
	return 0;
}

static int by_cgroup(const void *a, const void *b, void *ctx)
{
	const struct mo_prom_proc *procs = ctx;

	return strcmp(procs[*(const size_t *)a].cgroup, procs[*(const size_t *)b].cgroup);
}

static int by_cg_sum_desc(const void *a, const void *b)
{
	const struct mo_prom_cgroup *ca = a, *cb = b;

	if (ca->sum != cb->sum)
		return ca->sum > cb->sum ? -1 : 1;
	return strcmp(ca->path, cb->path);
}

ssize_t prom_view_cgroups(const struct mo_prom_snapshot *s, struct mo_prom_cgroup **out)
{
	size_t *idx = malloc((s->nprocs ? s->nprocs : 1) * sizeof(*idx)), n = 0, ncg = 0;
	struct mo_prom_cgroup *cgs = NULL;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].cgroup && s->procs[i].cgroup[0])
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), by_cgroup, (void *)s->procs);
	cgs = calloc(n ? n : 1, sizeof(*cgs));
	if (!cgs) {
		free(idx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mo_prom_proc *p = &s->procs[idx[i]];
		struct mo_prom_cgroup *c;

		if (!ncg || strcmp(cgs[ncg - 1].path, p->cgroup))
			cgs[ncg++].path = p->cgroup;
		c = &cgs[ncg - 1];
		for (int m = 0; m < MO_MEM_KINDS; m++)
			c->rss[m] += p->rss[m];
		c->sum += prom_view_rss(p->rss);
		c->nprocs++;
	}
	free(idx);
	qsort(cgs, ncg, sizeof(*cgs), by_cg_sum_desc);
	*out = cgs;
	return ncg;
}

static int select_cgroups(struct mo_prom_view *v, size_t max)
{
	ssize_t n = prom_view_cgroups(v->snap, &v->cgs);

	if (n < 0)
		return n;
	v->ncgs = (size_t)n < max ? (size_t)n : max;
	v->other_cgs = n - v->ncgs;
	for (size_t i = v->ncgs; i < (size_t)n; i++)
		for (int m = 0; m < MO_MEM_KINDS; m++)
			v->other_cg_rss[m] += v->cgs[i].rss[m];
	return 0;
}

static int by_name_then_index(const void *a, const void *b, void *ctx)
{
	const struct mo_prom_phase *ph = ctx;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = strcmp(ph[ia].name, ph[ib].name);

	return c ? c : (ia < ib ? -1 : ia > ib);
}

static int by_open_then_latest(const void *a, const void *b, void *ctx)
{
	const struct mo_prom_phase *ph = ctx;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	if (ph[ia].open != ph[ib].open)
		return ph[ia].open ? -1 : 1;
	return ia > ib ? -1 : ia < ib;
}

static int by_index(const void *a, const void *b)
{
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	return ia < ib ? -1 : ia > ib;
}

/* The latest instance of each name; open ones first, then the most
 * recently begun, up to max; listed in the order they began. */
static int select_phases(struct mo_prom_view *v, size_t max)
{
	const struct mo_prom_snapshot *s = v->snap;
	size_t n = 0, distinct = 0;

	v->phases = malloc((s->nphases ? s->nphases : 1) * sizeof(*v->phases));
	if (!v->phases)
		return -ENOMEM;
	for (size_t i = 0; i < s->nphases; i++)
		if (s->phases[i].name)
			v->phases[n++] = i;
	qsort_r(v->phases, n, sizeof(*v->phases), by_name_then_index, (void *)s->phases);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(s->phases[v->phases[i]].name, s->phases[v->phases[i + 1]].name))
			continue;
		v->phases[distinct++] = v->phases[i];
	}
	qsort_r(v->phases, distinct, sizeof(*v->phases), by_open_then_latest, (void *)s->phases);
	v->nphases = distinct < max ? distinct : max;
	v->other_phases = distinct - v->nphases;
	qsort(v->phases, v->nphases, sizeof(*v->phases), by_index);
	return 0;
}

void prom_view_free(struct mo_prom_view *v)
{
	free(v->procs);
	free(v->pids);
	free(v->cgs);
	free(v->phases);
}

int prom_view_build(struct mo_prom_view *v, const struct mo_prom_snapshot *snap, const struct mo_prom_limits *lim)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->snap = snap;
	ret = select_procs(v, lim->procs);
	if (!ret)
		ret = select_cgroups(v, lim->cgroups);
	if (!ret)
		ret = select_phases(v, lim->phases);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "lib/grow.h"
#include "model/run.h"

static const char *const physical_sources[] = {
	[MO_PHYSICAL_CGROUP_V1] = "cgroup-v1",
	[MO_PHYSICAL_CGROUP_V2] = "cgroup-v2",
	[MO_PHYSICAL_PSS] = "pss",
};

const char *run_physical_source_name(enum mo_physical_source s)
{
	return s > MO_PHYSICAL_NONE && s <= MO_PHYSICAL_PSS ? physical_sources[s] : NULL;
}

enum mo_physical_source run_physical_source_parse(const char *name)
{
	for (int s = MO_PHYSICAL_CGROUP_V1; name && s <= MO_PHYSICAL_PSS; s++)
		if (!strcmp(name, physical_sources[s]))
			return s;
	return MO_PHYSICAL_NONE;
}

void run_init(struct mo_run *run)
{
	memset(run, 0, sizeof(*run));
	run->exit_status = -1;
	run->physical.peak = -1;
	run->physical.at_peak = run->physical.max = run->physical.end = MO_PHYS_UNMEASURED;
	run->rss_peak_s = -1;
}

void run_free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static void free_where(struct mo_site_where *w)
{
	run_free_strv(w->sources);
	free(w->comm);
	free(w->exe);
}

void run_free(struct mo_run *run)
{
	for (size_t i = 0; i < run->nprocs; i++) {
		free(run->procs[i].exe);
		run_free_strv(run->procs[i].argv);
		free(run->procs[i].phases);
		free(run->procs[i].cgroup);
		free(run->procs[i].heap_allocator);
		free(run->procs[i].heap_unobserved);
		free(run->procs[i].heap_unseen);
	}
	free(run->target_pids);
	free(run->filters);
	free(run->procs);
	for (size_t i = 0; i < run->nsites; i++) {
		run_free_strv(run->sites[i].frames);
		free_where(&run->sites[i].where);
	}
	free(run->sites);
	free(run->heap_probes);
	for (size_t i = 0; i < run->nphases; i++)
		for (int v = 0; v < MO_PHASE_SITE_VIEWS; v++)
			for (size_t k = 0; k < run->phases[i].nsites[v]; k++) {
				run_free_strv(run->phases[i].sites[v][k].frames);
				free_where(&run->phases[i].sites[v][k].where);
			}
	free(run->phases);
	free(run->timeline);
	free(run->marks);
	for (size_t i = 0; i < run->nwarnings; i++)
		free(run->warnings[i]);
	free(run->warnings);
	run_free_strv(run->command);
	free(run->cwd);
	free(run->label);
	free(run->physical.cgroup);
	free(run->physical.why);
	memset(run, 0, sizeof(*run));
}

/* Append a zeroed element to *arr (n elements, room for *alloc): the new
 * element, or NULL on ENOMEM. */
static void *append(void *arrp, size_t *n, size_t *alloc, size_t sz)
{
	char *arr;

	if (grow_array(arrp, *n + 1, alloc, sz))
		return NULL;
	memcpy(&arr, arrp, sizeof(arr));
	memset(arr + *n * sz, 0, sz);
	return arr + (*n)++ * sz;
}

struct mo_proc_rec *run_add_proc(struct mo_run *run)
{
	struct mo_proc_rec *p = append(&run->procs, &run->nprocs, &run->procs_alloc, sizeof(*p));

	if (p) {
		p->end_s = -1;
		p->exit_status = -1;
		p->uid = -1;
	}
	return p;
}

struct mo_phase_rec *run_add_phase(struct mo_run *run)
{
	return append(&run->phases, &run->nphases, &run->phases_alloc, sizeof(struct mo_phase_rec));
}

struct mo_mark_rec *run_add_mark(struct mo_run *run)
{
	return append(&run->marks, &run->nmarks, &run->marks_alloc, sizeof(struct mo_mark_rec));
}

static const char *const heap_path_names[] = {
	[MO_HEAP_PATH_INPROC] = "in-process",
	[MO_HEAP_PATH_UPROBES] = "uprobes",
	[MO_HEAP_PATH_INPROC | MO_HEAP_PATH_UPROBES] = "in-process+uprobes",
};

const char *run_proc_heap_counted_by(const struct mo_proc_rec *proc)
{
	unsigned paths = proc->heap_paths & (MO_HEAP_PATH_INPROC | MO_HEAP_PATH_UPROBES);

	return paths ? heap_path_names[paths] : NULL;
}

unsigned run_heap_paths_parse(const char *counted_by)
{
	for (unsigned i = 1; counted_by && i < sizeof(heap_path_names) / sizeof(heap_path_names[0]); i++)
		if (!strcmp(counted_by, heap_path_names[i]))
			return i;
	return 0;
}

const char *run_proc_heap_basis(const struct mo_proc_rec *proc)
{
	bool inproc = proc->heap_paths & MO_HEAP_PATH_INPROC, probed = proc->heap_paths & MO_HEAP_PATH_UPROBES;

	if (inproc && probed && proc->heap_inproc_calls && proc->heap_probed_calls)
		return "mixed";
	if (inproc && (proc->heap_inproc_calls || !proc->heap_probed_calls))
		return "usable";
	return probed ? "requested" : NULL;
}

int run_proc_add_phase(struct mo_proc_rec *proc, const struct mo_proc_phase *figures)
{
	struct mo_proc_phase *pp;

	for (size_t i = 0; i < proc->nphases; i++) {
		pp = &proc->phases[i];
		if (pp->phase != figures->phase)
			continue;
		pp->heap.alloc_bytes += figures->heap.alloc_bytes;
		pp->heap.alloc_count += figures->heap.alloc_count;
		pp->heap.free_bytes += figures->heap.free_bytes;
		pp->heap.free_count += figures->heap.free_count;
		pp->heap.free_unknown_count += figures->heap.free_unknown_count;
		if (figures->rss_peak > pp->rss_peak)
			pp->rss_peak = figures->rss_peak;
		if (figures->heap_peak_live > pp->heap_peak_live)
			pp->heap_peak_live = figures->heap_peak_live;
		return 0;
	}
	pp = append(&proc->phases, &proc->nphases, &proc->phases_alloc, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	*pp = *figures;
	return 0;
}

/* The `max` largest keys seen so far, descending, with their indices. */
struct top {
	size_t *out;
	int64_t *keys;
	size_t n, max;
};

static void top_insert(struct top *t, size_t index, int64_t key)
{
	size_t j;

	for (j = t->n; j > 0 && t->keys[j - 1] < key; j--)
		if (j < t->max) {
			t->out[j] = t->out[j - 1];
			t->keys[j] = t->keys[j - 1];
		}
	if (j < t->max) {
		t->out[j] = index;
		t->keys[j] = key;
		if (t->n < t->max)
			t->n++;
	}
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (const char *c = s ? s : ""; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;	/* separator */
}

static uint64_t site_hash(char **frames, const struct mo_site_where *w)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; frames[i]; i++) {
		h = hash_str(h, frames[i]);
		h = hash_str(h, w->sources ? w->sources[i] : NULL);
	}
	return hash_str(hash_str(h, w->comm), w->exe);
}

static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool same_site(const struct mo_site_rec *site, char **frames, const struct mo_site_where *w)
{
	size_t i = 0;

	for (; site->frames[i] && frames[i]; i++)
		if (strcmp(site->frames[i], frames[i]) ||
		    !same_str(site->where.sources ? site->where.sources[i] : NULL, w->sources ? w->sources[i] : NULL))
			return false;
	return !site->frames[i] && !frames[i] && same_str(site->where.comm, w->comm) && same_str(site->where.exe, w->exe);
}

int run_add_site(struct mo_run *run, enum mo_site_of kind, char **frames, size_t n,
		 const struct mo_site_where *where, uint64_t bytes, uint64_t count, int64_t live)
{
	struct mo_site_where w = where ? *where : (struct mo_site_where){};
	uint64_t hash = site_hash(frames, &w);
	struct mo_site_rec *site;

	for (size_t i = 0; i < run->nsites; i++) {
		site = &run->sites[i];
		if (site->kind != kind || site->hash != hash || !same_site(site, frames, &w))
			continue;
		site->bytes += bytes;
		site->count += count;
		site->live += live;
		run_free_strv(frames);
		free_where(&w);
		return (int)i;
	}
	site = append(&run->sites, &run->nsites, &run->sites_alloc, sizeof(*site));
	if (!site) {
		run_free_strv(frames);
		free_where(&w);
		return -ENOMEM;
	}
	site->kind = kind;
	site->frames = frames;
	site->nframes = n;
	site->where = w;
	site->hash = hash;
	site->bytes = bytes;
	site->count = count;
	site->live = live;
	return (int)(run->nsites - 1);
}

void run_phase_add_site(struct mo_phase_rec *ph, enum mo_phase_site_view view, char **frames, size_t n,
			const struct mo_site_where *where, int64_t bytes)
{
	struct mo_site_where w = where ? *where : (struct mo_site_where){};
	struct mo_phase_site *site;

	if (ph->nsites[view] == MO_PHASE_TOP_SITES) {
		run_free_strv(frames);
		free_where(&w);
		return;
	}
	site = &ph->sites[view][ph->nsites[view]++];
	site->frames = frames;
	site->nframes = n;
	site->where = w;
	site->bytes = bytes;
}

static char **strv_dup(char **v, size_t n)
{
	char **copy = calloc(n + 1, sizeof(*copy));

	for (size_t i = 0; copy && i < n; i++)
		if (!(copy[i] = strdup(v[i]))) {
			run_free_strv(copy);
			return NULL;
		}
	return copy;
}

static char *strdup_or_null(const char *s, bool *failed)
{
	char *copy = s ? strdup(s) : NULL;

	*failed |= s && !copy;
	return copy;
}

/* A deep copy of a site's where; false on ENOMEM (nothing to free then). */
static bool where_dup(const struct mo_site_where *w, size_t n, struct mo_site_where *out)
{
	bool failed = false;

	out->sources = w->sources ? strv_dup(w->sources, n) : NULL;
	failed |= w->sources && !out->sources;
	out->comm = strdup_or_null(w->comm, &failed);
	out->exe = strdup_or_null(w->exe, &failed);
	if (failed)
		free_where(out);
	return !failed;
}

int run_phase_set_sites(struct mo_run *run, size_t phase, enum mo_phase_site_view view, const int64_t *bytes)
{
	size_t idx[MO_PHASE_TOP_SITES];
	int64_t keys[MO_PHASE_TOP_SITES];
	struct top top = { idx, keys, 0, MO_PHASE_TOP_SITES };

	for (size_t i = 0; i < run->nsites; i++)
		if (bytes[i] > 0)
			top_insert(&top, i, bytes[i]);
	for (size_t k = 0; k < top.n; k++) {
		const struct mo_site_rec *site = &run->sites[idx[k]];
		char **frames = strv_dup(site->frames, site->nframes);
		struct mo_site_where w;

		if (!frames || !where_dup(&site->where, site->nframes, &w)) {
			run_free_strv(frames);
			return -ENOMEM;
		}
		run_phase_add_site(&run->phases[phase], view, frames, site->nframes, &w, keys[k]);
	}
	return 0;
}

static int64_t site_key(const struct mo_site_rec *s, bool by_live)
{
	return by_live ? s->live : (int64_t)s->bytes;
}

size_t run_top_sites(const struct mo_run *run, enum mo_site_of kind, bool by_live, size_t *out, size_t max)
{
	struct top top = { out, calloc(max ?: 1, sizeof(int64_t)), 0, max };

	for (size_t i = 0; top.keys && i < run->nsites; i++)
		if (run->sites[i].kind == kind && site_key(&run->sites[i], by_live) > 0)
			top_insert(&top, i, site_key(&run->sites[i], by_live));
	free(top.keys);
	return top.n;
}

size_t run_listed_sites(const struct mo_run *run, enum mo_site_of kind, size_t *out, size_t max)
{
	size_t n = run_top_sites(run, kind, false, out, max), nlive, listed = n;

	nlive = kind == MO_SITE_OF_ALLOC ? run_top_sites(run, kind, true, out + n, max) : 0;
	for (size_t i = n; i < n + nlive; i++) {
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup |= out[j] == out[i];
		if (!dup)
			out[listed++] = out[i];
	}
	return listed;
}

#define MAX_WARNINGS 100

size_t run_drop_rows(const struct mo_run *run, struct mo_drop_row rows[MO_DROP_KINDS])
{
	size_t n = 0;

	for (size_t i = 0; i < MO_DROP_KINDS; i++)
		if (run->drops[i])
			rows[n++] = (struct mo_drop_row){ run_drop_kinds[i].what, run->drops[i] };
	return n;
}

void run_add_warning(struct mo_run *run, const char *fmt, ...)
{
	char **slot, *line;
	va_list ap;
	int n;

	if (run->nwarnings == MAX_WARNINGS) {
		slot = append(&run->warnings, &run->nwarnings, &run->warnings_alloc, sizeof(*slot));
		if (slot)
			*slot = strdup("(further warnings left out)");
		return;
	}
	if (run->nwarnings > MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	slot = append(&run->warnings, &run->nwarnings, &run->warnings_alloc, sizeof(*slot));
	if (slot)
		*slot = line;
	else
		free(line);
}

int run_add_sample(struct mo_run *run, const struct mo_sample *s, size_t max_samples)
{
	struct mo_sample *slot;

	if (max_samples >= 2 && run->ntimeline >= max_samples) {
		size_t j = 0;

		for (size_t i = 0; i + 1 < run->ntimeline; i += 2) {
			struct mo_sample *a = &run->timeline[i], *b = &run->timeline[i + 1];

			run->timeline[j++] = a->rss >= b->rss ? *a : *b;
		}
		if (run->ntimeline % 2)
			run->timeline[j++] = run->timeline[run->ntimeline - 1];
		run->ntimeline = j;
	}
	slot = append(&run->timeline, &run->ntimeline, &run->timeline_alloc, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = *s;
	return 0;
}

void run_proc_heap(const struct mo_proc_rec *proc, struct mo_heap_calls *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < proc->nphases; i++) {
		const struct mo_heap_calls *s = &proc->phases[i].heap;

		sum->alloc_bytes += s->alloc_bytes;
		sum->alloc_count += s->alloc_count;
		sum->free_bytes += s->free_bytes;
		sum->free_count += s->free_count;
		sum->free_unknown_count += s->free_unknown_count;
	}
}

bool run_phase_within(const struct mo_run *run, size_t inner, size_t outer)
{
	for (unsigned hops = 0; inner < run->nphases && hops <= MO_RUN_DEPTH + 1; hops++) {
		if (inner == outer)
			return true;
		if (run->phases[inner].parent == inner)
			return false;
		inner = run->phases[inner].parent;
	}
	return false;
}

int64_t run_proc_phase_rss_peak(const struct mo_run *run, const struct mo_proc_rec *proc, size_t phase)
{
	int64_t peak = 0;

	for (size_t i = 0; i < proc->nphases; i++)
		if (proc->phases[i].rss_peak > peak && run_phase_within(run, proc->phases[i].phase, phase))
			peak = proc->phases[i].rss_peak;
	return peak;
}

size_t run_phase_top_procs(const struct mo_run *run, size_t phase, size_t *out, size_t max)
{
	struct top top = { out, calloc(max ?: 1, sizeof(int64_t)), 0, max };

	for (size_t i = 0; top.keys && i < run->nprocs; i++) {
		int64_t peak = run_proc_phase_rss_peak(run, &run->procs[i], phase);

		if (peak > 0)
			top_insert(&top, i, peak);
	}
	free(top.keys);
	return top.n;
}

int run_wait_status_to_exit(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

static const char *group_name(const struct mo_proc_rec *p, enum mo_group_key key)
{
	if (key == MO_GROUP_COMM)
		return p->comm;
	if (key == MO_GROUP_CGROUP)
		return p->cgroup;
	return p->uid >= 0 && p->user[0] ? p->user : NULL;
}

struct group_sort {
	const struct mo_run *run;
	enum mo_group_key key;
};

static int cmp_by_key(const void *a, const void *b, void *arg)
{
	const struct group_sort *gs = arg;
	const struct mo_proc_rec *x = &gs->run->procs[*(const size_t *)a], *y = &gs->run->procs[*(const size_t *)b];

	if (gs->key == MO_GROUP_USER && x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return strcmp(group_name(x, gs->key), group_name(y, gs->key));
}

static int cmp_proc_group(const void *a, const void *b)
{
	const struct mo_proc_group *x = a, *y = b;

	if (x->rss_peak_max != y->rss_peak_max)
		return x->rss_peak_max < y->rss_peak_max ? 1 : -1;
	return strcmp(x->name, y->name);
}

struct mo_proc_group *run_group_by(const struct mo_run *run, enum mo_group_key key, size_t *count)
{
	struct group_sort gs = { run, key };
	size_t *idx = malloc((run->nprocs ? run->nprocs : 1) * sizeof(*idx)), n = 0, ng = 0;
	struct mo_proc_group *groups = calloc(run->nprocs ? run->nprocs : 1, sizeof(*groups));

	if (!idx || !groups) {
		free(idx);
		free(groups);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < run->nprocs; i++)
		if (group_name(&run->procs[i], key))
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_by_key, &gs);
	for (size_t i = 0; i < n; i++) {
		const struct mo_proc_rec *p = &run->procs[idx[i]];
		struct mo_proc_group *g;
		struct mo_heap_calls heap;

		if (!i || cmp_by_key(&idx[i - 1], &idx[i], &gs)) {
			g = &groups[ng++];
			g->name = group_name(p, key);
			g->uid = key == MO_GROUP_USER ? p->uid : -1;
		}
		g = &groups[ng - 1];
		run_proc_heap(p, &heap);
		g->processes++;
		g->heap_alloc_bytes += heap.alloc_bytes;
		g->rss_peak_sum += p->rss_peak;
		if (p->rss_peak > g->rss_peak_max)
			g->rss_peak_max = p->rss_peak;
	}
	free(idx);
	qsort(groups, ng, sizeof(*groups), cmp_proc_group);
	*count = ng;
	return groups;
}

int run_cmp_procs_by_peak(const void *a, const void *b, void *arg)
{
	const struct mo_run *run = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int64_t x = run->procs[i].rss_peak, y = run->procs[j].rss_peak;

	return x != y ? (x < y) - (x > y) : (i > j) - (i < j);
}

double run_proc_growth_rate(const struct mo_run *run, const struct mo_proc_rec *proc)
{
	double end = proc->exited ? proc->end_s : run->duration_s, span = end - proc->first_s;

	if (!(span >= MO_GROWTH_MIN_S))
		return NAN;
	return (double)(proc->rss_end - proc->rss_first) / span;
}

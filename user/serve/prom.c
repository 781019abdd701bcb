// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "lib/utf8.h"
#include "serve/prom.h"
#include "serve/prom_view.h"

#ifndef MEMOBS_VERSION
#define MEMOBS_VERSION "unknown"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The kinds of RSS, in the order they are written; swap is apart. */
static const struct {
	const char *name;
	enum mo_mem_kind member;
} rss_kinds[] = { { "anon", MO_MEM_ANON }, { "file", MO_MEM_FILE }, { "shmem", MO_MEM_SHMEM } };

struct mo_prom_limits prom_default_limits(void)
{
	return (struct mo_prom_limits){ MO_PROM_MAX_PROCS, MO_PROM_MAX_CGROUPS, MO_PROM_MAX_PHASES };
}

void prom_write_label_value(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s ? strnlen(s, len) : 0;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len_n(p + i, n - i);

		if (!k) {
			fputs("\xef\xbf\xbd", out);
			i++;
		} else if (p[i] == '\\') {
			fputs("\\\\", out);
		} else if (p[i] == '"') {
			fputs("\\\"", out);
		} else if (p[i] == '\n') {
			fputs("\\n", out);
		} else {
			fwrite(p + i, 1, k, out);
		}
		i += k;
	}
}

/* --- cgroup peaks --- */

struct peak_ent {
	char *path;
	int64_t peak;
	bool seen;
};

struct mo_prom_peaks {
	struct peak_ent *e;	/* by path */
	size_t n, max;
};

struct mo_prom_peaks *prom_peaks__new(size_t max)
{
	struct mo_prom_peaks *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->max = max ? max : 1;
	p->e = calloc(p->max, sizeof(*p->e));
	if (!p->e) {
		free(p);
		return NULL;
	}
	return p;
}

void prom_peaks__free(struct mo_prom_peaks *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].path);
	free(p->e);
	free(p);
}

/* Index of path, or of where it would go (*found false). */
static size_t peaks_find(const struct mo_prom_peaks *p, const char *path, bool *found)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->e[mid].path, path);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void peaks_forget_unseen(struct mo_prom_peaks *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (p->e[i].seen)
			p->e[k++] = p->e[i];
		else
			free(p->e[i].path);
	}
	p->n = k;
}

static int peaks_fold(struct mo_prom_peaks *p, const struct mo_prom_cgroup *cgs, size_t n)
{
	bool found, forgot = false;
	size_t at;

	for (size_t i = 0; i < p->n; i++)
		p->e[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		at = peaks_find(p, cgs[i].path, &found);
		if (found) {
			p->e[at].seen = true;
			if (cgs[i].sum > p->e[at].peak)
				p->e[at].peak = cgs[i].sum;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char *path;

		at = peaks_find(p, cgs[i].path, &found);
		if (found)
			continue;
		if (p->n == p->max && !forgot) {
			peaks_forget_unseen(p);
			forgot = true;
			at = peaks_find(p, cgs[i].path, &found);
		}
		if (p->n == p->max)
			break;	/* more cgroups at once than remembered: their peak is their sum */
		path = strdup(cgs[i].path);
		if (!path)
			return -ENOMEM;
		memmove(&p->e[at + 1], &p->e[at], (p->n - at) * sizeof(*p->e));
		p->e[at] = (struct peak_ent){ path, cgs[i].sum, true };
		p->n++;
	}
	return 0;
}

int prom_peaks__update(struct mo_prom_peaks *p, const struct mo_prom_snapshot *snap)
{
	struct mo_prom_cgroup *cgs;
	ssize_t n = prom_view_cgroups(snap, &cgs);
	int ret;

	if (n < 0)
		return n;
	ret = peaks_fold(p, cgs, n);
	free(cgs);
	return ret;
}

static int64_t cg_peak(const struct mo_prom_peaks *p, const struct mo_prom_cgroup *c)
{
	bool found;
	size_t at;

	if (!p)
		return c->sum;
	at = peaks_find(p, c->path, &found);
	return found && p->e[at].peak > c->sum ? p->e[at].peak : c->sum;
}

/* --- writing --- */

struct label {
	const char *name;
	const char *value;
	size_t len;
};

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_name(FILE *out, const char *name, const struct label *l, size_t n)
{
	fputs(name, out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%c%s=\"", i ? ',' : '{', l[i].name);
		prom_write_label_value(out, l[i].value, l[i].len);
		fputc('"', out);
	}
	fputs(n ? "} " : " ", out);
}

static void sample_i(FILE *out, const char *name, const struct label *l, size_t n, int64_t v)
{
	sample_name(out, name, l, n);
	fprintf(out, "%" PRId64 "\n", v);
}

static void sample_f(FILE *out, const char *name, const struct label *l, size_t n, double v)
{
	sample_name(out, name, l, n);
	fprintf(out, "%.3f\n", v);
}

/* A family of one sample by RSS kind, with the labels l before the kind. */
static void by_kind(FILE *out, const char *name, struct label *l, size_t n, const int64_t *rss)
{
	for (size_t k = 0; k < ARRAY_SIZE(rss_kinds); k++) {
		l[n] = (struct label){ "kind", rss_kinds[k].name, SIZE_MAX };
		sample_i(out, name, l, n + 1, rss[rss_kinds[k].member]);
	}
}

static void write_session(FILE *out, const struct mo_prom_snapshot *s)
{
	struct label l[1];

	family(out, "memobs_build_info", "gauge", "memobs version, always 1.");
	sample_i(out, "memobs_build_info", &(struct label){ "version", MEMOBS_VERSION, SIZE_MAX }, 1, 1);
	family(out, "memobs_elapsed_seconds", "gauge", "Time since the observation started.");
	sample_f(out, "memobs_elapsed_seconds", NULL, 0, s->elapsed_s);
	family(out, "memobs_session_rss_bytes", "gauge",
	       "RSS of the observed processes now, summed, by kind (sum of the kinds: RSS).");
	by_kind(out, "memobs_session_rss_bytes", l, 0, s->rss);
	family(out, "memobs_session_swap_bytes", "gauge", "Swap of the observed processes now, summed.");
	sample_i(out, "memobs_session_swap_bytes", NULL, 0, s->rss[MO_MEM_SWAP]);
	family(out, "memobs_session_rss_peak_bytes", "gauge",
	       "Highest RSS of the observed processes together so far (concurrent peak).");
	sample_i(out, "memobs_session_rss_peak_bytes", NULL, 0, s->rss_peak);
	family(out, "memobs_session_processes", "gauge", "Observed processes alive now.");
	sample_i(out, "memobs_session_processes", NULL, 0, s->processes);
	if (s->heap_live >= 0) {
		family(out, "memobs_session_heap_live_bytes", "gauge", "Heap bytes allocated and not freed now.");
		sample_i(out, "memobs_session_heap_live_bytes", NULL, 0, s->heap_live);
		family(out, "memobs_session_heap_peak_live_bytes", "gauge", "Highest live heap bytes so far.");
		sample_i(out, "memobs_session_heap_peak_live_bytes", NULL, 0, s->heap_peak);
		family(out, "memobs_heap_allocated_bytes_total", "counter", "Heap bytes requested.");
		sample_i(out, "memobs_heap_allocated_bytes_total", NULL, 0, s->alloc_bytes);
		family(out, "memobs_heap_allocations_total", "counter", "Heap allocation calls.");
		sample_i(out, "memobs_heap_allocations_total", NULL, 0, s->alloc_count);
		family(out, "memobs_heap_freed_bytes_total", "counter", "Heap bytes freed.");
		sample_i(out, "memobs_heap_freed_bytes_total", NULL, 0, s->free_bytes);
		family(out, "memobs_heap_frees_total", "counter", "Heap free calls.");
		sample_i(out, "memobs_heap_frees_total", NULL, 0, s->free_count);
	}
	family(out, "memobs_drops_total", "counter", "Events memobs could not record, by kind.");
	for (size_t i = 0; i < MO_DROP_KINDS; i++) {
		l[0] = (struct label){ "kind", run_drop_kinds[i].key, SIZE_MAX };
		sample_i(out, "memobs_drops_total", l, 1, s->drops[i]);
	}
}

static void write_phases(FILE *out, const struct mo_prom_view *v)
{
	const struct mo_prom_snapshot *s = v->snap;
	struct label l = { "phase", NULL, MO_RUN_NAME_LEN };
	bool heap = s->heap_live >= 0;

	if (s->phase) {
		family(out, "memobs_phase_current", "gauge", "The newest open phase, always 1.");
		l.value = s->phase;
		sample_i(out, "memobs_phase_current", &l, 1, 1);
	}
#define EACH_PHASE(fam, type, help, expr) if (v->nphases) { \
	family(out, fam, type, help); \
	for (size_t i = 0; i < v->nphases; i++) { \
		const struct mo_prom_phase *ph = &s->phases[v->phases[i]]; \
		l.value = ph->name; \
		expr; \
	} }
	EACH_PHASE("memobs_phase_open", "gauge", "1 while the phase is open, 0 once closed.",
		   sample_i(out, "memobs_phase_open", &l, 1, ph->open));
	EACH_PHASE("memobs_phase_duration_seconds", "gauge", "Duration of the phase (so far while open).",
		   sample_f(out, "memobs_phase_duration_seconds", &l, 1, ph->duration_s));
	EACH_PHASE("memobs_phase_rss_peak_over_baseline_bytes", "gauge",
		   "Highest session RSS while the phase was open, minus the RSS when it began.",
		   sample_i(out, "memobs_phase_rss_peak_over_baseline_bytes", &l, 1, ph->rss_peak_over_baseline));
	if (heap)
		EACH_PHASE("memobs_phase_heap_peak_live_bytes", "gauge",
			   "Highest live heap bytes while the phase was open.",
			   sample_i(out, "memobs_phase_heap_peak_live_bytes", &l, 1, ph->heap_peak_live));
#undef EACH_PHASE
	family(out, "memobs_phases_other", "gauge", "Phase names seen but not listed (cardinality bound).");
	sample_i(out, "memobs_phases_other", NULL, 0, v->other_phases);
}

static void write_procs(FILE *out, const struct mo_prom_view *v)
{
	const struct mo_prom_snapshot *s = v->snap;
	struct label l[3] = { { "pid", NULL, SIZE_MAX }, { "comm", NULL, MO_RUN_COMM_LEN } };
	size_t nheap = 0;

	for (size_t i = 0; i < v->nprocs; i++)
		nheap += s->procs[v->procs[i]].heap_live >= 0;
	/* A family without samples is left out. */
#define EACH_PROC(fam, help, expr) if (v->nprocs) { \
	family(out, fam, "gauge", help); \
	for (size_t i = 0; i < v->nprocs; i++) { \
		const struct mo_prom_proc *p = &s->procs[v->procs[i]]; \
		l[0].value = v->pids[i]; \
		l[1].value = p->comm; \
		expr; \
	} }
	EACH_PROC("memobs_process_rss_bytes", "RSS of the process now, by kind (sum of the kinds: its RSS).",
		  by_kind(out, "memobs_process_rss_bytes", l, 2, p->rss));
	EACH_PROC("memobs_process_swap_bytes", "Swap of the process now.",
		  sample_i(out, "memobs_process_swap_bytes", l, 2, p->rss[MO_MEM_SWAP]));
	EACH_PROC("memobs_process_rss_peak_bytes", "Highest RSS of the process so far.",
		  sample_i(out, "memobs_process_rss_peak_bytes", l, 2, p->rss_peak));
	if (nheap)
		EACH_PROC("memobs_process_heap_live_bytes", "Heap bytes the process allocated and did not free.",
			  if (p->heap_live >= 0) sample_i(out, "memobs_process_heap_live_bytes", l, 2, p->heap_live));
#undef EACH_PROC
	family(out, "memobs_processes_other", "gauge",
	       "Observed processes not listed, the smallest by RSS (cardinality bound).");
	sample_i(out, "memobs_processes_other", NULL, 0, v->other_procs);
	family(out, "memobs_processes_other_rss_bytes", "gauge", "RSS of the processes not listed, summed, by kind.");
	by_kind(out, "memobs_processes_other_rss_bytes", l, 0, v->other_rss);
}

static void write_cgroups(FILE *out, const struct mo_prom_view *v, const struct mo_prom_peaks *peaks)
{
	struct label l[2] = { { "cgroup", NULL, SIZE_MAX } };

#define EACH_CG(fam, help, expr) if (v->ncgs) { \
	family(out, fam, "gauge", help); \
	for (size_t i = 0; i < v->ncgs; i++) { \
		const struct mo_prom_cgroup *c = &v->cgs[i]; \
		l[0].value = c->path; \
		expr; \
	} }
	EACH_CG("memobs_cgroup_rss_bytes", "RSS of the observed processes of the cgroup now, summed, by kind.",
		by_kind(out, "memobs_cgroup_rss_bytes", l, 1, c->rss));
	EACH_CG("memobs_cgroup_rss_peak_bytes",
		"Highest memobs_cgroup_rss_bytes sum seen so far (sampled when memobs takes a snapshot).",
		sample_i(out, "memobs_cgroup_rss_peak_bytes", l, 1, cg_peak(peaks, c)));
	EACH_CG("memobs_cgroup_processes", "Observed processes of the cgroup alive now.",
		sample_i(out, "memobs_cgroup_processes", l, 1, c->nprocs));
#undef EACH_CG
	family(out, "memobs_cgroups_other", "gauge", "Cgroups not listed, the smallest by RSS (cardinality bound).");
	sample_i(out, "memobs_cgroups_other", NULL, 0, v->other_cgs);
	family(out, "memobs_cgroups_other_rss_bytes", "gauge", "RSS of the cgroups not listed, summed, by kind.");
	by_kind(out, "memobs_cgroups_other_rss_bytes", l, 0, v->other_cg_rss);
}

int prom_write(FILE *out, const struct mo_prom_snapshot *snap, const struct mo_prom_limits *lim,
	       struct mo_prom_peaks *peaks)
{
	struct mo_prom_limits def = prom_default_limits();
	struct mo_prom_view v;
	int ret;

	ret = prom_view_build(&v, snap, lim ? lim : &def);
	/* Every cgroup counts for its peak, listed or not. */
	if (!ret && peaks)
		ret = peaks_fold(peaks, v.cgs, v.ncgs + v.other_cgs);
	if (ret) {
		prom_view_free(&v);
		return ret;
	}
	write_session(out, snap);
	write_phases(out, &v);
	write_procs(out, &v);
	write_cgroups(out, &v, peaks);
	prom_view_free(&v);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

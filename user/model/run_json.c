// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "model/run_json.h"

#define TOP_PROCESSES 5

static cJSON *add_obj(cJSON *parent, const char *name)
{
	return cJSON_AddObjectToObject(parent, name);
}

static cJSON *strv(char **v)
{
	cJSON *arr = cJSON_CreateArray();

	for (char **p = v; arr && p && *p; p++)
		cJSON_AddItemToArray(arr, json_str(*p));
	return arr;
}

/* A site's source lines (null where unknown) and program, when known. */
static void add_where(cJSON *o, const struct mo_site_where *w)
{
	bool any = false;

	for (char **p = w->sources; p && *p; p++)
		any |= **p != 0;
	if (any) {
		cJSON *arr = cJSON_AddArrayToObject(o, "sources");

		for (char **p = w->sources; arr && *p; p++)
			cJSON_AddItemToArray(arr, **p ? json_str(*p) : cJSON_CreateNull());
	}
	if (w->comm)
		json_add_str(o, "comm", w->comm);
	if (w->exe)
		json_add_str(o, "exe", w->exe);
}

static void add_meta(cJSON *doc, const struct mo_run *run)
{
	cJSON *git;

	cJSON_AddNumberToObject(doc, "schema", RUN_JSON_SCHEMA);
	cJSON_AddStringToObject(doc, "memobs_version", MEMOBS_VERSION);
	json_add_str(doc, "time_utc", run->time_utc);
	json_add_str(doc, "host", run->host);
	json_add_str(doc, "kernel", run->kernel);
	json_add_int(doc, "cpus", run->ncpus);
	json_add_str(doc, "mode", run->host_wide ? "host" : run->command ? "command" : "pid");
	if (run->command)
		cJSON_AddItemToObject(doc, "command", strv(run->command));
	else
		cJSON_AddNullToObject(doc, "command");
	if (run->target_pid)
		json_add_int(doc, "target_pid", run->target_pid);
	if (run->ntarget_pids) {
		cJSON *pids = cJSON_AddArrayToObject(doc, "target_pids");

		for (size_t i = 0; pids && i < run->ntarget_pids; i++)
			cJSON_AddItemToArray(pids, json_int(run->target_pids[i]));
	}
	if (run->filters)
		json_add_str(doc, "filters", run->filters);
	json_add_str(doc, "cwd", run->cwd);
	json_add_str(doc, "label", run->label);
	if (run->git.present) {
		git = add_obj(doc, "git");
		json_add_str(git, "commit", run->git.commit);
		json_add_str(git, "branch", run->git.branch);
		cJSON_AddBoolToObject(git, "dirty", run->git.dirty);
	} else {
		cJSON_AddNullToObject(doc, "git");
	}
	cJSON_AddBoolToObject(doc, "heap_traced", run->heap);
	json_add_num(doc, "interval_s", run->interval_s, 3);
	json_add_num(doc, "duration_s", run->duration_s, 6);
	if (run->exit_status >= 0)
		json_add_int(doc, "exit_status", run->exit_status);
	else
		cJSON_AddNullToObject(doc, "exit_status");
}

/* One physical measurement; null when not measured. */
static cJSON *phys_sample_json(const struct mo_phys_sample *s)
{
	static const char *const keys[] = { "total", "anon", "file", "kernel" };
	const int64_t v[] = { s->total, s->anon, s->file, s->kernel };
	cJSON *o;

	if (s->total < 0)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	for (size_t i = 0; o && i < 4; i++)
		if (v[i] >= 0)
			json_add_int(o, keys[i], v[i]);
		else
			cJSON_AddNullToObject(o, keys[i]);
	return o;
}

/* Beside the ps-style RSS sum: the tree's memory, each page once. */
static void add_physical(cJSON *totals, const struct mo_physical *phys)
{
	cJSON *o = add_obj(totals, "physical");

	json_add_str(o, "source", run_physical_source_name(phys->source));
	json_add_str(o, "cgroup", phys->cgroup);
	json_add_str(o, "why", phys->why);
	if (phys->peak >= 0)
		json_add_int(o, "peak", phys->peak);
	else
		cJSON_AddNullToObject(o, "peak");
	json_add_item(o, "at_peak", phys_sample_json(&phys->at_peak));
	json_add_item(o, "max", phys_sample_json(&phys->max));
	json_add_item(o, "end", phys_sample_json(&phys->end));
	json_add_num(o, "interval_s", phys->interval_s, 3);
	json_add_int(o, "samples", phys->samples);
}

static void add_totals(cJSON *doc, const struct mo_run *run)
{
	cJSON *totals = add_obj(doc, "totals"), *rss = add_obj(totals, "rss"), *heap = add_obj(totals, "heap");

	json_add_int(rss, "peak", run->rss_peak);
	if (run->rss_peak_s >= 0) {
		cJSON *at;

		json_add_num(rss, "peak_s", run->rss_peak_s, 6);
		at = add_obj(rss, "at_peak");
		json_add_int(at, "file", run->rss_at_peak[MO_MEM_FILE]);
		json_add_int(at, "anon", run->rss_at_peak[MO_MEM_ANON]);
		json_add_int(at, "shmem", run->rss_at_peak[MO_MEM_SHMEM]);
	}
	add_physical(totals, &run->physical);
	json_add_int(heap, "peak_live", run->heap_peak);
	json_add_int(heap, "alloc_bytes", run->alloc_bytes);
	json_add_int(heap, "alloc_count", run->alloc_count);
	json_add_int(heap, "free_bytes", run->free_bytes);
	json_add_int(heap, "free_count", run->free_count);
	json_add_int(heap, "free_unknown_count", run->free_unknown_count);
}

static void add_top_processes(cJSON *obj, const struct mo_run *run, size_t phase)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "top_processes");
	size_t idx[TOP_PROCESSES], n = run_phase_top_procs(run, phase, idx, TOP_PROCESSES);

	for (size_t i = 0; i < n; i++) {
		const struct mo_proc_rec *p = &run->procs[idx[i]];
		cJSON *o = cJSON_CreateObject();

		json_add_int(o, "pid", p->pid);
		json_add_str(o, "comm", p->comm);
		json_add_int(o, "rss_peak", run_proc_phase_rss_peak(run, p, phase));
		cJSON_AddItemToArray(arr, o);
	}
}

/* Each view of a phase's sites: its member of "heap" and its bytes' key. */
static const struct {
	const char *member;
	const char *bytes;
} site_views[MO_PHASE_SITE_VIEWS] = {
	[MO_PHASE_GROWN] = { "grown_sites", "grown_bytes" },
	[MO_PHASE_LIVE] = { "live_sites", "live_bytes" },
};

static void add_phase_sites(cJSON *heap, const struct mo_phase_rec *ph)
{
	for (int v = 0; v < MO_PHASE_SITE_VIEWS; v++) {
		cJSON *arr = cJSON_AddArrayToObject(heap, site_views[v].member);

		for (size_t k = 0; arr && k < ph->nsites[v]; k++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddItemToObject(o, "frames", strv(ph->sites[v][k].frames));
			add_where(o, &ph->sites[v][k].where);
			json_add_int(o, site_views[v].bytes, ph->sites[v][k].bytes);
			cJSON_AddItemToArray(arr, o);
		}
	}
}

static cJSON *phase_json(const struct mo_run *run, size_t i)
{
	const struct mo_phase_rec *ph = &run->phases[i];
	cJSON *o = cJSON_CreateObject(), *rss, *heap, *per;
	double dur = ph->end_s - ph->start_s;

	json_add_int(o, "id", i);
	json_add_str(o, "name", ph->name);
	if (i == MO_RUN_ROOT)
		cJSON_AddNullToObject(o, "parent");
	else
		json_add_int(o, "parent", ph->parent);
	json_add_int(o, "depth", ph->depth);
	json_add_num(o, "start_s", ph->start_s, 6);
	json_add_num(o, "end_s", ph->end_s, 6);
	json_add_num(o, "duration_s", dur, 6);
	if (ph->items_overflow) {
		cJSON_AddNullToObject(o, "items");
		cJSON_AddTrueToObject(o, "items_overflow");
	} else {
		json_add_int(o, "items", ph->items);
	}
	if (ph->unclosed)
		cJSON_AddTrueToObject(o, "unclosed");
	if (ph->implicit_end)
		cJSON_AddTrueToObject(o, "implicit_end");
	if (ph->name_truncated)
		cJSON_AddTrueToObject(o, "name_truncated");
	if (ph->name_unread)
		cJSON_AddTrueToObject(o, "name_unread");
	rss = add_obj(o, "rss");
	json_add_int(rss, "baseline", ph->rss_baseline);
	json_add_int(rss, "peak", ph->rss_peak);
	json_add_int(rss, "end", ph->rss_end);
	json_add_int(rss, "delta", ph->rss_end - ph->rss_baseline);
	json_add_int(rss, "peak_over_baseline", ph->rss_peak - ph->rss_baseline);
	heap = add_obj(o, "heap");
	json_add_int(heap, "baseline_live", ph->heap_baseline);
	json_add_int(heap, "peak_live", ph->heap_peak);
	json_add_int(heap, "end_live", ph->heap_end);
	json_add_int(heap, "peak_over_baseline", ph->heap_peak - ph->heap_baseline);
	json_add_int(heap, "alloc_bytes", ph->alloc_bytes);
	json_add_int(heap, "alloc_count", ph->alloc_count);
	json_add_int(heap, "free_bytes", ph->free_bytes);
	json_add_int(heap, "free_count", ph->free_count);
	/* Only with allocation stacks: an empty list then says none was live. */
	if (run->alloc_sample_bytes)
		add_phase_sites(heap, ph);
	if (ph->items) {
		per = add_obj(o, "per_item");
		json_add_num(per, "rss_peak_over_baseline", (double)(ph->rss_peak - ph->rss_baseline) / ph->items, 1);
		json_add_num(per, "heap_peak_over_baseline", (double)(ph->heap_peak - ph->heap_baseline) / ph->items, 1);
		json_add_num(per, "alloc_bytes", (double)ph->alloc_bytes / ph->items, 1);
		json_add_num(per, "duration_s", dur / ph->items, 9);
	}
	add_top_processes(o, run, i);
	return o;
}

static cJSON *process_phases_json(const struct mo_run *run, const struct mo_proc_rec *p)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < p->nphases; i++) {
		const struct mo_proc_phase *pp = &p->phases[i];
		cJSON *o = cJSON_CreateObject(), *heap;

		json_add_int(o, "phase", pp->phase);
		json_add_str(o, "name", pp->phase < run->nphases ? run->phases[pp->phase].name : NULL);
		json_add_int(o, "rss_peak", pp->rss_peak);
		heap = add_obj(o, "heap");
		json_add_int(heap, "alloc_bytes", pp->heap.alloc_bytes);
		json_add_int(heap, "alloc_count", pp->heap.alloc_count);
		json_add_int(heap, "free_bytes", pp->heap.free_bytes);
		json_add_int(heap, "free_count", pp->heap.free_count);
		json_add_int(heap, "free_unknown_count", pp->heap.free_unknown_count);
		json_add_int(heap, "peak_live", pp->heap_peak_live);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *process_json(const struct mo_run *run, const struct mo_proc_rec *p)
{
	cJSON *o = cJSON_CreateObject(), *rss, *heap;
	struct mo_heap_calls h;

	json_add_int(o, "pid", p->pid);
	json_add_int(o, "ppid", p->ppid);
	json_add_str(o, "comm", p->comm);
	json_add_str(o, "exe", p->exe);
	if (p->argv)
		cJSON_AddItemToObject(o, "argv", strv(p->argv));
	else
		cJSON_AddNullToObject(o, "argv");
	if (p->argv_truncated)
		cJSON_AddTrueToObject(o, "argv_truncated");
	json_add_num(o, "start_s", p->start_s, 6);
	if (p->exited)
		json_add_num(o, "end_s", p->end_s, 6);
	else
		cJSON_AddNullToObject(o, "end_s");
	if (p->exited && p->exit_status >= 0)
		json_add_int(o, "exit_status", p->exit_status);
	else
		cJSON_AddNullToObject(o, "exit_status");
	cJSON_AddBoolToObject(o, "heap_probed", p->heap_probed);
	if (p->observer)
		cJSON_AddTrueToObject(o, "observer");
	if (p->filtered_out)
		cJSON_AddTrueToObject(o, "filtered_out");
	if (p->uid >= 0)
		json_add_int(o, "uid", p->uid);
	else
		cJSON_AddNullToObject(o, "uid");
	json_add_str(o, "user", p->uid >= 0 && p->user[0] ? p->user : NULL);
	json_add_str(o, "cgroup", p->cgroup);
	rss = add_obj(o, "rss");
	json_add_int(rss, "peak", p->rss_peak);
	json_add_int(rss, "peak_anon", p->rss_peak_member[MO_MEM_ANON]);
	json_add_int(rss, "peak_file", p->rss_peak_member[MO_MEM_FILE]);
	json_add_int(rss, "peak_shmem", p->rss_peak_member[MO_MEM_SHMEM]);
	json_add_int(rss, "swap_peak", p->rss_peak_member[MO_MEM_SWAP]);
	json_add_int(rss, "pre_exec_peak", p->rss_pre_exec_peak);
	json_add_int(rss, "end", p->rss_end);
	json_add_int(rss, "first", p->rss_first);
	json_add_num(rss, "first_s", p->first_s, 6);
	json_add_num(rss, "growth_per_s", run_proc_growth_rate(run, p), 0);
	run_proc_heap(p, &h);
	heap = add_obj(o, "heap");
	json_add_int(heap, "alloc_bytes", h.alloc_bytes);
	json_add_int(heap, "alloc_count", h.alloc_count);
	json_add_int(heap, "free_bytes", h.free_bytes);
	json_add_int(heap, "free_count", h.free_count);
	json_add_int(heap, "free_unknown_count", h.free_unknown_count);
	json_add_int(heap, "live", p->heap_live);
	json_add_int(heap, "peak_live", p->heap_peak_live);
	cJSON_AddItemToObject(o, "phases", process_phases_json(run, p));
	return o;
}

/* by_command / by_cgroup / by_user: the spec's by_command fields, plus the
 * sum of the peaks. */
static void add_groups(cJSON *doc, const struct mo_run *run, enum mo_group_key key, const char *name)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, name);
	size_t n = 0;
	struct mo_proc_group *g = run_group_by(run, key, &n);

	for (size_t i = 0; g && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (key == MO_GROUP_USER) {
			json_add_int(o, "uid", g[i].uid);
			json_add_str(o, "user", g[i].name);
		} else {
			json_add_str(o, key == MO_GROUP_COMM ? "comm" : "cgroup", g[i].name);
		}
		json_add_int(o, "processes", g[i].processes);
		json_add_int(o, "rss_peak_max", g[i].rss_peak_max);
		json_add_int(o, "rss_peak_sum", g[i].rss_peak_sum);
		json_add_int(o, "heap_alloc_bytes", g[i].heap_alloc_bytes);
		cJSON_AddItemToArray(arr, o);
	}
	free(g);
}

static void add_timeline(cJSON *doc, const struct mo_run *run)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "timeline");

	for (size_t i = 0; i < run->ntimeline; i++) {
		const struct mo_sample *s = &run->timeline[i];
		cJSON *o = cJSON_CreateObject();

		json_add_num(o, "t", s->t, 3);
		json_add_int(o, "rss", s->rss);
		json_add_int(o, "rss_anon", s->rss_member[MO_MEM_ANON]);
		json_add_int(o, "rss_file", s->rss_member[MO_MEM_FILE]);
		json_add_int(o, "rss_shmem", s->rss_member[MO_MEM_SHMEM]);
		json_add_int(o, "swap", s->rss_member[MO_MEM_SWAP]);
		json_add_int(o, "heap_live", s->heap_live);
		json_add_int(o, "processes", s->nprocs);
		json_add_str(o, "phase", s->phase < run->nphases ? run->phases[s->phase].name : NULL);
		if (run->physical.source != MO_PHYSICAL_NONE)
			json_add_item(o, "physical", phys_sample_json(&s->phys));
		cJSON_AddItemToArray(arr, o);
	}
}

static void add_marks(cJSON *doc, const struct mo_run *run)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "marks");

	for (size_t i = 0; i < run->nmarks; i++) {
		const struct mo_mark_rec *m = &run->marks[i];
		cJSON *o = cJSON_CreateObject();

		json_add_num(o, "t", m->t, 6);
		json_add_str(o, "label", m->label);
		json_add_int(o, "pid", m->pid);
		json_add_str(o, "phase", m->phase < run->nphases ? run->phases[m->phase].name : NULL);
		cJSON_AddItemToArray(arr, o);
	}
}

#define MAX_SITES 500

/* Sites of a kind by descending bytes; the top by live bytes too, so that a
 * leak shows even when it allocated little. */
static void add_sites(cJSON *doc, const struct mo_run *run, enum mo_site_of kind, const char *name)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, name);
	size_t *idx = malloc(2 * MAX_SITES * sizeof(*idx)), n, nlive;

	if (!idx)
		return;
	n = run_top_sites(run, kind, false, idx, MAX_SITES);
	nlive = kind == MO_SITE_OF_ALLOC ? run_top_sites(run, kind, true, idx + n, MAX_SITES) : 0;
	for (size_t i = 0; i < n + nlive; i++) {
		const struct mo_site_rec *site = &run->sites[idx[i]];
		bool dup = false;
		cJSON *o;

		for (size_t j = 0; j < n && i >= n; j++)
			dup |= idx[j] == idx[i];
		if (dup)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "frames", strv(site->frames));
		add_where(o, &site->where);
		if (kind == MO_SITE_OF_ALLOC) {
			json_add_int(o, "alloc_bytes", site->bytes);
			json_add_int(o, "alloc_count", site->count);
			json_add_int(o, "live_bytes", site->live);
		} else {
			json_add_int(o, "bytes", site->bytes);
			json_add_int(o, "faults", site->count);
		}
		cJSON_AddItemToArray(arr, o);
	}
	free(idx);
}

static void add_heap_probes(cJSON *doc, const struct mo_run *run)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "heap_probes");

	for (size_t i = 0; i < run->nheap_probes; i++) {
		const struct mo_heap_site *h = &run->heap_probes[i];
		cJSON *o = cJSON_CreateObject();

		json_add_str(o, "file", h->file);
		json_add_str(o, "allocator", h->allocator);
		json_add_str(o, "function", h->func);
		json_add_int(o, "skipped_bytes", h->skipped);
		json_add_str(o, "instruction", h->insn);
		cJSON_AddBoolToObject(o, "emulated", h->emulated);
		cJSON_AddBoolToObject(o, "uretprobe", h->uretprobe);
		cJSON_AddItemToArray(arr, o);
	}
}

static void add_stacks_info(cJSON *doc, const struct mo_run *run)
{
	cJSON *o = add_obj(doc, "stacks");

	json_add_int(o, "alloc_sample_bytes", run->alloc_sample_bytes);
	json_add_int(o, "rss_sample_bytes", run->rss_sample_bytes);
	json_add_int(o, "sites", run->nsites);
	json_add_int(o, "stacks", run->nstacks);
	json_add_int(o, "short_stacks", run->short_stacks);
	json_add_int(o, "unresolved_frames", run->unresolved_frames);
	json_add_int(o, "unwind_tables", run->unwind_files);
	json_add_int(o, "unwind_rows", run->unwind_rows);
	json_add_num(o, "unwind_cpu_s", run->unwind_cpu_s, 3);
}

static void add_drops(cJSON *doc, const struct mo_run *run)
{
	cJSON *o = add_obj(doc, "drops"), *w;

	for (size_t i = 0; i < MO_DROP_KINDS; i++)
		json_add_int(o, run_drop_kinds[i].key, run->drops[i]);
	json_add_int(o, "marker_names_from_proc", run->marker_fallbacks);
	w = cJSON_AddArrayToObject(doc, "warnings");
	for (size_t i = 0; i < run->nwarnings; i++)
		cJSON_AddItemToArray(w, json_str(run->warnings[i]));
}

cJSON *run_json_build(const struct mo_run *run)
{
	cJSON *doc = cJSON_CreateObject(), *arr;

	if (!doc)
		return NULL;
	add_meta(doc, run);
	add_totals(doc, run);
	arr = cJSON_AddArrayToObject(doc, "phases");
	for (size_t i = 0; i < run->nphases; i++)
		cJSON_AddItemToArray(arr, phase_json(run, i));
	arr = cJSON_AddArrayToObject(doc, "processes");
	for (size_t i = 0; i < run->nprocs; i++)
		cJSON_AddItemToArray(arr, process_json(run, &run->procs[i]));
	add_groups(doc, run, MO_GROUP_COMM, "by_command");
	add_groups(doc, run, MO_GROUP_CGROUP, "by_cgroup");
	add_groups(doc, run, MO_GROUP_USER, "by_user");
	add_timeline(doc, run);
	add_marks(doc, run);
	add_sites(doc, run, MO_SITE_OF_ALLOC, "top_allocators");
	add_sites(doc, run, MO_SITE_OF_RSS, "rss_growth_sites");
	add_stacks_info(doc, run);
	add_heap_probes(doc, run);
	add_drops(doc, run);
	return doc;
}

char *run_json_render(const struct mo_run *run, bool pretty)
{
	cJSON *doc = run_json_build(run);
	char *text;

	if (!doc)
		return NULL;
	text = pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

/* Integers a document can hold exactly (a JSON number is a double); sums
 * of a thousand of them still fit in int64_t. */
#define JSON_INT_MAX (1LL << 53)

/* A member as an integer, fallback when absent or not a number. Values out
 * of +-2^53 are clamped: casting 1e300 is undefined behaviour, and renderers
 * add figures up (a document may say 9223372036854775807 three times). */
static int64_t num_or(const cJSON *o, const char *path, int64_t fallback)
{
	double v = json_num(o, path, NAN);

	if (isnan(v))
		return fallback;
	if (v >= JSON_INT_MAX)
		return JSON_INT_MAX;
	if (v <= -JSON_INT_MAX)
		return -JSON_INT_MAX;
	return (int64_t)v;
}

/* A time in seconds: fallback when absent, not a number, or not finite
 * (cJSON reads 1e999 as infinity; charts divide by such times). */
static double secs(const cJSON *o, const char *path, double fallback)
{
	double v = json_num(o, path, fallback);

	return isfinite(v) ? v : fallback;
}

static int64_t num(const cJSON *o, const char *path)
{
	return num_or(o, path, 0);
}

/* The same for int members (pids, exit statuses). */
static int inum(const cJSON *o, const char *path, int fallback)
{
	int64_t v = num_or(o, path, fallback);

	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

static void parse_drops(const cJSON *doc, struct mo_run *run)
{
	const cJSON *drops = cJSON_GetObjectItemCaseSensitive(doc, "drops");

	for (size_t i = 0; i < MO_DROP_KINDS; i++)
		run->drops[i] = num(drops, run_drop_kinds[i].key);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char **parse_strv(const cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	char **v;

	if (!cJSON_IsArray(arr))
		return NULL;
	v = calloc(n + 1, sizeof(*v));
	for (int i = 0; v && i < n; i++) {
		const cJSON *s = cJSON_GetArrayItem(arr, i);

		v[i] = strdup(cJSON_IsString(s) ? s->valuestring : "");
	}
	return v;
}

static char *dup_member(const cJSON *o, const char *name)
{
	const char *s = json_string(o, name, NULL);

	return s ? strdup(s) : NULL;
}

/* A site's where from its object: sources only when one per frame. */
static void parse_where(const cJSON *site, size_t nframes, struct mo_site_where *w)
{
	size_t n = 0;

	w->sources = parse_strv(cJSON_GetObjectItemCaseSensitive(site, "sources"));
	while (w->sources && w->sources[n])
		n++;
	if (w->sources && n != nframes) {
		for (size_t i = 0; i < n; i++)
			free(w->sources[i]);
		free(w->sources);
		w->sources = NULL;
	}
	w->comm = dup_member(site, "comm");
	w->exe = dup_member(site, "exe");
}

/* A site's frames (n of them) and its where; NULL when it has no frames. */
static char **parse_frames(const cJSON *site, size_t *n, struct mo_site_where *w)
{
	char **frames = parse_strv(cJSON_GetObjectItemCaseSensitive(site, "frames"));

	*n = 0;
	if (!frames)
		return NULL;
	while (frames[*n])
		(*n)++;
	parse_where(site, *n, w);
	return frames;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void parse_pids(const cJSON *arr, struct mo_run *run)
{
	int n = cJSON_GetArraySize(arr);

	if (!cJSON_IsArray(arr) || n <= 0 || !(run->target_pids = calloc(n, sizeof(*run->target_pids))))
		return;
	for (int i = 0; i < n; i++) {
		int64_t pid = num_or(cJSON_GetArrayItem(arr, i), "", 0);

		run->target_pids[i] = pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
	}
	run->ntarget_pids = n;
}

static void parse_meta(const cJSON *doc, struct mo_run *run)
{
	const cJSON *git = cJSON_GetObjectItemCaseSensitive(doc, "git");

	copy_str(run->time_utc, sizeof(run->time_utc), json_string(doc, "time_utc", ""));
	copy_str(run->host, sizeof(run->host), json_string(doc, "host", ""));
	copy_str(run->kernel, sizeof(run->kernel), json_string(doc, "kernel", ""));
	run->ncpus = inum(doc, "cpus", 0);
	run->command = parse_strv(cJSON_GetObjectItemCaseSensitive(doc, "command"));
	run->target_pid = inum(doc, "target_pid", 0);
	parse_pids(cJSON_GetObjectItemCaseSensitive(doc, "target_pids"), run);
	run->filters = dup_or_null(json_string(doc, "filters", NULL));
	run->host_wide = !strcmp(json_string(doc, "mode", ""), "host");
	run->cwd = dup_or_null(json_string(doc, "cwd", NULL));
	run->label = dup_or_null(json_string(doc, "label", NULL));
	if (cJSON_IsObject(git)) {
		run->git.present = true;
		copy_str(run->git.commit, sizeof(run->git.commit), json_string(git, "commit", ""));
		copy_str(run->git.branch, sizeof(run->git.branch), json_string(git, "branch", ""));
		run->git.dirty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(git, "dirty"));
	}
	run->heap = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "heap_traced"));
	run->interval_s = secs(doc, "interval_s", 0);
	run->duration_s = secs(doc, "duration_s", 0);
	run->exit_status = inum(doc, "exit_status", -1);
	run->rss_peak = num(doc, "totals.rss.peak");
	run->rss_peak_s = secs(doc, "totals.rss.peak_s", -1);
	run->rss_at_peak[MO_MEM_FILE] = num(doc, "totals.rss.at_peak.file");
	run->rss_at_peak[MO_MEM_ANON] = num(doc, "totals.rss.at_peak.anon");
	run->rss_at_peak[MO_MEM_SHMEM] = num(doc, "totals.rss.at_peak.shmem");
	run->heap_peak = num(doc, "totals.heap.peak_live");
	run->alloc_bytes = num(doc, "totals.heap.alloc_bytes");
	run->alloc_count = num(doc, "totals.heap.alloc_count");
	run->free_bytes = num(doc, "totals.heap.free_bytes");
	run->free_count = num(doc, "totals.heap.free_count");
	run->free_unknown_count = num(doc, "totals.heap.free_unknown_count");
}

static void parse_phase_sites(const cJSON *phase, struct mo_phase_rec *ph)
{
	const cJSON *heap = cJSON_GetObjectItemCaseSensitive(phase, "heap"), *s;

	for (int v = 0; v < MO_PHASE_SITE_VIEWS; v++)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(heap, site_views[v].member)) {
			struct mo_site_where w;
			size_t n;
			char **frames = parse_frames(s, &n, &w);

			if (frames)
				run_phase_add_site(ph, v, frames, n, &w, num(s, site_views[v].bytes));
		}
}

static void parse_phases(const cJSON *doc, struct mo_run *run)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "phases")) {
		struct mo_phase_rec *ph = run_add_phase(run);
		int64_t parent, depth, items;

		if (!ph)
			return;
		copy_str(ph->name, sizeof(ph->name), json_string(p, "name", ""));
		parent = num_or(p, "parent", MO_RUN_ROOT);
		ph->parent = parent >= 0 && (uint64_t)parent < run->nphases ? (size_t)parent : MO_RUN_ROOT;
		/* Nesting is bounded (MO_RUN_DEPTH): renderers indent by it. */
		depth = num(p, "depth");
		ph->depth = depth < 0 ? 0 : depth > MO_RUN_DEPTH ? MO_RUN_DEPTH : depth;
		ph->start_s = secs(p, "start_s", 0);
		ph->end_s = secs(p, "end_s", 0);
		ph->unclosed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "unclosed"));
		ph->implicit_end = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "implicit_end"));
		ph->name_truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "name_truncated"));
		ph->name_unread = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "name_unread"));
		items = num(p, "items");
		ph->items_overflow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "items_overflow")) ||
				     items < 0 || (uint64_t)items > MO_RUN_ITEMS_MAX;
		ph->items = ph->items_overflow ? 0 : (uint64_t)items;
		ph->rss_baseline = num(p, "rss.baseline");
		ph->rss_peak = num(p, "rss.peak");
		ph->rss_end = num(p, "rss.end");
		ph->heap_baseline = num(p, "heap.baseline_live");
		ph->heap_peak = num(p, "heap.peak_live");
		ph->heap_end = num(p, "heap.end_live");
		ph->alloc_bytes = num(p, "heap.alloc_bytes");
		ph->alloc_count = num(p, "heap.alloc_count");
		ph->free_bytes = num(p, "heap.free_bytes");
		ph->free_count = num(p, "heap.free_count");
		parse_phase_sites(p, ph);
	}
}

static void parse_process_phases(const cJSON *p, struct mo_proc_rec *rec)
{
	const cJSON *pp;

	cJSON_ArrayForEach(pp, cJSON_GetObjectItemCaseSensitive(p, "phases")) {
		struct mo_proc_phase figures = {
			.phase = num(pp, "phase"),
			.rss_peak = num(pp, "rss_peak"),
			.heap_peak_live = num(pp, "heap.peak_live"),
			.heap = {
				.alloc_bytes = num(pp, "heap.alloc_bytes"),
				.alloc_count = num(pp, "heap.alloc_count"),
				.free_bytes = num(pp, "heap.free_bytes"),
				.free_count = num(pp, "heap.free_count"),
				.free_unknown_count = num(pp, "heap.free_unknown_count"),
			},
		};

		run_proc_add_phase(rec, &figures);
	}
}

static void parse_processes(const cJSON *doc, struct mo_run *run)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "processes")) {
		struct mo_proc_rec *rec = run_add_proc(run);
		int64_t uid;

		if (!rec)
			return;
		rec->pid = inum(p, "pid", 0);
		rec->ppid = inum(p, "ppid", 0);
		copy_str(rec->comm, sizeof(rec->comm), json_string(p, "comm", ""));
		rec->exe = dup_or_null(json_string(p, "exe", NULL));
		rec->argv = parse_strv(cJSON_GetObjectItemCaseSensitive(p, "argv"));
		rec->argv_truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "argv_truncated"));
		rec->start_s = secs(p, "start_s", 0);
		rec->exited = isfinite(json_num(p, "end_s", NAN));
		rec->end_s = secs(p, "end_s", -1);
		rec->exit_status = inum(p, "exit_status", -1);
		rec->heap_probed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "heap_probed"));
		rec->observer = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "observer"));
		rec->filtered_out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "filtered_out"));
		uid = num_or(p, "uid", -1);
		rec->uid = uid >= 0 && uid < UINT32_MAX ? uid : -1;
		copy_str(rec->user, sizeof(rec->user), rec->uid >= 0 ? json_string(p, "user", "") : "");
		rec->cgroup = dup_or_null(json_string(p, "cgroup", NULL));
		rec->rss_first = num(p, "rss.first");
		rec->first_s = secs(p, "rss.first_s", 0);
		rec->rss_peak = num(p, "rss.peak");
		rec->rss_peak_member[MO_MEM_ANON] = num(p, "rss.peak_anon");
		rec->rss_peak_member[MO_MEM_FILE] = num(p, "rss.peak_file");
		rec->rss_peak_member[MO_MEM_SHMEM] = num(p, "rss.peak_shmem");
		rec->rss_peak_member[MO_MEM_SWAP] = num(p, "rss.swap_peak");
		rec->rss_pre_exec_peak = num(p, "rss.pre_exec_peak");
		rec->rss_end = num(p, "rss.end");
		rec->heap_live = num(p, "heap.live");
		rec->heap_peak_live = num(p, "heap.peak_live");
		parse_process_phases(p, rec);
	}
}

static size_t phase_index(const struct mo_run *run, const char *name)
{
	for (size_t i = 0; name && i < run->nphases; i++)
		if (!strcmp(run->phases[i].name, name))
			return i;
	return MO_RUN_ROOT;
}

/* Sizes below zero mean "not measured" here: a negative one in a document is that too. */
static int64_t size_or_unmeasured(const cJSON *o, const char *key)
{
	int64_t v = num_or(o, key, -1);

	return v < 0 ? -1 : v;
}

static struct mo_phys_sample parse_phys_sample(const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return MO_PHYS_UNMEASURED;
	return (struct mo_phys_sample){ size_or_unmeasured(o, "total"), size_or_unmeasured(o, "anon"),
					size_or_unmeasured(o, "file"), size_or_unmeasured(o, "kernel") };
}

static void parse_physical(const cJSON *doc, struct mo_physical *phys)
{
	const cJSON *o = json_path(doc, "totals.physical");

	if (!o)
		return;
	phys->source = run_physical_source_parse(json_string(o, "source", NULL));
	phys->cgroup = dup_or_null(json_string(o, "cgroup", NULL));
	phys->why = dup_or_null(json_string(o, "why", NULL));
	phys->peak = size_or_unmeasured(o, "peak");
	phys->at_peak = parse_phys_sample(cJSON_GetObjectItemCaseSensitive(o, "at_peak"));
	phys->max = parse_phys_sample(cJSON_GetObjectItemCaseSensitive(o, "max"));
	phys->end = parse_phys_sample(cJSON_GetObjectItemCaseSensitive(o, "end"));
	phys->interval_s = secs(o, "interval_s", 0);
	phys->samples = num_or(o, "samples", 0) > 0 ? num_or(o, "samples", 0) : 0;
}

static void parse_timeline(const cJSON *doc, struct mo_run *run)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "timeline")) {
		struct mo_sample smp = {
			.t = secs(s, "t", 0),
			.rss = num(s, "rss"),
			.rss_member = { [MO_MEM_ANON] = num(s, "rss_anon"), [MO_MEM_FILE] = num(s, "rss_file"),
					[MO_MEM_SHMEM] = num(s, "rss_shmem"), [MO_MEM_SWAP] = num(s, "swap") },
			.heap_live = num(s, "heap_live"),
			.nprocs = num(s, "processes"),
			.phase = phase_index(run, json_string(s, "phase", NULL)),
			.phys = parse_phys_sample(cJSON_GetObjectItemCaseSensitive(s, "physical")),
		};

		run_add_sample(run, &smp, 0);
	}
}

static void parse_sites(const cJSON *doc, struct mo_run *run, enum mo_site_of kind, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, name)) {
		bool alloc = kind == MO_SITE_OF_ALLOC;
		struct mo_site_where w;
		size_t n;
		char **frames = parse_frames(s, &n, &w);

		if (!frames)
			continue;
		run_add_site(run, kind, frames, n, &w, num(s, alloc ? "alloc_bytes" : "bytes"),
			     num(s, alloc ? "alloc_count" : "faults"), alloc ? num(s, "live_bytes") : 0);
	}
	run->alloc_sample_bytes = num(doc, "stacks.alloc_sample_bytes");
	run->rss_sample_bytes = num(doc, "stacks.rss_sample_bytes");
	run->nstacks = num(doc, "stacks.stacks");
	run->short_stacks = num(doc, "stacks.short_stacks");
	run->unresolved_frames = num(doc, "stacks.unresolved_frames");
	run->unwind_files = num(doc, "stacks.unwind_tables");
	run->unwind_rows = num(doc, "stacks.unwind_rows");
	run->unwind_cpu_s = json_num(doc, "stacks.unwind_cpu_s", 0);
}

static void parse_marks_and_drops(const cJSON *doc, struct mo_run *run)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "marks")) {
		struct mo_mark_rec *rec = run_add_mark(run);

		if (!rec)
			break;
		rec->t = secs(m, "t", 0);
		rec->pid = inum(m, "pid", 0);
		rec->phase = phase_index(run, json_string(m, "phase", NULL));
		copy_str(rec->label, sizeof(rec->label), json_string(m, "label", ""));
	}
	parse_drops(doc, run);
	run->marker_fallbacks = num(doc, "drops.marker_names_from_proc");
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "warnings"))
		if (cJSON_IsString(m))
			run_add_warning(run, "%s", m->valuestring);
}

int run_json_parse(const cJSON *doc, struct mo_run *run, char *err, size_t errlen)
{
	if (!cJSON_IsObject(doc) || json_num(doc, "schema", -1) != RUN_JSON_SCHEMA ||
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "totals"))) {
		snprintf(err, errlen, "not a memobs run document (schema %d)", RUN_JSON_SCHEMA);
		return -EINVAL;
	}
	parse_meta(doc, run);
	parse_phases(doc, run);
	parse_processes(doc, run);
	parse_timeline(doc, run);
	parse_physical(doc, &run->physical);
	parse_sites(doc, run, MO_SITE_OF_ALLOC, "top_allocators");
	parse_sites(doc, run, MO_SITE_OF_RSS, "rss_growth_sites");
	parse_marks_and_drops(doc, run);
	return 0;
}

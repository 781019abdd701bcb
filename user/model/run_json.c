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

const struct run_json_site_view run_json_site_views[MO_PHASE_SITE_VIEWS] = {
	[MO_PHASE_GROWN] = { "grown_sites", "grown_bytes" },
	[MO_PHASE_LIVE] = { "live_sites", "live_bytes" },
};

static void add_phase_sites(cJSON *heap, const struct mo_phase_rec *ph)
{
	for (int v = 0; v < MO_PHASE_SITE_VIEWS; v++) {
		cJSON *arr = cJSON_AddArrayToObject(heap, run_json_site_views[v].member);

		for (size_t k = 0; arr && k < ph->nsites[v]; k++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddItemToObject(o, "frames", strv(ph->sites[v][k].frames));
			add_where(o, &ph->sites[v][k].where);
			json_add_int(o, run_json_site_views[v].bytes, ph->sites[v][k].bytes);
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
	json_add_str(heap, "counted_by", run_proc_heap_counted_by(p));
	json_add_str(heap, "basis", run_proc_heap_basis(p));
	json_add_str(heap, "allocator", p->heap_allocator);
	json_add_str(heap, "unobserved", p->heap_unobserved);
	json_add_str(heap, "unseen", p->heap_unseen);
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

static void add_sites(cJSON *doc, const struct mo_run *run, enum mo_site_of kind, const char *name)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, name);
	size_t *idx = malloc(2 * MO_RUN_LISTED_SITES * sizeof(*idx)), n;

	if (!idx)
		return;
	n = run_listed_sites(run, kind, idx, MO_RUN_LISTED_SITES);
	for (size_t i = 0; i < n; i++) {
		const struct mo_site_rec *site = &run->sites[idx[i]];
		cJSON *o;

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

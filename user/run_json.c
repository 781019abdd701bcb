// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_util.h"
#include "run_json.h"

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

static void add_totals(cJSON *doc, const struct mo_run *run)
{
	cJSON *totals = add_obj(doc, "totals"), *rss = add_obj(totals, "rss"), *heap = add_obj(totals, "heap");

	json_add_int(rss, "peak", run->rss_peak);
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

static cJSON *phase_json(const struct mo_run *run, size_t i)
{
	const struct mo_phase_rec *ph = &run->phases[i];
	cJSON *o = cJSON_CreateObject(), *rss, *heap, *per;
	double dur = ph->end_s - ph->start_s;

	json_add_int(o, "id", i);
	json_add_str(o, "name", ph->name);
	if (i == MO_PHASE_ROOT)
		cJSON_AddNullToObject(o, "parent");
	else
		json_add_int(o, "parent", ph->parent);
	json_add_int(o, "depth", ph->depth);
	json_add_num(o, "start_s", ph->start_s, 6);
	json_add_num(o, "end_s", ph->end_s, 6);
	json_add_num(o, "duration_s", dur, 6);
	json_add_int(o, "items", ph->items);
	if (ph->unclosed)
		cJSON_AddTrueToObject(o, "unclosed");
	if (ph->implicit_end)
		cJSON_AddTrueToObject(o, "implicit_end");
	if (ph->name_truncated)
		cJSON_AddTrueToObject(o, "name_truncated");
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
		json_add_int(o, "rss_peak", pp->stat.rss_peak);
		heap = add_obj(o, "heap");
		json_add_int(heap, "alloc_bytes", pp->stat.alloc_bytes);
		json_add_int(heap, "alloc_count", pp->stat.alloc_count);
		json_add_int(heap, "free_bytes", pp->stat.free_bytes);
		json_add_int(heap, "free_count", pp->stat.free_count);
		json_add_int(heap, "peak_live", pp->stat.heap_peak_live);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *process_json(const struct mo_run *run, const struct mo_proc_rec *p)
{
	cJSON *o = cJSON_CreateObject(), *rss, *heap;
	struct mo_pstat h;

	json_add_int(o, "pid", p->pid);
	json_add_int(o, "ppid", p->ppid);
	json_add_str(o, "comm", p->comm);
	json_add_str(o, "exe", p->exe);
	if (p->argv)
		cJSON_AddItemToObject(o, "argv", strv(p->argv));
	else
		cJSON_AddNullToObject(o, "argv");
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
	rss = add_obj(o, "rss");
	json_add_int(rss, "peak", p->rss_peak);
	json_add_int(rss, "peak_anon", p->rss_peak_member[MO_RSS_ANON]);
	json_add_int(rss, "peak_file", p->rss_peak_member[MO_RSS_FILE]);
	json_add_int(rss, "peak_shmem", p->rss_peak_member[MO_RSS_SHMEM]);
	json_add_int(rss, "swap_peak", p->rss_peak_member[MO_RSS_SWAP]);
	json_add_int(rss, "end", p->rss_end);
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

static void add_by_command(cJSON *doc, const struct mo_run *run)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "by_command");
	size_t n = 0;
	struct mo_command_group *g = run_by_command(run, &n);

	for (size_t i = 0; g && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		json_add_str(o, "comm", g[i].comm);
		json_add_int(o, "processes", g[i].processes);
		json_add_int(o, "rss_peak_max", g[i].rss_peak_max);
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
		json_add_int(o, "rss_anon", s->rss_member[MO_RSS_ANON]);
		json_add_int(o, "rss_file", s->rss_member[MO_RSS_FILE]);
		json_add_int(o, "rss_shmem", s->rss_member[MO_RSS_SHMEM]);
		json_add_int(o, "swap", s->rss_member[MO_RSS_SWAP]);
		json_add_int(o, "heap_live", s->heap_live);
		json_add_int(o, "processes", s->nprocs);
		json_add_str(o, "phase", s->phase < run->nphases ? run->phases[s->phase].name : NULL);
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

static void add_drops(cJSON *doc, const struct mo_run *run)
{
	const struct mo_drops *d = &run->drops;
	cJSON *o = add_obj(doc, "drops"), *w;

	json_add_int(o, "events", d->events);
	json_add_int(o, "processes", d->processes);
	json_add_int(o, "stacks", d->stacks);
	json_add_int(o, "process_phase_records", d->pstats);
	json_add_int(o, "heap_blocks", d->allocs);
	json_add_int(o, "phases", d->phases);
	json_add_int(o, "phase_lock", d->phase_lock);
	json_add_int(o, "mm_ids", d->mm_ids);
	json_add_int(o, "missed_frees", d->missed_frees);
	json_add_int(o, "unmatched_phase_ends", d->unmatched_ends);
	json_add_int(o, "marker_reads_in_bpf", d->marker_reads);
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
	add_by_command(doc, run);
	add_timeline(doc, run);
	add_marks(doc, run);
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

// SPDX-License-Identifier: GPL-2.0
/* The run document read back into struct mo_run (run_json_parse); its
 * writer is run_json.c. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "model/run_json.h"

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
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(heap, run_json_site_views[v].member)) {
			struct mo_site_where w;
			size_t n;
			char **frames = parse_frames(s, &n, &w);

			if (frames)
				run_phase_add_site(ph, v, frames, n, &w, num(s, run_json_site_views[v].bytes));
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
		rec->heap_paths = run_heap_paths_parse(json_string(p, "heap.counted_by", NULL));
		rec->heap_allocator = dup_or_null(json_string(p, "heap.allocator", NULL));
		rec->heap_unobserved = dup_or_null(json_string(p, "heap.unobserved", NULL));
		rec->heap_unseen = dup_or_null(json_string(p, "heap.unseen", NULL));
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

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"
#include "lib/json_util.h"
#include "model/run_json.h"
#include "model/summary.h"

const struct mo_summary_field summary_totals[MO_TOTALS] = {
	[MO_TOTAL_PEAK_RSS] = { "peak_rss", "totals.rss.peak", MO_UNIT_BYTES },
	[MO_TOTAL_PEAK_PHYSICAL] = { "peak_physical", "totals.physical.peak", MO_UNIT_BYTES },
	[MO_TOTAL_PEAK_HEAP] = { "peak_heap", "totals.heap.peak_live", MO_UNIT_BYTES, .heap = true },
	[MO_TOTAL_ALLOC_BYTES] = { "alloc_bytes", "totals.heap.alloc_bytes", MO_UNIT_BYTES, .heap = true },
	[MO_TOTAL_ALLOC_COUNT] = { "alloc_count", "totals.heap.alloc_count", MO_UNIT_COUNT, .heap = true },
	[MO_TOTAL_DURATION] = { "duration", "duration_s", MO_UNIT_SECONDS },
};

#define PHASE_FIG(id, path, unit, merge, heap) [id] = { path, path, unit, merge, heap }
const struct mo_summary_field summary_phase_figs[MO_PHASE_FIGS] = {
	PHASE_FIG(MO_PHASE_DURATION, "duration_s", MO_UNIT_SECONDS, MO_MERGE_SUM, false),
	PHASE_FIG(MO_PHASE_ITEMS, "items", MO_UNIT_COUNT, MO_MERGE_SUM, false),
	PHASE_FIG(MO_PHASE_RSS_BASELINE, "rss.baseline", MO_UNIT_BYTES, MO_MERGE_FIRST, false),
	PHASE_FIG(MO_PHASE_RSS_PEAK, "rss.peak", MO_UNIT_BYTES, MO_MERGE_MAX, false),
	PHASE_FIG(MO_PHASE_RSS_END, "rss.end", MO_UNIT_BYTES, MO_MERGE_LAST, false),
	PHASE_FIG(MO_PHASE_RSS_DELTA, "rss.delta", MO_UNIT_BYTES, MO_MERGE_SUM, false),
	PHASE_FIG(MO_PHASE_RSS_PEAK_OVER_BASELINE, "rss.peak_over_baseline", MO_UNIT_BYTES, MO_MERGE_MAX, false),
	PHASE_FIG(MO_PHASE_HEAP_BASELINE, "heap.baseline_live", MO_UNIT_BYTES, MO_MERGE_FIRST, true),
	PHASE_FIG(MO_PHASE_HEAP_PEAK, "heap.peak_live", MO_UNIT_BYTES, MO_MERGE_MAX, true),
	PHASE_FIG(MO_PHASE_HEAP_END, "heap.end_live", MO_UNIT_BYTES, MO_MERGE_LAST, true),
	PHASE_FIG(MO_PHASE_HEAP_PEAK_OVER_BASELINE, "heap.peak_over_baseline", MO_UNIT_BYTES, MO_MERGE_MAX, true),
	PHASE_FIG(MO_PHASE_ALLOC_BYTES, "heap.alloc_bytes", MO_UNIT_BYTES, MO_MERGE_SUM, true),
	PHASE_FIG(MO_PHASE_ALLOC_COUNT, "heap.alloc_count", MO_UNIT_COUNT, MO_MERGE_SUM, true),
	PHASE_FIG(MO_PHASE_FREE_BYTES, "heap.free_bytes", MO_UNIT_BYTES, MO_MERGE_SUM, true),
	PHASE_FIG(MO_PHASE_FREE_COUNT, "heap.free_count", MO_UNIT_COUNT, MO_MERGE_SUM, true),
};
#undef PHASE_FIG

const struct mo_summary_field summary_command_figs[MO_COMMAND_FIGS] = {
	[MO_COMMAND_PROCESSES] = { "processes", "processes", MO_UNIT_COUNT },
	[MO_COMMAND_RSS_PEAK_MAX] = { "rss_peak_max", "rss_peak_max", MO_UNIT_BYTES },
	[MO_COMMAND_RSS_PEAK_SUM] = { "rss_peak_sum", "rss_peak_sum", MO_UNIT_BYTES },
	[MO_COMMAND_HEAP_ALLOC_BYTES] = { "heap_alloc_bytes", "heap_alloc_bytes", MO_UNIT_BYTES, .heap = true },
};

const struct mo_summary_field summary_max_figs[MO_MAX_FIGS] = {
	[MO_MAX_PEAK_RSS] = { "peak_rss", "rss.peak", MO_UNIT_BYTES },
	[MO_MAX_PEAK_HEAP] = { "peak_heap", "heap.peak_live", MO_UNIT_BYTES, .heap = true },
};

void summary_init(struct mo_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->exit_status = -1;
	for (size_t i = 0; i < MO_TOTALS; i++)
		s->total[i] = NAN;
}

void summary_free(struct mo_summary *s)
{
	free(s->label);
	free(s->document);
	run_free_strv(s->command);
	free(s->phases);
	free(s->commands);
	summary_init(s);
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static char **dup_strv(char *const *v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(v[i]))) {
			run_free_strv(out);
			return NULL;
		}
	return out;
}

/* The command array of a document: NULL when it has none (-p, -a). */
static int read_command(const cJSON *doc, struct mo_summary *s)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "command"), *item;
	size_t n = 0;

	if (!cJSON_IsArray(arr))
		return 0;
	s->command = calloc(cJSON_GetArraySize(arr) + 1, sizeof(*s->command));
	if (!s->command)
		return -ENOMEM;
	cJSON_ArrayForEach(item, arr)
		if (!(s->command[n++] = strdup(cJSON_IsString(item) ? item->valuestring : "")))
			return -ENOMEM;
	return 0;
}

static int read_meta(const cJSON *doc, struct mo_summary *s)
{
	const cJSON *git = cJSON_GetObjectItemCaseSensitive(doc, "git");
	const char *label = json_string(doc, "label", NULL), *document = json_string(doc, "document", NULL);
	double exit_status = json_num(doc, "exit_status", -1);

	copy_str(s->time_utc, sizeof(s->time_utc), json_string(doc, "time_utc", ""));
	copy_str(s->host, sizeof(s->host), json_string(doc, "host", ""));
	copy_str(s->memobs_version, sizeof(s->memobs_version), json_string(doc, "memobs_version", ""));
	if ((label && !(s->label = strdup(label))) || (document && !(s->document = strdup(document))))
		return -ENOMEM;
	s->exit_status = exit_status >= 0 && exit_status <= 255 ? (int)exit_status : -1;
	s->from_line = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "summary"));
	if (cJSON_IsObject(git)) {
		s->git.present = true;
		copy_str(s->git.commit, sizeof(s->git.commit), json_string(git, "commit", ""));
		copy_str(s->git.branch, sizeof(s->git.branch), json_string(git, "branch", ""));
		s->git.dirty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(git, "dirty"));
	}
	/* Only an explicit false says the heap was not measured. */
	s->heap_traced = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "heap_traced"));
	for (size_t i = 0; i < MO_TOTALS; i++)
		s->total[i] = json_num(doc, summary_totals[i].path, NAN);
	return read_command(doc, s);
}

static void merge(double *acc, double v, enum mo_merge how)
{
	if (isnan(v))
		return;
	if (isnan(*acc) || how == MO_MERGE_LAST || (how == MO_MERGE_MAX && v > *acc))
		*acc = v;
	else if (how == MO_MERGE_SUM)
		*acc += v;
}

/* Names of phases left out (past SUMMARY_MAX_PHASES), borrowed from the
 * document, to count each once. */
struct left_out {
	const char **names;
	size_t n, cap;
};

static int note_left_out(struct left_out *l, const char *name, struct mo_summary *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return 0;
	if (GROW(l->names, l->n + 1, l->cap))
		return -ENOMEM;
	l->names[l->n++] = name;
	s->phases_left_out++;
	return 0;
}

/* The phase entry named `name`, added (all figures absent) when new; NULL
 * when there is no room left. */
static struct mo_summary_phase *phase_slot(struct mo_summary *s, const char *name)
{
	struct mo_summary_phase *p;

	for (size_t i = 0; i < s->nphases; i++)
		if (!strcmp(s->phases[i].name, name))
			return &s->phases[i];
	if (s->nphases == SUMMARY_MAX_PHASES)
		return NULL;
	p = &s->phases[s->nphases++];
	copy_str(p->name, sizeof(p->name), name);
	p->windows = 0;
	for (size_t f = 0; f < MO_PHASE_FIGS; f++)
		p->fig[f] = NAN;
	return p;
}

static int read_phases(const cJSON *doc, struct mo_summary *s)
{
	struct left_out left = { 0 };
	const cJSON *w;
	int ret = 0;

	s->phases = calloc(SUMMARY_MAX_PHASES, sizeof(*s->phases));
	if (!s->phases)
		return -ENOMEM;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "phases")) {
		const char *name = json_string(w, "name", NULL);
		struct mo_summary_phase *p;

		if (!name)
			continue;
		p = phase_slot(s, name);
		if (!p) {
			ret = note_left_out(&left, name, s);
			if (ret)
				break;
			continue;
		}
		/* A summary line's entry stands for its windows already. */
		p->windows += json_num(w, "windows", 1);
		for (size_t f = 0; f < MO_PHASE_FIGS; f++)
			merge(&p->fig[f], json_num(w, summary_phase_figs[f].path, NAN), summary_phase_figs[f].merge);
	}
	s->phases_left_out += json_num(doc, "phases_left_out", 0);
	free(left.names);
	return ret;
}

static int read_commands(const cJSON *doc, struct mo_summary *s)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "by_command"), *g;
	size_t n = cJSON_GetArraySize(arr);

	s->commands = calloc(n < SUMMARY_MAX_COMMANDS ? n + 1 : SUMMARY_MAX_COMMANDS, sizeof(*s->commands));
	if (!s->commands)
		return -ENOMEM;
	cJSON_ArrayForEach(g, arr) {
		struct mo_summary_command *c;

		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(g, "comm")))
			continue;
		if (s->ncommands == SUMMARY_MAX_COMMANDS) {
			s->commands_left_out++;
			continue;
		}
		c = &s->commands[s->ncommands++];
		copy_str(c->comm, sizeof(c->comm), json_string(g, "comm", ""));
		for (size_t f = 0; f < MO_COMMAND_FIGS; f++)
			c->fig[f] = json_num(g, summary_command_figs[f].path, NAN);
	}
	s->commands_left_out += json_num(doc, "by_command_left_out", 0);
	return 0;
}

static void take_if_larger(struct mo_summary_max *max, const cJSON *proc, double v)
{
	double pid = json_num(proc, "pid", 0);

	if (isnan(v) || (max->present && v <= max->value))
		return;
	max->present = true;
	max->value = v;
	max->pid = pid > 0 && pid < 1 << 30 ? (pid_t)pid : 0;
	copy_str(max->comm, sizeof(max->comm), json_string(proc, "comm", ""));
}

/* The largest processes: a summary line names them (max_process); a
 * document's are found among its processes (memobs's own marker processes
 * are not the workload). */
static void read_max_processes(const cJSON *doc, struct mo_summary *s)
{
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(doc, "max_process"), *p;

	if (cJSON_IsObject(max)) {
		for (size_t f = 0; f < MO_MAX_FIGS; f++) {
			p = cJSON_GetObjectItemCaseSensitive(max, summary_max_figs[f].name);
			if (cJSON_IsObject(p))
				take_if_larger(&s->max[f], p, json_num(p, "value", NAN));
		}
		return;
	}

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "processes")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "observer")))
			continue;
		for (size_t f = 0; f < MO_MAX_FIGS; f++)
			if (s->heap_traced || !summary_max_figs[f].heap)
				take_if_larger(&s->max[f], p, json_num(p, summary_max_figs[f].path, NAN));
	}
}

/* Without --heap the heap figures of a document are 0 and mean "not
 * measured"; a summary line leaves them out: absent either way. */
static void forget_heap(struct mo_summary *s)
{
	for (size_t i = 0; i < MO_TOTALS; i++)
		if (summary_totals[i].heap)
			s->total[i] = NAN;
	for (size_t k = 0; k < s->nphases; k++)
		for (size_t f = 0; f < MO_PHASE_FIGS; f++)
			if (summary_phase_figs[f].heap)
				s->phases[k].fig[f] = NAN;
	for (size_t k = 0; k < s->ncommands; k++)
		for (size_t f = 0; f < MO_COMMAND_FIGS; f++)
			if (summary_command_figs[f].heap)
				s->commands[k].fig[f] = NAN;
}

int summary_from_json(const cJSON *doc, struct mo_summary *s)
{
	int ret;

	summary_init(s);
	ret = read_meta(doc, s);
	if (!ret)
		ret = read_phases(doc, s);
	if (!ret)
		ret = read_commands(doc, s);
	if (!ret)
		read_max_processes(doc, s);
	if (!ret && !s->heap_traced)
		forget_heap(s);
	if (ret)
		summary_free(s);
	return ret;
}

int summary_from_run(const struct mo_run *run, struct mo_summary *s)
{
	/* Through the text: the built tree holds its numbers raw, exactly as
	 * they are printed, which only a parse turns into numbers. */
	char *text = run_json_render(run, false);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	int ret;

	free(text);
	summary_init(s);
	if (!doc)
		return -ENOMEM;
	ret = summary_from_json(doc, s);
	cJSON_Delete(doc);
	return ret;
}

int summary_copy(struct mo_summary *dst, const struct mo_summary *src)
{
	*dst = *src;
	dst->label = NULL;
	dst->document = NULL;
	dst->command = NULL;
	dst->phases = malloc((src->nphases ? src->nphases : 1) * sizeof(*dst->phases));
	dst->commands = malloc((src->ncommands ? src->ncommands : 1) * sizeof(*dst->commands));
	if (!dst->phases || !dst->commands || (src->label && !(dst->label = strdup(src->label))) ||
	    (src->document && !(dst->document = strdup(src->document))) ||
	    (src->command && !(dst->command = dup_strv(src->command)))) {
		summary_free(dst);
		return -ENOMEM;
	}
	memcpy(dst->phases, src->phases, src->nphases * sizeof(*dst->phases));
	memcpy(dst->commands, src->commands, src->ncommands * sizeof(*dst->commands));
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool summary_same_command(const struct mo_summary *a, const struct mo_summary *b)
{
	size_t i = 0;

	if (!a->command || !b->command)
		return !a->command && !b->command;
	for (; a->command[i] && b->command[i]; i++)
		if (strcmp(a->command[i], b->command[i]))
			return false;
	return !a->command[i] && !b->command[i];
}

static bool same_value(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

bool summary_same_run(const struct mo_summary *a, const struct mo_summary *b)
{
	if (strcmp(a->time_utc, b->time_utc) || strcmp(a->host, b->host) || !same_str(a->label, b->label) ||
	    !summary_same_command(a, b) || a->exit_status != b->exit_status || a->git.present != b->git.present ||
	    strcmp(a->git.commit, b->git.commit) || a->nphases != b->nphases)
		return false;
	for (size_t i = 0; i < MO_TOTALS; i++)
		if (!same_value(a->total[i], b->total[i]))
			return false;
	return true;
}

const struct mo_summary_phase *summary_phase(const struct mo_summary *s, const char *name)
{
	for (size_t i = 0; i < s->nphases; i++)
		if (!strcmp(s->phases[i].name, name))
			return &s->phases[i];
	return NULL;
}

const struct mo_summary_command *summary_command(const struct mo_summary *s, const char *comm)
{
	for (size_t i = 0; i < s->ncommands; i++)
		if (!strcmp(s->commands[i].comm, comm))
			return &s->commands[i];
	return NULL;
}

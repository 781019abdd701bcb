// SPDX-License-Identifier: GPL-2.0
/* A run's summary as a history line (docs/run-summary.schema.json): the
 * same members as the run document where they mean the same, written from
 * the field tables of summary.h, so that summary_from_json reads them back
 * as it reads a document. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "lib/json_util.h"
#include "model/run_json.h"
#include "model/summary.h"

/* The object holding the last member of path ("totals.rss.peak": totals.rss),
 * created as needed; *leaf points to that member's name. NULL on ENOMEM. */
static cJSON *parent_of(cJSON *obj, const char *path, const char **leaf)
{
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		char key[64];
		size_t len = (size_t)(dot - path) < sizeof(key) - 1 ? (size_t)(dot - path) : sizeof(key) - 1;
		cJSON *next;

		memcpy(key, path, len);
		key[len] = 0;
		next = cJSON_GetObjectItemCaseSensitive(obj, key);
		if (!next && !(next = cJSON_AddObjectToObject(obj, key)))
			return NULL;
		obj = next;
		path = dot + 1;
	}
	*leaf = path;
	return obj;
}

/* A figure at its path (absent when NAN, and heap figures without --heap:
 * they mean nothing then); times with their decimals, sizes and counts
 * exact. */
static bool put(cJSON *obj, const struct mo_summary *s, const struct mo_summary_field *f, double v)
{
	const char *leaf;

	if (isnan(v) || (f->heap && !s->heap_traced))
		return true;
	obj = parent_of(obj, f->path, &leaf);
	if (!obj)
		return false;
	if (f->unit == MO_UNIT_SECONDS)
		return json_add_num(obj, leaf, v, 6);
	return json_add_int(obj, leaf, (int64_t)v);
}

static bool put_strv(cJSON *obj, const char *name, char **v)
{
	cJSON *arr;

	if (!v)
		return cJSON_AddNullToObject(obj, name);
	arr = cJSON_AddArrayToObject(obj, name);
	for (; arr && *v; v++) {
		cJSON *s = json_str(*v);

		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return arr;
}

static bool put_meta(cJSON *doc, const struct mo_summary *s)
{
	cJSON *git;
	bool ok = json_add_int(doc, "schema", RUN_JSON_SCHEMA) && cJSON_AddTrueToObject(doc, "summary") &&
		  json_add_str(doc, "memobs_version", s->memobs_version) && json_add_str(doc, "time_utc", s->time_utc) &&
		  json_add_str(doc, "host", s->host) && json_add_str(doc, "label", s->label) &&
		  put_strv(doc, "command", s->command) &&
		  (s->exit_status >= 0 ? json_add_int(doc, "exit_status", s->exit_status) :
					 cJSON_AddNullToObject(doc, "exit_status")) &&
		  cJSON_AddBoolToObject(doc, "heap_traced", s->heap_traced) &&
		  (!s->document || json_add_str(doc, "document", s->document));

	if (!ok)
		return false;
	if (!s->git.present)
		return cJSON_AddNullToObject(doc, "git");
	git = cJSON_AddObjectToObject(doc, "git");
	return git && json_add_str(git, "commit", s->git.commit) && json_add_str(git, "branch", s->git.branch) &&
	       cJSON_AddBoolToObject(git, "dirty", s->git.dirty);
}

static bool put_phases(cJSON *doc, const struct mo_summary *s)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "phases");

	for (size_t i = 0; arr && i < s->nphases; i++) {
		const struct mo_summary_phase *p = &s->phases[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return false;
		}
		if (!json_add_str(o, "name", p->name) || !json_add_int(o, "windows", p->windows))
			return false;
		for (size_t f = 0; f < MO_PHASE_FIGS; f++)
			if (!put(o, s, &summary_phase_figs[f], p->fig[f]))
				return false;
	}
	return arr && (!s->phases_left_out || json_add_int(doc, "phases_left_out", s->phases_left_out));
}

static bool put_commands(cJSON *doc, const struct mo_summary *s)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "by_command");

	for (size_t i = 0; arr && i < s->ncommands; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return false;
		}
		if (!json_add_str(o, "comm", s->commands[i].comm))
			return false;
		for (size_t f = 0; f < MO_COMMAND_FIGS; f++)
			if (!put(o, s, &summary_command_figs[f], s->commands[i].fig[f]))
				return false;
	}
	return arr && (!s->commands_left_out || json_add_int(doc, "by_command_left_out", s->commands_left_out));
}

static bool put_max(cJSON *doc, const struct mo_summary *s)
{
	cJSON *max = cJSON_AddObjectToObject(doc, "max_process");

	for (size_t f = 0; max && f < MO_MAX_FIGS; f++) {
		const struct mo_summary_max *m = &s->max[f];
		cJSON *o;

		if (!m->present) {
			if (!cJSON_AddNullToObject(max, summary_max_figs[f].name))
				return false;
			continue;
		}
		o = cJSON_AddObjectToObject(max, summary_max_figs[f].name);
		if (!o || !json_add_int(o, "pid", m->pid) || !json_add_str(o, "comm", m->comm) ||
		    !json_add_int(o, "value", (int64_t)m->value))
			return false;
	}
	return max;
}

cJSON *summary_json_build(const struct mo_summary *s)
{
	cJSON *doc = cJSON_CreateObject();
	bool ok = doc && put_meta(doc, s) && cJSON_AddObjectToObject(doc, "totals");

	for (size_t i = 0; ok && i < MO_TOTALS; i++)
		ok = put(doc, s, &summary_totals[i], s->total[i]);
	ok = ok && put_phases(doc, s) && put_commands(doc, s) && put_max(doc, s);
	if (!ok) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

char *summary_json_render(const struct mo_summary *s)
{
	cJSON *doc = summary_json_build(s);
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	return text;
}

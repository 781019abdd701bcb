// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/metrics.h"

#define PHASE_PREFIX "phase."
#define COMMAND_PREFIX "by_command."
#define MAX_PREFIX "max_process."
#define PHASE_FIELDS "duration_s, items, rss.{baseline,peak,end,delta,peak_over_baseline} (peak_over_baseline: " \
	"rss's), heap.{baseline_live,peak_live,end_live,peak_over_baseline,alloc_bytes,alloc_count,free_bytes," \
	"free_count}"
#define COMMAND_FIELDS "rss_peak_max, rss_peak_sum, processes, heap_alloc_bytes"
#define NAMES_HELP "peak_rss, peak_physical, peak_heap, alloc_bytes, alloc_count, duration, " \
	"max_process.{peak_rss,peak_heap}, by_command.COMM.FIELD (FIELD: " COMMAND_FIELDS "), or " \
	"phase.NAME.FIELD (FIELD: " PHASE_FIELDS ")"

enum family {
	TOTAL,
	PHASE,
	COMMAND,
	MAX_PROCESS,
};

/* What a metric name means: a figure of a family, and for phase and
 * command metrics the name inside (it starts at `name`, `len` bytes). */
struct metric_ref {
	enum family family;
	int fig;
	const char *name;
	size_t len;
	const struct mo_summary_field *field;
};

/* Shorter names for phase figures, tried after the full ones: a phase
 * named "a.rss" keeps "phase.a.rss.rss.peak_over_baseline". */
static const struct {
	const char *alias;
	enum mo_phase_fig fig;
} phase_aliases[] = {
	{ "peak_over_baseline", MO_PHASE_RSS_PEAK_OVER_BASELINE },
};

/* "PREFIX NAME . FIELD" with FIELD among the n fields (or aliases): the
 * field's index, -1 when it ends with none. NAME is everything between,
 * so that it may hold dots: the field is the longest known suffix. */
static int split(const char *metric, const char *prefix, const struct mo_summary_field *fields, size_t n,
		 struct metric_ref *ref)
{
	size_t plen = strlen(prefix), len;
	int best = -1;
	size_t best_len = 0;

	if (strncmp(metric, prefix, plen))
		return -1;
	metric += plen;
	len = strlen(metric);
	for (size_t i = 0; i < n; i++) {
		size_t flen = strlen(fields[i].name);

		if (len >= flen + 2 && metric[len - flen - 1] == '.' && !strcmp(metric + len - flen, fields[i].name) &&
		    flen > best_len) {
			best = i;
			best_len = flen;
		}
	}
	for (size_t i = 0; best < 0 && fields == summary_phase_figs && i < sizeof(phase_aliases) / sizeof(phase_aliases[0]);
	     i++) {
		size_t flen = strlen(phase_aliases[i].alias);

		if (len >= flen + 2 && metric[len - flen - 1] == '.' && !strcmp(metric + len - flen, phase_aliases[i].alias)) {
			best = phase_aliases[i].fig;
			best_len = flen;
		}
	}
	if (best < 0)
		return -1;
	ref->name = metric;
	ref->len = len - best_len - 1;
	ref->fig = best;
	ref->field = &fields[best];
	return best;
}

static int find(const struct mo_summary_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, fields[i].name))
			return i;
	return -1;
}

/* 0 with *ref, or -EINVAL when the name is no metric. */
static int resolve(const char *metric, struct metric_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	if ((ref->fig = find(summary_totals, MO_TOTALS, metric)) >= 0) {
		ref->family = TOTAL;
		ref->field = &summary_totals[ref->fig];
		return 0;
	}
	if (!strncmp(metric, MAX_PREFIX, strlen(MAX_PREFIX)) &&
	    (ref->fig = find(summary_max_figs, MO_MAX_FIGS, metric + strlen(MAX_PREFIX))) >= 0) {
		ref->family = MAX_PROCESS;
		ref->field = &summary_max_figs[ref->fig];
		return 0;
	}
	ref->family = PHASE;
	if (split(metric, PHASE_PREFIX, summary_phase_figs, MO_PHASE_FIGS, ref) >= 0)
		return 0;
	ref->family = COMMAND;
	if (split(metric, COMMAND_PREFIX, summary_command_figs, MO_COMMAND_FIGS, ref) >= 0)
		return 0;
	return -EINVAL;
}

int metrics_check_name(const char *name, char *err, size_t errlen)
{
	struct metric_ref ref;

	if (!resolve(name, &ref))
		return 0;
	if (!strncmp(name, PHASE_PREFIX, strlen(PHASE_PREFIX)))
		snprintf(err, errlen, "'%s' is not a phase metric: write phase.NAME.FIELD, FIELD one of " PHASE_FIELDS,
			 name);
	else if (!strncmp(name, COMMAND_PREFIX, strlen(COMMAND_PREFIX)))
		snprintf(err, errlen, "'%s' is not a command metric: write by_command.COMM.FIELD, FIELD one of "
			 COMMAND_FIELDS, name);
	else if (!strncmp(name, MAX_PREFIX, strlen(MAX_PREFIX)))
		snprintf(err, errlen, "'%s' is not a metric: write max_process.peak_rss or max_process.peak_heap", name);
	else
		snprintf(err, errlen, "unknown metric '%s': use " NAMES_HELP, name);
	return -EINVAL;
}

enum mo_unit metrics_unit(const char *name)
{
	struct metric_ref ref;

	return resolve(name, &ref) ? MO_UNIT_COUNT : ref.field->unit;
}

/* A run recorded without --heap has heap figures of 0 that mean "not
 * measured": they are absent, not a baseline to gate against. */
static bool unmeasured(const struct mo_summary *run, const struct mo_summary_field *f)
{
	return f->heap && !run->heap_traced;
}

int metrics_phase(const struct mo_summary *run, const char *phase, enum mo_phase_fig fig, double *out)
{
	const struct mo_summary_phase *p = summary_phase(run, phase);

	if (!p || isnan(p->fig[fig]) || unmeasured(run, &summary_phase_figs[fig]))
		return -ENOENT;
	*out = p->fig[fig];
	return 0;
}

int metrics_command(const struct mo_summary *run, const char *comm, enum mo_command_fig fig, double *out)
{
	const struct mo_summary_command *c = summary_command(run, comm);

	if (!c || isnan(c->fig[fig]) || unmeasured(run, &summary_command_figs[fig]))
		return -ENOENT;
	*out = c->fig[fig];
	return 0;
}

/* A phase or command figure: the name inside the metric copied to name. */
static int get_named(const struct mo_summary *run, const char *metric, const struct metric_ref *ref, double *out,
		     char *err, size_t errlen)
{
	bool phase = ref->family == PHASE;
	char name[METRICS_NAME_MAX];
	size_t kept = phase ? run->phases_left_out : run->commands_left_out;

	if (ref->len >= sizeof(name)) {
		snprintf(err, errlen, "metric '%.40s...' is too long", metric);
		return -EINVAL;
	}
	memcpy(name, ref->name, ref->len);
	name[ref->len] = 0;
	if (phase ? !summary_phase(run, name) : !summary_command(run, name)) {
		snprintf(err, errlen, "%s: the run has no %s '%s'%s", metric, phase ? "phase" : "process named", name,
			 kept ? (phase ? " among the phase names its summary keeps" :
				 " among the commands its summary keeps") : "");
		return -ENOENT;
	}
	if (phase ? metrics_phase(run, name, ref->fig, out) : metrics_command(run, name, ref->fig, out)) {
		snprintf(err, errlen, "%s: %s '%s' of the run has no %s figure%s", metric, phase ? "phase" : "command",
			 name, ref->field->name, unmeasured(run, ref->field) ? " (it was recorded without --heap)" : "");
		return -ENOENT;
	}
	return 0;
}

/* A total, or the largest process's figure. */
static int get_value(const struct mo_summary *run, const char *metric, const struct metric_ref *ref, double *out,
		     char *err, size_t errlen)
{
	double v = ref->family == TOTAL ? run->total[ref->fig] :
		   run->max[ref->fig].present ? run->max[ref->fig].value : NAN;

	if (unmeasured(run, ref->field)) {
		snprintf(err, errlen, "%s: the run was recorded without --heap", metric);
		return -ENOENT;
	}
	if (isnan(v)) {
		snprintf(err, errlen, "%s: the run has no %s figure%s", metric,
			 ref->family == TOTAL ? ref->field->path : "process", ref->field->heap ?
			 " (was it recorded without --heap?)" : "");
		return -ENOENT;
	}
	*out = v;
	return 0;
}

int metrics_get(const struct mo_summary *run, const char *name, double *out, char *err, size_t errlen)
{
	struct metric_ref ref;

	if (resolve(name, &ref))
		return metrics_check_name(name, err, errlen);
	if (ref.family == PHASE || ref.family == COMMAND)
		return get_named(run, name, &ref, out, err, errlen);
	return get_value(run, name, &ref, out, err, errlen);
}

const char *metrics_who(const struct mo_summary *run, const char *name, char *buf, size_t len)
{
	struct metric_ref ref;
	const struct mo_summary_max *m;

	if (resolve(name, &ref) || ref.family != MAX_PROCESS || !run->max[ref.fig].present)
		return NULL;
	m = &run->max[ref.fig];
	snprintf(buf, len, "%s (pid %d)", m->comm, m->pid);
	return buf;
}

/* A percentage: digits with at most one dot, then an optional '%'. */
static int parse_pct(const char *s, double *out)
{
	const char *p = s;
	bool dot = false, digit = false;

	for (; isdigit((unsigned char)*p) || (*p == '.' && !dot); p++) {
		dot |= *p == '.';
		digit |= *p != '.';
	}
	if (!digit || (*p && strcmp(p, "%")))
		return -EINVAL;
	*out = strtod(s, NULL);
	/* 400 digits overflow to +inf: a bound that never fails, so refused. */
	return isfinite(*out) ? 0 : -ERANGE;
}

int metrics_parse_threshold(const char *arg, struct mo_threshold *t, char *err, size_t errlen)
{
	const char *eq = strrchr(arg, '=');
	size_t mlen = eq ? (size_t)(eq - arg) : 0;
	char why[512];

	if (!eq || !mlen) {
		snprintf(err, errlen, "'%s': expected METRIC=PCT, e.g. peak_rss=10%%", arg);
		return -EINVAL;
	}
	if (mlen >= sizeof(t->metric)) {
		snprintf(err, errlen, "'%.40s...': metric name too long", arg);
		return -EINVAL;
	}
	memcpy(t->metric, arg, mlen);
	t->metric[mlen] = 0;
	if (metrics_check_name(t->metric, why, sizeof(why))) {
		snprintf(err, errlen, "'%s': %s", arg, why);
		return -EINVAL;
	}
	if (!eq[1]) {
		snprintf(err, errlen, "'%s': missing the allowed growth after '=', e.g. %s=10%%", arg, t->metric);
		return -EINVAL;
	}
	if (eq[1] == '-') {
		snprintf(err, errlen, "'%s': the allowed growth cannot be negative (0%% allows no growth)", arg);
		return -EINVAL;
	}
	if (parse_pct(eq + 1, &t->max_growth_pct)) {
		snprintf(err, errlen, "'%s': '%s' is not a percentage (e.g. 10%%, 10 or 0.5%%)", arg, eq + 1);
		return -EINVAL;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib/json_util.h"
#include "scale/scale_json.h"

static const char *const unit_names[] = {
	[MO_UNIT_BYTES] = "bytes",
	[MO_UNIT_SECONDS] = "seconds",
	[MO_UNIT_COUNT] = "count",
};

/* A fitted figure: ten significant digits say more than a byte count's
 * rounding would (b of an N^3 curve is a small fraction of a byte). */
static cJSON *add_real(cJSON *obj, const char *name, double v)
{
	char buf[32];

	if (!isfinite(v))
		return cJSON_AddNullToObject(obj, name);
	snprintf(buf, sizeof(buf), "%.10g", v);
	return json_add_item(obj, name, cJSON_CreateRaw(buf));
}

/* A measured value in its unit: whole bytes and counts, seconds to the ns. */
static cJSON *add_value(cJSON *obj, const char *name, double v, enum mo_unit unit)
{
	return unit == MO_UNIT_SECONDS ? json_add_num(obj, name, v, 9) : json_add_int(obj, name, llround(v));
}

static bool add_fit(cJSON *obj, const char *name, const struct mo_fit *f)
{
	cJSON *o = cJSON_AddObjectToObject(obj, name);

	return o && add_real(o, "a", f->a) && add_real(o, "b", f->b) && add_real(o, "k", f->k) &&
	       add_real(o, "k_free", f->k_free) && add_real(o, "k_lo", f->k_lo) && add_real(o, "k_hi", f->k_hi) &&
	       cJSON_AddBoolToObject(o, "snapped", f->snapped) &&
	       add_real(o, "r2", f->r2) && add_real(o, "rmse_rel", f->rmse_rel) &&
	       cJSON_AddBoolToObject(o, "through_origin", f->origin) &&
	       cJSON_AddStringToObject(o, "shape", fit_shape_name(f->shape)) &&
	       add_real(o, "per_unit", f->shape == MO_FIT_LINEAR && f->k == 1 ? f->b : NAN) &&
	       add_real(o, "n_min", f->n_min) && add_real(o, "n_max", f->n_max);
}

static bool add_points(cJSON *obj, const struct mo_scale_metric *m)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "points");

	if (!arr)
		return false;
	for (size_t i = 0; i < m->npoints; i++) {
		cJSON *p = cJSON_CreateObject();

		if (!p || !cJSON_AddItemToArray(arr, p)) {
			cJSON_Delete(p);
			return false;
		}
		if (!json_add_int(p, "size", (int64_t)m->points[i].size) || !add_real(p, "n", m->points[i].n) ||
		    !add_value(p, "value", m->points[i].value, m->unit))
			return false;
	}
	return true;
}

static bool add_prediction(cJSON *obj, const struct mo_scale *s, const struct mo_scale_metric *m)
{
	double value, n, interval;
	cJSON *p;

	if (!s->setup.predict || scale_predict(m, (double)s->setup.predict, &value, &n, &interval))
		return true;
	p = cJSON_AddObjectToObject(obj, "prediction");
	return p && json_add_int(p, "size", (int64_t)s->setup.predict) && add_real(p, "n", n) &&
	       add_value(p, "value", value, m->unit) &&
	       (isfinite(interval) ? add_value(p, "interval_95", interval, m->unit) != NULL :
				     cJSON_AddNullToObject(p, "interval_95") != NULL) &&
	       cJSON_AddBoolToObject(p, "reliable", scale_reliable(m, value, interval));
}

static bool add_metric(cJSON *arr, const struct mo_scale *s, const struct mo_scale_metric *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (!json_add_str(o, "name", m->name) || !cJSON_AddStringToObject(o, "unit", unit_names[m->unit]) ||
	    !cJSON_AddStringToObject(o, "n", m->by_items ? "items" : "size") || !add_points(o, m))
		return false;
	if (m->err)
		return cJSON_AddNullToObject(o, "fit") && json_add_str(o, "error", m->why);
	if (!add_fit(o, "fit", &m->fit) || (m->by_items && !add_fit(o, "items_fit", &m->items_fit)))
		return false;
	return add_prediction(o, s, m);
}

static bool add_setup(cJSON *doc, const struct mo_scale *s)
{
	cJSON *cmd = cJSON_AddArrayToObject(doc, "command"), *sizes;

	if (!cmd)
		return false;
	for (char **a = s->setup.command; a && *a; a++) {
		cJSON *item = json_str(*a);

		if (!item || !cJSON_AddItemToArray(cmd, item)) {
			cJSON_Delete(item);
			return false;
		}
	}
	if (!json_add_str(doc, "env", s->setup.env) || !(sizes = cJSON_AddArrayToObject(doc, "sizes")))
		return false;
	for (size_t i = 0; i < s->setup.nsizes; i++) {
		cJSON *item = json_int((int64_t)s->setup.sizes[i]);

		if (!item || !cJSON_AddItemToArray(sizes, item)) {
			cJSON_Delete(item);
			return false;
		}
	}
	return json_add_int(doc, "repeat", s->setup.repeat) && cJSON_AddBoolToObject(doc, "heap_traced", s->setup.heap);
}

static bool add_method(cJSON *doc)
{
	cJSON *m = cJSON_AddObjectToObject(doc, "method"), *snaps;

	if (!m || !cJSON_AddStringToObject(m, "model", "a + b*N^k") ||
	    !cJSON_AddStringToObject(m, "search", "k by grid and golden section, a and b by least squares") ||
	    !add_real(m, "k_min", FIT_K_MIN) || !add_real(m, "k_max", FIT_K_MAX) ||
	    !add_real(m, "linear_tolerance", FIT_TOL) || !add_real(m, "constant_tolerance", FIT_CONST_TOL) ||
	    !json_add_int(m, "noise_floor_bytes", SCALE_NOISE_BYTES) ||
	    !add_real(m, "noise_floor_seconds", SCALE_NOISE_SECONDS) || !add_real(m, "snap_r2", FIT_SNAP_R2) || !add_real(m, "min_r2", FIT_MIN_R2) ||
	    !(snaps = cJSON_AddArrayToObject(m, "snap_exponents")))
		return false;
	for (size_t i = 0; i < FIT_NSNAP; i++) {
		cJSON *item = cJSON_CreateNumber(fit_snap_exponents[i]);

		if (!item || !cJSON_AddItemToArray(snaps, item)) {
			cJSON_Delete(item);
			return false;
		}
	}
	return true;
}

static bool add_answers(cJSON *doc, const struct mo_scale *s)
{
	struct mo_scale_budget b;
	char err[256];
	cJSON *o;

	if (!s->setup.predict)
		return cJSON_AddNullToObject(doc, "prediction") && cJSON_AddNullToObject(doc, "budget");
	o = cJSON_AddObjectToObject(doc, "prediction");
	if (!o || !json_add_int(o, "size", (int64_t)s->setup.predict))
		return false;
	if (!s->setup.budget)
		return cJSON_AddNullToObject(doc, "budget");
	o = cJSON_AddObjectToObject(doc, "budget");
	if (!o || !cJSON_AddStringToObject(o, "metric", "peak_rss") ||
	    !json_add_int(o, "size", (int64_t)s->setup.predict) || !json_add_int(o, "bytes", (int64_t)s->setup.budget))
		return false;
	if (scale_budget(s, &b, err, sizeof(err)))
		return cJSON_AddNullToObject(o, "fits") && json_add_str(o, "error", err);
	return json_add_int(o, "predicted", llround(b.predicted)) &&
	       (isfinite(b.interval) ? json_add_int(o, "interval_95", llround(b.interval)) != NULL :
				       cJSON_AddNullToObject(o, "interval_95") != NULL) &&
	       json_add_int(o, "margin", llround(b.margin)) && cJSON_AddBoolToObject(o, "fits", b.fits) &&
	       cJSON_AddBoolToObject(o, "fits_upper", b.fits_upper);
}

static bool add_runs(cJSON *doc, const struct mo_scale *s)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "runs");

	if (!arr)
		return false;
	for (size_t i = 0; i < s->nruns; i++) {
		cJSON *o = cJSON_CreateObject(), *run;

		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return false;
		}
		run = cJSON_Duplicate(s->runs[i].doc, true);
		if (!json_add_int(o, "size", (int64_t)s->runs[i].size) || !json_add_int(o, "repeat", s->runs[i].repeat) ||
		    !run || !cJSON_AddItemToObject(o, "run", run)) {
			cJSON_Delete(run);
			return false;
		}
	}
	return true;
}

static cJSON *build(const struct mo_scale *s)
{
	cJSON *doc = cJSON_CreateObject(), *metrics;

	if (!doc || !json_add_int(doc, "schema", SCALE_JSON_SCHEMA) ||
	    !cJSON_AddStringToObject(doc, "kind", SCALE_JSON_KIND) ||
	    !cJSON_AddStringToObject(doc, "memobs_version", MEMOBS_VERSION) || !add_setup(doc, s) || !add_method(doc) ||
	    !(metrics = cJSON_AddArrayToObject(doc, "metrics")))
		goto fail;
	for (size_t i = 0; i < s->nmetrics; i++)
		if (!add_metric(metrics, s, &s->metrics[i]))
			goto fail;
	if (!add_answers(doc, s) || !add_runs(doc, s))
		goto fail;
	return doc;
fail:
	cJSON_Delete(doc);
	return NULL;
}

char *scale_json_render(const struct mo_scale *s)
{
	cJSON *doc = build(s);
	char *text = doc ? cJSON_Print(doc) : NULL;

	cJSON_Delete(doc);
	return text;
}

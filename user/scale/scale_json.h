/* SPDX-License-Identifier: GPL-2.0 */
/* A scaling sweep as one JSON document, the run set: what was asked (the
 * command with its {}, sizes, repeats), the method and its tolerances,
 * every metric with its points (medians per size) and its fit, the
 * prediction and the budget answer, and the summary of every run (a run
 * document without its processes, timeline and stacks, as the history keeps
 * runs). Measured values are exact integers of bytes (seconds for
 * durations); fitted coefficients are doubles.
 *
 *   {"schema": 1, "kind": "memobs-scale", "memobs_version": "...",
 *    "command": ["./build", "--pages", "{}"], "env": null, "sizes": [100, 1000, 5000],
 *    "repeat": 1, "heap_traced": false,
 *    "method": {"model": "a + b*N^k", "k_min": 0.05, "k_max": 4, "linear_tolerance": 0.1, ...},
 *    "metrics": [{"name": "peak_rss", "unit": "bytes", "n": "size",
 *                 "points": [{"size": 100, "n": 100, "value": 7340032}, ...],
 *                 "fit": {"a": ..., "b": ..., "k": 1, "k_free": 1.002, "snapped": true, "r2": 0.9999,
 *                         "rmse_rel": 0.001, "shape": "linear", "per_unit": 65536.2},
 *                 "prediction": {"size": 10000, "n": 10000, "value": ...}}, ...],
 *    "prediction": {"size": 10000},
 *    "budget": {"metric": "peak_rss", "size": 10000, "bytes": ..., "predicted": ..., "margin": ..., "fits": true},
 *    "runs": [{"size": 100, "repeat": 1, "run": {...}}, ...]}
 *
 * A metric that cannot be fitted has "fit": null and "error"; one fitted
 * against items has "n": "items" and "items_fit" (items against the size);
 * "per_unit" is b when the model is linear, else null; "r2" is null for a
 * constant. */
#ifndef MO_SCALE_JSON_H
#define MO_SCALE_JSON_H

#include "scale/scale.h"

#define SCALE_JSON_SCHEMA 1
#define SCALE_JSON_KIND "memobs-scale"

/* The run set as pretty-printed text; caller frees. NULL on ENOMEM. */
char *scale_json_render(const struct mo_scale *s);

#endif

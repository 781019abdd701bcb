/* SPDX-License-Identifier: GPL-2.0 */
/* A run as input for benchmark trackers:
 *  - github-action-benchmark, tool "customSmallerIsBetter": a JSON array of
 *    {"name", "unit", "value"}; names are memobs metric names (peak_rss,
 *    phase.render.rss.peak, ...), sizes in MiB so that charts read well;
 *  - Bencher Metric Format: {"BENCH": {"peak-rss": {"value": N}, ...},
 *    "BENCH/phase/NAME": {...}}, BENCH the run's label, else its command
 *    line; sizes in exact bytes.
 * Figures the run lacks (heap without --heap) are left out; so is the root
 * phase "main", which repeats the totals. */
#ifndef MO_REPORT_BENCH_H
#define MO_REPORT_BENCH_H

#include "model/summary.h"

/* Render run (its summary) for github-action-benchmark into *out (formatted JSON, caller
 * frees with cJSON_free). 0 or -ENOMEM. */
int report_bench_gh(const struct mo_summary *run, char **out);

/* Render run in Bencher Metric Format into *out (formatted JSON, caller
 * frees with cJSON_free). 0 or -ENOMEM. */
int report_bench_bencher(const struct mo_summary *run, char **out);

#endif

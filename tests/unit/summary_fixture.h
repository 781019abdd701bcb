/* SPDX-License-Identifier: GPL-2.0 */
/* Run summaries (model/summary.h) from JSON text, for the tests of what
 * reads them: the metrics, the gate, compare, the bench exports. */
#ifndef MO_SUMMARY_FIXTURE_H
#define MO_SUMMARY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "model/summary.h"

/* The summary of a run document or summary line; NULL (said) when the
 * text is no JSON. Free with summary_del. */
static inline struct mo_summary *summary_of(const char *json)
{
	cJSON *doc = cJSON_Parse(json);
	struct mo_summary *s = calloc(1, sizeof(*s));

	if (!doc || !s || summary_from_json(doc, s)) {
		fprintf(stdout, "# bad test JSON: %s\n", json);
		free(s);
		s = NULL;
	}
	cJSON_Delete(doc);
	return s;
}

static inline void summary_del(struct mo_summary *s)
{
	if (s)
		summary_free(s);
	free(s);
}

#endif

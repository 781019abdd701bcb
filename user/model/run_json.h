/* SPDX-License-Identifier: GPL-2.0 */
/* The run document as JSON (docs/run-document.schema.json): rendered from
 * a struct mo_run (run_json.c), and read back into one for reports
 * (run_json_read.c). */
#ifndef MO_RUN_JSON_H
#define MO_RUN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "model/run.h"

#define RUN_JSON_SCHEMA 1

/* Each view of a phase's sites: its member of "heap" and its bytes' key. */
struct run_json_site_view {
	const char *member;
	const char *bytes;
};
extern const struct run_json_site_view run_json_site_views[MO_PHASE_SITE_VIEWS];

/* The document as a cJSON tree (caller deletes), NULL on ENOMEM. */
cJSON *run_json_build(const struct mo_run *run);

/* The document as text, one line when !pretty (history lines). Caller
 * frees; NULL on ENOMEM. */
char *run_json_render(const struct mo_run *run, bool pretty);

/* Fill run (run_init'ed; free with run_free) from a parsed document.
 * Fields a document lacks stay at their defaults. 0, or -EINVAL with the
 * reason in err when it is not a memobs run document of this schema. */
int run_json_parse(const cJSON *doc, struct mo_run *run, char *err, size_t errlen);

#endif

// SPDX-License-Identifier: GPL-2.0
/* Run documents (memobs report RUN, compare/check on files): parse, read into
 * struct mo_run, render back and summarize as `memobs report` does. */
#include <cjson/cJSON.h>
#include "fuzz.h"
#include "report/report_text.h"
#include "model/run.h"
#include "model/run_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	struct mo_run run;
	char err[256];
	char *text;

	if (!doc)
		return 0;
	run_init(&run);
	if (!run_json_parse(doc, &run, err, sizeof(err))) {
		text = run_json_render(&run, false);
		FUZZ_ASSERT(text);
		cJSON_Delete(cJSON_Parse(text));
		free(text);
		report_text(fuzz_sink(), &run);
	} else {
		FUZZ_ASSERT(err[0]);
	}
	run_free(&run);
	cJSON_Delete(doc);
	return 0;
}

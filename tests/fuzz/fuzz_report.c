// SPDX-License-Identifier: GPL-2.0
/* memobs report RUN on any run document: the SVG timeline, the HTML page
 * and folded stacks, drawn from what run_json_parse read. */
#include <cjson/cJSON.h>
#include "fuzz.h"
#include "report/report_folded.h"
#include "report/report_html.h"
#include "report/report_svg.h"
#include "model/run.h"
#include "model/run_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_svg_opts svg = { .processes = REPORT_SVG_MAX_PROCESSES };
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	struct mo_run run;
	char err[256];

	if (!doc)
		return 0;
	run_init(&run);
	if (!run_json_parse(doc, &run, err, sizeof(err))) {
		FUZZ_ASSERT(!report_svg(fuzz_sink(), &run, &svg));
		FUZZ_ASSERT(!report_html(fuzz_sink(), &run, 3));
		for (int w = MO_FOLD_ALLOC; w <= MO_FOLD_RSS; w++)
			report_folded(fuzz_sink(), &run, w, w == MO_FOLD_RSS);
	}
	run_free(&run);
	cJSON_Delete(doc);
	return 0;
}

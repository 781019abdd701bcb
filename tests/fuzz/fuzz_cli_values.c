// SPDX-License-Identifier: GPL-2.0
/* Values people type: sizes (--sample-bytes 512KiB), growth thresholds
 * (check --max-growth peak_rss=10%), metric names. */
#include <math.h>
#include "fuzz.h"
#include "metrics.h"
#include "units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), err[256];
	struct mo_threshold t;
	uint64_t bytes;

	err[0] = 0;
	if (!units_parse_size(s, &bytes, err, sizeof(err)))
		FUZZ_ASSERT(bytes <= INT64_MAX);
	else
		FUZZ_ASSERT(err[0]);
	err[0] = 0;
	if (!metrics_parse_threshold(s, &t, err, sizeof(err))) {
		FUZZ_ASSERT(memchr(t.metric, 0, sizeof(t.metric)));
		FUZZ_ASSERT(t.max_growth_pct >= 0 && isfinite(t.max_growth_pct));
		FUZZ_ASSERT(!metrics_check_name(t.metric, err, sizeof(err)));
	} else {
		FUZZ_ASSERT(err[0]);
	}
	free(s);
	return 0;
}

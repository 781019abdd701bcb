// SPDX-License-Identifier: GPL-2.0
/* Values people type: sizes (--sample-bytes 512KiB), growth thresholds
 * (check --max-growth peak_rss=10%), metric names, the -a filters
 * (--comm a,b, -p 1,2, --uid). */
#include <math.h>
#include "observe/filters.h"
#include "fuzz.h"
#include "model/metrics.h"
#include "lib/units.h"
#include "lib/users.h"

static void fuzz_filters(const char *s)
{
	struct mo_filters f = { 0 };
	pid_t *pids = NULL;
	size_t npids = 0;
	char err[256];
	uid_t uid;

	if (!filters_add_comms(&f, s, err, sizeof(err)))
		for (size_t i = 0; i < f.ncomms; i++)
			FUZZ_ASSERT(f.comms[i][0] && !f.comms[i][MO_COMM_LEN - 1]);
	filters_free(&f);
	if (!filters_parse_pids(s, &pids, &npids, err, sizeof(err)))
		for (size_t i = 0; i < npids; i++)
			FUZZ_ASSERT(pids[i] > 0);
	free(pids);
	/* Numbers only: a name would be looked up in the user database. */
	if (s[strspn(s, "0123456789+-")] == 0 && !users_parse(s, &uid))
		FUZZ_ASSERT(uid != (uid_t)-1);
}

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
	fuzz_filters(s);
	free(s);
	return 0;
}

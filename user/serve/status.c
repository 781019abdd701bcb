// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "serve/status.h"
#include "lib/termesc.h"
#include "lib/units.h"

void status_format(char *buf, size_t len, double elapsed_s, int64_t nprocs, int64_t rss, int64_t rss_peak,
		   int64_t heap_live, const char *phase)
{
	char a[32], b[32], c[32], name[256];
	int n;

	n = snprintf(buf, len, "memobs %.1fs  %lld proc%s  RSS %s (peak %s)", elapsed_s, (long long)nprocs,
		     nprocs == 1 ? "" : "s", units_fmt_size(rss, a, sizeof(a)), units_fmt_size(rss_peak, b, sizeof(b)));
	if (n > 0 && (size_t)n < len && heap_live >= 0)
		n += snprintf(buf + n, len - n, "  heap %s", units_fmt_size(heap_live, c, sizeof(c)));
	if (n > 0 && (size_t)n < len && phase)
		snprintf(buf + n, len - n, "  phase %s", termesc_name(phase, name, sizeof(name)));
}

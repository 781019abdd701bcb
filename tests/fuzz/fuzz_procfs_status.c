// SPDX-License-Identifier: GPL-2.0
/* The text of /proc/PID/status (procfs_parse_status): any bytes, any length. */
#include "fuzz.h"
#include "lib/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_proc_status st;

	if (procfs_parse_status((const char *)data, size, &st))
		return 0;
	FUZZ_ASSERT(memchr(st.name, 0, sizeof(st.name)));
	for (int i = 0; i < PROCFS_RSS_NR; i++)
		FUZZ_ASSERT(st.rss[i] >= 0);
	return 0;
}

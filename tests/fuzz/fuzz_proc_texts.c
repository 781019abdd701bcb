// SPDX-License-Identifier: GPL-2.0
/* Other texts memobs reads from /proc: /proc/PID/cgroup (the v2 path) and
 * /proc/self/mountinfo (where cgroup2 is mounted). */
#include "observe/cgroups.h"
#include "fuzz.h"
#include "lib/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), path[256];

	/* A short buffer too, so that the too-long path is taken. */
	for (size_t len = 8; len <= sizeof(path); len *= 32) {
		memset(path, 'x', sizeof(path));
		if (!procfs_parse_cgroup(s, path, len))
			FUZZ_ASSERT(memchr(path, 0, len) && path[0] == '/');
		memset(path, 'x', sizeof(path));
		if (!cgroups_parse_mountinfo(s, path, len))
			FUZZ_ASSERT(memchr(path, 0, len) && path[0] == '/');
	}
	free(s);
	return 0;
}

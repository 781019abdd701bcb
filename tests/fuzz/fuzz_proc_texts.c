// SPDX-License-Identifier: GPL-2.0
/* Other texts memobs reads from /proc and cgroupfs: /proc/PID/cgroup (the
 * v2 path, a v1 controller's), /proc/self/mountinfo (where a hierarchy is
 * mounted), where the command's memory cgroup goes (both together),
 * memory.stat of either version, smaps_rollup, /proc/PID/stat's start
 * time, and the cgroup v2 files that decide the command's cgroup. */
#include "observe/cgroups.h"
#include "observe/memcg.h"
#include "fuzz.h"
#include "lib/procfs.h"

static void placement(const char *s)
{
	struct mo_memcg_v2_files f = { s, s, s, s };
	struct mo_memcg_v2_plan plan;
	struct mo_memcg_place pl;
	struct mo_memcg_stat st;
	char why[256];
	uint64_t ticks;
	struct mo_pss pss;

	if (!memcg_locate(s, s, &pl, why, sizeof(why)))
		FUZZ_ASSERT(pl.dir[0] == '/' && pl.path[0] == '/' && (pl.version == MO_MEMCG_V1 || pl.version == MO_MEMCG_V2));
	if (memcg_v2_plan(&f, 1, &plan, why, sizeof(why)))
		FUZZ_ASSERT(memchr(why, 0, sizeof(why)));
	for (int v = MO_MEMCG_V1; v <= MO_MEMCG_V2; v++)
		if (!memcg_parse_stat(s, v, &st))
			FUZZ_ASSERT(st.anon >= 0 && st.file >= 0);
	if (!procfs_parse_pss(s, strlen(s), &pss))
		FUZZ_ASSERT(pss.pss >= 0 && pss.anon >= 0 && pss.file >= 0 && pss.shmem >= 0);
	procfs_parse_start_ticks(s, &ticks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), path[256], root[256];

	/* A short buffer too, so that the too-long path is taken. */
	for (size_t len = 8; len <= sizeof(path); len *= 32) {
		memset(path, 'x', sizeof(path));
		if (!procfs_parse_cgroup(s, path, len))
			FUZZ_ASSERT(memchr(path, 0, len) && path[0] == '/');
		memset(path, 'x', sizeof(path));
		if (!procfs_parse_cgroup_v1(s, "memory", path, len))
			FUZZ_ASSERT(memchr(path, 0, len) && path[0] == '/');
		memset(path, 'x', sizeof(path));
		if (!cgroups_parse_mountinfo(s, path, len))
			FUZZ_ASSERT(memchr(path, 0, len) && path[0] == '/');
		if (!cgroups_parse_hierarchy(s, "memory", path, len, root, len))
			FUZZ_ASSERT(memchr(path, 0, len) && path[0] == '/' && root[0] == '/');
	}
	placement(s);
	free(s);
	return 0;
}

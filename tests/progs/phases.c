// SPDX-License-Identifier: GPL-2.0
/* Known phases (issue 3): "big" allocates and touches 64 MiB then frees it,
 * "small" then 16 MiB, "leak" keeps 8 MiB to the end. Each phase reports
 * items. Usage: phases [SCALE_PERCENT] (default 100). */
#include <stdlib.h>
#include <string.h>
#include <memobs/markers.h>

#define MiB ((size_t)1024 * 1024)

static char *alloc_touch(size_t bytes)
{
	char *p = malloc(bytes);

	if (p)
		memset(p, 1, bytes);
	return p;
}

/* A function of its own, so that the leak's stack names it. */
__attribute__((noinline)) static char *keep_leaked(size_t bytes)
{
	return alloc_touch(bytes);
}

int main(int argc, char **argv)
{
	size_t scale = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	char *big, *small, *leak;

	MEMOBS_PHASE_BEGIN("big");
	big = alloc_touch(64 * MiB * scale / 100);
	MEMOBS_ITEMS(64);
	free(big);
	MEMOBS_PHASE_END("big");

	MEMOBS_PHASE_BEGIN("small");
	small = alloc_touch(16 * MiB * scale / 100);
	MEMOBS_ITEMS(16);
	free(small);
	MEMOBS_PHASE_END("small");

	MEMOBS_PHASE_BEGIN("leak");
	leak = keep_leaked(8 * MiB * scale / 100);
	MEMOBS_ITEMS(8);
	MEMOBS_PHASE_END("leak");
	MEMOBS_MARK("done");
	return leak ? 0 : 1;
}

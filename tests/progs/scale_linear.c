// SPDX-License-Identifier: GPL-2.0
/* Known shape for memobs scale: memory exactly linear in N. Inside phase
 * "build" it touches N x 64 KiB (one block, every page) and counts 2N items
 * (two records per unit), so the phase costs 32 KiB per item and the run
 * 64 KiB per unit of N. Usage: scale_linear N */
#include <stdlib.h>
#include <memobs/markers.h>

#define UNIT (64 << 10)

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	volatile char *p;

	MEMOBS_PHASE_BEGIN("build");
	p = malloc(n * UNIT);
	if (!p)
		return 1;
	for (size_t i = 0; i < n * UNIT; i += 4096)
		p[i] = 1;
	MEMOBS_ITEMS(2 * n);
	MEMOBS_PHASE_END("build");
	free((void *)p);
	return 0;
}

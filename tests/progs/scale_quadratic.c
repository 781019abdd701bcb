// SPDX-License-Identifier: GPL-2.0
/* Known shape for memobs scale: memory exactly quadratic in N, N^2 x 1 KiB
 * touched (one block, every page: an N x N table of 1 KiB cells).
 * Usage: scale_quadratic N */
#include <stdlib.h>

#define CELL 1024

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	volatile char *p = malloc(n * n * CELL);

	if (!p)
		return 1;
	for (size_t i = 0; i < n * n * CELL; i += 4096)
		p[i] = 1;
	free((void *)p);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Known shape for memobs scale: memory constant in N. Touches 32 MiB
 * whatever N, then does N rounds of work that allocate nothing.
 * Usage: scale_const N */
#include <stdlib.h>

#define FIXED (32 << 20)

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	volatile char *p = malloc(FIXED);
	volatile size_t sum = 0;

	if (!p)
		return 1;
	for (size_t i = 0; i < FIXED; i += 4096)
		p[i] = 1;
	for (size_t i = 0; i < n; i++)
		sum += p[(i * 4096) % FIXED];
	free((void *)p);
	return 0;
}

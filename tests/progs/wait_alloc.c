// SPDX-License-Identifier: GPL-2.0
/* For -p: wait until the file named by argv[1] exists (memobs attached),
 * then allocate and touch MIB MiB, hold HOLD_MS, free, exit.
 * Usage: wait_alloc GO_FILE MIB [HOLD_MS] */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 32;
	long hold = argc > 3 ? atol(argv[3]) : 100;
	struct timespec tick = { 0, 10 * 1000000L }, h = { hold / 1000, (hold % 1000) * 1000000L };
	char *p;

	while (argc > 1 && access(argv[1], F_OK))
		nanosleep(&tick, NULL);
	p = malloc(mib << 20);
	for (size_t i = 0; p && i < mib << 20; i += 4096)
		p[i] = 1;
	nanosleep(&h, NULL);
	free(p);
	return 0;
}

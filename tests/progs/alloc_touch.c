// SPDX-License-Identifier: GPL-2.0
/* Known shape: allocate N MiB with malloc, touch every page, hold, free.
 * Prints its own VmHWM (kB) from /proc/self/status just before exiting, as
 * ground truth. Usage: alloc_touch MIB [HOLD_MS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_hwm(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			printf("VmHWM_kB %ld\n", strtol(line + 6, NULL, 10));
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	long hold_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
	struct timespec hold = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
	char *p = malloc(mib << 20);

	if (!p)
		return 1;
	for (size_t i = 0; i < mib << 20; i += 4096)
		p[i] = 1;
	nanosleep(&hold, NULL);
	free(p);
	print_hwm();
	return 0;
}

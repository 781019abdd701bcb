// SPDX-License-Identifier: GPL-2.0
/* A job of a parallel build, in step with another through files: wait
 * until START exists, allocate and touch MIB MiB, create HELD, hold until
 * UNTIL exists, free, exit. "-" skips a step (MIB 0: only wait).
 * Usage: hold_alloc MIB START [HELD [UNTIL]] */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void wait_for(const char *path)
{
	struct timespec tick = { 0, 5 * 1000000L };

	while (path && strcmp(path, "-") && access(path, F_OK))
		nanosleep(&tick, NULL);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	char *p;
	int fd;

	wait_for(argc > 2 ? argv[2] : NULL);
	p = malloc((mib << 20) + 1);
	for (size_t i = 0; p && i < mib << 20; i += 4096)
		p[i] = 1;
	if (argc > 3 && strcmp(argv[3], "-")) {
		fd = open(argv[3], O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	wait_for(argc > 4 ? argv[4] : NULL);
	free(p);
	return p ? 0 : 1;
}

// SPDX-License-Identifier: GPL-2.0
/* N execve() of one path that fails (a file that is not executable): the
 * cost of an exec as far as the kernel's checks, which under `memobs --` is
 * also one round trip of the exec gate (the seccomp notification, memobs's
 * look at a file it knows, the answer). Prints {"execs": N, "ns_per_exec": X}.
 * Usage: exec_fail N PATH */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *args[] = { argc > 2 ? argv[2] : "/etc/passwd", NULL }, *env[] = { NULL };
	long n = argc > 1 ? atol(argv[1]) : 10000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		if (!execve(args[0], args, env))
			return 2;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("{\"execs\": %ld, \"errno\": %d, \"ns_per_exec\": %.1f}\n", n, errno,
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* A long-running process for `memobs -p PID --heap` (test_heap_pid.py), and
 * the bystander beside it. It keeps the first bytes of malloc as they were
 * at its start (before any probe), so that it can tell whether a breakpoint
 * is in its own copy of malloc's page now. Commands on stdin, one a line,
 * each answered by one line on stdout:
 *   p          "probed 0|1": malloc's bytes differ from those at the start
 *   a N SIZE   N malloc(SIZE)+free pairs: "done"
 *   f N SIZE   fork a child that makes N pairs at once and _exits; waited
 *              for: "child PID"
 *   e N SIZE   the same, the child first exec'ing this program with N SIZE
 *              as arguments (which makes the pairs, and nothing else)
 *   x SIZE     fork a child that mallocs SIZE bytes, keeps them and execs
 *              this program with 0 0 (no pairs): the block dies with the old
 *              program's memory, unfreed; waited for: "child PID"
 *   j          ignore SIGTTOU from now on, as a job-control shell does
 *   q          exit */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPAN 64

static unsigned char original[SPAN];
static volatile unsigned char *entry;

static int probed(void)
{
	for (int i = 0; i < SPAN; i++)
		if (entry[i] != original[i])
			return 1;
	return 0;
}

static void pairs(long n, size_t size)
{
	for (long i = 0; i < n; i++) {
		void *volatile p = malloc(size);

		free(p);
	}
}

int main(int argc, char **argv)
{
	char line[128];
	long n;
	size_t size;

	if (argc == 3) {
		pairs(atol(argv[1]), atol(argv[2]));
		return 0;
	}
	entry = dlsym(RTLD_DEFAULT, "malloc");
	memcpy(original, (const void *)entry, SPAN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'p') {
			printf("probed %d\n", probed());
		} else if (sscanf(line, "a %ld %zu", &n, &size) == 2) {
			pairs(n, size);
			printf("done\n");
		} else if (sscanf(line + 1, " %ld %zu", &n, &size) == 2 && (line[0] == 'f' || line[0] == 'e')) {
			int status;
			pid_t child = fork();

			if (child == 0 && line[0] == 'e') {
				char a[32], b[32];

				snprintf(a, sizeof(a), "%ld", n);
				snprintf(b, sizeof(b), "%zu", size);
				execl("/proc/self/exe", "heap_pid", a, b, (char *)NULL);
				_exit(127);
			}
			if (child == 0) {
				pairs(n, size);
				_exit(0);
			}
			waitpid(child, &status, 0);
			printf("child %d\n", (int)child);
		} else if (sscanf(line, "x %zu", &size) == 1) {
			int status;
			pid_t child = fork();

			if (child == 0) {
				volatile char *kept = malloc(size);

				if (kept)
					kept[0] = 1;
				execl("/proc/self/exe", "heap_pid", "0", "0", (char *)NULL);
				_exit(127);
			}
			waitpid(child, &status, 0);
			printf("child %d\n", (int)child);
		} else if (line[0] == 'j') {
			signal(SIGTTOU, SIG_IGN);
			printf("ignoring SIGTTOU\n");
		} else if (line[0] == 'q') {
			break;
		}
	}
	return 0;
}

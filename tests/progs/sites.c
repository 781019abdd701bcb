// SPDX-License-Identifier: GPL-2.0
/* Known code sites (issue 5), built with frame pointers:
 *   hot_alloc      90% of the allocated bytes (allocated and freed)
 *   cold_alloc     10%
 *   leaky_alloc    keeps 8 MiB: the top of the live bytes
 *   touch_static   writes a 48 MiB static buffer: the top RSS growth site
 * With "child", it also runs itself as a short-lived child that allocates
 * in child_alloc and exits at once.
 * Usage: sites [child] */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024 * 1024)

static char big_static[48 * MiB];
static void *volatile keep[64];

__attribute__((noinline)) void hot_alloc(void)
{
	for (int i = 0; i < 9 * 1024; i++) {
		char *volatile p = malloc(4096);

		free(p);
	}
}

__attribute__((noinline)) void cold_alloc(void)
{
	for (int i = 0; i < 1024; i++) {
		char *volatile p = malloc(4096);

		free(p);
	}
}

__attribute__((noinline)) void leaky_alloc(void)
{
	for (int i = 0; i < 64; i++)
		keep[i] = malloc(128 * 1024);
}

__attribute__((noinline)) void touch_static(void)
{
	for (size_t i = 0; i < sizeof(big_static); i += 4096)
		((volatile char *)big_static)[i] = 1;
}

__attribute__((noinline)) void child_alloc(void)
{
	for (int i = 0; i < 256; i++)
		keep[i % 64] = malloc(16 * 1024);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "be-child")) {
		child_alloc();
		return 0;
	}
	hot_alloc();
	cold_alloc();
	leaky_alloc();
	touch_static();
	if (argc > 1 && !strcmp(argv[1], "child")) {
		pid_t pid = fork();

		if (pid == 0) {
			execl("/proc/self/exe", argv[0], "be-child", (char *)NULL);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Known shape for the process tree: fork N children; child i allocates and
 * touches (i+1)*STEP MiB, prints "child PID VmHWM_kB", exits with status i.
 * With "exec", each child execs alloc_touch instead (same sizes).
 * Usage: children N STEP_MIB [exec] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static void run_child(int i, size_t step, const char *self_dir, int do_exec)
{
	size_t bytes = (size_t)(i + 1) * step << 20;

	if (do_exec) {
		char prog[4096], mib[32];

		snprintf(prog, sizeof(prog), "%s/alloc_touch", self_dir);
		snprintf(mib, sizeof(mib), "%zu", (size_t)(i + 1) * step);
		execl(prog, prog, mib, "20", (char *)NULL);
		_exit(127);
	}
	char *p = malloc(bytes);

	for (size_t off = 0; p && off < bytes; off += 4096)
		p[off] = 1;
	printf("child %d %ld\n", getpid(), vm_hwm_kb());
	fflush(stdout);
	free(p);
	_exit(i);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	size_t step = argc > 2 ? strtoul(argv[2], NULL, 10) : 8;
	int do_exec = argc > 3 && !strcmp(argv[3], "exec");
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", argv[0]);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			run_child(i, step, dir, do_exec);
		if (pid < 0)
			return 1;
	}
	while (wait(NULL) > 0)
		;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Load for --heap: PROCS processes (forked) each make COUNT malloc calls
 * as fast as they can (sizes 16..4111 bytes), keeping the last LIVE blocks
 * outstanding (the oldest is freed when a new one comes), then free the
 * rest. Each child prints "storm PID allocs N seconds S rate R" and exits
 * 0. Bare, that is millions of calls a second; under --heap each call is a
 * trap. Usage: alloc_storm [PROCS [COUNT [LIVE]]] (default 2 1000000 1000) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int storm(long count, long live)
{
	void **ring = calloc(live, sizeof(*ring));
	double t0 = now(), dt;

	if (!ring)
		return 1;
	for (long i = 0; i < count; i++) {
		long slot = i % live;

		free(ring[slot]);
		ring[slot] = malloc(16 + (size_t)(i * 7919 % 4096));
		if (!ring[slot])
			return 1;
	}
	for (long i = 0; i < live; i++)
		free(ring[i]);
	free(ring);
	dt = now() - t0;
	printf("storm %d allocs %ld seconds %.3f rate %.0f\n", getpid(), count, dt, count / dt);
	return 0;
}

int main(int argc, char **argv)
{
	int procs = argc > 1 ? atoi(argv[1]) : 2;
	long count = argc > 2 ? atol(argv[2]) : 1000000;
	long live = argc > 3 ? atol(argv[3]) : 1000;
	int status, failed = 0;

	if (procs < 1 || count < 1 || live < 1)
		return 2;
	fflush(stdout);
	for (int i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (!pid) {
			int rc = storm(count, live);

			fflush(stdout);
			_exit(rc);
		}
	}
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	return failed;
}

// SPDX-License-Identifier: GPL-2.0
/* THREADS threads allocate and fault at once: each, ROUNDS times, mallocs a
 * block of BLOCK_KIB KiB (mmap'd: fresh pages), touches every page, and
 * frees it, so that RSS, its peaks and the live heap change from every CPU
 * together. The threads meet between touching and freeing: the peak is
 * reached there, with every block touched, and the kernel's VmHWM, which it
 * updates only when memory is unmapped, takes it at the first free after.
 * Without the meeting the peak could fall between two unmaps, above VmHWM
 * (up to a block per thread), and VmHWM would be no ground truth. Counts its own live heap with atomics and prints
 * "heap_peak_live B allocs N" and its VmHWM ("VmHWM_kB K") as ground truth.
 * Usage: contend THREADS ROUNDS BLOCK_KIB */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long rounds, block;
static atomic_long live, peak, allocs;
static pthread_barrier_t touched;

static void raise_peak(long v)
{
	long old = atomic_load(&peak);

	while (old < v && !atomic_compare_exchange_weak(&peak, &old, v))
		;
}

static void *worker(void *arg)
{
	long page = sysconf(_SC_PAGESIZE);

	(void)arg;
	for (long r = 0; r < rounds; r++) {
		char *p = malloc(block);

		if (!p)
			abort();
		raise_peak(atomic_fetch_add(&live, block) + block);
		atomic_fetch_add(&allocs, 1);
		for (long i = 0; i < block; i += page)
			((volatile char *)p)[i] = 1;
		pthread_barrier_wait(&touched);
		atomic_fetch_sub(&live, block);
		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t *t = calloc(threads, sizeof(*t));
	char line[256];
	FILE *f;

	rounds = argc > 2 ? atol(argv[2]) : 100;
	block = (argc > 3 ? atol(argv[3]) : 256) << 10;
	/* A fixed threshold: every block is mmap'd and munmap'd, never reused. */
	mallopt(M_MMAP_THRESHOLD, 64 << 10);
	pthread_barrier_init(&touched, NULL, threads);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("heap_peak_live %ld allocs %ld\n", atomic_load(&peak), atomic_load(&allocs));
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			printf("VmHWM_kB %ld\n", strtol(line + 6, NULL, 10));
	return 0;
}

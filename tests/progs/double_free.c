// SPDX-License-Identifier: GPL-2.0
/* Two threads free the same block at the same instant, ROUNDS times: a
 * malloc of its own (a bump allocator whose free keeps nothing) makes that
 * legal, so --heap sees racing frees of one block. Every block is freed, so
 * its allocation site has no live bytes at the end. Prints "blocks N".
 * Usage: double_free ROUNDS */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA (256ul << 20)
#define BLOCK 64

static char *arena;
static atomic_size_t used;
static atomic_long frees;

void *malloc(size_t n)
{
	size_t at;

	if (!arena) {
		void *m = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			abort();
		arena = m;
	}
	at = atomic_fetch_add(&used, (n + 63) & ~63ul);
	if (at + n > ARENA) {
		errno = ENOMEM;
		return NULL;
	}
	return arena + at;
}

void free(void *p)
{
	if (p)
		atomic_fetch_add(&frees, 1);
}

void *calloc(size_t n, size_t size)
{
	return malloc(n * size);	/* the arena is fresh zeroed memory */
}

void *realloc(void *p, size_t n)
{
	void *q = malloc(n);

	if (q && p)
		memcpy(q, p, n);	/* bump blocks lie in order: n bytes are readable */
	return q;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	char *p = malloc(n + align);

	*out = p ? (void *)(((size_t)p + align - 1) & ~(align - 1)) : NULL;
	return p ? 0 : ENOMEM;
}

void *aligned_alloc(size_t align, size_t n)
{
	void *p;

	return posix_memalign(&p, align, n) ? NULL : p;
}

void *memalign(size_t align, size_t n)
{
	return aligned_alloc(align, n);
}

static void *volatile shared;
static atomic_int arrived, generation;
static long rounds;

/* Both threads wait here for each other (spinning, so that they leave it
 * together; yielding now and then on a loaded machine). */
static void meet(void)
{
	int gen = atomic_load(&generation);

	if (atomic_fetch_add(&arrived, 1) == 1) {
		atomic_store(&arrived, 0);
		atomic_fetch_add(&generation, 1);
		return;
	}
	for (long spins = 0; atomic_load(&generation) == gen; spins++)
		if (spins % 100000 == 99999)
			sched_yield();
}

__attribute__((noinline)) static void *alloc_site(void)
{
	return malloc(BLOCK);
}

static void *racer(void *arg)
{
	for (long r = 0; r < rounds; r++) {
		if (arg)
			shared = alloc_site();
		meet();
		free(shared);
		meet();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t other;

	rounds = argc > 1 ? atol(argv[1]) : 1000;
	if (pthread_create(&other, NULL, racer, "allocates"))
		return 1;
	racer(NULL);
	pthread_join(other, NULL);
	printf("blocks %ld frees %ld\n", rounds, (long)atomic_load(&frees));
	return 0;
}

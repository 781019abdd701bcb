// SPDX-License-Identifier: GPL-2.0
/* Workload (a): malloc/free-heavy, with known totals.
 *
 * A ring of RING live blocks; each step frees the oldest and mallocs a new one of a
 * pseudo-random size (70% 16-256 B, 25% 256 B-4 KiB, 5% 4-32 KiB: below glibc's mmap
 * threshold, so every call is an ordinary heap call). Exactly N malloc + N free pairs
 * (the first RING frees are free(NULL) calls that glibc returns from at once, and the
 * ring is emptied at the end); each block's first byte is written.
 *
 * Prints one JSON line on stdout: pairs, the requested bytes (ground truth for heap
 * observers), the peak of live requested bytes, and the loop's own time in ns per pair.
 *
 * Usage: malloc_pairs [PAIRS]   (default 2000000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING 64

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t pick_size(void)
{
	uint64_t r = rng_next();
	unsigned pct = r % 100;

	r >>= 8;
	if (pct < 70)
		return 16 + r % 241;
	if (pct < 95)
		return 256 + r % 3841;
	return 4096 + r % 28673;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 2000000;
	/* volatile: otherwise the compiler may pair up and drop malloc/free. */
	char *volatile ring[RING] = { 0 };
	size_t sizes[RING] = { 0 };
	unsigned long long bytes = 0, live = 0, peak = 0;
	double t0, t1;

	if (pairs < RING) {
		fprintf(stderr, "malloc_pairs: PAIRS must be at least %d\n", RING);
		return 2;
	}
	t0 = now_s();
	for (long i = 0; i < pairs; i++) {
		unsigned slot = i % RING;
		size_t sz = pick_size();
		char *p;

		free(ring[slot]);
		live -= sizes[slot];
		p = malloc(sz);
		if (!p)
			return 1;
		p[0] = (char)i;
		ring[slot] = p;
		sizes[slot] = sz;
		bytes += sz;
		live += sz;
		if (live > peak)
			peak = live;
	}
	for (unsigned slot = 0; slot < RING; slot++)
		free(ring[slot]);
	t1 = now_s();
	printf("{\"pairs\": %ld, \"alloc_count\": %ld, \"alloc_bytes\": %llu, \"peak_live\": %llu, "
	       "\"loop_s\": %.6f, \"ns_per_pair\": %.1f}\n",
	       pairs, pairs, bytes, peak, t1 - t0, (t1 - t0) * 1e9 / pairs);
	return 0;
}

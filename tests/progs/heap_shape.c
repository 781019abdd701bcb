// SPDX-License-Identifier: GPL-2.0
/* Known heap shape: exactly these calls, so the totals are known.
 *   N x malloc(1000) + free         1000 N bytes allocated and freed
 *   N x calloc(10, 100) + free      1000 N
 *   realloc chain 16 -> 32 -> ... -> 16 KiB (11 steps, then freed)
 *   one posix_memalign(4096, 1 MiB) and one aligned_alloc(64, 64 KiB), freed
 *   a 4 MiB block kept live to the end (the leak)
 * Prints "expect_alloc_bytes A expect_alloc_count C expect_live L".
 * Usage: heap_shape N */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	unsigned long long bytes = 0, count = 0;
	/* volatile: the compiler may drop an allocation that is only freed. */
	void *volatile p, *volatile q;
	void *aligned;

	for (long i = 0; i < n; i++) {
		void *volatile b = malloc(1000);

		free(b);
	}
	bytes += 1000ull * n, count += n;
	for (long i = 0; i < n; i++) {
		void *volatile b = calloc(10, 100);

		free(b);
	}
	bytes += 1000ull * n, count += n;
	p = malloc(16);
	bytes += 16, count++;
	for (size_t sz = 32; sz <= 16384; sz *= 2) {
		p = realloc(p, sz);
		bytes += sz, count++;
	}
	free(p);
	if (posix_memalign(&aligned, 4096, 1 << 20))
		return 1;
	bytes += 1 << 20, count++;
	free(aligned);
	q = aligned_alloc(64, 65536);
	bytes += 65536, count++;
	free(q);
	p = malloc(4 << 20);
	bytes += 4 << 20, count++;
	printf("expect_alloc_bytes %llu expect_alloc_count %llu expect_live %d\n", bytes, count, 4 << 20);
	return p ? 0 : 1;
}

// SPDX-License-Identifier: GPL-2.0
/* Known heap shape through whichever allocator this program is built with:
 * tests/integration/test_allocators.py builds it against glibc, musl (static
 * and dynamic), jemalloc (linked and preloaded), tcmalloc, mimalloc and with
 * a statically linked malloc. Only the standard API, so any of them links.
 *   N x malloc(1000) + free          1000 N bytes
 *   N x calloc(10, 100) + free       1000 N
 *   realloc chain 16 -> 32 -> ... -> 16 KiB (11 steps), freed
 *   posix_memalign(4096, 256 KiB) and aligned_alloc(64, 64 KiB), freed
 *   a 1 MiB block kept live to the end
 * N = 0 makes none of these calls (the start-up baseline). Prints, each
 * line after its own name, "malloc_from PATH" (the file whose malloc this
 * program calls), "expect_alloc_bytes A expect_alloc_count C expect_live L"
 * (requested bytes) and "expect_usable_free F expect_usable_live U": the
 * allocator's malloc_usable_size of every block freed and of the one kept,
 * what in-process counting (memobs's preloaded library) counts as freed and
 * live. Usage: alloc_shape N */
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ALLOC_PREFIX
/* A prefixed allocator called by its own names, as Redis calls the jemalloc
 * it links (--with-jemalloc-prefix=je_): -DALLOC_PREFIX=je_, with the
 * je_malloc family linked in. stdio still uses the plain malloc. */
#define PREFIXED2(p, f) p##f
#define PREFIXED(p, f) PREFIXED2(p, f)
#define malloc PREFIXED(ALLOC_PREFIX, malloc)
#define calloc PREFIXED(ALLOC_PREFIX, calloc)
#define realloc PREFIXED(ALLOC_PREFIX, realloc)
#define free PREFIXED(ALLOC_PREFIX, free)
#define posix_memalign PREFIXED(ALLOC_PREFIX, posix_memalign)
#define aligned_alloc PREFIXED(ALLOC_PREFIX, aligned_alloc)
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
int posix_memalign(void **p, size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
/* Its blocks are counted by uprobes, in requested bytes. */
#define usable(p) ((void)(p), 0)
#else
#include <malloc.h>
#define usable(p) malloc_usable_size(p)
#endif

static const char *me;

/* The mapping that holds the address: the file that defines it. */
static void print_owner(const char *what, uintptr_t addr)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[4096], found[4096] = "?";

	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char *file = strchr(line, '/');

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi && file) {
			file[strcspn(file, "\n")] = 0;
			snprintf(found, sizeof(found), "%s", file);
			break;
		}
	}
	if (maps)
		fclose(maps);
	printf("%s: %s %s\n", me, what, found);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	void *(*volatile mallocp)(size_t) = malloc;
	unsigned long long bytes = 0, count = 0, live = 0, ufree = 0, ulive = 0;
	/* volatile: the compiler may drop an allocation that is only freed. */
	void *volatile p, *volatile keep = NULL;
	void *aligned;

	me = basename(argv[0]);
	print_owner("malloc_from", (uintptr_t)mallocp);
	for (long i = 0; i < n; i++) {
		void *volatile b = malloc(1000);

		ufree += usable(b);
		free(b);
	}
	bytes += 1000ull * n, count += n;
	for (long i = 0; i < n; i++) {
		void *volatile b = calloc(10, 100);

		ufree += usable(b);
		free(b);
	}
	bytes += 1000ull * n, count += n;
	if (n > 0) {
		p = malloc(16);
		bytes += 16, count++;
		for (size_t sz = 32; sz <= 16384; sz *= 2) {
			ufree += usable(p);	/* realloc frees the block it replaces */
			p = realloc(p, sz);
			bytes += sz, count++;
		}
		ufree += usable(p);
		free(p);
		if (posix_memalign(&aligned, 4096, 256 << 10))
			return 1;
		bytes += 256 << 10, count++;
		ufree += usable(aligned);
		free(aligned);
		p = aligned_alloc(64, 65536);
		bytes += 65536, count++;
		ufree += usable(p);
		free(p);
		keep = malloc(1 << 20);
		memset(keep, 1, 1 << 20);
		bytes += 1 << 20, count++, live = 1 << 20;
		ulive = usable(keep);
	}
	printf("%s: expect_alloc_bytes %llu expect_alloc_count %llu expect_live %llu\n", me, bytes, count, live);
	printf("%s: expect_usable_free %llu expect_usable_live %llu\n", me, ufree, ulive);
	return n > 0 && !keep;
}

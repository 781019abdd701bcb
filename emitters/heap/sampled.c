// SPDX-License-Identifier: GPL-2.0
/* The addresses of sampled blocks still live, so that only their frees go
 * to BPF (a trap each), not every free. Buckets of 8 addresses (one cache
 * line): a lookup reads one line per table. The first table lives in the
 * process-state page; more, each twice the last, are mapped as sampled
 * blocks pile up (8 bytes of the process's memory per sampled block, about
 * one per --sample-bytes of live heap). Every table is wiped at fork: a
 * child's frees of its parent's sampled blocks are not the parent's. */
#include <sys/mman.h>
#include "heap.h"

#define BUCKET 8
#define MAX_TABLES 11
#define FIRST_MAPPED_BUCKETS 128	/* 8 KiB, then 16 KiB, ... 8 MiB */

struct bucket {
	__u64 addr[BUCKET];
};

static struct bucket *tables[MAX_TABLES];
static __u32 nbuckets[MAX_TABLES];
static int ntables;

static struct bucket *table(int k)
{
	size_t len;
	struct bucket *t = __atomic_load_n(&tables[k], __ATOMIC_ACQUIRE), *expect = NULL;

	if (t)
		return t;
	if (k == 0) {
		t = proc_spare(&len);
		if (!t)
			return NULL;
		nbuckets[0] = len / sizeof(struct bucket);
	} else {
		len = (size_t)FIRST_MAPPED_BUCKETS << (k - 1);
		t = mmap(NULL, len * sizeof(struct bucket), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (t == MAP_FAILED)
			return NULL;
		madvise(t, len * sizeof(struct bucket), MADV_WIPEONFORK);
		nbuckets[k] = len;
	}
	if (!__atomic_compare_exchange_n(&tables[k], &expect, t, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (k)
			munmap(t, len * sizeof(struct bucket));
		return expect;
	}
	for (int n = __atomic_load_n(&ntables, __ATOMIC_RELAXED); n <= k;)
		if (__atomic_compare_exchange_n(&ntables, &n, k + 1, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			break;
	return t;
}

static struct bucket *bucket_of(int k, const void *p)
{
	__u64 h = ((__u64)(uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull;

	return &tables[k][(__u32)((h >> 32) * nbuckets[k] >> 32)];
}

bool sampled_add(void *p)
{
	for (int k = 0; k < MAX_TABLES; k++) {
		struct bucket *b;

		if (!table(k))
			return false;
		b = bucket_of(k, p);
		for (int i = 0; i < BUCKET; i++) {
			__u64 empty = 0;

			if (!b->addr[i] && __atomic_compare_exchange_n(&b->addr[i], &empty, (uintptr_t)p, false,
								       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				return true;
		}
	}
	return false;
}

bool sampled_take(void *p)
{
	int n = __atomic_load_n(&ntables, __ATOMIC_ACQUIRE);

	for (int k = 0; k < n; k++) {
		struct bucket *b = bucket_of(k, p);

		for (int i = 0; i < BUCKET; i++) {
			__u64 want = (uintptr_t)p;

			if (b->addr[i] == want && __atomic_compare_exchange_n(&b->addr[i], &want, 0, false,
									      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				return true;
		}
	}
	return false;
}

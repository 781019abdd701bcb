// SPDX-License-Identifier: GPL-2.0
/* Peaks under contention, against the real BPF programs: this process
 * observes itself and faults pages one by one, each a new peak of the
 * session's RSS, while other threads keep changing the peak's word (+1
 * then -1, as CPUs raising it at the same time would). Every peak update
 * must land, or be counted in drops.contended: after each fault the
 * peak is at least the sum. Needs root. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>
#include "check.h"
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "observe/session.h"

#define PAGES 4096
#define HAMMERS 2

static atomic_bool stop;

static int ignore_event(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

static void *hammer(void *arg)
{
	__s64 *peak = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		__atomic_fetch_add(peak, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_sub(peak, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static bool test_every_peak_update_lands_or_is_counted(void)
{
	struct mo_session_opts opts = { .mode = MO_MODE_TREE };
	long page = sysconf(_SC_PAGESIZE), low = 0;
	pthread_t threads[HAMMERS];
	struct mo_session *sess;
	volatile struct mo_state *st;
	char err[512], *mem;

	sess = session__open(&opts, ignore_event, NULL, err, sizeof(err));
	ASSERT_TRUE(sess, "%s", err);
	ASSERT_EQ(session__add_proc(sess, getpid(), getppid(), 0, 0, "test_peaks", NULL, NULL), 0);
	st = &session__skel(sess)->bss->mo_sess;
	mem = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(mem != MAP_FAILED, "mmap");
	for (int i = 0; i < HAMMERS; i++)
		ASSERT_EQ(pthread_create(&threads[i], NULL, hammer, (void *)&st->rss_peak), 0);
	for (long i = 0; i < PAGES; i++) {
		((volatile char *)mem)[i * page] = 1;
		/* The fault's event ran before the store completed; each hammer
		 * that added its 1 before the update and takes it back after
		 * leaves the peak 1 byte low. */
		low += st->rss_peak < st->rss_sum - HAMMERS;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < HAMMERS; i++)
		pthread_join(threads[i], NULL);
	printf("# %d faults against %d hammering threads: peak below the sum after %ld, %llu updates given up\n",
	       PAGES, HAMMERS, low, (unsigned long long)st->drops.contended);
	ASSERT_TRUE(st->drops.contended >= (__u64)low, "a peak update was lost uncounted");
	ASSERT_EQ(low, 0);
	munmap(mem, PAGES * page);
	session__free(sess);
	return true;
}

int main(void)
{
	RUN(test_every_peak_update_lands_or_is_counted);
	return check_summary();
}

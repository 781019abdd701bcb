// SPDX-License-Identifier: GPL-2.0
/* What an RSS change costs memobs's BPF program when many threads change RSS
 * at once (issue 15): this process observes itself with the real programs
 * (RSS only, no stack sampling) while THREADS threads each map PAGES pages,
 * touch every one and unmap them, ROUNDS times. Every touch and every unmap
 * is an rss_stat event on the same mm, so all threads hit the session's
 * counters and the process's record together. Prints the BPF run time per
 * event of mo_rss_stat (BPF_ENABLE_STATS, only while this runs), the events,
 * the wall time, and the peak checks. Usage: rss_contention THREADS PAGES ROUNDS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "observe/session.h"

static long pages, rounds;

static int ignore_event(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

static void *worker(void *arg)
{
	long page = sysconf(_SC_PAGESIZE);

	(void)arg;
	for (long r = 0; r < rounds; r++) {
		char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			abort();
		for (long i = 0; i < pages; i++)
			((volatile char *)p)[i * page] = 1;
		munmap(p, pages * page);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
	return 0;
}

int main(int argc, char **argv)
{
	struct mo_session_opts opts = { .mode = MO_MODE_TREE };
	int threads = argc > 1 ? atoi(argv[1]) : 2, stats, fd;
	__u64 ns0, cnt0, ns1, cnt1;
	pthread_t *t;
	struct mo_session *sess;
	const volatile struct mo_state *st;
	char err[512];
	double t0, t1;

	pages = argc > 2 ? atol(argv[2]) : 256;
	rounds = argc > 3 ? atol(argv[3]) : 200;
	t = calloc(threads, sizeof(*t));
	sess = session__open(&opts, ignore_event, NULL, err, sizeof(err));
	if (!sess || !t) {
		fprintf(stderr, "rss_contention: %s\n", sess ? "out of memory" : err);
		return 1;
	}
	if (session__add_proc(sess, getpid(), getppid(), 0, 0, "rss_contention", NULL, NULL))
		return 1;
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	fd = bpf_program__fd(session__skel(sess)->progs.mo_rss_stat);
	if (stats < 0 || prog_stats(fd, &ns0, &cnt0)) {
		perror("rss_contention: BPF_ENABLE_STATS");
		return 1;
	}
	t0 = now();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	t1 = now();
	prog_stats(fd, &ns1, &cnt1);
	st = session__state(sess);
	printf("threads %d events %llu ns_per_event %.1f wall_s %.3f session_peak %lld contended %llu\n", threads,
	       (unsigned long long)(cnt1 - cnt0), cnt1 > cnt0 ? (double)(ns1 - ns0) / (cnt1 - cnt0) : 0, t1 - t0,
	       (long long)st->rss_peak, (unsigned long long)st->drops.contended);
	close(stats);
	session__free(sess);
	return 0;
}

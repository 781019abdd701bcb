// SPDX-License-Identifier: GPL-2.0
/* The process tree in user space: fork/exec/exit records into run->procs,
 * a reused pid starting a new record, argv blobs split, exited pids handed
 * out once, and an index that grows past its first size. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "lib/procfs.h"
#include "observe/proctree.h"

#define T0 1000000000000ull	/* CLOCK_MONOTONIC of the run's start */
#define SEC 1000000000ull

static size_t argc_of(char **argv)
{
	size_t n = 0;

	while (argv && argv[n])
		n++;
	return n;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* The blob in a buffer of exactly len bytes, so that ASan sees any read
 * past it. */
static char **split(const char *blob, size_t len)
{
	char *buf = malloc(len ? len : 1);
	char **argv;

	memcpy(buf, blob, len);
	argv = proctree_split_args(buf, len);
	free(buf);
	return argv;
}

static bool test_split_args(void)
{
	char **v;

	v = split("make\0-j2\0all\0", 13);
	ASSERT_EQ(argc_of(v), 3);
	ASSERT_STR_EQ(v[0], "make");
	ASSERT_STR_EQ(v[1], "-j2");
	ASSERT_STR_EQ(v[2], "all");
	free_argv(v);
	/* BPF cut the blob inside the last argument: it is kept, cut. */
	v = split("make\0-j2\0al", 11);
	ASSERT_EQ(argc_of(v), 3);
	ASSERT_STR_EQ(v[2], "al");
	free_argv(v);
	v = split("cc1", 3);
	ASSERT_EQ(argc_of(v), 1);
	ASSERT_STR_EQ(v[0], "cc1");
	free_argv(v);
	/* Empty arguments are arguments. */
	v = split("a\0\0b\0", 5);
	ASSERT_EQ(argc_of(v), 3);
	ASSERT_STR_EQ(v[0], "a");
	ASSERT_STR_EQ(v[1], "");
	ASSERT_STR_EQ(v[2], "b");
	free_argv(v);
	v = split("\0", 1);
	ASSERT_EQ(argc_of(v), 1);
	ASSERT_STR_EQ(v[0], "");
	free_argv(v);
	ASSERT_TRUE(!split("", 0), "empty input: NULL");
	ASSERT_TRUE(!proctree_split_args(NULL, 0), "no input: NULL");
	return true;
}

static struct mo_proc final_of(int wait_status, __u64 end_ns, __s64 peak)
{
	struct mo_proc p = { .ppid = 77, .exit_code = wait_status, .end_ns = end_ns, .rss_peak_sum = peak,
			     .rss_sum = peak / 2, .heap_live = 12, .heap_peak_live = 34,
			     .flags = MO_PROC_EXITED | MO_PROC_HEAP_SEEN };

	p.rss_peak[MO_RSS_ANON] = peak - 100;
	p.rss_peak[MO_RSS_FILE] = 100;
	snprintf(p.comm, sizeof(p.comm), "fromexit");
	return p;
}

static bool test_fork_exec_exit(void)
{
	struct mo_proc fin = final_of(2 << 8, T0 + 3 * SEC, 4096);
	struct mo_proctree *pt;
	struct mo_proc_rec *r;
	const pid_t *pids;
	struct mo_run run;

	run_init(&run);
	pt = proctree__new(&run, T0);
	ASSERT_TRUE(pt, "new");
	ASSERT_EQ(proctree__find(pt, 100), -1);
	ASSERT_EQ(proctree__fork(pt, 100, 1, "bash", T0 + 3 * SEC / 2), 0);
	ASSERT_EQ(proctree__fork(pt, 101, 100, "bash", T0 + 2 * SEC), 1);
	ASSERT_EQ(proctree__exec(pt, 100, "make", "/usr/bin/make", "make\0-j2", 8, 8), 0);
	ASSERT_EQ(proctree__exec(pt, 101, "cc1", "", "cc1\0x.c\0", 8, 8), 1);
	/* A second exec replaces the first one's path and argv (ASan: no leak). */
	ASSERT_EQ(proctree__exec(pt, 101, "cc1plus", "/usr/lib/cc1plus", "cc1plus\0", 8, 8), 1);
	ASSERT_EQ(proctree__find(pt, 100), 0);
	ASSERT_EQ(proctree__find(pt, 101), 1);
	ASSERT_EQ(run.nprocs, 2);

	r = &run.procs[0];
	ASSERT_EQ(r->pid, 100);
	ASSERT_EQ(r->ppid, 1);
	ASSERT_STR_EQ(r->comm, "make");
	ASSERT_STR_EQ(r->exe, "/usr/bin/make");
	ASSERT_EQ(argc_of(r->argv), 2);
	ASSERT_STR_EQ(r->argv[1], "-j2");
	ASSERT_NEAR(r->start_s, 1.5, 1e-9);
	ASSERT_TRUE(!r->exited && r->end_s < 0 && r->exit_status == -1, "running");
	ASSERT_STR_EQ(run.procs[1].comm, "cc1plus");
	ASSERT_STR_EQ(run.procs[1].exe, "/usr/lib/cc1plus");
	ASSERT_EQ(argc_of(run.procs[1].argv), 1);

	ASSERT_EQ(proctree__exit(pt, 100, &fin), 0);
	r = &run.procs[0];
	ASSERT_TRUE(r->exited, "exited");
	ASSERT_NEAR(r->end_s, 3.0, 1e-9);
	ASSERT_EQ(r->exit_status, 2);
	ASSERT_EQ(r->rss_peak, 4096);
	ASSERT_EQ(r->rss_peak_member[MO_MEM_ANON], 3996);
	ASSERT_EQ(r->rss_peak_member[MO_MEM_FILE], 100);
	ASSERT_EQ(r->rss_end, 2048);
	ASSERT_EQ(r->heap_live, 12);
	ASSERT_EQ(r->heap_peak_live, 34);
	ASSERT_TRUE(r->heap_probed, "heap seen");
	ASSERT_TRUE(!r->observer, "not the observer");
	/* What fork and exec said stays: name, parent, start. */
	ASSERT_STR_EQ(r->comm, "make");
	ASSERT_EQ(r->ppid, 1);
	ASSERT_NEAR(r->start_s, 1.5, 1e-9);

	/* A signal: shell style. */
	fin = final_of(9, T0 + 4 * SEC, 1);
	ASSERT_EQ(proctree__exit(pt, 101, &fin), 1);
	ASSERT_EQ(run.procs[1].exit_status, 128 + 9);

	ASSERT_EQ(proctree__take_exited(pt, &pids), 2);
	ASSERT_EQ(pids[0], 100);
	ASSERT_EQ(pids[1], 101);
	ASSERT_EQ(proctree__take_exited(pt, &pids), 0);
	proctree__free(pt);
	run_free(&run);
	return true;
}

static bool test_pid_reuse(void)
{
	struct mo_proc fin = final_of(0, T0 + SEC, 10);
	struct mo_proctree *pt;
	struct mo_proc_phase st = { .heap.alloc_bytes = 5 };
	struct mo_run run;

	run_init(&run);
	pt = proctree__new(&run, T0);
	ASSERT_EQ(proctree__fork(pt, 300, 1, "sh", T0), 0);
	ASSERT_EQ(proctree__exit(pt, 300, &fin), 0);
	/* A late (process, phase) record of the exited process goes to it. */
	ASSERT_EQ(proctree__add_pstat(pt, 300, &st), 0);
	ASSERT_EQ(run.procs[0].nphases, 1);
	/* The pid comes back: a new record, which the index now names. */
	ASSERT_EQ(proctree__fork(pt, 300, 1, "sh", T0 + 2 * SEC), 1);
	ASSERT_EQ(proctree__find(pt, 300), 1);
	ASSERT_TRUE(!run.procs[1].exited, "the new one runs");
	ASSERT_EQ(proctree__add_pstat(pt, 300, &st), 0);
	ASSERT_EQ(run.procs[0].nphases, 1);
	ASSERT_EQ(run.procs[1].nphases, 1);
	ASSERT_EQ(proctree__exit(pt, 300, &fin), 1);
	/* Its fork not seen (a dropped event): an exec of an exited pid starts
	 * a new record, which the exit that follows closes. */
	ASSERT_EQ(proctree__exec(pt, 300, "awk", "/usr/bin/awk", "awk\0", 4, 4), 2);
	ASSERT_TRUE(!run.procs[2].exited, "exec: running");
	ASSERT_EQ(proctree__exit(pt, 300, &fin), 2);
	ASSERT_EQ(run.nprocs, 3);
	/* A process never seen before: exit alone makes its record, named and
	 * parented by the BPF record. */
	ASSERT_EQ(proctree__exit(pt, 301, &fin), 3);
	ASSERT_STR_EQ(run.procs[3].comm, "fromexit");
	ASSERT_EQ(run.procs[3].ppid, 77);
	ASSERT_EQ(run.procs[3].pid, 301);
	/* And so does a pstat of an unknown pid. */
	st.phase = 1;
	ASSERT_EQ(proctree__add_pstat(pt, 302, &st), 0);
	ASSERT_EQ(proctree__find(pt, 302), 4);
	ASSERT_EQ(run.procs[4].phases[0].phase, 1);
	proctree__free(pt);
	run_free(&run);
	return true;
}

static bool test_running_and_names(void)
{
	struct mo_proc cur = final_of(0, 0, 777);
	struct mo_proctree *pt;
	struct mo_run run;

	run_init(&run);
	pt = proctree__new(&run, T0);
	/* comm arrives as 16 bytes, maybe without a NUL: kept at 15. */
	ASSERT_EQ(proctree__fork(pt, 5, 1, "0123456789abcdefXYZ", T0 - SEC), 0);
	ASSERT_STR_EQ(run.procs[0].comm, "0123456789abcde");
	/* Before t0: time 0, not a huge number. */
	ASSERT_NEAR(run.procs[0].start_s, 0, 0);
	cur.flags = MO_PROC_OBSERVER;
	ASSERT_EQ(proctree__running(pt, 5, &cur), 0);
	ASSERT_EQ(run.procs[0].rss_peak, 777);
	ASSERT_TRUE(run.procs[0].observer, "observer flag taken");
	ASSERT_TRUE(!run.procs[0].heap_probed, "no heap flag");
	ASSERT_TRUE(!run.procs[0].exited, "still running");
	ASSERT_EQ(run.nprocs, 1);
	const pid_t *pids;

	ASSERT_EQ(proctree__take_exited(pt, &pids), 0);
	proctree__free(pt);
	run_free(&run);
	return true;
}

/* Far more pids than the index's first size, spread and clustered (pids
 * that are equal modulo its size collide in the hash). */
static bool test_many_pids(void)
{
	struct mo_proc fin = final_of(0, T0 + SEC, 1);
	struct mo_proctree *pt;
	const pid_t *pids;
	struct mo_run run;
	size_t n = 0;

	run_init(&run);
	pt = proctree__new(&run, T0);
	for (pid_t pid = 2; pid < 6002; pid++, n++)
		ASSERT_EQ(proctree__fork(pt, pid, 1, "w", T0), (long)n);
	for (pid_t k = 1; k <= 3000; k++, n++)
		ASSERT_EQ(proctree__fork(pt, k * 4096 + 1000000, 1, "c", T0), (long)n);
	for (pid_t pid = 2; pid < 6002; pid++)
		ASSERT_EQ(proctree__find(pt, pid), pid - 2);
	for (pid_t k = 1; k <= 3000; k++)
		ASSERT_EQ(proctree__find(pt, k * 4096 + 1000000), 6000 + k - 1);
	ASSERT_EQ(proctree__find(pt, 1), -1);
	ASSERT_EQ(proctree__find(pt, 7000), -1);
	for (pid_t pid = 2; pid < 6002; pid++)
		ASSERT_EQ(proctree__exit(pt, pid, &fin), pid - 2);
	ASSERT_EQ(proctree__take_exited(pt, &pids), 6000);
	for (size_t i = 0; i < 6000; i++)
		ASSERT_EQ(pids[i], (pid_t)i + 2);
	/* Reused after exit: the newest record wins, the old ones stay. */
	for (pid_t pid = 2; pid < 6002; pid += 2, n++)
		ASSERT_EQ(proctree__fork(pt, pid, 1, "again", T0), (long)n);
	ASSERT_EQ(proctree__find(pt, 2), 9000);
	ASSERT_EQ(proctree__find(pt, 3), 1);
	ASSERT_EQ(proctree__find(pt, 6000), 9000 + 2999);
	ASSERT_EQ(run.nprocs, 12000);
	ASSERT_STR_EQ(run.procs[0].comm, "w");
	ASSERT_TRUE(run.procs[0].exited, "old record kept");
	proctree__free(pt);
	run_free(&run);
	return true;
}

/* argv longer than BPF copies comes whole from /proc while the process runs
 * that command line (this test's own); otherwise it stays cut, flagged. */
static bool test_argv_completion(void)
{
	char self[4096];
	ssize_t n = procfs_cmdline(getpid(), self, sizeof(self));
	struct mo_proctree *pt;
	struct mo_run run;

	ASSERT_TRUE(n > 4, "own cmdline");
	run_init(&run);
	pt = proctree__new(&run, T0);
	ASSERT_TRUE(pt, "new");
	/* 4 bytes copied of n: the rest from /proc */
	ASSERT_EQ(proctree__exec(pt, getpid(), "t", "", self, 4, n), 0);
	ASSERT_STR_EQ(run.procs[0].argv[0], self);
	ASSERT_TRUE(!run.procs[0].argv_truncated, "whole");
	/* another command line by now (exec'd again): the copied bytes, flagged */
	ASSERT_EQ(proctree__exec(pt, getpid(), "t", "", "xyz\0", 4, 999), 0);
	ASSERT_STR_EQ(run.procs[0].argv[0], "xyz");
	ASSERT_TRUE(run.procs[0].argv_truncated, "cut");
	/* whole already */
	ASSERT_EQ(proctree__exec(pt, getpid(), "t", "", "xyz\0", 4, 4), 0);
	ASSERT_TRUE(!run.procs[0].argv_truncated, "not cut");
	/* a process attached to: all from /proc */
	ASSERT_EQ(proctree__exec(pt, getpid(), "t", "", "", 0, SIZE_MAX), 0);
	ASSERT_STR_EQ(run.procs[0].argv[0], self);
	ASSERT_TRUE(!run.procs[0].argv_truncated, "whole from /proc");
	proctree__free(pt);
	run_free(&run);
	return true;
}

int main(void)
{
	RUN(test_split_args);
	RUN(test_fork_exec_exit);
	RUN(test_pid_reuse);
	RUN(test_running_and_names);
	RUN(test_many_pids);
	RUN(test_argv_completion);
	return check_summary();
}

// SPDX-License-Identifier: GPL-2.0
/* The pool of threads for blocking calls: a job runs; a job given while
 * another blocks runs beside it, not after it; a thread back from its job
 * takes the next one (a run keeps a few threads, not one per job); the
 * pool's end waits for the jobs running. */
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <time.h>
#include "check.h"
#include "lib/pool.h"

struct job {
	sem_t started, go, done;
	int runs;
	bool got_go;
};

static void count_run(void *arg)
{
	struct job *j = arg;

	__atomic_add_fetch(&j->runs, 1, __ATOMIC_RELAXED);
	sem_post(&j->done);
}

/* Blocks until the other job posts go (a deadline only so that a pool
 * that runs one job at a time fails rather than hangs). */
static void wait_for_go(void *arg)
{
	struct job *j = arg;
	struct timespec deadline;
	int ret;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	while ((ret = sem_timedwait(&j->go, &deadline)) && errno == EINTR)
		;
	j->got_go = !ret;
	sem_post(&j->done);
}

static void post_go(void *arg)
{
	sem_post(&((struct job *)arg)->go);
}

static void job_init(struct job *j)
{
	*j = (struct job){};
	sem_init(&j->started, 0, 0);
	sem_init(&j->go, 0, 0);
	sem_init(&j->done, 0, 0);
}

static bool test_job_runs(void)
{
	struct mo_pool *p = pool__new();
	struct job j;

	job_init(&j);
	ASSERT_TRUE(p != NULL, "a pool");
	ASSERT_EQ(pool__run(p, count_run, &j), 0);
	sem_wait(&j.done);
	ASSERT_EQ(j.runs, 1);
	pool__free(p);
	return true;
}

static bool test_jobs_run_beside_a_blocked_one(void)
{
	struct mo_pool *p = pool__new();
	struct job j;

	job_init(&j);
	ASSERT_EQ(pool__run(p, wait_for_go, &j), 0);
	ASSERT_EQ(pool__run(p, post_go, &j), 0);
	sem_wait(&j.done);
	ASSERT_TRUE(j.got_go, "the second job ran while the first waited for it");
	ASSERT_EQ(pool__threads(p), 2);
	pool__free(p);
	return true;
}

static bool test_idle_thread_takes_the_next_job(void)
{
	struct mo_pool *p = pool__new();
	struct job j;

	job_init(&j);
	for (int i = 0; i < 20; i++) {
		ASSERT_EQ(pool__run(p, count_run, &j), 0);
		sem_wait(&j.done);
		while (pool__idle(p) != pool__threads(p))	/* back from its job */
			sched_yield();
	}
	ASSERT_EQ(j.runs, 20);
	ASSERT_EQ(pool__threads(p), 1);
	pool__free(p);
	return true;
}

static void slow_count(void *arg)
{
	struct job *j = arg;

	sem_post(&j->started);
	for (int i = 0; i < 1000; i++)
		sched_yield();
	__atomic_add_fetch(&j->runs, 1, __ATOMIC_RELAXED);
}

static bool test_free_waits_for_running_jobs(void)
{
	struct mo_pool *p = pool__new();
	struct job j;

	job_init(&j);
	ASSERT_EQ(pool__run(p, slow_count, &j), 0);
	sem_wait(&j.started);
	pool__free(p);
	ASSERT_EQ(j.runs, 1);
	pool__free(NULL);
	return true;
}

int main(void)
{
	RUN(test_job_runs);
	RUN(test_jobs_run_beside_a_blocked_one);
	RUN(test_idle_thread_takes_the_next_job);
	RUN(test_free_waits_for_running_jobs);
	return check_summary();
}

// SPDX-License-Identifier: GPL-2.0
/* The hard cases of in-process heap counting (issue 14), each in a process
 * of its own whose calls this program counts itself, on the library's basis:
 * requested bytes allocated, usable bytes (malloc_usable_size) freed and
 * live. A fork child starts counting from nothing (its live bytes from its
 * parent's), so its figures are exact; a case with start-up noise (a thread's
 * TLS, dlopen's bookkeeping, a new program) runs twice, base and work, and
 * the difference is exact. Each line it prints:
 *   case NAME pid P ab A ac C fb F fc G live L
 * Usage: heap_cases all | phases | leaf N | signal N | spawn */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <memobs/markers.h>

struct shape {
	unsigned long long ab, ac, fb, fc;
	long long live;
};

extern char **environ;
extern void *__libc_malloc(size_t);
static char self[4096];

static void on_alloc(struct shape *s, void *p, size_t n)
{
	s->ab += n;
	s->ac++;
	s->live += malloc_usable_size(p);
}

static void on_free(struct shape *s, void *p)
{
	size_t u = malloc_usable_size(p);

	s->fb += u;
	s->fc++;
	s->live -= u;
}

/* One line, written at once (no stdio buffer: a child _exits). */
static void say(const char *name, const struct shape *s)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "case %s pid %d ab %llu ac %llu fb %llu fc %llu live %lld\n", name,
			 getpid(), s->ab, s->ac, s->fb, s->fc, s->live);

	if (write(1, line, n) != n)
		_exit(3);
}

/* n pairs of malloc(1000) + free, and one block of 4 KiB kept. */
static void work(struct shape *s, long n)
{
	for (long i = 0; i < n; i++) {
		void *volatile b = malloc(1000);

		on_alloc(s, b, 1000);
		on_free(s, b);
		free(b);
	}
	void *keep = malloc(4096);

	on_alloc(s, keep, 4096);
}

/* Every entry point, realloc(NULL) and realloc(p, 0) included, and a block
 * of glibc's own entry point (not interposed) freed through free: a free of
 * a block the library never saw allocated, counted as a free. */
static void api(struct shape *s)
{
	void *p, *q;

	p = malloc(100), on_alloc(s, p, 100), on_free(s, p), free(p);
	p = calloc(3, 33), on_alloc(s, p, 99), on_free(s, p), free(p);
	p = realloc(NULL, 200), on_alloc(s, p, 200);
	on_free(s, p), q = realloc(p, 5000), on_alloc(s, q, 5000);
	on_free(s, q), p = realloc(q, 10), on_alloc(s, p, 10);
	on_free(s, p), q = realloc(p, 0);
	if (q)	/* an allocator that returns a block for realloc(p, 0) */
		on_alloc(s, q, 0), on_free(s, q), free(q);
	p = reallocarray(NULL, 10, 10), on_alloc(s, p, 100), on_free(s, p), free(p);
	if (posix_memalign(&p, 64, 300))
		_exit(4);
	on_alloc(s, p, 300), on_free(s, p), free(p);
	p = aligned_alloc(256, 512), on_alloc(s, p, 512), on_free(s, p), free(p);
	p = memalign(128, 77), on_alloc(s, p, 77), on_free(s, p), free(p);
	p = valloc(1000), on_alloc(s, p, 1000), on_free(s, p), free(p);
	p = pvalloc(1000), on_alloc(s, p, 1000), on_free(s, p), free(p);
	p = __libc_malloc(555), on_free(s, p), free(p);
}

static pid_t child(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void wait_for(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		;
}

static void case_api(void *arg)
{
	struct shape s = {};

	(void)arg;
	api(&s);
	say("api", &s);
}

/* A fork child frees a block it inherited and does its own work: its live
 * bytes start from its parent's at the fork. */
static void case_fork(void *arg)
{
	struct shape parent = {}, kid = {};
	void *inherited = malloc(1 << 20);
	pid_t pid;

	(void)arg;
	on_alloc(&parent, inherited, 1 << 20);
	say("fork_parent", &parent);
	pid = fork();
	if (pid == 0) {
		on_free(&kid, inherited);
		free(inherited);
		work(&kid, 100);
		say("fork_child", &kid);
		_exit(0);
	}
	wait_for(pid);
}

/* Killed (SIGKILL) right after its work, nothing flushed by an exit: what
 * it counted is in its slot already. */
static void case_killed(void *arg)
{
	struct shape s = {};

	(void)arg;
	work(&s, 100);
	say("killed", &s);
	raise(SIGKILL);
}

struct worker {
	pthread_t t;
	long n;
	struct shape s;
};

static void *thread_work(void *arg)
{
	struct worker *w = arg;

	work(&w->s, w->n);
	return NULL;
}

/* 8 threads at once (n = 0: thread creation only, the base). */
static void threads(long n, const char *name)
{
	struct worker w[8];
	struct shape sum = {};

	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ .n = n };
		if (pthread_create(&w[i].t, NULL, thread_work, &w[i]))
			_exit(5);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(w[i].t, NULL);
		sum.ab += w[i].s.ab, sum.ac += w[i].s.ac, sum.fb += w[i].s.fb, sum.fc += w[i].s.fc;
		sum.live += w[i].s.live;
	}
	say(name, &sum);
}

static void case_threads_base(void *arg)
{
	(void)arg;
	threads(0, "threads_base");
}

static void case_threads_work(void *arg)
{
	(void)arg;
	threads(2000, "threads_work");
}

/* A library loaded later allocates through the interposed malloc. */
static void with_cjson(bool use, const char *name)
{
	struct shape s = {};
	void *h = dlopen("libcjson.so.1", RTLD_NOW);
	cJSON *(*create)(void) = h ? (cJSON * (*)(void)) dlsym(h, "cJSON_CreateObject") : NULL;
	void (*destroy)(cJSON *) = h ? (void (*)(cJSON *))dlsym(h, "cJSON_Delete") : NULL;

	if (!create || !destroy)
		_exit(6);
	if (use) {
		cJSON *o = create();

		on_alloc(&s, o, sizeof(*o));
		on_free(&s, o);
		destroy(o);
	}
	say(name, &s);
}

static void case_dlopen_base(void *arg)
{
	(void)arg;
	with_cjson(false, "dlopen_base");
}

static void case_dlopen_work(void *arg)
{
	(void)arg;
	with_cjson(true, "dlopen_work");
}

/* Every descriptor closed, stdout too: its child still shakes hands (the
 * library keeps no descriptor). What the child does is said first. */
static void case_closefds(void *arg)
{
	struct shape s = {};
	void *probe;
	pid_t pid;

	(void)arg;
	/* The child's shape, computed here: the same calls give the same sizes. */
	for (int i = 0; i < 50; i++) {
		probe = malloc(1000);
		on_alloc(&s, probe, 1000), on_free(&s, probe);
		free(probe);
	}
	probe = malloc(4096);
	on_alloc(&s, probe, 4096);
	free(probe);
	say("closefds_child_of", &s);
	syscall(SYS_close_range, 0, ~0U, 0);
	pid = fork();
	if (pid == 0) {
		struct shape ignored = {};

		work(&ignored, 50);
		_exit(0);
	}
	wait_for(pid);
}

/* A fork child runs n pairs, then execs "leaf m". */
struct exec_arg {
	long n, m;
};

static void case_exec(void *arg)
{
	struct exec_arg *e = arg;
	struct shape s = {};
	char m[32];

	work(&s, e->n);
	snprintf(m, sizeof(m), "%ld", e->m);
	execl(self, self, "leaf", m, (char *)NULL);
	_exit(7);
}

static void all(void)
{
	void (*cases[])(void *) = { case_api, case_fork, case_killed, case_threads_base, case_threads_work,
				     case_dlopen_base, case_dlopen_work, case_closefds };
	struct exec_arg e0 = { 10, 0 }, e1 = { 10, 100 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		wait_for(child(cases[i], NULL));
	wait_for(child(case_exec, &e0));
	wait_for(child(case_exec, &e1));
}

/* posix_spawn (a clone sharing memory until exec: no atfork handler) and
 * vfork + exec of "leaf N". */
static void spawn(void)
{
	char *base[] = { self, "leaf", "0", NULL }, *work100[] = { self, "leaf", "100", NULL };
	pid_t pid;

	if (posix_spawn(&pid, self, NULL, NULL, base, environ))
		_exit(8);
	wait_for(pid);
	if (posix_spawn(&pid, self, NULL, NULL, work100, environ))
		_exit(8);
	wait_for(pid);
	pid = vfork();
	if (pid == 0) {
		execl(self, self, "leaf", "50", (char *)NULL);
		_exit(9);
	}
	wait_for(pid);
}

/* Phases in process: an allocation right after phase_begin is the new
 * phase's; a child that allocated in a phase its parent then closed
 * allocates in the enclosing one from its next call. */
static void phases(void)
{
	int go[2];
	char c = 0;
	void *volatile q;	/* volatile: a malloc only freed may be left out */
	pid_t pid;

	MEMOBS_PHASE_BEGIN("hc_inner");
	q = malloc(3 << 20);
	MEMOBS_PHASE_END("hc_inner");
	free(q);
	if (pipe(go))
		_exit(10);
	MEMOBS_PHASE_BEGIN("hc_outer");
	pid = fork();
	if (pid == 0) {
		void *volatile a = malloc(1000), *volatile b;

		if (read(go[0], &c, 1) != 1)
			_exit(11);
		b = malloc(2 << 20);
		_exit(a && b ? 0 : 12);
	}
	usleep(100000);	/* the child has made its first allocation */
	MEMOBS_PHASE_END("hc_outer");
	if (write(go[1], &c, 1) != 1)
		_exit(13);
	wait_for(pid);
}

/* Signals: a handler that allocates, fired every 20 us (a high-resolution
 * timer) while the loop allocates; with a lock-free allocator preloaded
 * after memobs's library (the test's), both are counted, neither loses the
 * other's, wherever the signal lands in the library. */
static struct shape in_handler;

static void on_prof(int sig)
{
	void *p = malloc(64);

	(void)sig;
	on_alloc(&in_handler, p, 64);
	on_free(&in_handler, p);
	free(p);
}

static void signals(long n)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGPROF };
	struct itimerspec every = { { 0, 20000 }, { 0, 20000 } }, off = {};
	struct shape s = {};
	sigset_t prof;
	timer_t timer;

	signal(SIGPROF, on_prof);
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) || timer_settime(timer, 0, &every, NULL))
		_exit(14);
	for (long i = 0; i < n; i++) {
		void *volatile b = malloc(100);

		on_alloc(&s, b, 100);
		on_free(&s, b);
		free(b);
	}
	sigemptyset(&prof);
	sigaddset(&prof, SIGPROF);
	sigprocmask(SIG_BLOCK, &prof, NULL);
	timer_settime(timer, 0, &off, NULL);
	s.ab += in_handler.ab, s.ac += in_handler.ac, s.fb += in_handler.fb, s.fc += in_handler.fc;
	s.live += in_handler.live;
	say(n ? "signal_work" : "signal_base", &s);
	printf("signal handler ran %llu times\n", in_handler.ac);
}

int main(int argc, char **argv)
{
	struct shape s = {};
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = 0;
	if (argc > 2 && !strcmp(argv[1], "leaf")) {
		char name[32];

		work(&s, atol(argv[2]));
		snprintf(name, sizeof(name), "leaf_%s", argv[2]);
		say(name, &s);
	} else if (argc > 2 && !strcmp(argv[1], "signal")) {
		signals(atol(argv[2]));
	} else if (argc > 1 && !strcmp(argv[1], "all")) {
		all();
	} else if (argc > 1 && !strcmp(argv[1], "spawn")) {
		spawn();
	} else if (argc > 1 && !strcmp(argv[1], "phases")) {
		phases();
	} else {
		fprintf(stderr, "usage: heap_cases all | phases | spawn | leaf N | signal N\n");
		return 2;
	}
	return 0;
}

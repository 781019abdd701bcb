// SPDX-License-Identifier: GPL-2.0
/* Drive --serve without a tracer, as the run loop does: poll serve__fd
 * with a 100 ms timeout, hand serve__handle a fresh snapshot when it is
 * readable and once a second anyway. A made-up session of 70 processes
 * (more than the 64 listed) whose RSS changes with each scrape answered:
 * generation g serves process i (pid 1000 + i) an anon RSS of
 * (i + 1) * 64 KiB + g * 4 KiB. Each answered generation is appended to
 * LOG as one JSON line, {"gen": g, "anon": {"pid": bytes, ...}}, so that a
 * test can tell what was served. Also odd comms (quote, backslash, newline,
 * invalid UTF-8, control characters), two cgroups, phases, heap figures.
 *
 * Usage: serve_demo ADDR:PORT LOG. Prints "listening on ADDR" once ready;
 * ends on SIGTERM or SIGINT with status 0. For tests/integration/test_serve.py. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "serve/serve.h"

#define NPROCS 70
#define KiB 1024LL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const odd_comms[] = {
	"q\"u\\o\ne",		/* the three escapes of the format */
	"bad\xff\xfe utf8",	/* invalid UTF-8: U+FFFD */
	"tab\tesc\x1b",		/* other control characters: kept */
	"caf\xc3\xa9",		/* valid UTF-8 */
};

static void fill(struct mo_prom_snapshot *s, struct mo_prom_proc *procs, struct mo_prom_phase *phases,
		 long gen, double t)
{
	memset(s->rss, 0, sizeof(s->rss));
	for (int i = 0; i < NPROCS; i++) {
		struct mo_prom_proc *p = &procs[i];

		memset(p, 0, sizeof(*p));
		p->pid = 1000 + i;
		if (i >= NPROCS - 4)	/* the largest: always listed */
			snprintf(p->comm, sizeof(p->comm), "%s", odd_comms[i - (NPROCS - 4)]);
		else
			snprintf(p->comm, sizeof(p->comm), "worker-%d", i);
		p->rss[MO_MEM_ANON] = (i + 1) * 64 * KiB + gen * 4 * KiB;
		p->rss[MO_MEM_FILE] = 128 * KiB;
		p->rss[MO_MEM_SHMEM] = i % 3 ? 0 : 8 * KiB;
		p->rss[MO_MEM_SWAP] = i == 0 ? 4 * KiB : 0;
		p->rss_peak = p->rss[MO_MEM_ANON] + p->rss[MO_MEM_FILE] + p->rss[MO_MEM_SHMEM];
		p->heap_live = i % 2 ? -1 : i * KiB;
		p->cgroup = i % 2 ? "/system.slice/build.service" : "/user.slice/user-1000.slice";
		for (int m = 0; m < MO_MEM_KINDS; m++)
			s->rss[m] += p->rss[m];
	}
	phases[0] = (struct mo_prom_phase){ "main", true, t, 6 * 1024 * KiB, 2048 * KiB };
	phases[1] = (struct mo_prom_phase){ "render", false, 0.5, 3 * 1024 * KiB, 1024 * KiB };
	phases[2] = (struct mo_prom_phase){ "link", true, t / 2, 1024 * KiB + gen, 512 * KiB };
	s->elapsed_s = t;
	s->rss_peak = s->rss[MO_MEM_ANON] + s->rss[MO_MEM_FILE] + s->rss[MO_MEM_SHMEM];
	s->processes = NPROCS;
	s->heap_live = 100 * KiB + gen;
	s->heap_peak = 200 * KiB + gen;
	s->alloc_bytes = 1000 * gen;
	s->alloc_count = 10 * gen;
	s->free_bytes = 900 * gen;
	s->free_count = 9 * gen;
	s->drops[MO_DROP_EVENTS] = gen;
	s->phase = "link";
	s->phases = phases;
	s->nphases = 3;
	s->procs = procs;
	s->nprocs = NPROCS;
}

static void log_gen(FILE *log, const struct mo_prom_snapshot *s, long gen)
{
	fprintf(log, "{\"gen\": %ld, \"anon\": {", gen);
	for (size_t i = 0; i < s->nprocs; i++)
		fprintf(log, "%s\"%d\": %lld", i ? ", " : "", s->procs[i].pid, (long long)s->procs[i].rss[MO_MEM_ANON]);
	fprintf(log, "}}\n");
	fflush(log);
}

int main(int argc, char **argv)
{
	static struct mo_prom_proc procs[NPROCS];
	struct mo_prom_phase phases[3];
	struct mo_prom_snapshot snap = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	double t0 = mono_s(), next_tick = t0 + 1;
	char err[256];
	struct mo_serve *s;
	FILE *log;
	long gen = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: serve_demo ADDR:PORT LOG\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log = fopen(argv[2], "a");
	if (!log) {
		fprintf(stderr, "serve_demo: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	s = serve__new(argv[1], err, sizeof(err));
	if (!s) {
		fprintf(stderr, "serve_demo: --serve: %s\n", err);
		fclose(log);
		return 1;
	}
	printf("listening on %s%s\n", serve__addr(s), serve__loopback(s) ? "" : " (not loopback)");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { .fd = serve__fd(s), .events = POLLIN };
		unsigned long before;
		double now;

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			break;
		now = mono_s();
		if (!p.revents && now < next_tick)
			continue;
		if (now >= next_tick)
			next_tick = now + 1;
		fill(&snap, procs, phases, gen, now - t0);
		before = serve__scrapes(s);
		serve__handle(s, &snap);
		if (serve__scrapes(s) != before)
			log_gen(log, &snap, gen++);
	}
	printf("serve_demo: %lu scrapes answered\n", serve__scrapes(s));
	serve__free(s);
	fclose(log);
	return 0;
}

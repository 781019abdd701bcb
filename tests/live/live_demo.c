// SPDX-License-Identifier: GPL-2.0
/* Drive the live view without a tracer: a made-up session whose processes
 * grow and swap places, redrawn every 200 ms until q, or until SIGINT sets
 * the flag a run loop keeps. For tests/live/test_live.py (tmux), or by hand.
 * Prints how it ended once the terminal is back. Usage: live_demo [LOG]: with
 * a log, its last lines in the pane. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "serve/live.h"

#define MiB (1LL << 20)

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

int main(int argc, char **argv)
{
	struct mo_live_proc procs[] = {
		{ 101, "make", 2 * MiB, 2 * MiB, -1 },
		{ 202, "cc1", 10 * MiB, 10 * MiB, 8 * MiB },
		{ 303, "ld", 1 * MiB, 1 * MiB, 1 * MiB },
		{ 404, "as", 3 * MiB, 3 * MiB, -1 },
		{ 505, "caf\xc3\xa9\x01", 4 * MiB, 4 * MiB, -1 },
	};
	struct mo_live_view view = { .heap_live = 9 * MiB, .phase = "render", .procs = procs,
				     .nprocs = sizeof(procs) / sizeof(procs[0]) };
	struct sigaction sa = { .sa_handler = on_sigint };
	struct mo_live *live;
	int ticks = 0;

	sigaction(SIGINT, &sa, NULL);
	live = live__new(argc > 1 ? argv[1] : NULL);
	if (!live) {
		fprintf(stderr, "live_demo: %s\n", strerror(errno));
		return 1;
	}
	while (!interrupted && !live__quit(live)) {
		/* ld grows past cc1 after a few refreshes: the order follows RSS. */
		procs[2].rss = (1 + 2 * ticks) * MiB;
		procs[2].rss_peak = procs[2].rss;
		view.elapsed_s = ticks * 0.2;
		view.rss = 0;
		for (size_t i = 0; i < view.nprocs; i++)
			view.rss += procs[i].rss;
		view.rss_peak = view.rss;
		if (live__draw(live, &view))
			break;
		ticks++;
		usleep(200 * 1000);
	}
	live__free(live);
	printf("live_demo: closed by %s after %d refreshes\n", interrupted ? "SIGINT" : "q", ticks);
	return 0;
}

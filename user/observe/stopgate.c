// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/log.h"
#include "observe/holds.h"
#include "observe/session.h"
#include "observe/stopgate.h"

struct mo_stopgate {
	struct mo_holds *holds;
	struct mo_session *sess;	/* NULL until attached */
	bool armed, ended;
};

struct mo_stopgate *stopgate__new(struct mo_session_opts *opts, char *err, size_t errlen)
{
	struct mo_stopgate *g = calloc(1, sizeof(*g));
	char why[512];

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->holds = holds__open(why, sizeof(why));
	if (!g->holds) {
		snprintf(err, errlen, "%s", why);
		free(g);
		return NULL;
	}
	if (!holds__shared(g->holds))
		log_info("%s: another memobs -p may continue this one's stopped processes", why);
	opts->holds_fd = holds__map_fd(g->holds);
	opts->gate_bit = holds__bit(g->holds);
	return g;
}

void stopgate__attach(struct mo_stopgate *g, struct mo_session *s)
{
	g->sess = s;
	holds__set_release(g->holds, session__release_prog_fd(s));
}

void stopgate__arm(struct mo_stopgate *g, __u64 now_ns)
{
	if (!g || !g->sess || g->ended)
		return;
	session__gate_arm(g->sess, true, now_ns);
	g->armed = true;
}

void stopgate__tick(struct mo_stopgate *g, __u64 now_ns)
{
	if (g && g->armed)
		session__gate_tick(g->sess, now_ns);
}

void stopgate__release(struct mo_stopgate *g, pid_t tgid, struct mo_run *run)
{
	if (!holds__release(g->holds, tgid))
		return;	/* another memobs still looks at it (it continues it), or continued */
	if (kill(tgid, SIGCONT) && errno == EPERM)
		run_add_warning(run, "pid %d was stopped for inspection and memobs may not continue it (CAP_KILL): "
				"send it SIGCONT", tgid);
}

void stopgate__end(struct mo_stopgate *g, struct mo_run *run)
{
	struct mo_gate_state st = {};

	if (!g || g->ended || !g->sess)
		return;
	g->ended = true;
	if (g->armed) {
		session__gate_arm(g->sess, false, 0);
		g->armed = false;
		holds_wait_for_gates_in_flight();
	}
	holds_drain(holds__map_fd(g->holds), session__release_prog_fd(g->sess), holds__bit(g->holds));
	session__gate_counts(g->sess, &st);
	if (st.job_skips)
		run_add_warning(run, "%llu exec%s of job-control jobs (a process group of their own) were not held by "
				"the exec gate, whose stop the shell would have reported: markers and allocator probes of "
				"new executables there may start late",
				(unsigned long long)st.job_skips, st.job_skips == 1 ? "" : "s");
	if (st.stale_skips)
		run_add_warning(run, "%llu exec%s were not held by the exec gate while memobs did not tick (busy or "
				"stopped for more than %.0f s): markers and allocator probes there may start late",
				(unsigned long long)st.stale_skips, st.stale_skips == 1 ? "" : "s",
				MO_GATE_HEARTBEAT_NS / 1e9);
	if (st.hold_fails)
		run_add_warning(run, "%llu exec%s were not held by the exec gate (the host-wide table of held "
				"processes was full, or the stop was refused): markers and allocator probes there may "
				"start late", (unsigned long long)st.hold_fails, st.hold_fails == 1 ? "" : "s");
}

struct mo_holds *stopgate__holds(struct mo_stopgate *g)
{
	return g->holds;
}

void stopgate__free(struct mo_stopgate *g)
{
	if (!g)
		return;
	if (!g->ended && g->sess) {
		/* An end without a run document to tell. */
		struct mo_run none;

		run_init(&none);
		stopgate__end(g, &none);
		run_free(&none);
	}
	holds__close(g->holds);
	free(g);
}

/* SPDX-License-Identifier: GPL-2.0 */
/* The tracer's state, shared by tracer.c (the session, events, the loop, the
 * end), tracer_roots.c (the processes that join from /proc) and
 * tracer_exec.c (what an exec needs: unwind tables, probes, the gates). */
#ifndef MO_TRACER_PRIV_H
#define MO_TRACER_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <linux/types.h>
#include "observe/session.h"
#include "observe/tracer.h"

/* A process given with -p (or the command): the run ends when all are gone. */
struct root {
	pid_t pid;
	int pidfd;		/* kept after it exits: its exit status (tracer_roots.c) */
	bool exited;
	bool running;		/* it ran before we looked: named from /proc */
};

struct mo_tracer {
	struct mo_tracer_opts opts;
	struct mo_inproc *inproc;	/* in-process heap counting, or NULL */
	struct mo_run *run;
	struct mo_session *sess;
	struct mo_probes *probes;
	struct mo_execgate *gate;	/* the command's exec gate, or NULL */
	struct mo_watchdog *watchdog;	/* answers the gate after memobs (not ours) */
	struct mo_stopgate *stopgate;	/* the -p gate, or NULL */
	struct mo_proctree *tree;
	struct mo_readout *readout;
	struct mo_buildids *buildids;	/* NULL: no stacks */
	struct mo_unwinder *unwinder;	/* the unwind tables BPF asks for; NULL: no stacks */
	struct mo_stack_names *names;	/* the frames' names; NULL: no stacks */
	struct mo_views *views;		/* the session now, for the next two */
	struct mo_live *live;		/* --live, or NULL */
	struct mo_serve *serve;		/* --serve, or NULL */
	struct mo_cgroups *cgroups;	/* cgroup ids to paths */
	struct mo_physical_obs *phys;	/* the tree's physical memory */
	struct root *roots;
	size_t nroots, roots_alloc;
	struct mo_procs_snap procs;	/* the process table as this tick read it */
	pid_t *added;		/* put in from /proc: checked once for an exit BPF missed */
	size_t nadded, added_alloc;
	int sigfd;
	__u64 t0_ns;
	__u64 end_ns;
	bool stop;		/* a stop signal in -p/-a mode */
	bool lazy_events;	/* as told to BPF (tracer_lazy_events) */
	/* The tracer's state while it follows: the run loop holds it but
	 * while it waits, the gate's thread while it answers. */
	pthread_mutex_t lock;
	pthread_t gate_thread;
	int gate_stop;		/* eventfd: the gate's thread ends (while it runs) */
	int gate_ended;		/* eventfd: it ended on its own (while it runs) */
	bool gate_threaded;	/* gate_thread runs (until joined) */
	int gate_error;		/* why it ended on its own, -errno; 0: it did not fail */
};

static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Serve the exec gate from a thread of its own from now on (with t->lock
 * held); without one (-errno), the run loop serves it as before. */
int tracer_gate_thread_start(struct mo_tracer *t);

/* What the run loop waits on for the exec gate: the listener, or with a
 * thread serving it, the end of that thread. */
int tracer_gate_poll_fd(struct mo_tracer *t);

/* That descriptor is ready: serve the gate, or join its thread (which
 * ended on its own: a failed listener goes to the watchdog). */
void tracer_gate_ready(struct mo_tracer *t);

/* Tell BPF whether fork, exec and exit events may wait for memobs's next
 * read (mo_state.lazy_events); again whenever that may have changed. */
void tracer_lazy_events(struct mo_tracer *t);

/* Processes read from /proc that exited before BPF knew them: ended now. */
void tracer_end_unseen_exits(struct mo_tracer *t);

/* A root that ran before memobs looked: its name, executable and command
 * line from /proc. */
void tracer_name_running_root(struct mo_tracer *t, pid_t pid);

/* The unwind tables of the C library and the dynamic loader, loaded now. */
void tracer_preload_unwind_tables(struct mo_tracer *t);

/* Start naming: the files in every stack opened ahead (stacks.h). 0/-ENOMEM. */
int tracer_start_names(struct mo_tracer *t);

/* The probes in place before the command runs. 0 or -errno with err. */
int tracer_attach_upfront(struct mo_tracer *t, char *err, size_t errlen);

/* A process the -p gate stopped at an exec: probed, then let go on. */
void tracer_inspect_exe(struct mo_tracer *t, const struct mo_ev_exec *ev);

#endif

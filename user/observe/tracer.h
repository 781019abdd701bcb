/* SPDX-License-Identifier: GPL-2.0 */
/* One observation from attach to readout: loads the BPF side, follows the
 * session's events (process tree, exec gate, markers), samples the timeline,
 * and at the end reads everything into the run document. */
#ifndef MO_TRACER_H
#define MO_TRACER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "model/run.h"
#include "observe/physical.h"
#include "observe/session.h"

struct mo_tracer;
struct mo_filters;
struct mo_watchdog;

struct mo_invoker;

struct mo_tracer_opts {
	enum mo_mode mode;
	bool heap;
	double interval_s;		/* timeline sampling */
	size_t max_samples;		/* timeline bound before downsampling */
	double duration_s;		/* stop after this long (0: at the root's end or a signal) */
	bool status_line;		/* one refreshed line on stderr */
	bool live;			/* the full-screen view instead (live.h) */
	const char *live_log;		/* the command's output under --live, or NULL */
	const char *serve_addr;		/* --serve ADDR:PORT (serve.h), or NULL */
	const char *libmemobs;		/* libmemobs.so to attach markers in, or NULL */
	const char *heap_lib;		/* with heap: the launched command counts its heap in
					 * process through this preloaded library (NULL: uprobes) */
	const char *verifier_log_dir;
	__u32 max_procs;
	__u32 max_allocs;
	__u32 max_stacks;
	__u64 alloc_sample_bytes;	/* allocation stacks (with heap), 0: none */
	__u64 rss_sample_bytes;		/* RSS growth stacks, 0: none */
	const struct mo_filters *filters;	/* host mode: which processes (filters.h), or NULL */
	struct mo_marker_limits markers;
	bool no_exec_gate;		/* do not stop new executables for inspection */
	enum mo_physical_mode physical;	/* the tree's physical memory (physical.h) */
	bool command;			/* memobs launches the command (a cgroup of its own is possible) */
	pid_t parked;			/* the command, forked parked before the BPF side loads, or 0 */
	bool parked_in_cgroup;		/* it was born in its cgroup (physical__cgroup_fd) */
	const struct mo_invoker *reader;	/* names only from files it may read; NULL: any */
};

/* The signals that end or are passed on by an observation (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT): block them before starting anything; the run loop
 * reads them from a signalfd. */
void tracer_stop_signals(sigset_t *set);

/* Load and attach. phys (physical__new) is the tracer's from now on,
 * whatever the outcome. NULL with the reason in err. */
struct mo_tracer *tracer__new(const struct mo_tracer_opts *opts, struct mo_physical_obs *phys, struct mo_run *run,
			      char *err, size_t errlen);

/* What the command's environment needs for in-process heap counting
 * ("MEMOBS_HEAP_SOCK=..."), NULL without it. */
const char *tracer__heap_env(const struct mo_tracer *t);
void tracer__free(struct mo_tracer *t);

/* A root of the session: a command held before exec (pending_exec: its
 * memory so far is memobs's copy, not counted; it moves into the cgroup
 * of its own, if there is one) or a running process (its
 * current memory is read from /proc); -p may give several. The run ends
 * when every root has exited. 0, or -errno with the reason in err. */
int tracer__add_root(struct mo_tracer *t, pid_t pid, bool pending_exec, char *err, size_t errlen);

/* The launched command's exec gate: serve listener (adopted) from now on,
 * recording ids for watchdog (or NULL), and answer the command's priming
 * notification. 0, or -errno with the reason in err. */
int tracer__set_gate(struct mo_tracer *t, int listener, struct mo_watchdog *watchdog, char *err, size_t errlen);

/* The gate's listener (-1 without), and one round of answers: for
 * launch_release, which waits for the command's exec. */
int tracer__gate_fd(struct mo_tracer *t);
void tracer__serve_gate(void *t);

/* Give the watchdog what it needs if memobs is killed: the -p gate's holds
 * (the command's gate listener goes by tracer__set_gate's caller). 0/-errno. */
int tracer__give_watchdog(struct mo_tracer *t, struct mo_watchdog *w);

/* Stop answering execs (the watchdog does from now on) and end the -p gate
 * (disarmed, whatever it stopped continued). Done when the observation
 * ends (tracer__follow) and by tracer__free. */
void tracer__end_gate(struct mo_tracer *t);

/* Host mode: every process running now (that matches the filters) joins
 * the session. Returns how many. */
int tracer__add_all(struct mo_tracer *t);

/* Start the clock and the root phase; call right before the root runs.
 * 0/-errno. */
int tracer__start(struct mo_tracer *t);

/* Follow the session until the root exits (its wait status in *status when
 * it is memobs's child), the duration elapses, or a stop signal comes (or,
 * without a command, q in the live view).
 * forward_signals: pass SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to memobs on to
 * the root and keep waiting for it. 0/-errno. */
int tracer__follow(struct mo_tracer *t, bool own_child, bool forward_signals, int *status);

/* Read everything into the run document. 0/-errno. */
int tracer__finish(struct mo_tracer *t);

#endif

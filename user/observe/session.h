/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF side of an observation: the skeleton's lifecycle (open, size,
 * load, attach tracepoints), its ring buffer and its maps. The only module
 * besides attach_* that includes the skeleton. */
#ifndef MO_SESSION_H
#define MO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "memobs_abi.h"

struct mo_session;
struct mo_handoff;
struct memobs_bpf;
struct mo_filters;

/* Who may fire markers, how many marks are kept (issue 17): under -a, only
 * root's processes and those of uid (MO_NO_UID: none); at most max_marks
 * marks in the run, max_mark_rate in one second. */
struct mo_marker_limits {
	__u32 uid;
	__u64 max_marks;
	__u64 max_mark_rate;
};

struct mo_session_opts {
	enum mo_mode mode;
	bool heap;
	bool heap_inproc;	/* processes may count in process (a preloaded library) */
	bool gate_exec;		/* the -p gate (SIGSTOP at exec) */
	bool heap_pid_links;	/* allocator probes are pid-scoped (-p --heap): the gate holds
				 * forked children too, where the kernel can (6.13:
				 * bpf_send_signal_task); others are counted (unheld_forks) */
	int holds_fd;		/* its hosts-wide holds map (holds.h), -1: a map of its own */
	unsigned gate_bit;	/* its bit in the holds */
	__u32 max_procs;
	__u32 max_allocs;
	__u32 max_stacks;	/* mo_stacks; mo_sites gets two per stack (kinds) */
	__u64 alloc_sample_bytes;	/* stacks of allocations (with heap), 0: none */
	__u64 rss_sample_bytes;		/* stacks of RSS growth, 0: none */
	const char *verifier_log_dir;	/* where a failed load leaves libbpf's log */
	const struct mo_filters *filters;	/* host mode: which processes (filters.h), or NULL */
	struct mo_marker_limits markers;
};

/* Who a process is, for one added from user space. */
struct mo_proc_ident {
	__u32 uid;		/* effective */
	__u64 cgroup_id;
};

/* Called for each ring-buffer record; return 0 to go on. */
typedef int (*mo_event_fn)(void *ctx, const void *data, size_t len);

/* Open, size, load and attach the always-on programs (process tree, RSS).
 * NULL on failure with the reason in err, errno set. */
struct mo_session *session__open(const struct mo_session_opts *opts, mo_event_fn on_event, void *ctx,
				 char *err, size_t errlen);
void session__free(struct mo_session *s);

/* The observation is over: the tracepoints are handed to the kernel to
 * detach (probe/handoff.h), or detached in the background (session__free
 * waits); the maps stay readable. */
void session__detach(struct mo_session *s);

/* Where the links of the observation are handed off (session__free frees
 * it), or NULL: closing them waits. */
struct mo_handoff *session__handoff(struct mo_session *s);

struct memobs_bpf *session__skel(struct mo_session *s);

/* The session-wide counters, live (the skeleton's mmap of .bss). */
const volatile struct mo_state *session__state(struct mo_session *s);
/* The session's heap header, live: its live heap and peaks (whichever path
 * counts), what the in-process libraries read. */
volatile struct mo_heap_shared *session__heap(struct mo_session *s);
/* The header's map, the slots' (an array of nslots maps) and their index
 * (tgid -> slot), for observe/inproc.c. */
void session__heap_fds(struct mo_session *s, int *shared_fd, int *slots_fd, int *slot_of_fd, size_t *nslots);

/* Put a process into the session (the launched command, -p PID, or one
 * found in /proc by -a), with its name (NULL: learned at exec), current RSS
 * by member in bytes and identity (NULL: unknown yet, learned at exec).
 * 0, -EEXIST when BPF already observes it, or -errno. */
int session__add_proc(struct mo_session *s, pid_t pid, pid_t ppid, __u32 flags, __u64 start_ns,
		      const char *comm, const __s64 rss[MO_RSS_NR], const struct mo_proc_ident *ident);

/* A process put in by session__add_proc that is gone now (no longer in
 * /proc, or a zombie) may have exited before it was put in, where BPF could
 * not see its exit: if its record is still there and not flagged exited,
 * take it out of the session's sums and the table; *final gets it (flagged
 * MO_PROC_EXITED | MO_PROC_EXIT_UNSEEN, ended at end_ns). Returns 1 when it
 * did, 0 when BPF had seen the exit. Only for a process whose exit
 * tracepoint has run (gone or a zombie): BPF must no longer touch it. */
int session__end_unseen_exit(struct mo_session *s, pid_t pid, __u64 end_ns, struct mo_proc *final);

/* Open the root phase "main" at start_ns. 0/-errno. */
int session__start_root_phase(struct mo_session *s, __u64 start_ns);

/* Deliver pending ring-buffer records; wait up to timeout_ms for the first.
 * Returns records handled or -errno. */
int session__poll(struct mo_session *s, int timeout_ms);
/* A file descriptor that becomes readable when records are pending. */
int session__poll_fd(struct mo_session *s);
/* Deliver the records pending now, without a system call. */
void session__consume(struct mo_session *s);
/* Whether fork, exec and exit events wake memobs (mo_state.lazy_events):
 * lazy, memobs must consume every MO_LAZY_EVENTS_MS. */
void session__lazy_events(struct mo_session *s, bool lazy);

/* The -p gate may let this content run from now on, or (again) must stop
 * every process that execs it, for a look each. The second takes the file's
 * current content at path. 0/-errno. */
int session__exe_ready(struct mo_session *s, const struct mo_exe_key *key, bool again);
int session__exe_ready_file(struct mo_session *s, const char *path, bool again);

/* The -p gate: arm or disarm it (the heartbeat set to now_ns), tick its
 * heartbeat (it stops nothing once the heartbeat is MO_GATE_HEARTBEAT_NS
 * old), read what it did. The release program's fd (mo_release_continue where
 * the kernel has it, else mo_release), for holds.h. */
void session__gate_arm(struct mo_session *s, bool on, __u64 now_ns);
void session__gate_tick(struct mo_session *s, __u64 now_ns);
void session__gate_counts(struct mo_session *s, struct mo_gate_state *out);
int session__release_prog_fd(struct mo_session *s);

/* A phase's record as of now: an open phase's peaks include the segment
 * running now; the root's are the session's. 0/-errno. */
int session__read_phase(struct mo_session *s, __u32 id, struct mo_phase *out);

/* The newest open phase (the innermost, when phases nest), else the root. */
__u32 session__current_phase(struct mo_session *s);

/* Does pid still run the program that had program_id (mo_ev_phase)? Only
 * once the kernel tells when an exec begins (sched_prepare_exec, 6.10): on
 * older kernels, never. */
bool session__same_program(struct mo_session *s, pid_t pid, __u64 program_id);

/* The process records as one batched read of mo_procs saw them. */
struct mo_procs_snap {
	__u32 *tgids;
	struct mo_proc *procs;
	size_t n, tgids_alloc, procs_alloc;
};

/* Read every record of mo_procs into snap, reusing its arrays: the one read
 * of a tick, shared by the harvest and the views. 0/-ENOMEM. */
int session__read_procs(struct mo_session *s, struct mo_procs_snap *snap);
void session_procs_snap_free(struct mo_procs_snap *snap);

/* Delete these records from mo_procs (harvested), in batches. */
void session__delete_procs(struct mo_session *s, const __u32 *tgids, size_t n);
/* The record of pid now. 0/-errno (-ENOENT: not in the session). */
int session__read_proc(struct mo_session *s, pid_t pid, struct mo_proc *out);

/* Visit records left in mo_procs: fn(ctx, tgid, proc); when fn returns true
 * the record is deleted from the map. */
void session__each_proc(struct mo_session *s, bool (*fn)(void *ctx, __u32 tgid, const struct mo_proc *p),
			void *ctx);

/* Same for mo_pstats. */
void session__each_pstat(struct mo_session *s,
			 bool (*fn)(void *ctx, const struct mo_pstat_key *k, const struct mo_pstat *v), void *ctx);

/* Visit the sampled stack sites. */
void session__each_site(struct mo_session *s,
			void (*fn)(void *ctx, const struct mo_site_key *k, const struct mo_site *v), void *ctx);

/* Visit the changes of allocation sites' live bytes, by phase epoch. */
void session__each_site_delta(struct mo_session *s,
			      void (*fn)(void *ctx, const struct mo_site_delta_key *k, __s64 bytes), void *ctx);

/* One file's unwind table for BPF: its rows (sorted, info->nrows of them,
 * 0: frame pointers only) and info (build id, row count, Python runtime). */
struct mo_unwind_load {
	struct mo_file_key file;
	struct mo_unwind_file info;
	const struct mo_unwind_row *rows;
	int err;		/* out: 0/-errno for this file */
};

/* Give BPF the tables of n files: each file's rows in an array of their
 * own, then its info, marked ready. The kernel waits an RCU grace period
 * (10-60 ms here) after each update of a map of maps, or once per batch:
 * the n arrays go in as one batch. 0, or the first error. */
int session__load_unwind_tables(struct mo_session *s, struct mo_unwind_load *loads, size_t n);

/* A Python code object's record (mo_pycode). 0/-errno. */
int session__read_pycode(struct mo_session *s, const struct mo_pycode_key *key, struct mo_pycode *code);

/* Kernel memory the loaded unwind tables take (rows * 8 bytes). */
size_t session__unwind_bytes(const struct mo_session *s);

/* The program of a site (a mo_progs key) into *prog. 0/-errno. */
int session__read_prog(struct mo_session *s, __u32 key, struct mo_prog *prog);

/* The frames of a stack (innermost first; status 0 ends it). 0/-errno. */
int session__read_stack(struct mo_session *s, __u64 key, struct mo_stack *stack);

/* A forked child got its allocator links after it ran a while (drops). */
void session__count_unlinked_fork(struct mo_session *s);

/* Delete outstanding heap blocks of processes for which fn says so. */
void session__drop_allocs(struct mo_session *s, bool (*fn)(void *ctx, __u32 tgid), void *ctx);

#endif

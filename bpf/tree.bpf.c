// SPDX-License-Identifier: GPL-2.0
/* The process tree: which processes belong to the session, from fork, exec
 * and exit, with what user space needs to name them. */
#include "rss.bpf.h"
#include "ident.bpf.h"

#define SIGCONT 18
#define SIGSTOP 19
#define SIGTTOU 22

/* 6.13 and later; the programs that call them are loaded only where the
 * kernel has them (hold_forks, mo_release_continue). */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, __u64 value) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/* A new child joins: in tree mode when its parent is observed, in host
 * mode when it matches the filters (if any). */
static __always_inline bool observes_child(__u32 parent_tgid, struct task_struct *child,
					   const char comm[MO_COMM_LEN])
{
	if (mo_cfg.mode != MO_MODE_HOST)
		return session_proc(parent_tgid);
	return !mo_cfg.filters || filters_match(child, comm);
}

/* Growth is measured from here: the program's RSS when first seen. */
static __always_inline void mark_first(struct mo_proc *p, __u64 now)
{
	p->rss_first = p->rss_sum;
	p->first_ns = now;
}

/* The wait status the parent will see (SIGNAL_GROUP_EXIT: exit_group or a
 * fatal signal set it for the whole group). */
static __always_inline __s32 exit_status(struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);

	if (BPF_CORE_READ(sig, flags) & 0x00000004 /* SIGNAL_GROUP_EXIT */)
		return BPF_CORE_READ(sig, group_exit_code);
	return BPF_CORE_READ(task, exit_code);
}

/* The process leaves the session sums (its record keeps its last values:
 * RSS and heap outstanding at exit). The record goes to user space, or
 * stays flagged for harvest when the ring buffer is full. why: 0 for an
 * exit, MO_PROC_FILTERED_OUT when an exec made it stop matching. */
static __always_inline void proc_end(struct task_struct *task, struct mo_proc *p, __u32 tgid, __u32 why)
{
	struct mo_ev_exit *ev;
	__s64 rss_end;

	if (__sync_fetch_and_or(&p->flags, MO_PROC_EXITED | why) & MO_PROC_EXITED)
		return;
	p->end_ns = bpf_ktime_get_ns();
	p->exit_code = why ? 0 : exit_status(task);
	/* Its members, not rss_sum: an event still in flight on another CPU
	 * (reclaim) may add to rss_sum after this, but has set its member
	 * before, or sees it ended and changes nothing. */
	rss_end = rss_leave(p);
	__sync_fetch_and_sub(&mo_heap.live, p->heap_live);
	heap_slot_end(tgid);
	__sync_fetch_and_sub(&mo_sess.nprocs, 1);
	if (p->mm)
		bpf_map_delete_elem(&mo_mm_owner, &p->mm);

	ev = bpf_ringbuf_reserve(&mo_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->hdr.type = MO_EV_EXIT;
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = p->end_ns;
	__builtin_memcpy(&ev->proc, p, sizeof(ev->proc));
	ev->proc.rss_sum = rss_end;
	bpf_ringbuf_submit(ev, wake_flags(false));
	bpf_map_delete_elem(&mo_procs, &tgid);
}

/* sched_process_fork: a child of a session process joins the session.
 * Threads (CLONE_THREAD) share their leader's record. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(mo_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = BPF_CORE_READ(child, tgid), ptgid = BPF_CORE_READ(parent, tgid);
	struct mo_proc init = {}, *p, *pp;
	struct mo_ev_fork *ev;
	struct mm_struct *mm;

	if (BPF_CORE_READ(child, pid) != tgid)
		return 0;
	BPF_CORE_READ_STR_INTO(&init.comm, child, comm);
	if (!observes_child(ptgid, child, init.comm))
		return 0;
	init.ppid = ptgid;
	init.start_ns = init.first_ns = bpf_ktime_get_ns();
	init.program_id = new_program_id();
	/* The child works in its parent's phase (phases nest along the tree). */
	pp = session_proc(ptgid);
	init.phase = pp ? proc_phase(pp) : MO_PHASE_ROOT;
	ident_update(&init, child);
	if (bpf_map_update_elem(&mo_procs, &tgid, &init, BPF_NOEXIST)) {
		/* Full, or the pid was reused before its record was harvested. */
		MO_DROP(processes);
		if (bpf_map_update_elem(&mo_procs, &tgid, &init, BPF_ANY))
			return 0;
	}
	p = session_proc(tgid);
	if (!p)
		return 0;
	__sync_fetch_and_add(&mo_sess.nprocs, 1);
	/* A vfork/CLONE_VM child borrows the parent's mm: it has no RSS of its own. */
	mm = BPF_CORE_READ(child, mm);
	if (mm && mm != BPF_CORE_READ(parent, mm)) {
		rss_seed(p, tgid, mm);
		mark_first(p, init.start_ns);
	}
	/* Held by mo_fork_hold where it runs; otherwise it runs unlinked a while. */
	if (mo_cfg.heap_pid_links && !mo_cfg.hold_forks)
		MO_DROP(heap_unheld);

	ev = bpf_ringbuf_reserve(&mo_events, sizeof(*ev), 0);
	if (!ev) {
		MO_DROP(events);
		return 0;
	}
	ev->hdr.type = MO_EV_FORK;
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = init.start_ns;
	ev->ppid = ptgid;
	__builtin_memcpy(ev->comm, init.comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, wake_flags(false));
	return 0;
}

/* A job of a job-control shell (set -m, an interactive shell): the shell put
 * it in a process group of its own within its session, and waits with
 * WUNTRACED: it would see the stop. (A process that made a session of its
 * own, a daemon, is no one's job.) */
static __always_inline bool job_of_a_shell(struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal), *psig = BPF_CORE_READ(task, real_parent, signal);

	return BPF_CORE_READ(sig, pids[PIDTYPE_PGID]) != BPF_CORE_READ(psig, pids[PIDTYPE_PGID]) &&
	       BPF_CORE_READ(sig, pids[PIDTYPE_SID]) == BPF_CORE_READ(psig, pids[PIDTYPE_SID]);
}

/* tgid's entry of the host-wide mo_holds, made when it has none; NULL when
 * they are full. */
static __always_inline struct mo_hold *hold_of(__u32 tgid)
{
	struct mo_hold none = {};

	bpf_map_update_elem(&mo_holds, &tgid, &none, BPF_NOEXIST);
	return bpf_map_lookup_elem(&mo_holds, &tgid);
}

/* Record in hold (hold_of; NULL: the holds are full) that this instance
 * holds the process, then stop it: the current one (stop_current), else
 * task, a new child (bpf_send_signal_task, 6.13). false when there is no
 * hold or the stop is refused; the hold is then not this instance's. */
static __always_inline bool hold_and_stop(struct mo_hold *hold, bool stop_current, struct task_struct *task)
{
	__u64 bit = 1ull << (mo_cfg.gate_bit & (MO_MAX_GATES - 1));

	if (!hold)
		return false;
	__sync_fetch_and_or(&hold->owners, bit);
	if (stop_current ? bpf_send_signal(SIGSTOP) : bpf_send_signal_task(task, SIGSTOP, PIDTYPE_TGID, 0)) {
		__sync_fetch_and_and(&hold->owners, ~bit);
		return false;
	}
	return true;
}

/* The -p gate: stop a process at an exec memobs has to look at (an
 * executable's content not seen before, or one whose every process needs a
 * look: markers), so that it can attach probes before it runs; SIGCONT
 * follows. Never when memobs disarmed it or stopped ticking (dead-man
 * switch), never a job of a job-control shell (counted). The stop is
 * recorded in the host-wide mo_holds before it is sent: the last memobs
 * holding it continues it. */
static __always_inline bool gate_exec(struct task_struct *task, __u32 tgid, const struct mo_exe_key *exe)
{
	struct mo_exe_key key = *exe;
	__u32 inspecting = MO_EXE_INSPECTING, *state;

	if (!mo_cfg.gate_exec || !mo_sess.gate.armed)
		return false;
	state = bpf_map_lookup_elem(&mo_exes, &key);
	if (state && *state == MO_EXE_READY)
		return false;
	if (bpf_ktime_get_ns() - mo_sess.gate.heartbeat_ns > MO_GATE_HEARTBEAT_NS) {
		__sync_fetch_and_add(&mo_sess.gate.stale_skips, 1);
		return false;
	}
	if (job_of_a_shell(task)) {
		__sync_fetch_and_add(&mo_sess.gate.job_skips, 1);
		return false;
	}
	if (!state)
		bpf_map_update_elem(&mo_exes, &key, &inspecting, BPF_NOEXIST);
	if (!hold_and_stop(hold_of(tgid), true, NULL)) {
		__sync_fetch_and_add(&mo_sess.gate.hold_fails, 1);
		return false;
	}
	__sync_fetch_and_add(&mo_sess.gate.stops, 1);
	return true;
}

/* A job-control shell (bash, dash, zsh with job control on) ignores
 * SIGTTOU: a stop of its child before the child made a process group of its
 * own would be reported as its job's. */
static __always_inline bool job_control_shell(struct task_struct *task)
{
	return BPF_CORE_READ(task, sighand, action[SIGTTOU - 1].sa.sa_handler) == (void *)1;	/* SIG_IGN */
}

/* -p --heap: a child forked in the session carries its parent's allocator
 * breakpoints, but pid-scoped links do not follow a fork: until memobs links
 * it, its calls trap and are not counted. So it is held (SIGSTOP, pending
 * before it first runs) until memobs has linked it (MO_EV_FORK_HELD), by the
 * exec gate's rules: armed, heartbeat, host-wide holds; a job-control shell's
 * child is not held (counted). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(mo_fork_hold, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = BPF_CORE_READ(child, tgid), ptgid = BPF_CORE_READ(parent, tgid);
	struct mo_hold *hold;
	struct mo_ev_fork *ev;

	if (!mo_cfg.hold_forks || BPF_CORE_READ(child, pid) != tgid || !session_proc(ptgid) || !mo_sess.gate.armed)
		return 0;
	if (bpf_ktime_get_ns() - mo_sess.gate.heartbeat_ns > MO_GATE_HEARTBEAT_NS || job_control_shell(parent))
		goto skip;
	hold = hold_of(tgid);
	if (!hold)
		goto skip;
	ev = bpf_ringbuf_reserve(&mo_events, sizeof(*ev), 0);
	if (!ev) {
		MO_DROP(events);
		goto skip;
	}
	if (!hold_and_stop(hold, false, child)) {
		bpf_ringbuf_discard(ev, 0);
		goto skip;
	}
	ev->hdr.type = MO_EV_FORK_HELD;
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->ppid = ptgid;
	BPF_CORE_READ_STR_INTO(&ev->comm, child, comm);
	bpf_ringbuf_submit(ev, wake_flags(true));
	__sync_fetch_and_add(&mo_sess.gate.stops, 1);
	return 0;
skip:
	MO_DROP(heap_unheld);
	return 0;
}

/* Let go of a process this instance held (user space runs it with
 * BPF_PROG_TEST_RUN): atomic, unlike a read and a write of the map from user
 * space, which two instances could interleave and both believe the other
 * still holds it. */
static __always_inline void let_go(struct mo_release_args *args)
{
	__u32 tgid = args->tgid;
	__u64 bit = 1ull << (args->bit & (MO_MAX_GATES - 1));
	struct mo_hold *hold = bpf_map_lookup_elem(&mo_holds, &tgid);

	args->remaining = hold ? __sync_fetch_and_and(&hold->owners, ~bit) & ~bit : 0;
}

/* Before 6.13: user space sends the SIGCONT, a system call later. */
SEC("syscall")
int mo_release(struct mo_release_args *args)
{
	let_go(args);
	return 0;
}

/* 6.13 and later: the last to let go continues it in the same system call,
 * so that no moment exists where nobody holds a stopped process and nobody
 * has continued it (a memobs killed between the two left it stopped for
 * ever: its watchdog continues only what still carries its bit). */
SEC("syscall")
int mo_release_continue(struct mo_release_args *args)
{
	struct task_struct *task;

	let_go(args);
	if (args->remaining)
		return 0;
	task = bpf_task_from_pid(args->tgid);
	if (!task)
		return 0;
	args->continued = !bpf_send_signal_task(task, SIGCONT, PIDTYPE_TGID, 0);
	bpf_task_release(task);
	return 0;
}

/* The process became a new program: its peaks are the new program's from
 * here. What it held before (a fork copy of its parent's memory, or an
 * earlier program) is kept apart as its pre-exec peak, never counted as
 * the new program's; so is its peak in the phase open now. */
static __always_inline void restart_peaks(struct mo_proc *p, __u32 tgid)
{
	__s64 sum = p->rss_sum;
	struct mo_pstat *ps;

	atomic_max(&p->rss_pre_exec_peak, __sync_lock_test_and_set(&p->rss_peak_sum, sum));
#pragma unroll
	for (int m = 0; m < MO_RSS_NR; m++)
		__sync_lock_test_and_set(&p->rss_peak[m], p->rss[m]);
	ps = pstat_get(tgid, proc_phase(p), sum);
	if (ps)
		__sync_lock_test_and_set(&ps->rss_peak, sum);
}

/* sched_process_exec: the process becomes a new program. Its memory so far
 * (memobs's own copy, for the launched command) is replaced by the new mm. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(mo_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct mo_proc *p = session_proc(tgid);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long arg_start, arg_end;
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);
	struct mo_exe_key exe = {};
	char comm[MO_COMM_LEN] = {};
	struct mo_ev_exec *ev;
	__u64 now = bpf_ktime_get_ns();
	__u32 len;

	BPF_CORE_READ_STR_INTO(&comm, task, comm);
	if (!p) {
		struct mo_proc init = {};

		if (mo_cfg.mode != MO_MODE_HOST || (mo_cfg.filters && !filters_match(task, comm)))
			return 0;
		init.ppid = BPF_CORE_READ(task, real_parent, tgid);
		init.start_ns = now;
		init.program_id = new_program_id();
		if (bpf_map_update_elem(&mo_procs, &tgid, &init, BPF_NOEXIST)) {
			MO_DROP(processes);
			return 0;
		}
		p = session_proc(tgid);
		if (!p)
			return 0;
		__sync_fetch_and_add(&mo_sess.nprocs, 1);
	} else if (mo_cfg.mode == MO_MODE_HOST && mo_cfg.filters && !filters_match(task, comm)) {
		proc_end(task, p, tgid, MO_PROC_FILTERED_OUT);
		return 0;
	}
	ident_update(p, task);
	if (p->mm)
		bpf_map_delete_elem(&mo_mm_owner, &p->mm);
	p->mm = 0;
	exe.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	exe.ino = BPF_CORE_READ(inode, i_ino);
	exe.ctime_ns = inode_ctime_ns(inode);
	exe.size = BPF_CORE_READ(inode, i_size);
	__builtin_memcpy(p->comm, comm, sizeof(p->comm));
	if (exe.ino == mo_cfg.self_ino && exe.dev == mo_cfg.self_dev) {
		/* memobs itself (memobs mark): the observer's tool, not the workload. */
		rss_seed(p, tgid, NULL);
		__sync_fetch_and_or(&p->flags, MO_PROC_OBSERVER);
	} else {
		rss_seed(p, tgid, mm);
	}
	restart_peaks(p, tgid);
	mark_first(p, now);
	/* The old program's heap is gone with its memory (its blocks' keys are
	 * of its program id, which mo_prep_exec renewed: a free in the new one
	 * never matches them); the new one's library shakes hands for a slot of
	 * its own. */
	__sync_fetch_and_sub(&mo_heap.live, __sync_lock_test_and_set(&p->heap_live, 0));
	heap_slot_end(tgid);
	__sync_fetch_and_and(&p->flags, ~(MO_PROC_SECURE_EXEC | MO_PROC_HEAP_INPROC));
	if (BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec))
		__sync_fetch_and_or(&p->flags, MO_PROC_SECURE_EXEC);
	__sync_fetch_and_and(&p->flags, ~MO_PROC_PENDING_EXEC);

	ev = bpf_ringbuf_reserve(&mo_events, sizeof(*ev), 0);
	if (!ev) {
		MO_DROP(events);
		return 0;
	}
	ev->hdr.type = MO_EV_EXEC;
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = now;
	__builtin_memcpy(ev->comm, p->comm, sizeof(ev->comm));
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	/* argv was just written by exec: its pages are present. */
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	len = arg_end - arg_start;
	ev->args_total = len;
	if (len > MO_ARGS_LEN)
		len = MO_ARGS_LEN;
	if (bpf_probe_read_user(ev->args, len, (void *)arg_start))
		len = 0;
	ev->args_len = len;
	ev->exe = exe;
	ev->flags = gate_exec(task, tgid, &exe) ? MO_EXEC_STOPPED : 0;
	bpf_ringbuf_submit(ev, wake_flags(ev->flags & MO_EXEC_STOPPED));
	return 0;
}

/* sched_prepare_exec: an exec passed its point of no return; the old
 * program's memory is about to go (6.10 and later). From here on, its marker
 * names must not be read late: the address may hold the new program's data. */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(mo_prep_exec, struct task_struct *task, struct linux_binprm *bprm)
{
	struct mo_proc *p = session_proc(BPF_CORE_READ(task, tgid));

	if (p)
		p->program_id = new_program_id();
	return 0;
}

/* sched_process_exit of the last thread. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(mo_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct mo_proc *p = session_proc(tgid);

	if (!p || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	/* Gone: nobody is to continue it any more. */
	if (mo_cfg.gate_exec)
		bpf_map_delete_elem(&mo_holds, &tgid);
	proc_end(task, p, tgid, 0);
	return 0;
}

/* A process moved to another cgroup (cgroup.procs): its cgroup v2 id now.
 * Fires after the move, for any hierarchy; the v2 one is re-read. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(mo_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	struct mo_proc *p = session_proc(BPF_CORE_READ(task, tgid));

	if (p)
		p->cgroup_id = cgroup_kn_id(task_dfl_cgroup(task));
	return 0;
}

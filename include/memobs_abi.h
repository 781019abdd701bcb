/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one contract between the BPF programs (bpf/) and the loader (user/):
 * limits, enums, map keys and values, ring-buffer records. Included by both
 * sides; BPF includes it after vmlinux.h, user space after <linux/types.h>.
 */
#ifndef MEMOBS_ABI_H
#define MEMOBS_ABI_H

#define MO_NAME_LEN 64		/* phase names and mark labels, NUL included */
#define MO_COMM_LEN 16
#define MO_PATH_LEN 256
#define MO_ARGS_LEN 512		/* argv bytes captured at exec, NUL-separated */
#define MO_PHASE_DEPTH 16	/* phases nested in one process tree (spec: >= 8) */
#define MO_MAX_OPEN_PHASES 64	/* phases open at once in the session */
#define MO_MAX_PHASES 4096	/* phase instances per run */
#define MO_PHASE_ROOT 0		/* the run itself, named "main" */
#define MO_PHASE_NONE 0xffffffffu
/* A phase's items stay below this (2^53, exact in JSON); a marker that would
 * pass it (a negative count cast to uint64) spoils the phase's items. */
#define MO_ITEMS_MAX (1ull << 53)

/* Default map sizes; the loader may change them before load. */
#define MO_MAX_PROCS 32768	/* live processes of the session */
#define MO_MAX_CPUS 8192	/* possible CPUs an mm counter is summed over */
#define MO_MAX_PSTATS 65536	/* (process, phase) pairs not yet harvested */
#define MO_MAX_ALLOCS 1048576	/* outstanding heap blocks */
#define MO_MAX_EXES 16384	/* executables the -p gate knows (LRU: one forgotten is looked at again) */
#define MO_MAX_HOLDS 16384	/* processes stopped by the -p gates of the host (LRU, shared) */
#define MO_MAX_GATES 64		/* memobs -p instances at once on a host: a bit each in mo_hold */
/* The -p gate stops only while memobs's heartbeat is this fresh. */
#define MO_GATE_HEARTBEAT_NS 2000000000ull
#define MO_MAX_STACKS 8192	/* distinct user stacks (build-id frames) */
#define MO_MAX_PROGS 4096	/* programs (executables) with sampled stacks */
#define MO_MAX_UNWIND_FILES 4096	/* files with unwind tables */
#define MO_MAX_PYCODES 16384	/* Python code objects met in samples */
#define MO_MAX_SITES 16384	/* (stack, kind) sites */
#define MO_MAX_SITE_DELTAS 65536	/* (allocation stack, phase epoch) live byte changes */
#define MO_STACK_DEPTH 32	/* frames kept per stack */
#define MO_SAMPLE_BYTES (512u << 10)	/* default sampling period of stacks */
#define MO_RINGBUF_BYTES (2u << 20)	/* the consumer maps it twice: it counts twice in memobs's RSS */
#define MO_LAZY_EVENTS_MS 100	/* the longest memobs leaves events unread (mo_state.lazy_events) */
#define MO_MAX_COMM_FILTERS 64	/* --comm names */
#define MO_MAX_MARKS 10000	/* marks kept in a run (--max-marks) */
#define MO_MAX_MARK_RATE 1000	/* marks kept in one second (--max-mark-rate) */
#define MO_UNMATCHED_REPORTED 100	/* unmatched phase_ends sent to user space, the rest counted */
#define MO_NO_UID 0xffffffffu

/* Order matches the kernel's MM_FILEPAGES.. (kmem:rss_stat "member"). */
enum mo_rss_member {
	MO_RSS_FILE,
	MO_RSS_ANON,
	MO_RSS_SWAP,
	MO_RSS_SHMEM,
	MO_RSS_NR,
};

enum mo_mode {
	MO_MODE_TREE,		/* a command or a pid and its descendants */
	MO_MODE_HOST,		/* every process (-a) */
};

/* Host mode: observe only the processes that match every filter given,
 * decided at fork and at exec (-a --comm/--uid/--cgroup). */
enum mo_filter {
	MO_FILTER_COMM = 1u << 0,	/* its comm is a key of mo_comm_filter */
	MO_FILTER_UID = 1u << 1,	/* its effective uid is filter_uid */
	MO_FILTER_CGROUP = 1u << 2,	/* it is in filter_cgroup_id or below it */
};

struct mo_config {
	__u32 mode;		/* enum mo_mode */
	__u32 gate_exec;	/* stop new executables until the loader inspected them */
	__u32 heap;		/* allocator probes are attached */
	__u32 page_size;
	__u64 self_dev;		/* memobs's own executable (kernel dev_t, inode): */
	__u64 self_ino;		/* `memobs mark` processes are not the workload */
	__u64 alloc_sample_bytes;	/* allocation stacks: one per this many bytes (0: off) */
	__u64 rss_sample_bytes;	/* RSS growth stacks: one per this many bytes (0: off) */
	__u32 filters;		/* enum mo_filter */
	__u32 filter_uid;
	__u64 filter_cgroup_id;	/* cgroup v2 id (kernfs id: its directory's inode) */
	__u32 filter_cgroup_level;	/* its depth below the root (the root: 0) */
	__u32 marker_uid;	/* host mode: markers from root and this uid (MO_NO_UID: root's only) */
	__u64 max_marks;	/* marks kept in the run */
	__u64 max_mark_rate;	/* marks kept in one second */
	__u32 gate_bit;		/* the -p gate's bit in mo_hold.owners (< MO_MAX_GATES) */
	__u32 heap_pid_links;	/* -p --heap: allocator probes are pid-scoped links, which
				 * a forked child does not inherit */
	__u32 hold_forks;	/* and the gate holds a forked child until it has its own
				 * (mo_fork_hold, where the kernel can) */
	__u32 nr_cpus;		/* possible CPUs (< MO_MAX_CPUS): an mm counter's parts */
};

enum mo_proc_flags {
	MO_PROC_PENDING_EXEC = 1u << 0,	/* launched by memobs, not yet exec'd: its
					 * memory is memobs's copy, not the target's */
	MO_PROC_EXITED = 1u << 1,
	MO_PROC_HEAP_SEEN = 1u << 2,	/* an allocator probe fired in it */
	MO_PROC_ROOT = 1u << 3,
	MO_PROC_OBSERVER = 1u << 4,	/* runs memobs itself (memobs mark): not counted */
	MO_PROC_FILTERED_OUT = 1u << 5,	/* an exec made it stop matching the filters: its
					 * observation ended there (with EXITED) */
	MO_PROC_EXIT_UNSEEN = 1u << 6,	/* (set by user space) found in /proc, it exited
					 * before its record was put in: status unknown */
	MO_PROC_HEAP_INPROC = 1u << 7,	/* its program's heap is counted in process (a slot) */
	MO_PROC_SECURE_EXEC = 1u << 8,	/* its exec was secure (setuid, setgid, capabilities):
					 * the dynamic loader ignored LD_PRELOAD */
};

/* Value of mo_procs, keyed by tgid. Sizes in bytes. */
struct mo_proc {
	__u32 ppid;
	__u32 flags;		/* enum mo_proc_flags */
	__u64 start_ns;		/* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u64 mm;		/* its mm_struct's address, learned from its own RSS
				 * changes (mo_mm_owner's key) */
	__s32 exit_code;	/* kernel wait status (as in waitpid) */
	__u32 uid;		/* effective uid, at fork and exec */
	__s64 rss[MO_RSS_NR];	/* -1 once it left the session's sums (exit) */
	__s64 rss_peak[MO_RSS_NR];
	__s64 rss_sum;		/* file + anon + shmem */
	__s64 rss_peak_sum;	/* of its program: since its last exec */
	__s64 rss_pre_exec_peak;	/* rss_sum's peak before that exec (a fork copy of
					 * its parent, an earlier program), 0: none */
	__s64 heap_live;
	__s64 heap_peak_live;
	__s64 rss_first;	/* rss_sum when its program was first seen (fork, exec, attach) */
	__u64 first_ns;		/* and when */
	__u64 cgroup_id;	/* cgroup v2 id, at fork, exec and cgroup moves */
	__u32 phase;		/* its innermost phase: inherited at fork, set by its
				 * markers; once closed, its nearest open enclosing one */
	__u64 program_id;	/* new at fork and when an exec begins (before the old
				 * memory goes): a late read of marker names checks it */
	char comm[MO_COMM_LEN];
};

struct mo_pstat_key {
	__u32 tgid;
	__u32 phase;
};

/* Value of mo_pstats: one process's figures inside one phase (exclusive). */
struct mo_pstat {
	__u64 alloc_bytes;
	__u64 alloc_count;
	__u64 free_bytes;
	__u64 free_count;
	__u64 free_unknown_count;	/* frees of blocks allocated before we looked */
	__s64 rss_peak;			/* the process's peak RSS while the phase was innermost */
	__s64 heap_peak_live;
};

struct mo_alloc_key {
	__u32 tgid;
	__u32 program;		/* the low bits of its process's program_id: an
				 * exec leaves the old program's blocks behind */
	__u64 addr;
};

struct mo_alloc {
	__u64 size;
	__u64 weight;		/* bytes its site was credited with (sampling) */
	__u64 stack;		/* its site's stack (mo_stacks key), 0: not sampled */
	__u32 phase;
	__u32 prog;		/* its site's program (mo_progs key) */
};

enum mo_site_kind {
	MO_SITE_ALLOC = 1,	/* allocation call sites (--heap) */
	MO_SITE_RSS = 2,	/* code running when RSS grew (page faults) */
};

struct mo_site_key {
	__u64 stack;		/* key of mo_stacks: a hash of the frames */
	__u32 kind;		/* enum mo_site_kind */
	__u32 prog;		/* key of mo_progs: the program that ran it */
};

/* Value of mo_progs, keyed by a 32-bit hash of (dev, ino): a program whose
 * code was sampled, named by its executable and the comm it ran as. */
struct mo_prog {
	__u64 dev;		/* the executable's (kernel dev_t, inode) */
	__u64 ino;
	char comm[MO_COMM_LEN];	/* its process's comm when first sampled */
};

/* Sampled figures of one site, weighted so that totals stay unbiased. */
struct mo_site {
	__u64 bytes;
	__u64 count;
	__s64 live;		/* allocations: bytes still outstanding */
};

/* Key of mo_site_deltas (value: __s64 bytes): how much an allocation site's
 * outstanding bytes changed between two phase boundaries (an epoch). A
 * phase's growth per site is the sum over the epochs it was open; what is
 * live at its end, the sum over every epoch before its end. */
struct mo_site_delta_key {
	__u64 stack;		/* key of mo_stacks */
	__u32 epoch;		/* mo_state.site_epoch then */
	__u32 prog;		/* key of mo_progs */
};

/* One frame as bpf_get_stack(BPF_F_USER_BUILD_ID) gives it: the kernel's
 * struct bpf_stack_build_id. status 1 (VALID): build_id and the file
 * offset; 2 (IP): only the address; 0: past the last frame. */
struct mo_stack_frame {
	__s32 status;
	unsigned char build_id[20];
	__u64 offset;
};

/* A frame whose file BPF had no unwind table for yet: build_id holds the
 * file's struct mo_file_key (dev, inode), offset the file offset. */
#define MO_FRAME_FILE 3

/* A file as the kernel names it: its super block's dev_t and its inode. */
struct mo_file_key {
	__u64 dev;
	__u64 ino;
};

/* How to find the caller's frame at an address: one row of an unwind
 * table, compiled by user space from the file's .eh_frame (x86-64: the
 * return address is at CFA - 8). */
enum mo_cfa_rule {
	MO_CFA_STOP = 0,	/* a rule memobs does not evaluate (an expression): end the stack */
	MO_CFA_RSP = 1,		/* CFA = rsp + cfa_off8 * 8 */
	MO_CFA_RBP = 2,		/* CFA = rbp + cfa_off8 * 8 */
	MO_CFA_END = 3,		/* the outermost frame (return address undefined) */
	MO_CFA_FP = 4,		/* no CFI covers it: try the frame pointer (CFA = rbp + 16) */
};

/* Rows are sorted by offset; a row holds until the next one. */
struct mo_unwind_row {
	__u32 offset;		/* file offset where the row starts */
	__u8 cfa;		/* enum mo_cfa_rule */
	__s8 rbp_off8;		/* rbp saved at CFA + rbp_off8 * 8; 0: rbp unchanged */
	__u16 cfa_off8;
};

/* Value of mo_unwind_files: a file user space has looked at. Its rows are
 * the inner map of mo_unwind_tables under the same key (none: nrows 0,
 * frame pointers only). */
struct mo_unwind_file {
	unsigned char build_id[20];	/* zero-padded, as the kernel gives it */
	__u32 nrows;
	__u32 ready;		/* 0: BPF asked for it (MO_EV_UNWIND_FILE), not loaded yet */
	/* A CPython runtime (issue 16 item 4): its version (0x030b, 0x030c;
	 * 0: none or one memobs does not read), where its eval loop is (file
	 * offsets [start, end)) and _PyRuntime, as a file offset of the text
	 * segment would be: its address is vm_start - vm_pgoff * 4096 + this. */
	__u32 py_version;
	__u32 py_eval_start;
	__u32 py_eval_end;
	__u64 py_runtime;
};

/* The only frame of a stack taken while the kernel builds a new program's
 * image (execve, after the switch to its memory map: the user registers
 * are still the old program's, at no address of the new map), or adds
 * pages while the task holds its own map's lock (its map cannot be walked). */
#define MO_FRAME_EXEC 5

/* A Python frame (MO_FRAME_PY): build_id holds struct mo_pycode_key, offset
 * the byte offset of the instruction running in the code object. */
#define MO_FRAME_PY 4

struct mo_pycode_key {
	__u64 code;		/* the PyCodeObject's address */
	__u32 tgid;
	__u32 pad;
};

#define MO_PY_NAME_LEN 96
#define MO_PY_FILE_LEN 192
#define MO_PY_LINETABLE 256

/* Value of mo_pycode: what a code object says of itself, read by BPF at
 * the sample (the process may be gone when user space reads it). */
struct mo_pycode {
	char qualname[MO_PY_NAME_LEN];
	char filename[MO_PY_FILE_LEN];
	__u32 firstlineno;
	__u32 linetable_len;	/* bytes of linetable kept (the table may be longer) */
	unsigned char linetable[MO_PY_LINETABLE];	/* co_linetable: lines by instruction */
};

/* Value of mo_stacks, keyed by a 64-bit hash of its frames: equal stacks
 * share an entry, different ones never do (a stack whose hash another one
 * holds is compared frame by frame, and dropped and counted in
 * drops.stacks). */
struct mo_stack {
	struct mo_stack_frame frames[MO_STACK_DEPTH];
};

enum mo_phase_flags {
	MO_PHASE_OPEN = 1u << 0,
	MO_PHASE_ENDED = 1u << 1,
	MO_PHASE_NAME_PENDING = 1u << 2,	/* BPF could not read the name */
	MO_PHASE_IMPLICIT_END = 1u << 3,	/* closed because an outer phase ended */
	MO_PHASE_NAME_TRUNCATED = 1u << 4,
};

/* Element of the mo_phases array, indexed by phase id (ids grow with
 * phase_begin order). */
struct mo_phase {
	char name[MO_NAME_LEN];
	__u64 name_hash;	/* FNV-1a 64 of the name; 0: name not read */
	__u32 parent;		/* the opener's innermost phase then */
	__u32 depth;		/* root 0, its children 1, ... */
	__u32 flags;		/* enum mo_phase_flags */
	__u32 opener_tgid;
	__u32 begin_epoch;	/* mo_site_deltas epochs [begin_epoch, end_epoch) */
	__u32 end_epoch;
	__u32 ancestors[MO_PHASE_DEPTH];	/* [d - 1]: its enclosing phase of depth d; [depth - 1]: itself */
	__u64 start_ns;
	__u64 end_ns;
	__s64 rss_baseline;
	__s64 rss_peak;
	__s64 rss_end;
	__s64 heap_baseline;
	__s64 heap_peak;
	__s64 heap_end;
	__u64 items;
	__u64 items_overflows;	/* items markers that passed MO_ITEMS_MAX */
	__u64 alloc_bytes;
	__u64 alloc_count;
	__u64 free_bytes;
	__u64 free_count;
};

/* Everything BPF could not record is counted here and reaches the report. */
struct mo_drops {
	__u64 events;		/* ring buffer full */
	__u64 processes;	/* mo_procs full or a pid reused before harvest */
	__u64 pstats;		/* mo_pstats full */
	__u64 allocs;		/* mo_allocs full: block not tracked as live */
	__u64 stacks;		/* stack not captured, or mo_stacks full */
	__u64 sites;		/* site map full */
	__u64 phases;		/* phase table full, too many open, or nested too deep */
	__u64 marker_reads;	/* marker string unreadable from BPF (fallback used) */
	__u64 unmatched_ends;	/* phase_end naming no open phase */
	__u64 mm_ids;		/* mm owner map full */
	__u64 missed_frees;	/* an address re-allocated without a seen free */
	__u64 phase_sites;	/* mo_site_deltas full: a site's change left out of its phases */
	__u64 marker_names_unread;	/* by BPF and by user space (set by user space) */
	__u64 contended;	/* a peak not raised, an RSS value not set: its
				 * compare-and-swap lost to other CPUs 32 times in a row */
	__u64 programs;		/* mo_progs full: a site's program is unnamed */
	__u64 marks;		/* marks past max_marks or max_mark_rate */
	__u64 markers_refused;	/* host mode: markers of a uid other than root and marker_uid */
	__u64 pycodes;		/* mo_pycode full: a Python frame's code is unnamed */
	__u64 stacks_cut;	/* a stack walk ended early: the process's memory map was locked */
	__u64 heap_calls;	/* (set by user space) in-process calls counted nowhere (slots' lost) */
	__u64 heap_untracked;	/* (set by user space) sampled blocks whose free is not reported */
	__u64 heap_unheld;	/* -p --heap: forked children that ran before their own
				 * allocator links were made (not held at fork) */
};

/* An executable's content: a file written in place is another one. */
struct mo_exe_key {
	__u64 dev;		/* kernel dev_t */
	__u64 ino;
	__s64 ctime_ns;
	__s64 size;
};

/* Value of mo_holds (pinned, shared by the memobs -p instances of the host),
 * keyed by tgid: which instances stopped it (bit mo_config.gate_bit). The
 * last to let go of it continues it, so two instances never continue each
 * other's stopped processes. */
struct mo_hold {
	__u64 owners;
};

/* Context of mo_release (a syscall program user space runs): clears bit in
 * tgid's hold, atomically, and says who holds it still; where the kernel can
 * (mo_release_continue), the last to let go continues it there. */
struct mo_release_args {
	__u32 tgid;
	__u32 bit;
	__u64 remaining;	/* out: owners left (0: continue it) */
	__u32 continued;	/* out: the program sent the SIGCONT itself */
	__u32 pad;
};

/* The -p exec gate (SIGSTOP from BPF): memobs arms it and ticks a heartbeat
 * into it (this is in .bss, mmapped); BPF stops nothing when it is disarmed
 * or the heartbeat is stale. */
struct mo_gate_state {
	__u64 heartbeat_ns;	/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of memobs's last tick */
	__u32 armed;
	__u32 pad;
	__u64 stops;		/* processes stopped */
	__u64 job_skips;	/* execs not stopped: a job of a job-control shell */
	__u64 stale_skips;	/* execs not stopped: armed, heartbeat stale */
	__u64 hold_fails;	/* execs not stopped: the host-wide holds full, or the stop refused */
};

/* Session-wide state, in .bss, shared by all BPF programs and read by user
 * space through the skeleton's mmap. Grouped by who writes it, a cache line
 * per group (MO_LINE): what every RSS change writes from every CPU shares
 * no line with what other events write or what every event reads, so that
 * a CPU's RSS change takes one contended line, not three (BENCHMARKS.md,
 * "memobs's own cost"). */
#define MO_LINE __attribute__((aligned(64)))

struct mo_state {
	/* Every RSS change, from every CPU. */
	__s64 rss[MO_RSS_NR] MO_LINE;
	__s64 rss_sum;
	__s64 rss_peak;
	/* The highest session RSS since the last phase boundary: each boundary
	 * folds it into every open phase (the live heap's: mo_heap_shared). */
	__s64 seg_rss_peak;
	/* A new session peak. */
	__u64 rss_peak_ns MO_LINE;	/* when rss_peak was reached (bpf_ktime_get_ns) */
	__s64 rss_at_peak[MO_RSS_NR];	/* the members then */
	/* Every allocator call of the uprobe path (--heap); the in-process
	 * counts are in the slots, the live heap in mo_heap_shared. */
	__u64 alloc_bytes MO_LINE;
	__u64 alloc_count;
	__u64 free_bytes;
	__u64 free_count;
	/* Fork, exec, exit. */
	__s64 nprocs MO_LINE;
	__u64 last_program_id;	/* mo_proc.program_id: never 0 from BPF */
	/* (set by user space) Fork, exec and exit events that nothing waits
	 * for do not wake memobs: it reads them at its next sample (at most
	 * MO_LAZY_EVENTS_MS later), or when the ring buffer is a quarter full.
	 * A wakeup costs the forking or exiting task ~15 µs (an irq_work and an
	 * IPI on this VM), three per process. */
	__u32 lazy_events;
	/* Phase boundaries and marks. */
	__u32 next_phase MO_LINE;
	__u32 site_epoch;	/* phase boundaries so far (mo_site_delta_key) */
	__u32 open[MO_MAX_OPEN_PHASES];	/* open phases but the root; 0: free,
					 * MO_PHASE_NONE: being opened */
	__u64 marks;		/* marks taken (past max_marks: dropped) */
	__u64 mark_second;	/* the second marks_this_second counts */
	__u64 marks_this_second;
	/* The exec gate: memobs's heartbeat, and what each exec did. */
	struct mo_gate_state gate MO_LINE;
	struct mo_drops drops MO_LINE;
};

enum mo_event_type {
	MO_EV_FORK = 1,
	MO_EV_EXEC,
	MO_EV_EXIT,
	MO_EV_PHASE_BEGIN,
	MO_EV_PHASE_END,
	MO_EV_PHASE_UNMATCHED,
	MO_EV_MARK,
	MO_EV_UNWIND_FILE,
	MO_EV_FORK_HELD,	/* struct mo_ev_fork: the child is held (hold_forks) */
};

struct mo_ev_hdr {
	__u32 type;		/* enum mo_event_type */
	__u32 tgid;
	__u64 ts_ns;
};

struct mo_ev_fork {
	struct mo_ev_hdr hdr;
	__u32 ppid;
	__u32 pad;
	char comm[MO_COMM_LEN];
};

enum mo_exec_flags {
	MO_EXEC_STOPPED = 1u << 0,	/* the exec gate sent SIGSTOP: send SIGCONT */
};

struct mo_ev_exec {
	struct mo_ev_hdr hdr;
	__u32 flags;		/* enum mo_exec_flags */
	__u32 args_len;		/* bytes in args */
	__u32 args_total;	/* bytes of the whole argv (more than args_len: cut) */
	__u32 pad;
	struct mo_exe_key exe;	/* what it runs now */
	char comm[MO_COMM_LEN];
	char filename[MO_PATH_LEN];
	char args[MO_ARGS_LEN];
};

struct mo_ev_exit {
	struct mo_ev_hdr hdr;
	struct mo_proc proc;
};

/* Phase begin/end/unmatched and marks. name_addr is set when BPF could not
 * read the string, so that user space reads it from /proc/PID/mem, as long
 * as the process still runs the program that fired it (program_id). */
struct mo_ev_phase {
	struct mo_ev_hdr hdr;
	__u32 phase;
	__u32 flags;		/* enum mo_phase_flags */
	__u64 name_addr;
	__u64 program_id;
	char name[MO_NAME_LEN];
};

/* A sample met code of a file with no unwind table yet: where it is
 * mapped in hdr.tgid, so that user space can open it. */
struct mo_ev_unwind_file {
	struct mo_ev_hdr hdr;
	struct mo_file_key file;
	__u64 vm_start;
	__u64 vm_end;
};


enum mo_exe_state {
	MO_EXE_INSPECTING = 1,	/* stopped at its first exec, being looked at */
	MO_EXE_READY = 2,	/* nothing more to do for it: no stop */
	MO_EXE_AGAIN = 3,	/* every process that execs it needs a look (its
				 * markers are attached per process): stop each */
};

/* The markers of provider "memobs" (README, "Phases"). */
enum mo_marker {
	MO_MARKER_PHASE_BEGIN,
	MO_MARKER_PHASE_END,
	MO_MARKER_ITEMS,
	MO_MARKER_MARK,
};

/* Where a USDT probe's argument is (x86-64, from its .note.stapsdt spec). */
enum mo_usdt_arg_kind {
	MO_USDT_ARG_CONST,	/* 8@$42: the value itself */
	MO_USDT_ARG_REG,	/* 8@%rdi: a register */
	MO_USDT_ARG_DEREF,	/* -4@-20(%rbp): memory at a register plus a displacement */
};

/* All markers of a file are one uprobe_multi link; the BPF cookie of each
 * offset says which marker it is and how to fetch its one argument, so no
 * table is needed (bpf/usdt.bpf.h decodes it):
 *   bits 0-1 enum mo_marker, 2-3 enum mo_usdt_arg_kind, 4-5 log2 of the
 *   argument's size in bytes, 6 signed, 7-11 the register's slot in x86-64
 *   struct pt_regs, 12-63 the constant or displacement (signed). */
#define MO_USDT_VAL_SHIFT 12
#define MO_USDT_VAL_MAX ((1ll << (63 - MO_USDT_VAL_SHIFT)) - 1)
#define MO_USDT_REG_SLOTS 21	/* r15 .. ss */
#define MO_USDT_COOKIE(marker, kind, size_log2, is_signed, reg, val)                                      \
	((__u64)(marker) | (__u64)(kind) << 2 | (__u64)(size_log2) << 4 | (__u64)(is_signed) << 6 |       \
	 (__u64)(reg) << 7 | (__u64)(val) << MO_USDT_VAL_SHIFT)
#define MO_USDT_MARKER(c) ((c) & 3)
#define MO_USDT_KIND(c) (((c) >> 2) & 3)
#define MO_USDT_SIZE_LOG2(c) (((c) >> 4) & 3)
#define MO_USDT_SIGNED(c) (((c) >> 6) & 1)
#define MO_USDT_REG(c) (((c) >> 7) & 31)
#define MO_USDT_VAL(c) ((__s64)(c) >> MO_USDT_VAL_SHIFT)

/* In-process heap counting (--heap for a launched command): the preloaded
 * library emitters/heap/ counts each process's allocator calls in memory it
 * shares with memobs and BPF. Two pages per process: the session's header
 * (one BPF_F_MMAPABLE map, mo_heap) and the process's own slot (a map of
 * one page, an inner map of mo_heap_slots, found by tgid through
 * mo_heap_slot_of: observe/heapslots.h), handed over a unix
 * socket at a handshake (SCM_RIGHTS) and mapped by the library. */
#define MO_HEAP_PAGE 4096
#define MO_HEAP_MAGIC 0x6d6f6870u	/* "mohp" */
#define MO_HEAP_VERSION 1
#define MO_HEAP_BATCH (64 << 10)	/* a thread's live bytes not yet in the shared counters, at most */
#define MO_HEAP_ROWS 61			/* rows of a slot (one 64-byte line each) */
#define MO_HEAP_SHARED_ROWS 4		/* of them, the last ones: written with atomics by any thread */
#define MO_HEAP_ROW_FREE 0u		/* mo_heap_row.owner: no thread (phase NONE: never used) */
#define MO_HEAP_ROW_SHARED 0xffffffffu	/* any thread, with atomics */
#define MO_HEAP_SOCK_ENV "MEMOBS_HEAP_SOCK"	/* the handshake's abstract socket name */

/* The session's page: every process of the tree maps it. */
struct mo_heap_shared {
	/* Written by every process's flushes and by the uprobe programs. */
	__s64 live;		/* the session's live heap */
	__s64 peak;		/* its highest */
	__s64 seg_peak;		/* its highest since the last phase boundary */
	__u64 pad0[5];
	/* Read on every call, written at phase boundaries (BPF) and at load. */
	__u32 magic;
	__u32 version;
	__u64 sample_bytes;	/* allocation stacks: one per this many bytes (0: off) */
	__u32 closes;		/* phase_ends so far: a process's phase may have closed */
	__u32 pad1[11];
	__u64 open[MO_MAX_PHASES / 64];	/* bit per phase id: open now */
	__u8 pad2[MO_HEAP_PAGE - 128 - MO_MAX_PHASES / 8];
};

/* One thread's (or, shared, any thread's) counts in one phase: requested
 * bytes allocated; usable bytes (the allocator's malloc_usable_size) freed
 * and live. */
struct mo_heap_row {
	__u32 phase;		/* MO_PHASE_NONE: never used */
	__u32 owner;		/* MO_HEAP_ROW_FREE, a thread's token, MO_HEAP_ROW_SHARED */
	__u64 alloc_bytes;
	__u64 alloc_count;
	__u64 free_bytes;
	__u64 free_count;
	__s64 live;		/* usable bytes allocated minus freed */
	__s64 peak_live;	/* the process's live heap at its highest flush from this row */
	__u64 pad;
};

enum mo_heap_slot_flags {
	MO_HEAP_SLOT_SYNCED = 1u << 0,	/* (BPF) the library mapped it and asked for its phase */
	MO_HEAP_SLOT_ENDED = 1u << 1,	/* (BPF) its program exec'd or exited: live left the session */
	MO_HEAP_SLOT_NO_USABLE = 1u << 2,	/* (library) no malloc_usable_size of its allocator:
						 * frees and live are not counted */
};

/* A program run's page: one per process and exec. */
struct mo_heap_slot {
	/* Set by memobs at the handshake. */
	__u32 magic;
	__u32 tgid;
	__u64 program_id;	/* mo_proc.program_id then */
	__s64 inherited;	/* live bytes it started with (a fork child: its parent's) */
	__u32 flags;		/* enum mo_heap_slot_flags, atomic */
	__u32 pad0;
	__u64 pad1[4];
	/* Written by BPF: the process's innermost phase, at its markers. */
	__u32 phase;
	__u32 pad2[15];
	/* Its threads' flushes (atomic). */
	__s64 live;		/* flushed: what it added to mo_heap_shared.live */
	__s64 peak_live;
	__u64 lost;		/* calls counted nowhere: every row taken */
	__u64 untracked;	/* sampled blocks whose free is not reported (no room to remember them) */
	__s64 probed_live;	/* (BPF) of it, what uprobes counted: an allocator linked into the
				 * executable, beside the library */
	__u64 pad3[3];
	struct mo_heap_row rows[MO_HEAP_ROWS];
};

/* A sampled allocation, as the library hands it to BPF (USDT
 * memobs_heap:alloc, its one argument points to it): the block and the
 * registers of the allocator's caller, where the stack is walked from. */
enum mo_heap_sample_flags {
	MO_HEAP_SAMPLE_TRACKED = 1u << 0,	/* its free will be reported (memobs_heap:free) */
};

/* The malloc family's entry points, for allocator uprobes: one
 * uprobe_multi link carries every entry probe of a file, and its cookie at
 * each says which function the probe is on (the return probes are one more
 * link). */
enum mo_heap_fn {
	MO_HEAP_FN_MALLOC,		/* malloc(size) */
	MO_HEAP_FN_CALLOC,		/* calloc(n, size) */
	MO_HEAP_FN_REALLOC,		/* realloc(old, size) */
	MO_HEAP_FN_REALLOCARRAY,	/* reallocarray(old, n, size) */
	MO_HEAP_FN_POSIX_MEMALIGN,	/* posix_memalign(memptr, align, size) */
	MO_HEAP_FN_MEMALIGN,		/* memalign(align, size), aligned_alloc(align, size) */
	MO_HEAP_FN_VALLOC,		/* valloc(size), pvalloc(size) */
	MO_HEAP_FN_FREE,		/* free(ptr) */
};

/* The library's probes (provider memobs_heap), in the cookies of their
 * uprobe_multi link where the markers have enum mo_marker. */
enum mo_heap_probe {
	MO_HEAP_PROBE_ALLOC,	/* alloc(struct mo_heap_sample *) */
	MO_HEAP_PROBE_FREE,	/* free(ptr): a sampled block */
	MO_HEAP_PROBE_SYNC,	/* sync(): the process's phase into its slot */
};

struct mo_heap_sample {
	__u64 ptr;
	__u64 size;		/* requested */
	__u64 weight;		/* bytes its site is credited with */
	__u64 ip, sp, bp;	/* the caller's, at the allocator's return */
	__u32 flags;		/* enum mo_heap_sample_flags */
	__u32 pad;
};

/* The handshake: the library's hello, memobs's answer (with the header's
 * and the slot's fds, SCM_RIGHTS, when accepted). */
struct mo_heap_hello {
	__u32 magic;
	__u32 version;
	__s64 inherited;	/* a fork child: its parent's live bytes at the fork */
	__u32 flags;		/* enum mo_heap_slot_flags (the library's) */
	__u32 pad;
	char allocator[MO_PATH_LEN];	/* the file its calls go on to (dladdr of malloc) */
};

enum mo_heap_answer {
	MO_HEAP_ACCEPTED = 1,
	MO_HEAP_REFUSED = 2,	/* not a process of the session, or the observer's own */
	MO_HEAP_FAILED = 3,	/* memobs could not make its slot (counted) */
};

struct mo_heap_welcome {
	__u32 magic;
	__u32 answer;		/* enum mo_heap_answer */
};

#endif

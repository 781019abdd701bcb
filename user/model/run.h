/* SPDX-License-Identifier: GPL-2.0 */
/* The in-memory run document: everything one observation found, in user
 * units (bytes, seconds since the start). Built by the run loop, rendered by
 * run_json.c and report_text.c. Its own types: the kernel ABI
 * (memobs_abi.h) is converted into them once, in observe/. The document's
 * shape is docs/run-document.schema.json. */
#ifndef MO_RUN_H
#define MO_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/users.h"
#include "model/drops.h"

#define MO_RUN_COMM_LEN 16	/* a process name as the kernel keeps it, NUL included */
#define MO_RUN_NAME_LEN 64	/* phase names and mark labels, NUL included */
#define MO_RUN_ROOT 0		/* the root phase, "main": the whole run */
#define MO_RUN_DEPTH 16		/* phases open at once, at most */
#define MO_RUN_ITEMS_MAX (1ull << 53)	/* a phase's items, exact in JSON */

/* The kinds of resident memory, as the kernel's mm counters split it. */
enum mo_mem_kind {
	MO_MEM_FILE,
	MO_MEM_ANON,
	MO_MEM_SWAP,
	MO_MEM_SHMEM,
	MO_MEM_KINDS,
};

/* What a code site (a sampled stack) is the site of. */
enum mo_site_of {
	MO_SITE_OF_ALLOC = 1,	/* allocation calls (--heap) */
	MO_SITE_OF_RSS = 2,	/* RSS growth (page faults) */
};

/* Growth rates of processes observed for less than this are noise (a
 * compiler job going from 0 to 100 MiB in 20 ms): left out. */
#define MO_GROWTH_MIN_S 1.0

/* Allocator calls of one process (requested bytes). */
struct mo_heap_calls {
	uint64_t alloc_bytes;
	uint64_t alloc_count;
	uint64_t free_bytes;
	uint64_t free_count;
	uint64_t free_unknown_count;	/* frees of blocks allocated before memobs looked */
};

/* How a process's heap was counted (bits): in the process by the
 * preloaded library (requested bytes allocated; usable bytes, the
 * allocator's malloc_usable_size, freed and live), and by uprobes
 * (requested bytes throughout). */
enum mo_heap_path {
	MO_HEAP_PATH_INPROC = 1u << 0,
	MO_HEAP_PATH_UPROBES = 1u << 1,
};

/* Figures of one process inside one phase (exclusive: while it was the
 * process's innermost open phase). */
struct mo_proc_phase {
	size_t phase;			/* index into run->phases */
	int64_t rss_peak;
	int64_t heap_peak_live;
	struct mo_heap_calls heap;
};

struct mo_proc_rec {
	pid_t pid;
	pid_t ppid;
	char comm[MO_RUN_COMM_LEN];
	char *exe;			/* path at exec, or NULL */
	char **argv;			/* NULL-terminated, or NULL */
	bool argv_truncated;		/* longer than memobs could keep (MO_ARGV_MAX, or 512 bytes) */
	double start_s;
	double end_s;			/* < 0: still running at the end */
	int exit_status;		/* shell style (128+N for signal N), -1 unknown */
	bool exited;
	bool heap_probed;
	bool observer;			/* runs memobs itself (memobs mark): not counted */
	int64_t rss_peak;		/* max of file+anon+shmem, of its program (since its last exec) */
	int64_t rss_peak_member[MO_MEM_KINDS];
	int64_t rss_pre_exec_peak;	/* what it held before that exec (a fork copy), 0: none */
	int64_t rss_end;
	int64_t rss_first;		/* when its program was first seen (fork, exec, attach) */
	double first_s;			/* and when: growth is measured from there */
	int64_t uid;			/* effective uid, -1 unknown */
	char user[MO_USER_LEN];		/* its name (or number), "" unknown */
	uint64_t cgroup_id;		/* cgroup v2 id, 0 unknown (not in the document) */
	char *cgroup;			/* cgroup v2 path, NULL unknown */
	bool filtered_out;		/* observed until an exec made it stop matching the filters */
	int64_t heap_live;		/* outstanding at exit (or at the end) */
	int64_t heap_peak_live;
	unsigned heap_paths;		/* enum mo_heap_path: what counted its calls */
	uint64_t heap_inproc_calls;	/* calls the library counted (their live and freed
					 * bytes are usable bytes) */
	uint64_t heap_probed_calls;	/* calls the uprobes counted (requested bytes) */
	char *heap_allocator;		/* in process: the file its calls went on to, or NULL */
	char *heap_unobserved;		/* why its heap was not observed, or NULL */
	char *heap_unseen;		/* a heap of its own memobs does not see (Go's, pymalloc's), or NULL */
	struct mo_proc_phase *phases;
	size_t nphases, phases_alloc;
};

#define MO_PHASE_TOP_SITES 5

/* What names a site besides its frames: the source line of each frame and
 * the program that ran it. Every member may be NULL (unknown). */
struct mo_site_where {
	char **sources;			/* "file:line" per frame, "" unknown; nframes entries, NULL-terminated */
	char *comm;			/* the program: its process's comm */
	char *exe;			/* and its executable */
};

/* Two views of a phase's allocation sites (sampled bytes, session-wide). */
enum mo_phase_site_view {
	MO_PHASE_GROWN,			/* grew while it was open: live at its end
					 * minus live at its beginning */
	MO_PHASE_LIVE,			/* live at its end, cumulative: what earlier
					 * phases left included */
	MO_PHASE_SITE_VIEWS,
};

struct mo_phase_site {
	char **frames;			/* root -> leaf, NULL-terminated */
	size_t nframes;
	struct mo_site_where where;
	int64_t bytes;
};

struct mo_phase_rec {
	char name[MO_RUN_NAME_LEN];
	size_t parent;			/* index; the root is its own parent */
	unsigned depth;
	double start_s;
	double end_s;
	bool unclosed;			/* still open when the session ended */
	bool implicit_end;		/* closed by the end of an enclosing phase */
	bool name_truncated;
	bool name_from_proc_mem;	/* BPF could not read it; read from /proc */
	bool name_unread;		/* nobody could: the name is "" */
	uint64_t items;			/* at most MO_RUN_ITEMS_MAX */
	bool items_overflow;		/* a marker passed MO_RUN_ITEMS_MAX: items unknown (0) */
	int64_t rss_baseline, rss_peak, rss_end;
	int64_t heap_baseline, heap_peak, heap_end;
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
	/* By view, the sites with the most bytes, descending. */
	struct mo_phase_site sites[MO_PHASE_SITE_VIEWS][MO_PHASE_TOP_SITES];
	size_t nsites[MO_PHASE_SITE_VIEWS];
};

/* The tree's physical memory at one moment (struct mo_physical), bytes;
 * -1: not measured then. */
struct mo_phys_sample {
	int64_t total;
	int64_t anon;
	int64_t file;			/* page cache (tmpfs included) */
	int64_t kernel;
};

#define MO_PHYS_UNMEASURED ((struct mo_phys_sample){ -1, -1, -1, -1 })

struct mo_sample {
	double t;
	int64_t rss;
	int64_t rss_member[MO_MEM_KINDS];
	struct mo_phys_sample phys;
	int64_t heap_live;
	int64_t nprocs;
	size_t phase;
};

struct mo_mark_rec {
	double t;
	pid_t pid;
	size_t phase;
	char label[MO_RUN_NAME_LEN];
};

/* A code site from sampled stacks, symbolized: frames root -> leaf. */
struct mo_site_rec {
	enum mo_site_of kind;
	char **frames;			/* NULL-terminated */
	size_t nframes;
	struct mo_site_where where;
	uint64_t hash;			/* of the frames, to merge equal sites */
	uint64_t bytes;			/* estimated from samples (weighted) */
	uint64_t count;
	int64_t live;			/* allocations still outstanding at the end */
};

/* One probed allocator function: where the uprobe sits and whether the
 * kernel emulates the instruction there (else it is single-stepped). */
struct mo_heap_site {
	char file[256];
	char allocator[16];	/* its family (allocators.h): glibc, jemalloc, ... */
	char func[24];		/* with the prefix: je_malloc */
	uint32_t skipped;	/* bytes past the function's entry */
	bool emulated;
	bool uretprobe;
	char insn[48];
};

/* What gives the tree's physical memory, beside the ps-style RSS sum. */
enum mo_physical_source {
	MO_PHYSICAL_NONE,
	MO_PHYSICAL_CGROUP_V1,		/* the kernel's charge to the command's own memory cgroup */
	MO_PHYSICAL_CGROUP_V2,
	MO_PHYSICAL_PSS,		/* PSS of the live processes, summed, sampled */
};

/* The tree's physical memory: each page counted once, page cache and
 * kernel memory included (cgroup), or shared pages split among the
 * processes that map them (PSS). */
struct mo_physical {
	enum mo_physical_source source;
	char *cgroup;			/* cgroup sources: its path in its hierarchy */
	char *why;			/* why not the kernel's charge (PSS, none), or NULL */
	int64_t peak;			/* the kernel's watermark (cgroup), else the highest sample; -1 none */
	struct mo_phys_sample at_peak;	/* the highest sample, by kind */
	struct mo_phys_sample max;	/* each kind's highest sample */
	struct mo_phys_sample end;	/* at the end (page cache outlives the processes) */
	double interval_s;		/* the longest time between two samples */
	size_t samples;
};

struct mo_git {
	char commit[41];
	char branch[128];
	bool dirty;
	bool present;
};

struct mo_run {
	/* metadata */
	char **command;			/* NULL-terminated; NULL in -p/-a mode */
	pid_t target_pid;		/* -p: the first pid */
	pid_t *target_pids;		/* -p: all of them */
	size_t ntarget_pids;
	char *filters;			/* -a --comm/--uid/--cgroup as given, or NULL */
	bool host_wide;
	char *cwd;
	char *label;
	char host[256];
	char kernel[128];
	char time_utc[32];		/* ISO 8601, start of the run */
	int ncpus;
	struct mo_git git;
	bool heap;
	double interval_s;

	double duration_s;
	int exit_status;		/* the command's, -1 in -p/-a mode */

	/* totals */
	int64_t rss_peak;		/* the ps-style sum's peak: a shared page counts in every process */
	double rss_peak_s;		/* when, since the start; < 0 unknown */
	int64_t rss_at_peak[MO_MEM_KINDS];	/* the session's RSS by kind then */
	struct mo_physical physical;
	int64_t heap_peak;
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count, free_unknown_count;

	struct mo_phase_rec *phases;	/* [0] is the root phase "main" */
	size_t nphases, phases_alloc;
	struct mo_proc_rec *procs;
	size_t nprocs, procs_alloc;
	struct mo_sample *timeline;
	size_t ntimeline, timeline_alloc;
	struct mo_mark_rec *marks;
	size_t nmarks, marks_alloc;
	struct mo_heap_site *heap_probes;
	size_t nheap_probes;
	struct mo_site_rec *sites;
	size_t nsites, sites_alloc;
	uint64_t alloc_sample_bytes;	/* sampling periods of the stacks (0: off) */
	uint64_t rss_sample_bytes;
	size_t nstacks;			/* distinct stacks sampled (before merging sites) */
	size_t short_stacks;		/* of them, of at most 2 frames (no frame pointers) */
	size_t unresolved_frames;	/* frames without a symbol */
	size_t unwind_files;		/* files whose unwind tables BPF used */
	size_t unwind_rows;		/* their rows (8 bytes of kernel memory each) */
	double unwind_cpu_s;		/* memobs's CPU time compiling them */
	uint64_t drops[MO_DROP_KINDS];	/* by enum mo_drop */
	uint64_t marker_fallbacks;	/* names read from /proc/PID/mem */
	char **warnings;		/* one line each, for the report */
	size_t nwarnings, warnings_alloc;
};

/* The nonzero drop counters, each with what it means, in report order:
 * fills rows (room for MO_DROP_KINDS) and returns how many. */
struct mo_drop_row {
	const char *what;
	uint64_t n;
};
size_t run_drop_rows(const struct mo_run *run, struct mo_drop_row rows[MO_DROP_KINDS]);

/* The name of a physical source in the run document and the reports
 * ("cgroup-v1", "cgroup-v2", "pss"), NULL for none; and back
 * (MO_PHYSICAL_NONE when unknown). */
const char *run_physical_source_name(enum mo_physical_source s);
enum mo_physical_source run_physical_source_parse(const char *name);

void run_init(struct mo_run *run);
/* Frees a NULL-terminated array of strings and its strings (NULL: nothing). */
void run_free_strv(char **v);
void run_free(struct mo_run *run);

/* Append helpers: return the new element (zeroed) or NULL on ENOMEM. */
struct mo_proc_rec *run_add_proc(struct mo_run *run);
struct mo_phase_rec *run_add_phase(struct mo_run *run);
struct mo_mark_rec *run_add_mark(struct mo_run *run);
/* Add a process's figures in a phase, merged with what it already has there
 * (the same pair read twice: live, then at the end). 0/-ENOMEM. */
int run_proc_add_phase(struct mo_proc_rec *proc, const struct mo_proc_phase *figures);
/* Record a warning for the report: at most 100, then one line saying that
 * further ones were left out. */
void run_add_warning(struct mo_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a site, merged into an existing one of the same kind, frames and
 * where (sources, program). Takes ownership of frames (NULL-terminated, n
 * entries) and of what where points to (where may be NULL). Returns the
 * site's index in run->sites, or -ENOMEM. */
int run_add_site(struct mo_run *run, enum mo_site_of kind, char **frames, size_t n,
		 const struct mo_site_where *where, uint64_t bytes, uint64_t count, int64_t live);

/* Append a site to a phase's view, taking ownership of frames
 * (NULL-terminated, n entries) and where (may be NULL); past
 * MO_PHASE_TOP_SITES they are freed. */
void run_phase_add_site(struct mo_phase_rec *ph, enum mo_phase_site_view view, char **frames, size_t n,
			const struct mo_site_where *where, int64_t bytes);

/* A phase's view from bytes by site (bytes[i] for run->sites[i]): the top
 * MO_PHASE_TOP_SITES above 0, frames copied from run->sites. 0/-ENOMEM. */
int run_phase_set_sites(struct mo_run *run, size_t phase, enum mo_phase_site_view view, const int64_t *bytes);

/* Indices of the sites of a kind, by descending key (bytes, or live when
 * by_live), at most max. Returns the count. */
size_t run_top_sites(const struct mo_run *run, enum mo_site_of kind, bool by_live, size_t *out, size_t max);

#define MO_RUN_LISTED_SITES 500	/* the max of run_listed_sites in the document */

/* The sites of a kind that the run document and its site tables list, in
 * their order: the top max by bytes, then for allocation sites the top max by
 * live bytes not among them, so that a leak shows even when it allocated
 * little. Indices into out (room for 2 * max). Returns the count. */
size_t run_listed_sites(const struct mo_run *run, enum mo_site_of kind, size_t *out, size_t max);

/* Append a timeline sample; past max_samples, halve the resolution keeping
 * the highest RSS of each merged pair, so the document stays bounded and the
 * peak survives. 0/-ENOMEM. */
int run_add_sample(struct mo_run *run, const struct mo_sample *s, size_t max_samples);

/* Grouping by command, cgroup or user ("which tool of my build, which
 * container, which user uses most"). Processes whose cgroup or user is
 * unknown are left out of those groupings. */
enum mo_group_key {
	MO_GROUP_COMM,
	MO_GROUP_CGROUP,
	MO_GROUP_USER,
};

struct mo_proc_group {
	const char *name;		/* comm, cgroup path or user name: points into run->procs */
	int64_t uid;			/* MO_GROUP_USER: the uid; else -1 */
	size_t processes;
	int64_t rss_peak_max;		/* the highest peak of one process */
	int64_t rss_peak_sum;		/* the peaks summed: bounds the group's concurrent peak */
	uint64_t heap_alloc_bytes;
};

/* Groups sorted by rss_peak_max, descending, then name. Caller frees.
 * NULL+errno. */
struct mo_proc_group *run_group_by(const struct mo_run *run, enum mo_group_key key, size_t *count);

/* (RSS at the end or exit - RSS when first seen) / time between, in bytes
 * per second; NAN when observed for less than MO_GROWTH_MIN_S. */
double run_proc_growth_rate(const struct mo_run *run, const struct mo_proc_rec *proc);

/* qsort_r order of indices into run->procs (arg: the run): highest peak RSS
 * first, ties in document order, so that every report is the same every time. */
int run_cmp_procs_by_peak(const void *a, const void *b, void *run);

/* Allocator calls of a process, summed over its phases. */
void run_proc_heap(const struct mo_proc_rec *proc, struct mo_heap_calls *sum);

/* What counted its heap: "in-process", "uprobes", "in-process+uprobes", or
 * NULL (nothing). */
const char *run_proc_heap_counted_by(const struct mo_proc_rec *proc);

/* What its freed and live bytes are: "usable" (the allocator's
 * malloc_usable_size, in process), "requested" (uprobes), "mixed" (calls of
 * both), or NULL (none counted). */
const char *run_proc_heap_basis(const struct mo_proc_rec *proc);

/* And back, from the run document (0 for NULL or unknown). */
unsigned run_heap_paths_parse(const char *counted_by);

/* The process's own peak RSS inside a phase, inclusive of its nested phases. */
int64_t run_proc_phase_rss_peak(const struct mo_run *run, const struct mo_proc_rec *proc, size_t phase);

/* Indices of processes by descending peak RSS inside a phase (inclusive), at
 * most max of them, with a peak > 0. Returns the count written to out. */
size_t run_phase_top_procs(const struct mo_run *run, size_t phase, size_t *out, size_t max);

/* Is phase `inner` the phase `outer` or nested in it? */
bool run_phase_within(const struct mo_run *run, size_t inner, size_t outer);

/* Shell-style status from a kernel wait status. */
int run_wait_status_to_exit(int wait_status);

#endif

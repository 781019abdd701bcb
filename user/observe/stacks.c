// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include "lib/grow.h"
#include "lib/log.h"
#include "stacks/buildids.h"
#include "stacks/debugcache.h"
#include "model/run.h"
#include "observe/convert.h"
#include "observe/session.h"
#include "observe/readout.h"
#include "observe/stacks.h"
#include "probe/elfinfo.h"
#include "stacks/python.h"
#include "stacks/symbolize.h"

enum { FRAME_EMPTY = 0, FRAME_VALID = 1, FRAME_IP = 2 };	/* and MO_FRAME_FILE */

#define USER_ADDR_LIMIT (1ull << 47)	/* x86-64 user space, 4-level paging */

struct raw_site {
	struct mo_site_key key;
	struct mo_site val;
};

struct collect {
	struct raw_site *sites;
	size_t n, cap;
};

static void collect_site(void *ctx, const struct mo_site_key *k, const struct mo_site *v)
{
	struct collect *c = ctx;

	if (GROW(c->sites, c->n + 1, c->cap))
		return;
	c->sites[c->n].key = *k;
	c->sites[c->n].val = *v;
	c->n++;
}

static bool all_known(const struct mo_buildids *ids, const struct mo_stack_frame *f)
{
	char hex[MO_BUILD_ID_HEX];

	for (int i = 0; i < MO_STACK_DEPTH && f[i].status != FRAME_EMPTY; i++) {
		if (f[i].status != FRAME_VALID)
			continue;
		buildids_hex(f[i].build_id, hex);
		if (!buildids__find(ids, hex))
			return false;
	}
	return true;
}

static void free_strv_n(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* The build id (hex) of a frame: its own, or that of the file named by
 * (dev, inode) when BPF had no table for it yet; NULL when unknown. */
static const char *frame_id(const struct mo_buildids *ids, const struct mo_stack_frame *fr, char hex[MO_BUILD_ID_HEX])
{
	struct mo_file_key file;

	if (fr->status == FRAME_VALID) {
		buildids_hex(fr->build_id, hex);
		return hex;
	}
	memcpy(&file, fr->build_id, sizeof(file));
	/* The kernel's dev_t is MKDEV(major, minor) with a 20-bit minor. */
	return buildids__id_of(ids, makedev(file.dev >> 20, file.dev & 0xfffff), file.ino);
}

/* Frames root -> leaf, named, and their source lines (where->sources).
 * Allocation stacks are taken at the allocator's return: every frame is a
 * return address. A frame outside its file's code, or without a file
 * beyond the first (no user code lives there), ends the stack: the walk
 * went astray beyond it. */
/* A Python frame: its function's qualified name and file:line, as BPF
 * kept its code object. false when the record is missing. */
static bool python_frame(struct mo_session *s, const struct mo_stack_frame *fr, char name[MO_PY_NAME_LEN],
			 char source[MO_PY_FILE_LEN + 16], struct mo_sym *out)
{
	struct mo_pycode_key key;
	struct mo_pycode code;
	unsigned line;

	memcpy(&key, fr->build_id, sizeof(key));
	if (session__read_pycode(s, &key, &code))
		return false;
	code.qualname[MO_PY_NAME_LEN - 1] = code.filename[MO_PY_FILE_LEN - 1] = 0;
	snprintf(name, MO_PY_NAME_LEN, "%s", code.qualname[0] ? code.qualname : "<python>");
	line = python_line(&code, fr->offset);
	snprintf(source, MO_PY_FILE_LEN + 16, line ? "%s:%u" : "%s", code.filename, line);
	*out = (struct mo_sym){ MO_SYM_FOUND, name, code.filename[0] ? source : NULL };
	return true;
}

static char **frame_names(struct mo_session *s, struct mo_symbolizer *sym, const struct mo_buildids *ids,
			  const struct mo_stack_frame *f, enum mo_site_kind kind, size_t *n, struct mo_site_where *where,
			  struct mo_run *run)
{
	struct mo_sym syms[MO_STACK_DEPTH];
	char anon[MO_STACK_DEPTH][48], hex[MO_BUILD_ID_HEX];
	static char pynames[MO_STACK_DEPTH][MO_PY_NAME_LEN], pysources[MO_STACK_DEPTH][MO_PY_FILE_LEN + 16];
	size_t depth = 0, unresolved = 0;
	char **names, **sources;

	for (; depth < MO_STACK_DEPTH && f[depth].status != FRAME_EMPTY; depth++) {
		const struct mo_stack_frame *fr = &f[depth];
		const char *id;

		if (fr->status == MO_FRAME_EXEC) {
			syms[depth] = (struct mo_sym){ MO_SYM_FOUND, "[exec]", NULL };
			continue;
		}
		if (fr->status == MO_FRAME_PY) {
			if (!python_frame(s, fr, pynames[depth], pysources[depth], &syms[depth]))
				break;
			continue;
		}
		id = fr->status == FRAME_IP ? NULL : frame_id(ids, fr, hex);

		if (!id) {
			if (fr->status == FRAME_IP && (depth > 0 || fr->offset >= USER_ADDR_LIMIT))
				break;
			/* Memory no file backs (generated code), or a file never opened. */
			snprintf(anon[depth], sizeof(anon[0]), fr->status == FRAME_IP ? "[anon]+0x%llx" : "[file]+0x%llx",
				 (unsigned long long)fr->offset);
			syms[depth] = (struct mo_sym){ MO_SYM_FALLBACK, anon[depth], NULL };
			unresolved++;
			continue;
		}
		symbolizer__frame(sym, id, fr->offset, kind == MO_SITE_ALLOC || depth > 0, &syms[depth]);
		if (syms[depth].result == MO_SYM_NOT_CODE)
			break;
		if (!syms[depth].name)
			return NULL;
		unresolved += syms[depth].result == MO_SYM_FALLBACK;
	}
	names = calloc(depth + 1, sizeof(*names));
	sources = calloc(depth + 1, sizeof(*sources));
	for (size_t i = 0; names && sources && i < depth; i++) {
		const struct mo_sym *sy = &syms[depth - 1 - i];

		names[i] = strdup(sy->name);
		sources[i] = strdup(sy->source ? sy->source : "");
		if (!names[i] || !sources[i]) {
			free_strv_n(names, i + 1);
			free_strv_n(sources, i + 1);
			return NULL;
		}
	}
	if (!names || !sources) {
		free(names);
		free(sources);
		return NULL;
	}
	run->unresolved_frames += unresolved;
	where->sources = sources;
	*n = depth;
	return names;
}

/* An allocation stack in a program and the run->sites index it was merged
 * into. */
struct alloc_stack {
	__u64 stack;
	__u32 prog;
	size_t site;
};

static int cmp_raw_site_stack(const void *a, const void *b)
{
	__u64 x = ((const struct raw_site *)a)->key.stack, y = ((const struct raw_site *)b)->key.stack;

	return (x > y) - (x < y);
}

static int cmp_alloc_stack(const void *a, const void *b)
{
	const struct alloc_stack *x = a, *y = b;

	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return (x->prog > y->prog) - (x->prog < y->prog);
}

/* A change of an allocation site's live bytes in one phase epoch. */
struct site_change {
	__u32 epoch;
	size_t site;		/* index into run->sites */
	int64_t bytes;
};

struct site_changes {
	const struct alloc_stack *allocs;	/* sorted by stack */
	size_t nallocs;
	struct site_change *c;
	size_t n, cap;
	bool failed;
};

static void collect_site_delta(void *ctx, const struct mo_site_delta_key *k, __s64 bytes)
{
	struct site_changes *l = ctx;
	struct alloc_stack key = { .stack = k->stack, .prog = k->prog };
	const struct alloc_stack *a = bsearch(&key, l->allocs, l->nallocs, sizeof(key), cmp_alloc_stack);

	if (!a)
		return;
	if (GROW(l->c, l->n + 1, l->cap)) {
		l->failed = true;
		return;
	}
	l->c[l->n++] = (struct site_change){ .epoch = k->epoch, .site = a->site, .bytes = bytes };
}

static int cmp_change_epoch(const void *a, const void *b)
{
	__u32 x = ((const struct site_change *)a)->epoch, y = ((const struct site_change *)b)->epoch;

	return (x > y) - (x < y);
}

/* One phase's sites from the changes sorted by epoch: what grew while it
 * was open (the epochs from its beginning to its end), what was live at its
 * end (every epoch before its end). The root and phases left open end with
 * the run. */
static int phase_sites(struct mo_session *s, struct mo_run *run, size_t phase, const struct site_changes *l,
		       int64_t *grown, int64_t *live)
{
	struct mo_phase ph;
	__u32 begin = 0, end = UINT32_MAX;
	int err;

	if (phase != MO_PHASE_ROOT && !session__read_phase(s, phase, &ph)) {
		begin = ph.begin_epoch;
		if (!(ph.flags & MO_PHASE_OPEN))
			end = ph.end_epoch;
	}
	memset(grown, 0, run->nsites * sizeof(*grown));
	memset(live, 0, run->nsites * sizeof(*live));
	for (size_t i = 0; i < l->n && l->c[i].epoch < end; i++) {
		live[l->c[i].site] += l->c[i].bytes;
		if (l->c[i].epoch >= begin)
			grown[l->c[i].site] += l->c[i].bytes;
	}
	err = run_phase_set_sites(run, phase, MO_PHASE_GROWN, grown);
	return err ?: run_phase_set_sites(run, phase, MO_PHASE_LIVE, live);
}

/* Each phase's allocation sites, from their live bytes' changes by epoch. */
static int phases_sites(struct mo_session *s, struct mo_run *run, struct alloc_stack *allocs, size_t nallocs)
{
	struct site_changes l = { .allocs = allocs, .nallocs = nallocs };
	int64_t *grown = calloc(run->nsites ?: 1, sizeof(*grown)), *live = calloc(run->nsites ?: 1, sizeof(*live));
	int err = grown && live ? 0 : -ENOMEM;

	qsort(allocs, nallocs, sizeof(*allocs), cmp_alloc_stack);
	if (!err)
		session__each_site_delta(s, collect_site_delta, &l);
	if (l.failed)
		err = -ENOMEM;
	if (l.n)
		qsort(l.c, l.n, sizeof(*l.c), cmp_change_epoch);
	for (size_t p = 0; !err && p < run->nphases; p++)
		err = phase_sites(s, run, p, &l, grown, live);
	free(l.c);
	free(grown);
	free(live);
	return err;
}

/* The program a site ran in: the comm BPF saw, and its executable's path as
 * learned at exec (the exec gate reads every new executable), else that of
 * a process of the same comm. Both stay NULL when unknown. */
static int name_program(struct mo_session *s, const struct mo_buildids *ids, const struct mo_run *run, __u32 key,
			struct mo_site_where *where)
{
	struct mo_prog prog;
	const char *exe;

	if (!key || session__read_prog(s, key, &prog))
		return 0;
	prog.comm[MO_COMM_LEN - 1] = 0;
	/* The kernel's dev_t is MKDEV(major, minor) with a 20-bit minor. */
	exe = buildids__path(ids, makedev(prog.dev >> 20, prog.dev & 0xfffff), prog.ino);
	for (size_t i = 0; !exe && i < run->nprocs; i++)
		if (run->procs[i].exe && !strcmp(run->procs[i].comm, prog.comm))
			exe = run->procs[i].exe;
	where->comm = strdup(prog.comm);
	where->exe = exe ? strdup(exe) : NULL;
	return where->comm && (!exe || where->exe) ? 0 : -ENOMEM;
}

struct mo_stack_names {
	struct mo_symbolizer *sym;
	struct mo_debugcache *cache;	/* NULL: none, for cache_error */
	char cache_error[512];
	pthread_t thread;
	bool running;
	pid_t tid;		/* the thread's, for its priority (0 until it runs) */
	size_t n;
	char *paths[MO_NAMES_AHEAD];
};

static void *prepare_names(void *arg)
{
	struct mo_stack_names *names = arg;
	char id[64];

	__atomic_store_n(&names->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (size_t i = 0; i < names->n; i++) {
		struct mo_elf *elf = elf__open(names->paths[i]);

		if (elf && !elf__build_id(elf, id, sizeof(id)) && strlen(id) < MO_BUILD_ID_HEX)
			symbolizer__prepare(names->sym, id, names->paths[i]);
		elf__free(elf);
	}
	return NULL;
}

struct mo_stack_names *stack_names__new(const struct mo_buildids *ids, const struct mo_invoker *reader,
					const char *const *paths, size_t n)
{
	struct mo_stack_names *names = calloc(1, sizeof(*names));

	if (!names || !(names->sym = symbolizer__new(ids))) {
		free(names);
		return NULL;
	}
	names->cache = debugcache__open(names->cache_error, sizeof(names->cache_error));
	symbolizer__use_cache(names->sym, names->cache);
	symbolizer__read_as(names->sym, reader);
	for (size_t i = 0; i < n && i < MO_NAMES_AHEAD; i++)
		if ((names->paths[names->n] = strdup(paths[i])))
			names->n++;
	names->running = names->n && !pthread_create(&names->thread, NULL, prepare_names, names);
	return names;
}

void stack_names__yield(struct mo_stack_names *names)
{
	pid_t tid = names && names->running ? __atomic_load_n(&names->tid, __ATOMIC_ACQUIRE) : 0;

	if (tid)
		setpriority(PRIO_PROCESS, tid, 19);
}

/* The thread done: at the priority of the caller, who waits for it. */
static void names_ready(struct mo_stack_names *names)
{
	pid_t tid;

	if (!names->running)
		return;
	if ((tid = __atomic_load_n(&names->tid, __ATOMIC_ACQUIRE)))
		setpriority(PRIO_PROCESS, tid, getpriority(PRIO_PROCESS, 0));
	pthread_join(names->thread, NULL);
	names->running = false;
}

void stack_names__free(struct mo_stack_names *names)
{
	if (!names)
		return;
	names_ready(names);
	symbolizer__free(names->sym);
	debugcache__free(names->cache);
	for (size_t i = 0; i < names->n; i++)
		free(names->paths[i]);
	free(names);
}

/* What kept the cache from use, said once the frames are named: a run
 * that fails before (no privileges) has its own line to say. */
static void cache_said(const struct mo_stack_names *names)
{
	const char *why = names->cache ? debugcache__error(names->cache) : names->cache_error;

	if (why[0])
		log_warn("cache %s: frames were named without it", why);
}

int stacks_readout(struct mo_session *s, struct mo_buildids *ids, struct mo_stack_names *names, struct mo_run *run)
{
	struct collect c = {};
	struct mo_stack *stacks;
	struct alloc_stack *allocs;
	struct mo_symbolizer *sym = names->sym;
	size_t nallocs = 0;
	bool missing = false;
	int err = 0;

	session__each_site(s, collect_site, &c);
	if (!c.n)
		return 0;
	/* A stack may be both an allocation and an RSS growth site: counted once. */
	qsort(c.sites, c.n, sizeof(*c.sites), cmp_raw_site_stack);
	stacks = calloc(c.n, sizeof(*stacks));
	allocs = calloc(c.n, sizeof(*allocs));
	names_ready(names);
	if (!stacks || !allocs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (session__read_stack(s, c.sites[i].key.stack, &stacks[i]))
			memset(&stacks[i], 0, sizeof(stacks[i]));
		missing |= !all_known(ids, stacks[i].frames);
	}
	if (missing) {
		buildids__add_maps(ids, getpid());
		buildids__add_lib_dirs(ids);
	}
	for (size_t i = 0; i < c.n && !err; i++) {
		struct mo_site_where where = {};
		size_t n = 0;
		char **names = frame_names(s, sym, ids, stacks[i].frames, c.sites[i].key.kind, &n, &where, run);
		int site;

		if (!names || name_program(s, ids, run, c.sites[i].key.prog, &where)) {
			free_strv_n(names, n);
			free_strv_n(where.sources, n);
			free(where.comm);
			err = -ENOMEM;
			break;
		}
		if (!i || c.sites[i].key.stack != c.sites[i - 1].key.stack) {
			run->nstacks++;
			if (n <= 2)
				run->short_stacks++;
		}
		site = run_add_site(run, convert_site_of(c.sites[i].key.kind), names, n, &where, c.sites[i].val.bytes,
				    c.sites[i].val.count,
				    c.sites[i].val.live);
		if (site < 0)
			err = site;
		else if (c.sites[i].key.kind == MO_SITE_ALLOC)
			allocs[nallocs++] = (struct alloc_stack){ c.sites[i].key.stack, c.sites[i].key.prog, (size_t)site };
	}
	if (!err)
		err = phases_sites(s, run, allocs, nallocs);
	cache_said(names);
out:
	free(allocs);
	free(stacks);
	free(c.sites);
	return err;
}

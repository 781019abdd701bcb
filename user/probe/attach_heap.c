// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "memobs_heap.skel.h"
#include "lib/grow.h"
#include "probe/allocators.h"
#include "probe/attach_heap.h"
#include "probe/elfinfo.h"
#include "probe/pidlinks.h"
#include "probe/probeplan.h"
#include "probe/probeset.h"
#include "probe/shared_maps.h"
#include "probe/uprobe_multi.h"

/* The malloc family. nargs: integer arguments the entry program reads. */
struct heap_func {
	const char *name;
	unsigned nargs;
	bool uretprobe;		/* the block's address is only known at return */
	enum mo_heap_fn fn;	/* the entry probe's cookie */
};

static const struct heap_func funcs[] = {
	{ "malloc", 1, true, MO_HEAP_FN_MALLOC },
	{ "calloc", 2, true, MO_HEAP_FN_CALLOC },
	{ "realloc", 2, true, MO_HEAP_FN_REALLOC },
	{ "reallocarray", 3, true, MO_HEAP_FN_REALLOCARRAY },
	{ "posix_memalign", 3, true, MO_HEAP_FN_POSIX_MEMALIGN },
	{ "aligned_alloc", 2, true, MO_HEAP_FN_MEMALIGN },
	{ "memalign", 2, true, MO_HEAP_FN_MEMALIGN },
	{ "valloc", 1, true, MO_HEAP_FN_VALLOC },
	{ "pvalloc", 1, true, MO_HEAP_FN_VALLOC },
	{ "free", 1, false, MO_HEAP_FN_FREE },
};

#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

/* Where each function of the family is probed in one file: the entry probe
 * at func + site.skipped, the return probe (uretprobe functions) at func. */
struct heap_plan {
	uint64_t func[NFUNCS];		/* file offset of the function, 0: not planned */
	struct mo_probe_site site[NFUNCS];
	int nfuncs;			/* functions planned */
};

/* A probed (file content, prefix): its plan, the file kept open (links name
 * it as /proc/self/fd/N, so that every link, a child's made later too, is
 * on the content planned), and its system-wide links if it has them. */
struct heap_file {
	struct heap_plan plan;
	int fd;
	int fds[MO_PID_LINKS_MAX];
	size_t nfds;
	bool linked_all;
};

struct mo_heap_probes {
	struct memobs_bpf *skel;
	struct memobs_heap_bpf *progs;	/* loaded at the first file probed */
	struct mo_links *links;
	struct mo_probeset *files;	/* (file, prefix) planned: struct heap_file */
	struct mo_pid_link_table pids;	/* per_process: each process's links */
	struct mo_heap_site *sites;
	size_t nsites, sites_alloc;
	bool exe_only, per_process;
};

struct mo_heap_probes *heap_probes__new(struct memobs_bpf *skel, struct mo_links *links)
{
	struct mo_heap_probes *hp = calloc(1, sizeof(*hp));

	if (!hp)
		return NULL;
	hp->skel = skel;
	hp->links = links;
	hp->files = probeset__new(sizeof(struct heap_file));
	if (!hp->files) {
		free(hp);
		return NULL;
	}
	return hp;
}

static void close_file(void *value, void *ctx)
{
	(void)ctx;
	close(((struct heap_file *)value)->fd);
}

void heap_probes__free(struct mo_heap_probes *hp)
{
	if (!hp)
		return;
	probeset__free(hp->files, close_file, NULL);
	memobs_heap_bpf__destroy(hp->progs);
	pid_links__free(&hp->pids);
	free(hp->sites);
	free(hp);
}

void heap_probes__per_process(struct mo_heap_probes *hp)
{
	hp->per_process = true;
}

/* The allocator programs, verified when a session first probes an
 * allocator (--heap=uprobes, -p, -a: at start; the in-process path: at the
 * first static executable with its own, held at its exec), not at every
 * start: mo_alloc_ret alone is the biggest program of memobs to verify.
 * They count into the session's maps. 0/-errno. */
static int load_progs(struct mo_heap_probes *hp)
{
	struct memobs_heap_bpf *progs;
	int err;

	if (hp->progs)
		return 0;
	progs = memobs_heap_bpf__open();
	if (!progs)
		return -errno;
	progs->rodata->mo_cfg = hp->skel->rodata->mo_cfg;
	err = uprobe_multi_prepare(progs->progs.mo_alloc_entry) ?: uprobe_multi_prepare(progs->progs.mo_alloc_ret);
	err = err ?: shared_maps_reuse(progs->obj, hp->skel->obj);
	err = err ?: memobs_heap_bpf__load(progs);
	if (err) {
		memobs_heap_bpf__destroy(progs);
		return err;
	}
	hp->progs = progs;
	return 0;
}

/* The file's name for the run document: a path through /proc
 * (/proc/PID/exe, /proc/PID/root/...: a static binary's own malloc, an
 * exec held at the gate) names nothing once the process is gone, so what
 * it leads to is read now. */
static void probe_file_name(const char *path, char *buf, size_t len)
{
	char real[PATH_MAX];

	if (!strncmp(path, "/proc/", 6) && realpath(path, real)) {
		snprintf(buf, len, "%s", real);
		return;
	}
	snprintf(buf, len, "%s", path);
}

static int add_site(struct mo_heap_probes *hp, const char *path, const char *allocator, const char *name,
		    const struct heap_func *fn, const struct mo_probe_site *site)
{
	struct mo_heap_site *rec;

	if (GROW(hp->sites, hp->nsites + 1, hp->sites_alloc))
		return -ENOMEM;
	rec = &hp->sites[hp->nsites++];
	memset(rec, 0, sizeof(*rec));
	probe_file_name(path, rec->file, sizeof(rec->file));
	snprintf(rec->allocator, sizeof(rec->allocator), "%s", allocator);
	snprintf(rec->func, sizeof(rec->func), "%s", name);
	rec->skipped = site->skipped;
	rec->emulated = site->emulated;
	rec->uretprobe = fn->uretprobe;
	snprintf(rec->insn, sizeof(rec->insn), "%s", site->insn);
	return 0;
}

static int plan_file(struct mo_elf *elf, const char *prefix, struct heap_plan *plan)
{
	int found = 0, elfclass = 0, machine = 0;
	bool decode = !elf__machine(elf, &elfclass, &machine) && probeplan_decodes(elfclass, machine);

	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < NFUNCS; i++) {
		struct mo_elf_func f;
		uint8_t code[64];
		char name[32];
		size_t len;
		bool dup = false;

		snprintf(name, sizeof(name), "%s%s", prefix, funcs[i].name);
		if (elf__func(elf, name, &f) || !f.offset)
			continue;
		/* Aliases (aligned_alloc = memalign in glibc) are probed once. */
		for (size_t j = 0; j < i; j++)
			dup |= plan->func[j] == f.offset;
		if (dup)
			continue;
		plan->func[i] = f.offset;
		/* No bytes: the entry, "not decoded" in the probe report. */
		len = decode ? elf__read(elf, f.offset, code, sizeof(code)) : 0;
		probeplan_site(code, len, funcs[i].nargs, !funcs[i].uretprobe, &plan->site[i]);
		found++;
	}
	plan->nfuncs = found;
	return found;
}

/* A link of prog at offs[0..n) (cookies: NULL or one each) of the file open
 * at fd, for pid (0: every process), into fds[*nfds] and the link set (owned
 * by pid). */
static int link_offsets(struct mo_heap_probes *hp, struct bpf_program *prog, int fd, const uint64_t *offs,
			const uint64_t *cookies, size_t n, pid_t pid, bool retprobe, int *fds, size_t *nfds)
{
	char path[64];
	int link;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	link = uprobe_multi_attach(bpf_program__fd(prog), &(struct mo_uprobe_multi){ path, offs, NULL, cookies, n,
										     .pid = pid, .retprobe = retprobe });
	if (link < 0 || links__add(hp->links, link, pid))
		return link < 0 ? link : -ENOMEM;
	fds[(*nfds)++] = link;
	return 0;
}

/* Two links for a file (one grace period to attach, one to detach, however
 * many functions): every entry, its function in its cookie; every return. */
static int link_plan(struct mo_heap_probes *hp, const struct heap_file *hf, pid_t pid, int *fds, size_t *nfds)
{
	const struct heap_plan *plan = &hf->plan;
	uint64_t offs[NFUNCS], cookies[NFUNCS];
	size_t n = 0;
	int ret = 0;

	*nfds = 0;
	for (size_t i = 0; i < NFUNCS; i++)
		if (plan->func[i]) {
			offs[n] = plan->func[i] + plan->site[i].skipped;
			cookies[n++] = funcs[i].fn;
		}
	if (n)
		ret = link_offsets(hp, hp->progs->progs.mo_alloc_entry, hf->fd, offs, cookies, n, pid, false, fds, nfds);
	n = 0;
	for (size_t i = 0; i < NFUNCS; i++)
		if (plan->func[i] && funcs[i].uretprobe)
			offs[n++] = plan->func[i];
	if (n && !ret)
		ret = link_offsets(hp, hp->progs->progs.mo_alloc_ret, hf->fd, offs, NULL, n, pid, true, fds, nfds);
	return ret;
}

/* Link hf for tgid alone, unless it has links on that content already. */
static int link_pid(struct mo_heap_probes *hp, const struct heap_file *hf, pid_t tgid, const struct mo_file_id *id,
		    const char *prefix)
{
	struct mo_pid_links *e;
	int ret;

	if (pid_links__current(&hp->pids, hp->links, tgid, id, prefix))
		return 0;
	e = pid_links__new_entry(&hp->pids, tgid, id, prefix);
	if (!e)
		return -ENOMEM;
	ret = link_plan(hp, hf, tgid, e->fds, &e->nfds);
	/* Made ones are in the link set: kept with their owner, released at its exit. */
	pid_links__keep(&hp->pids, e);
	return ret;
}

/* The plan of the file at path (its content now), made and its sites noted
 * the first time; NULL with *ret 0 when it has no function of the family. */
static struct heap_file *plan_of(struct mo_heap_probes *hp, const char *path, const struct mo_file_id *id,
				 const char *prefix, const char *allocator, int *ret)
{
	struct heap_file *hf = probeset__get(hp->files, id, prefix), plan = { .fd = -1 };
	struct mo_elf *elf;

	*ret = 0;
	if (hf)
		return hf;
	/* Written in place since: its probes point into the old code. */
	if ((hf = probeset__find(hp->files, id, prefix, NULL))) {
		for (size_t i = 0; i < hf->nfds; i++)
			links__close_now(hp->links, hf->fds[i]);
		close_file(hf, NULL);
		probeset__remove(hp->files, id, prefix);
	}
	elf = elf__open(path);
	if (!elf) {
		*ret = -errno;
		return NULL;
	}
	plan_file(elf, prefix, &plan.plan);
	elf__free(elf);
	if (!plan.plan.nfuncs)
		return NULL;
	plan.fd = open(path, O_RDONLY | O_CLOEXEC);
	hf = plan.fd >= 0 ? probeset__add(hp->files, id, prefix) : NULL;
	if (!hf) {
		*ret = plan.fd >= 0 ? -ENOMEM : -errno;
		if (plan.fd >= 0)
			close(plan.fd);
		return NULL;
	}
	*hf = plan;
	for (size_t i = 0; !*ret && i < NFUNCS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s%s", prefix, funcs[i].name);
		if (plan.plan.func[i])
			*ret = add_site(hp, path, allocator, name, &funcs[i], &plan.plan.site[i]);
	}
	return *ret ? NULL : hf;
}

int heap_probes__attach_file(struct mo_heap_probes *hp, const char *path, const char *prefix,
			     const char *allocator, pid_t pid, char *err, size_t errlen)
{
	struct mo_file_id id;
	struct heap_file *hf;
	int ret;

	if (file_id_of(path, &id))
		return 0;	/* gone: nothing to probe */
	hf = plan_of(hp, path, &id, prefix, allocator, &ret);
	if (!hf) {
		if (ret)
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	if ((ret = load_progs(hp))) {
		snprintf(err, errlen, "cannot load the allocator programs (to probe %s): %s", path, strerror(-ret));
		return ret;
	}
	if (hf->linked_all)
		ret = 0;	/* every process's already (the C library up front) */
	else if (pid)
		ret = link_pid(hp, hf, pid, &id, prefix);
	else if (!(ret = link_plan(hp, hf, 0, hf->fds, &hf->nfds)))
		hf->linked_all = true;
	if (ret == -ESRCH)
		return 0;	/* gone meanwhile */
	if (ret) {
		snprintf(err, errlen, "cannot probe the allocator in %s: %s", path, strerror(-ret));
		return ret;
	}
	return hf->plan.nfuncs;
}

int heap_probes__fork(struct mo_heap_probes *hp, pid_t parent, pid_t child, char *err, size_t errlen)
{
	size_t n = hp->pids.n;
	int linked = 0;

	for (size_t i = 0; i < n; i++) {
		struct mo_pid_links pl = hp->pids.v[i];
		struct heap_file *hf;
		int ret;

		if (pl.tgid != parent || !(hf = probeset__get(hp->files, &pl.id, pl.tag)))
			continue;
		ret = link_pid(hp, hf, child, &pl.id, pl.tag);
		if (ret == -ESRCH)
			return 0;	/* gone already */
		if (ret) {
			snprintf(err, errlen, "cannot probe the allocator for pid %d (forked by %d): %s", child, parent,
				 strerror(-ret));
			return ret;
		}
		linked++;
	}
	return linked;
}

bool heap_probes__exit(struct mo_heap_probes *hp, pid_t tgid)
{
	return pid_links__exit(&hp->pids, tgid);
}

/* Probe every file of files; ret: how resolving them went. */
static int attach_files(struct mo_heap_probes *hp, pid_t pid, struct mo_alloc_files *files, int ret, char *err,
			size_t errlen)
{
	char why[512];
	int probed = 0, first_err = 0;

	if (ret == -ENOENT || ret == -ESRCH)
		ret = 0;	/* killed while held: nothing to probe */
	else if (!ret && files->missing[0] && !hp->exe_only) {
		first_err = -ENOENT;
		snprintf(err, errlen, "pid %d: %s not found where the dynamic linker looks: an allocator in it is not probed",
			 pid, files->missing);
	}
	for (size_t i = 0; !ret && i < files->count; i++) {
		const struct mo_alloc_file *f = &files->files[i];
		pid_t scope = hp->per_process ? pid : 0;
		int n = hp->exe_only && !f->in_exe ? 0 :
			heap_probes__attach_file(hp, f->path, f->prefix, f->name, scope, why, sizeof(why));

		if (n >= 0)
			probed += n;
		else if (!first_err) {
			first_err = n;
			snprintf(err, errlen, "%s", why);
		}
	}
	if (ret)
		return ret;
	return first_err ?: probed;
}

void heap_probes__exe_only(struct mo_heap_probes *hp)
{
	hp->exe_only = true;
}

/* The allocators of pid's program (img: it is held at the entry of its
 * exec; NULL: it runs exe now), probed. */
static int attach_program(struct mo_heap_probes *hp, pid_t pid, const char *exe, const struct mo_exec_image *img,
			  char *err, size_t errlen)
{
	struct mo_alloc_files *files = malloc(sizeof(*files));
	int ret;

	if (!files) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = img ? allocators_for_exec(pid, img, files, err, errlen) : allocators_for_exe(pid, exe, files, err, errlen);
	ret = attach_files(hp, pid, files, ret, err, errlen);
	free(files);
	return ret;
}

int heap_probes__attach_exe(struct mo_heap_probes *hp, pid_t pid, const char *exe, char *err, size_t errlen)
{
	return attach_program(hp, pid, exe, NULL, err, errlen);
}

int heap_probes__attach_exec(struct mo_heap_probes *hp, pid_t pid, const struct mo_exec_image *img, char *err,
			     size_t errlen)
{
	return attach_program(hp, pid, img->exe, img, err, errlen);
}

const struct mo_heap_site *heap_probes__sites(const struct mo_heap_probes *hp, size_t *count)
{
	*count = hp->nsites;
	return hp->sites;
}

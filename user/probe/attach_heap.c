// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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
#include "probe/allocators.h"
#include "probe/attach_heap.h"
#include "probe/elfinfo.h"
#include "probe/probeplan.h"
#include "probe/probeset.h"
#include "probe/uprobe_multi.h"

/* What a probed (file, prefix) holds: one link per program. */
struct heap_file {
	int fds[10];	/* one per program of funcs[], and mo_alloc_ret */
	size_t nfds;
};

struct mo_heap_probes {
	struct memobs_bpf *skel;
	struct mo_links *links;
	struct mo_probeset *files;	/* (file, prefix) probed: struct heap_file */
	struct mo_heap_site *sites;
	size_t nsites, cap;
	bool exe_only;
};

/* The malloc family. nargs: integer arguments the entry program reads. */
struct heap_func {
	const char *name;
	unsigned nargs;
	bool uretprobe;		/* the block's address is only known at return */
	struct bpf_program *(*prog)(struct memobs_bpf *skel);
};

#define PROG(p) static struct bpf_program *prog_##p(struct memobs_bpf *s) { return s->progs.p; }
PROG(mo_malloc) PROG(mo_calloc) PROG(mo_realloc) PROG(mo_reallocarr) PROG(mo_memalign)
PROG(mo_posix_memal) PROG(mo_valloc) PROG(mo_free)

static const struct heap_func funcs[] = {
	{ "malloc", 1, true, prog_mo_malloc },
	{ "calloc", 2, true, prog_mo_calloc },
	{ "realloc", 2, true, prog_mo_realloc },
	{ "reallocarray", 3, true, prog_mo_reallocarr },
	{ "posix_memalign", 3, true, prog_mo_posix_memal },
	{ "aligned_alloc", 2, true, prog_mo_memalign },
	{ "memalign", 2, true, prog_mo_memalign },
	{ "valloc", 1, true, prog_mo_valloc },
	{ "pvalloc", 1, true, prog_mo_valloc },
	{ "free", 1, false, prog_mo_free },
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

void heap_probes__free(struct mo_heap_probes *hp)
{
	if (!hp)
		return;
	probeset__free(hp->files, NULL, NULL);
	free(hp->sites);
	free(hp);
}

int heap_probes__prepare(struct memobs_bpf *skel)
{
	struct bpf_program *progs[] = {
		skel->progs.mo_malloc, skel->progs.mo_calloc, skel->progs.mo_realloc,
		skel->progs.mo_reallocarr, skel->progs.mo_memalign, skel->progs.mo_posix_memal,
		skel->progs.mo_valloc, skel->progs.mo_alloc_ret, skel->progs.mo_free,
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]) && !err; i++)
		err = uprobe_multi_prepare(progs[i]);
	return err;
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

	if (hp->nsites == hp->cap) {
		size_t cap = hp->cap ? 2 * hp->cap : 16;
		struct mo_heap_site *v = realloc(hp->sites, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		hp->sites = v;
		hp->cap = cap;
	}
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

#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

/* Where each function of the family is probed in one file. */
struct heap_plan {
	uint64_t func[NFUNCS];		/* file offset of the function, 0: not defined */
	uint64_t entry[NFUNCS];		/* file offset of the entry probe, 0: not defined */
	uint64_t ret[NFUNCS];		/* of the return probe, 0: none */
	struct mo_probe_site site[NFUNCS];
};

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
		plan->entry[i] = f.offset + plan->site[i].skipped;
		plan->ret[i] = funcs[i].uretprobe ? f.offset : 0;
		found++;
	}
	return found;
}

/* One link per program: the entries of the functions it serves, and one for
 * every return. The fds go to hf (closed with the link set). */
static int link_plan(struct mo_heap_probes *hp, const char *path, const struct heap_plan *plan, struct heap_file *hf)
{
	uint64_t offs[NFUNCS];
	size_t n = 0;
	int fd;

	for (size_t i = 0; i < NFUNCS; i++) {
		struct bpf_program *prog = funcs[i].prog(hp->skel);
		bool done = false;

		for (size_t j = 0; j < i; j++)
			done |= funcs[j].prog(hp->skel) == prog;
		if (done)
			continue;
		n = 0;
		for (size_t j = i; j < NFUNCS; j++)
			if (plan->entry[j] && funcs[j].prog(hp->skel) == prog)
				offs[n++] = plan->entry[j];
		if (!n)
			continue;
		fd = uprobe_multi_attach(bpf_program__fd(prog), &(struct mo_uprobe_multi){ path, offs, NULL, NULL, n });
		if (fd < 0 || links__add(hp->links, fd, 0))
			return fd < 0 ? fd : -ENOMEM;
		hf->fds[hf->nfds++] = fd;
	}
	n = 0;
	for (size_t i = 0; i < NFUNCS; i++)
		if (plan->ret[i])
			offs[n++] = plan->ret[i];
	if (!n)
		return 0;
	fd = uprobe_multi_attach(bpf_program__fd(hp->skel->progs.mo_alloc_ret),
				 &(struct mo_uprobe_multi){ path, offs, NULL, NULL, n, .retprobe = true });
	if (fd < 0 || links__add(hp->links, fd, 0))
		return fd < 0 ? fd : -ENOMEM;
	hf->fds[hf->nfds++] = fd;
	return 0;
}

int heap_probes__attach_file(struct mo_heap_probes *hp, const char *path, const char *prefix,
			     const char *allocator, char *err, size_t errlen)
{
	struct heap_file *hf, stale;
	struct mo_file_id id, known;
	struct heap_plan plan;
	struct mo_elf *elf;
	int probed, ret;

	if (file_id_of(path, &id))
		return 0;	/* gone: nothing to probe */
	if (probeset__get(hp->files, &id, prefix))
		return 0;
	/* Written in place since: its probes point into the old code. */
	if ((hf = probeset__find(hp->files, &id, prefix, &known))) {
		stale = *hf;
		for (size_t i = 0; i < stale.nfds; i++)
			links__close_now(hp->links, stale.fds[i]);
		probeset__remove(hp->files, &id, prefix);
	}
	elf = elf__open(path);
	if (!elf) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return ret;
	}
	probed = plan_file(elf, prefix, &plan);
	elf__free(elf);
	if (!probed)
		return 0;
	hf = probeset__add(hp->files, &id, prefix);
	if (!hf) {
		snprintf(err, errlen, "cannot probe %s: out of memory", path);
		return -ENOMEM;
	}
	ret = link_plan(hp, path, &plan, hf);
	for (size_t i = 0; !ret && i < NFUNCS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s%s", prefix, funcs[i].name);
		if (plan.entry[i])
			ret = add_site(hp, path, allocator, name, &funcs[i], &plan.site[i]);
	}
	if (ret) {
		snprintf(err, errlen, "cannot probe the allocator in %s: %s", path, strerror(-ret));
		return ret;
	}
	return probed;
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
		int n = hp->exe_only && !f->in_exe ? 0 : heap_probes__attach_file(hp, f->path, f->prefix, f->name, why,
										       sizeof(why));

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

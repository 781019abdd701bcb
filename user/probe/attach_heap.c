// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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

#define MAX_FILES 32
#define MAX_LINKS 256

struct mo_heap_probes {
	struct memobs_bpf *skel;
	struct { dev_t dev; ino_t ino; char prefix[8]; } files[MAX_FILES];
	size_t nfiles;
	struct bpf_link *links[MAX_LINKS];
	size_t nlinks;
	struct mo_heap_site sites[MAX_LINKS];
	size_t nsites;
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

struct mo_heap_probes *heap_probes__new(struct memobs_bpf *skel)
{
	struct mo_heap_probes *hp = calloc(1, sizeof(*hp));

	if (hp)
		hp->skel = skel;
	return hp;
}

void heap_probes__free(struct mo_heap_probes *hp)
{
	if (!hp)
		return;
	for (size_t i = 0; i < hp->nlinks; i++)
		bpf_link__destroy(hp->links[i]);
	free(hp);
}

/* One file is probed once for each prefix, whatever path names it. */
static bool seen_file(struct mo_heap_probes *hp, const char *path, const char *prefix)
{
	struct stat st;

	if (stat(path, &st))
		return true;	/* gone: nothing to probe */
	for (size_t i = 0; i < hp->nfiles; i++)
		if (hp->files[i].dev == st.st_dev && hp->files[i].ino == st.st_ino &&
		    !strcmp(hp->files[i].prefix, prefix))
			return true;
	if (hp->nfiles < MAX_FILES) {
		hp->files[hp->nfiles].dev = st.st_dev;
		hp->files[hp->nfiles].ino = st.st_ino;
		snprintf(hp->files[hp->nfiles].prefix, sizeof(hp->files[0].prefix), "%s", prefix);
		hp->nfiles++;
	}
	return false;
}

/* The file's name for the run document: /proc/PID/exe (a static binary's
 * own malloc) names nothing once the process is gone, so its target is
 * read now. */
static void probe_file_name(const char *path, char *buf, size_t len)
{
	unsigned pid;
	int end = 0;
	ssize_t n;

	if (sscanf(path, "/proc/%u/exe%n", &pid, &end) == 1 && !path[end] && (n = readlink(path, buf, len - 1)) > 0) {
		buf[n] = 0;
		return;
	}
	snprintf(buf, len, "%s", path);
}

static int attach_one(struct mo_heap_probes *hp, const char *path, const char *allocator, const char *name,
		      const struct heap_func *fn, const struct mo_elf_func *f, const struct mo_probe_site *site)
{
	struct bpf_program *prog = fn->prog(hp->skel);
	struct mo_heap_site *rec;

	if (hp->nlinks + 2 > MAX_LINKS)
		return -E2BIG;
	hp->links[hp->nlinks] = bpf_program__attach_uprobe(prog, false, -1, path, f->offset + site->skipped);
	if (!hp->links[hp->nlinks])
		return -errno;
	hp->nlinks++;
	if (fn->uretprobe) {
		hp->links[hp->nlinks] = bpf_program__attach_uprobe(hp->skel->progs.mo_alloc_ret, true, -1, path,
								   f->offset);
		if (!hp->links[hp->nlinks])
			return -errno;
		hp->nlinks++;
	}
	rec = &hp->sites[hp->nsites++];
	probe_file_name(path, rec->file, sizeof(rec->file));
	snprintf(rec->allocator, sizeof(rec->allocator), "%s", allocator);
	snprintf(rec->func, sizeof(rec->func), "%s", name);
	rec->skipped = site->skipped;
	rec->emulated = site->emulated;
	rec->uretprobe = fn->uretprobe;
	snprintf(rec->insn, sizeof(rec->insn), "%s", site->insn);
	return 0;
}

int heap_probes__attach_file(struct mo_heap_probes *hp, const char *path, const char *prefix,
			     const char *allocator, char *err, size_t errlen)
{
	uint64_t done[sizeof(funcs) / sizeof(funcs[0])];
	size_t ndone = 0;
	struct mo_elf *elf;
	int probed = 0, ret = 0;

	if (seen_file(hp, path, prefix))
		return 0;
	elf = elf__open(path);
	if (!elf) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return ret;
	}
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct mo_elf_func f;
		struct mo_probe_site site;
		uint8_t code[64];
		char name[32];
		size_t len;
		bool dup = false;

		snprintf(name, sizeof(name), "%s%s", prefix, funcs[i].name);
		if (elf__func(elf, name, &f))
			continue;
		/* Aliases (aligned_alloc = memalign in glibc) are probed once. */
		for (size_t j = 0; j < ndone; j++)
			dup |= done[j] == f.offset;
		if (dup)
			continue;
		done[ndone++] = f.offset;
		len = elf__read(elf, f.offset, code, sizeof(code));
		probeplan_site(code, len, funcs[i].nargs, !funcs[i].uretprobe, &site);
		ret = attach_one(hp, path, allocator, name, &funcs[i], &f, &site);
		if (ret) {
			snprintf(err, errlen, "cannot probe %s in %s: %s", name, path, strerror(-ret));
			break;
		}
		probed++;
	}
	elf__free(elf);
	return ret ?: probed;
}

int heap_probes__attach_exe(struct mo_heap_probes *hp, pid_t pid, const char *exe, char *err, size_t errlen)
{
	struct mo_alloc_files *files = malloc(sizeof(*files));
	char why[512];
	int ret, probed = 0, first_err = 0;

	if (!files) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = allocators_for_exe(pid, exe, files, err, errlen);
	if (ret == -ENOENT || ret == -ESRCH)
		ret = 0;	/* killed while stopped: nothing to probe */
	else if (!ret && files->missing[0]) {
		first_err = -ENOENT;
		snprintf(err, errlen, "pid %d: %s not found where the dynamic linker looks: an allocator in it is not probed",
			 pid, files->missing);
	}
	for (size_t i = 0; !ret && i < files->count; i++) {
		const struct mo_alloc_file *f = &files->files[i];
		int n = heap_probes__attach_file(hp, f->path, f->prefix, f->name, why, sizeof(why));

		if (n >= 0)
			probed += n;
		else if (!first_err) {
			first_err = n;
			snprintf(err, errlen, "%s", why);
		}
	}
	free(files);
	if (ret)
		return ret;
	return first_err ?: probed;
}

const struct mo_heap_site *heap_probes__sites(const struct mo_heap_probes *hp, size_t *count)
{
	*count = hp->nsites;
	return hp->sites;
}

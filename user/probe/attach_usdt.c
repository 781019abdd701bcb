// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "probe/attach_usdt.h"
#include "probe/elfinfo.h"

#define MAX_FILES 64

struct mo_usdt_probes {
	struct memobs_bpf *skel;
	struct { dev_t dev; ino_t ino; } files[MAX_FILES];
	size_t nfiles;
	struct bpf_link *links[MAX_FILES * 4];
	size_t nlinks;
};

struct mo_usdt_probes *usdt_probes__new(struct memobs_bpf *skel)
{
	struct mo_usdt_probes *up = calloc(1, sizeof(*up));

	if (up)
		up->skel = skel;
	return up;
}

void usdt_probes__free(struct mo_usdt_probes *up)
{
	if (!up)
		return;
	for (size_t i = 0; i < up->nlinks; i++)
		bpf_link__destroy(up->links[i]);
	free(up);
}

/* True when the file was attached before; otherwise remembers it. */
static bool seen_file(struct mo_usdt_probes *up, const char *path, int *err)
{
	struct stat st;

	if (stat(path, &st)) {
		*err = -errno;
		return true;
	}
	for (size_t i = 0; i < up->nfiles; i++)
		if (up->files[i].dev == st.st_dev && up->files[i].ino == st.st_ino)
			return true;
	if (up->nfiles == MAX_FILES) {
		*err = -E2BIG;
		return true;
	}
	up->files[up->nfiles].dev = st.st_dev;
	up->files[up->nfiles].ino = st.st_ino;
	up->nfiles++;
	return false;
}

int usdt_probes__attach_file(struct mo_usdt_probes *up, const char *path, char *err, size_t errlen)
{
	const struct {
		const char *name;
		struct bpf_program *prog;
	} markers[] = {
		{ "phase_begin", up->skel->progs.mo_phase_begin },
		{ "phase_end", up->skel->progs.mo_phase_end },
		{ "items", up->skel->progs.mo_items },
		{ "mark", up->skel->progs.mo_mark },
	};
	struct mo_elf *elf;
	bool has;
	int ret = 0, attached = 0;

	if (seen_file(up, path, &ret)) {
		if (ret)
			snprintf(err, errlen, "cannot attach markers in %s: %s", path, strerror(-ret));
		return ret;
	}
	elf = elf__open(path);
	has = elf && elf__has_usdt(elf, "memobs");
	elf__free(elf);
	if (!has)
		return 0;
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		struct bpf_link *link = bpf_program__attach_usdt(markers[i].prog, -1, path, "memobs",
								 markers[i].name, NULL);

		if (!link) {
			/* A file may carry only some of the markers. */
			if (errno == ENOENT)
				continue;
			ret = -errno;
			snprintf(err, errlen, "cannot attach marker %s in %s: %s", markers[i].name, path,
				 strerror(errno));
			return ret;
		}
		up->links[up->nlinks++] = link;
		attached++;
	}
	return attached;
}

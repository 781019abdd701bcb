// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "probe/attach_inproc.h"
#include "probe/elfinfo.h"
#include "probe/uprobe_multi.h"
#include "probe/usdt.h"

static const char *const probe_names[] = {
	[MO_HEAP_PROBE_ALLOC] = "alloc",
	[MO_HEAP_PROBE_FREE] = "free",
	[MO_HEAP_PROBE_SYNC] = "sync",
};

int inproc_probes__prepare(struct memobs_bpf *skel)
{
	return uprobe_multi_prepare(skel->progs.mo_heap_usdt);
}

int inproc_probes__attach(struct memobs_bpf *skel, struct mo_links *links, const char *path, char *err,
			  size_t errlen)
{
	struct mo_marker_sites sites;
	struct mo_elf *elf = elf__open(path);
	int fd, n;

	if (!elf) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	n = usdt_probes_of(elf, "memobs_heap", probe_names, sizeof(probe_names) / sizeof(probe_names[0]), &sites, err,
			   errlen);
	elf__free(elf);
	if (n != (int)(sizeof(probe_names) / sizeof(probe_names[0]))) {
		if (n >= 0 && !err[0])
			snprintf(err, errlen, "%s has %d of the 3 memobs_heap probes", path, n);
		usdt_markers_free(&sites);
		return n < 0 ? n : -ENOENT;
	}
	fd = uprobe_multi_attach(bpf_program__fd(skel->progs.mo_heap_usdt),
				 &(struct mo_uprobe_multi){ path, sites.offsets, sites.sema_offsets, sites.cookies,
							    sites.count });
	usdt_markers_free(&sites);
	if (fd < 0 || links__add(links, fd, 0)) {
		snprintf(err, errlen, "cannot attach the memobs_heap probes in %s: %s", path,
			 strerror(fd < 0 ? -fd : ENOMEM));
		return fd < 0 ? fd : -ENOMEM;
	}
	return 0;
}
